"""Channels to ruleiq-data, sync and asyncio, set up the way the service expects:
TLS or mutual TLS, the caller's bearer token, keepalive, default deadlines per kind
of method, transparent retries of UNAVAILABLE for reads only, and typed errors."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

import ruleiq.data.v1

from .errors import from_rpc_error

READ_PREFIXES = ("Get", "List", "BatchGet")

# The stubs make the interceptor bases generic; at run time they are plain classes.
if TYPE_CHECKING:
    _SyncBase = grpc.UnaryUnaryClientInterceptor[Any, Any]
    _SyncStreamBase = grpc.UnaryStreamClientInterceptor[Any, Any]
    _AioBase = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    _AioStreamBase = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
else:
    _SyncBase = grpc.UnaryUnaryClientInterceptor
    _SyncStreamBase = grpc.UnaryStreamClientInterceptor
    _AioBase = grpc.aio.UnaryUnaryClientInterceptor
    _AioStreamBase = grpc.aio.UnaryStreamClientInterceptor


@dataclass(frozen=True)
class Tls:
    """TLS settings: the CA to trust (None: the system's roots) and, for mutual TLS,
    this caller's certificate chain and key; PEM files."""

    ca_file: Path | str | None = None
    cert_file: Path | str | None = None
    key_file: Path | str | None = None
    server_name: str | None = None
    """Check the server's certificate against this name instead of the target's host."""

    def credentials(self) -> grpc.ChannelCredentials:
        """The channel credentials these files make."""
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("mutual TLS needs both cert_file and key_file")
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca_file),
            private_key=_read(self.key_file),
            certificate_chain=_read(self.cert_file),
        )


@dataclass(frozen=True)
class Keepalive:
    """HTTP/2 pings on an otherwise quiet connection, so a dead peer (a node gone, a
    NAT entry dropped) is noticed. The server's defaults refuse pings more often than
    every 5 minutes while no call runs: a shorter `time` needs the server to allow it."""

    time: float = 300.0
    timeout: float = 20.0


@dataclass(frozen=True)
class Defaults:
    """Deadlines (seconds) used when a call passes no `timeout`, and how often the
    channel itself retries a read refused with UNAVAILABLE."""

    read_timeout: float = 5.0
    write_timeout: float = 10.0
    read_attempts: int = 4
    """At most 5 (gRPC's limit). Writes are never retried by the channel: a create is
    safe to repeat only with its request_id (see `create`)."""


def _read(path: Path | str | None) -> bytes | None:
    return None if path is None else Path(path).read_bytes()


def _seconds(value: float) -> str:
    # gRPC keeps service config timeouts in whole milliseconds: less would be 0, no deadline.
    if value < 0.001:
        raise ValueError(f"a default deadline must be at least 1 ms, not {value}s")
    return f"{value:.3f}s"


@cache
def method_names(*, streaming: bool = False) -> tuple[tuple[str, str], ...]:
    """(service, method) of every unary method of package ruleiq.data.v1, from the
    generated descriptors; with `streaming`, of every server-streaming one instead."""
    found: list[tuple[str, str]] = []
    for module_info in pkgutil.iter_modules(ruleiq.data.v1.__path__):
        if not module_info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"{ruleiq.data.v1.__name__}.{module_info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            found.extend(
                (service.full_name, method.name)
                for method in service.methods
                if method.server_streaming == streaming
            )
    return tuple(sorted(found))


def is_read(method: str) -> bool:
    """Whether a method only reads (and so may be repeated freely)."""
    return method.startswith(READ_PREFIXES)


def service_config(defaults: Defaults = Defaults()) -> dict[str, Any]:
    """The `grpc.service_config` for ruleiq-data: per-method deadlines, and a
    retry policy of UNAVAILABLE on reads only. Streams (WatchChanges) get neither:
    they last as long as the caller reads, and resume from their own tokens."""
    names = method_names()
    reads = [{"service": s, "method": m} for s, m in names if is_read(m)]
    writes = [{"service": s, "method": m} for s, m in names if not is_read(m)]
    read_config: dict[str, Any] = {"name": reads, "timeout": _seconds(defaults.read_timeout)}
    if defaults.read_attempts > 1:
        read_config["retryPolicy"] = {
            "maxAttempts": min(defaults.read_attempts, 5),
            "initialBackoff": "0.1s",
            "maxBackoff": "2s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    return {
        "methodConfig": [
            read_config,
            {"name": writes, "timeout": _seconds(defaults.write_timeout)},
        ]
    }


