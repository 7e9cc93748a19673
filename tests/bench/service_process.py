"""The service under test: `python -m service serve` as its own process, started
ready and stopped with SIGTERM as Kubernetes would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.ports import free_port

from .database import ROOT

READY_WITHIN_SECONDS = 60.0
STOP_WITHIN_SECONDS = 20.0


class ServiceProcess:
    """One server process on a loopback port (a free one unless given); its output
    goes to `log_path`."""

    def __init__(
        self,
        url: str,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {**self.environment(url, self.port), **(extra_env or {})}
        self._log = log_path.open("ab")
        # A session of its own: Ctrl-C reaches the bench, which then stops the server.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @staticmethod
    def environment(url: str, port: int) -> dict[str, str]:
        """This process's environment plus what serves `url` on 127.0.0.1:`port`."""
        return {
            **os.environ,
            "DATABASE_URL": url,
            "GRPC_PORT": str(port),
            "GRPC_HOST": "127.0.0.1",
            "MIGRATE_ON_START": "false",
        }

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self, last: int = 3000) -> str:
        self._log.flush()
        return self.log_path.read_bytes()[-last:].decode(errors="replace")

    def wait_ready(self, within: float = READY_WITHIN_SECONDS) -> float:
        """Seconds until readiness was SERVING over gRPC health."""
        started = time.monotonic()
        request = health_pb2.HealthCheckRequest(service="readiness")
        with grpc.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
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
