"""One instance per GRPC_PORT.

grpc turns SO_REUSEPORT on by default, so a second server on a taken port would
start silently and the kernel would split new connections between the two. A
single server binds without it; workers (GRPC_WORKERS > 1) must share the port
with it, so their supervisor claims the port instead: it holds a lock named after
the port for its whole life, and before any worker starts it checks, by binding
the port without SO_REUSEPORT, that nothing else listens there.

The lock is an abstract unix socket on Linux: like the port, it belongs to the
network namespace (a pod's containers share it) and the kernel releases it when
the process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from repositories.config import ConfigError

from .settings import ServiceSettings

IN_USE = "is already in use"


def _lock_name(port: int) -> str:
    return f"ruleiq-data:grpc-port:{port}"


@contextlib.contextmanager
def _port_lock(port: int) -> Iterator[None]:
    refused = ConfigError(f"GRPC_PORT {port} {IN_USE} by another ruleiq-data instance")
    if sys.platform == "linux":
        lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            lock.bind("\0" + _lock_name(port))
        except OSError as error:
            lock.close()
            if error.errno == errno.EADDRINUSE:
                raise refused from None
            raise
        with lock:
            yield
        return
    # No abstract sockets elsewhere: a lock file, released when the process dies.
    path = Path(tempfile.gettempdir()) / f"{_lock_name(port).replace(':', '-')}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refused from None
        yield
    finally:
        os.close(descriptor)


def _bind_addresses(host: str, port: int) -> list[tuple[socket.AddressFamily, str]]:
    """What grpc binds for GRPC_HOST: `[::]` is the dual-stack wildcard (0.0.0.0
    without IPv6), any other name every address it resolves to."""
    name = host.removeprefix("[").removesuffix("]")
    if name in ("::", ""):
        return [(socket.AF_INET6, "::")] if socket.has_ipv6 else [(socket.AF_INET, "0.0.0.0")]  # noqa: S104
    try:
        resolved = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ConfigError(f"GRPC_HOST {host!r} does not resolve: {error.strerror}") from None
    return list(dict.fromkeys((family, str(address[0])) for family, _, _, _, address in resolved))


def check_port_free(host: str, port: int) -> None:
    """ConfigError when another socket listens on host:port (or it cannot be bound),
    found by binding it as grpc does but without SO_REUSEPORT."""
    for family, address in _bind_addresses(host, port):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As grpc does: connections of an earlier run in TIME_WAIT do not count.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and address == "::":
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                probe.bind((address, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    raise ConfigError(
                        f"GRPC_PORT {port} {IN_USE} on {host}: "
                        "stop what listens there or choose another GRPC_PORT"
                    ) from None
                raise ConfigError(
                    f"GRPC_PORT {port}: cannot listen on {host}: {error.strerror}"
                ) from None


@contextlib.contextmanager
def claim_port(settings: ServiceSettings) -> Iterator[None]:
    """Own GRPC_PORT for the block (a single server, or a supervisor and its
    workers): refused with a ConfigError naming the port when it is taken."""
    if settings.grpc_port == 0:  # a free port of its own: nothing to share
        yield
        return
    with _port_lock(settings.grpc_port):
        check_port_free(settings.grpc_host, settings.grpc_port)
        yield
