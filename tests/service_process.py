"""The one way tests (and the bench) run the service as its own process:
`python -m service serve` on a loopback port, its output in a file, stopped with
SIGTERM as Kubernetes would; and `run_service` for a command that ends by itself
(migrate, downgrade, a serve that must refuse to start)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from repositories.config import PROJECT_ROOT as ROOT
from repositories.config import DatabaseSettings
from service.settings import ServiceSettings

from .health import sync_health_stub
from .ports import free_port

READY_WITHIN_SECONDS = 60.0
STOP_WITHIN_SECONDS = 20.0


def run_command(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m service *args` with exactly `env`, run to its end (killed, and
    TimeoutExpired raised, after `timeout` seconds)."""
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def service_environment(url: str, **variables: str) -> dict[str, str]:
    """This environment without any of the service's settings, plus DATABASE_URL
    and `variables`."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in {*DatabaseSettings.model_fields, *ServiceSettings.model_fields}
    }
    return {**environment, "DATABASE_URL": url, **variables}


def run_service(url: str, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`python -m service ...` as `make migrate` runs it, with DATABASE_URL set."""
    return run_command(*args, env=service_environment(url, **variables))


class ServiceProcess:
    """One server process on 127.0.0.1 (a free port unless given), with `extra_env`
    over the environment that serves `url`; its output goes to `log_path`."""

    def __init__(
        self,
        url: str,
        log_path: Path,
        extra_env: Mapping[str, str] | None = None,
        port: int | None = None,
        *,
        new_session: bool = False,
    ) -> None:
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {**self.environment(url, self.port), **(extra_env or {})}
        self._log = log_path.open("ab")
        # new_session: Ctrl-C reaches only the bench, which then stops the server.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )

    @staticmethod
    def environment(url: str, port: int) -> dict[str, str]:
        """This process's environment plus what serves `url` on 127.0.0.1:`port`."""
        return {
            **os.environ,
            "DATABASE_URL": url,
            "GRPC_PORT": str(port),
            "GRPC_HOST": "127.0.0.1",
        }

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def application_name(self) -> str:
        return self.env.get("DB_APPLICATION_NAME", "")

    def output(self, last: int | None = 3000) -> str:
        """The end of what the process wrote (all of it when `last` is None)."""
        if not self._log.closed:
            self._log.flush()
        data = self.log_path.read_bytes()
        return (data if last is None else data[-last:]).decode(errors="replace")

    def wait_ready(self, within: float = READY_WITHIN_SECONDS) -> float:
        """Seconds until readiness was SERVING over gRPC health."""
        started = time.monotonic()
        request = health_pb2.HealthCheckRequest(service="readiness")
        with grpc.insecure_channel(self.address) as channel:
            health = sync_health_stub(channel)
            while time.monotonic() - started < within:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"the service exited with {self.process.returncode}:\n{self.output()}"
                    )
                try:
                    reply = health.Check(request, timeout=1.0)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return time.monotonic() - started
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the service was not ready within {within:.0f}s:\n{self.output()}")

    async def ready(self, within: float = READY_WITHIN_SECONDS) -> float:
        """wait_ready, for a test whose event loop must keep running meanwhile."""
        return await asyncio.to_thread(self.wait_ready, within)

    def wait(self, within: float) -> int:
        """The exit code of a process that must end by itself within `within` s."""
        try:
            return self.process.wait(within)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {within}s:\n{self.output()}") from None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited in time; the exit code."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(STOP_WITHIN_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(5)
            return self.process.returncode
        finally:
            self._log.close()

    def kill(self) -> None:
        """SIGKILL, for a test's teardown: nothing is drained."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def named_service(url: str, log_path: Path, grace: float, **environment: str) -> ServiceProcess:
    """A server with a connection name of its own, so its connections can be
    counted, `grace` seconds to drain, and a quick readiness check."""
    return ServiceProcess(
        url,
        log_path,
        {
            "SHUTDOWN_GRACE_SECONDS": str(grace),
            "DB_APPLICATION_NAME": f"ruleiq_test_{uuid.uuid4().hex[:8]}",
            "READINESS_INTERVAL_SECONDS": "0.5",
            **environment,
        },
    )


# Separate connections land on a worker chosen by the kernel (a hash of the
# addresses): with this many, both workers are reached but once in 2**23 runs.
CHANNELS = 24
# Every channel its own HTTP/2 connection, not one shared by the process.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]