def channel_options(
    keepalive: Keepalive | None = Keepalive(), defaults: Defaults = Defaults()
) -> list[tuple[str, Any]]:
    """The channel arguments both factories use."""
    options: list[tuple[str, Any]] = [
        ("grpc.service_config", json.dumps(service_config(defaults))),
        ("grpc.enable_retries", 1),
    ]
    if keepalive is not None:
        options += [
            ("grpc.keepalive_time_ms", int(keepalive.time * 1000)),
            ("grpc.keepalive_timeout_ms", int(keepalive.timeout * 1000)),
        ]
    return options


Metadata = Sequence[tuple[str, str | bytes]]


@dataclass(frozen=True)
class _SyncDetails(grpc.ClientCallDetails):
    method: str
    timeout: float | None
    metadata: tuple[tuple[str, str | bytes], ...] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _Interceptor(_SyncBase, _SyncStreamBase):
    """Adds metadata (a bearer token on a plaintext channel) and raises typed errors.
    A stream's errors arrive while it is read: `watch` types those itself."""

    def __init__(self, metadata: Metadata) -> None:
        self.metadata = tuple(metadata)

    def _with_metadata(self, details: Any) -> Any:
        if not self.metadata:
            return details
        return _SyncDetails(
            details.method,
            details.timeout,
            (*(details.metadata or ()), *self.metadata),
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        outcome = continuation(self._with_metadata(details), request)
        if isinstance(outcome, grpc.RpcError):
            raise from_rpc_error(outcome) from None
        return outcome

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_metadata(details), request)


class _AioInterceptor(_AioBase, _AioStreamBase):
    """The asyncio twin of `_Interceptor`."""

    def __init__(self, metadata: Metadata) -> None:
        self.metadata = tuple(metadata)

    def _with_metadata(self, details: Any) -> Any:
        if not self.metadata:
            return details
        return grpc.aio.ClientCallDetails(
            details.method,
            details.timeout,
            grpc.aio.Metadata(*(details.metadata or ()), *self.metadata),
            details.credentials,
            details.wait_for_ready,
        )

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_metadata(details), request)

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(self._with_metadata(details), request)
        try:
            await call
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        return call  # not just its response: its metadata stays readable


def _credentials(
    tls: Tls | None, token: str | None
) -> tuple[grpc.ChannelCredentials | None, Metadata]:
    """Channel credentials, and the metadata the interceptor must add itself: gRPC
    sends call credentials only over TLS, so on plaintext the token goes as metadata."""
    if tls is None:
        return None, ((("authorization", f"Bearer {token}"),) if token else ())
    credentials = tls.credentials()
    if token:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token)
        )
    return credentials, ()


def _all_options(
    tls: Tls | None, keepalive: Keepalive | None, defaults: Defaults, options: Metadata
) -> list[tuple[str, Any]]:
    merged = channel_options(keepalive, defaults)
    if tls is not None and tls.server_name:
        merged.append(("grpc.ssl_target_name_override", tls.server_name))
    return merged + list(options)


def channel(
    target: str,
    *,
    tls: Tls | None = None,
    token: str | None = None,
    keepalive: Keepalive | None = Keepalive(),
    defaults: Defaults = Defaults(),
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A synchronous channel to ruleiq-data at `target` (`host:port`); plaintext
    unless `tls` is given. Stubs made on it raise `DataError` subclasses."""
    credentials, metadata = _credentials(tls, token)
    merged = _all_options(tls, keepalive, defaults, options)
    if credentials is None:
        raw = grpc.insecure_channel(target, options=merged)
    else:
        raw = grpc.secure_channel(target, credentials, options=merged)
    return grpc.intercept_channel(raw, _Interceptor(metadata))


def aio_channel(
    target: str,
    *,
    tls: Tls | None = None,
    token: str | None = None,
    keepalive: Keepalive | None = Keepalive(),
    defaults: Defaults = Defaults(),
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """The asyncio twin of `channel`."""
    credentials, metadata = _credentials(tls, token)
    merged = _all_options(tls, keepalive, defaults, options)
    interceptors: list[Any] = [_AioInterceptor(metadata)]
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=merged, interceptors=interceptors)
    return grpc.aio.secure_channel(target, credentials, options=merged, interceptors=interceptors)
