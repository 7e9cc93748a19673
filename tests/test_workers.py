"""GRPC_WORKERS=2: a supervisor and two server processes on one port, as the real
process runs them, against the test database."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import psutil
import pytest
from grpc_health.v1 import health_pb2
from pydantic import ValidationError
from ruleiq.data.v1 import database_pb2, database_pb2_grpc, user_pb2, user_pb2_grpc

from repositories.config import ConfigError
from service.settings import ServiceSettings
from service.workers import ConnectionBudget, worker_application_name

from .health import health_stub
from .postgres import connect, fetch_all, lock_waiters
from .probes import HANG_SECONDS, wait_for
from .service_process import CHANNELS, OWN_CONNECTION, ServiceProcess

SERVING = health_pb2.HealthCheckResponse.SERVING
WORKERS = 2
GRACE = 5.0


def connections_named(url: str, prefix: str) -> dict[str, int]:
    """pg_stat_activity's connections whose application_name starts with `prefix`."""
    rows = fetch_all(
        url,
        "SELECT application_name, count(*) FROM pg_stat_activity "
        "WHERE starts_with(application_name, %s) GROUP BY 1",
        (prefix,),
    )
    return {name: int(count) for name, count in rows}


def wait_until_no_connection(url: str, prefix: str, within: float = HANG_SECONDS) -> dict[str, int]:
    """PostgreSQL ends a backend a moment after its client's socket closes."""
    deadline = time.monotonic() + within
    while (left := connections_named(url, prefix)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


class Workers(ServiceProcess):
    """`python -m service serve` with GRPC_WORKERS=2; its output in a file."""

    def __init__(self, url: str, log_path: Path, **env: str) -> None:
        super().__init__(
            url,
            log_path,
            {
                "GRPC_WORKERS": str(WORKERS),
                "SHUTDOWN_GRACE_SECONDS": str(GRACE),
                "DB_APPLICATION_NAME": f"ruleiq_workers_{uuid.uuid4().hex[:8]}",
                "DB_POOL_SIZE": "2",
                "DB_MAX_OVERFLOW": "2",
                "READINESS_INTERVAL_SECONDS": "0.5",
                "LOG_FORMAT": "text",
                **env,
            },
        )

    @property
    def names(self) -> set[str]:
        return {worker_application_name(self.application_name, n) for n in (1, 2)}

    def output(self, last: int | None = None) -> str:
        return super().output(last)

    def workers(self) -> list[psutil.Process]:
        children: list[psutil.Process] = psutil.Process(self.process.pid).children()
        return children

    async def ready(self, within: float = 90.0) -> float:
        """Both workers bound the port and answer readiness SERVING."""
        started = time.monotonic()
        deadline = started + within
        while self.output().count("serving on port") < WORKERS:
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"not ready in {within}s:\n{self.output()}"
            await asyncio.sleep(0.2)
        async with grpc.aio.insecure_channel(self.address) as channel:
            health = health_stub(channel)
            reply = await health.Check(health_pb2.HealthCheckRequest(service="readiness"))
            assert reply.status == SERVING
        return time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            for worker in self.workers():
                worker.kill()
        super().kill()


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    service = Workers(database_url, tmp_path / "service.log")
    yield service
    service.kill()


@pytest.fixture
async def channels(workers: Workers) -> AsyncIterator[dict[str, grpc.aio.Channel]]:
    """Ready workers, and one channel to each, by its application_name."""
    await workers.ready()
    opened = [
        grpc.aio.insecure_channel(workers.address, options=OWN_CONNECTION) for _ in range(CHANNELS)
    ]
    by_worker: dict[str, grpc.aio.Channel] = {}
    try:
        for channel in opened:
            info = await database_pb2_grpc.DatabaseServiceStub(channel).GetDatabaseInfo(
                database_pb2.GetDatabaseInfoRequest(), timeout=10
            )
            by_worker.setdefault(info.application_name, channel)
        yield by_worker
    finally:
        for channel in opened:
            await channel.close(None)


async def test_two_workers_share_the_port_and_each_serves_calls_and_is_ready(
    workers: Workers, channels: dict[str, grpc.aio.Channel], database_url: str
) -> None:
    assert set(channels) == workers.names
    processes = workers.workers()
    assert len(processes) == WORKERS
    assert all("service" in " ".join(p.cmdline()) for p in processes)
    for channel in channels.values():
        health = health_stub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service="readiness"), timeout=5)
        assert reply.status == SERVING
        created = await user_pb2_grpc.UserServiceStub(channel).CreateUser(
            user_pb2.CreateUserRequest(user=user_pb2.User(email=f"{uuid.uuid4().hex}@w.io")),
            timeout=10,
        )
        assert created.id
    # Each worker's own pool, named by worker in pg_stat_activity.
    assert set(connections_named(database_url, workers.application_name)) == workers.names


async def first_refusal(
    stub: user_pb2_grpc.UserServiceAsyncStub, user_id: str, within: float = HANG_SECONDS
) -> grpc.aio.AioRpcError:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            await stub.GetUser(user_pb2.GetUserRequest(id=user_id), timeout=2)
        except grpc.aio.AioRpcError as error:
            return error
        await asyncio.sleep(0.05)
    raise AssertionError(f"new calls still admitted {within}s after SIGTERM")


async def test_sigterm_drains_every_worker_and_exits_zero_leaving_no_connection(
    workers: Workers, channels: dict[str, grpc.aio.Channel], database_url: str
) -> None:
    stubs = {name: user_pb2_grpc.UserServiceStub(ch) for name, ch in channels.items()}
    users = {
        name: await stub.CreateUser(
            user_pb2.CreateUserRequest(user=user_pb2.User(email=f"{uuid.uuid4().hex}@w.io")),
            timeout=10,
        )
        for name, stub in stubs.items()
    }
    # Row locks held elsewhere keep one UpdateUser in flight on each worker.
    blocker = connect(database_url)
    blocker.autocommit = False
    with blocker.cursor() as cursor:
        for user in users.values():
            cursor.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user.id,))
    in_flight = {
        name: asyncio.ensure_future(
            stubs[name].UpdateUser(
                user_pb2.UpdateUserRequest(user=user_pb2.User(id=user.id, full_name="drained")),
                timeout=20,
            )
        )
        for name, user in users.items()
    }

    async def at_the_locks() -> bool:
        waiting = await asyncio.to_thread(lock_waiters, database_url, workers.application_name)
        return waiting == len(in_flight)

    await wait_for(at_the_locks, within=HANG_SECONDS)
    processes = workers.workers()
    workers.process.send_signal(signal.SIGTERM)

    for name, stub in stubs.items():
        # Each worker refuses new calls once the forwarded SIGTERM reaches it.
        refused = await first_refusal(stub, users[name].id)
        assert refused.code() == grpc.StatusCode.UNAVAILABLE, refused
        assert "shutting down" in (refused.details() or "")

    blocker.rollback()  # the calls in flight may now finish
    blocker.close()
    for name, call in in_flight.items():
        assert (await call).full_name == "drained", name

    exit_code = await asyncio.to_thread(workers.wait, GRACE + 15)
    assert exit_code == 0, workers.output()
    assert "worker 1: 0, worker 2: 0" in workers.output()
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes)
    assert connections_named(database_url, workers.application_name) == {}


async def test_a_worker_that_dies_stops_the_others_and_the_supervisor_exits_non_zero(
    workers: Workers, database_url: str
) -> None:
    await workers.ready()
    first, second = sorted(workers.workers(), key=lambda p: p.pid)
    first.kill()
    exit_code = await asyncio.to_thread(workers.wait, GRACE + 15)
    assert exit_code == 1, workers.output()
    assert "exited unexpectedly with -9: stopping the others" in workers.output()
    assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
    assert wait_until_no_connection(database_url, workers.application_name) == {}


def test_a_pool_too_large_for_max_connections_is_refused_at_start(
    database_url: str, tmp_path: Path
) -> None:
    admin = connect(database_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_connections')::int"
                " - current_setting('superuser_reserved_connections')::int"
            )
            row = cursor.fetchone()
            assert row is not None
            available = int(row[0])
    finally:
        admin.close()
    pool_size = available // WORKERS  # 2 x (pool + 0 + 2) > available
    service = Workers(
        database_url, tmp_path / "refused.log", DB_POOL_SIZE=str(pool_size), DB_MAX_OVERFLOW="0"
    )
    try:
        assert service.wait(60) == 1
        output = service.output()
        assert (
            f"GRPC_WORKERS=2 x (DB_POOL_SIZE={pool_size} + DB_MAX_OVERFLOW=0 + 2) = "
            f"{WORKERS * (pool_size + 2)} connections, but the database allows {available}"
        ) in output, output
        assert "starting 2 workers" not in output
    finally:
        service.kill()
    assert connections_named(database_url, service.application_name) == {}


def test_grpc_workers_is_checked_at_start() -> None:
    assert ServiceSettings().grpc_workers == 1
    assert ServiceSettings(grpc_workers=64, grpc_port=50051).grpc_workers == 64
    for bad in ({"grpc_workers": 0}, {"grpc_workers": 65}, {"grpc_workers": 2, "grpc_port": 0}):
        with pytest.raises(ValidationError):
            ServiceSettings(**bad)  # type: ignore[arg-type]


def test_the_connection_budget_counts_pool_overflow_and_two_more_per_worker() -> None:
    fits = ConnectionBudget(
        workers=3, pool_size=10, max_overflow=20, max_connections=100, superuser_reserved=3
    )
    assert (fits.needed, fits.available) == (96, 97)
    fits.check()
    too_many = ConnectionBudget(
        workers=4, pool_size=10, max_overflow=20, max_connections=100, superuser_reserved=3
    )
    with pytest.raises(ConfigError, match="= 128 connections, but the database allows 97"):
        too_many.check()


def test_worker_application_names_fit_postgresql_and_name_the_worker() -> None:
    assert worker_application_name("ruleIQ_backend", 2) == "ruleIQ_backend-w2"
    long = worker_application_name("x" * 63, 12)
    assert len(long) == 63
    assert long.endswith("-w12")


async def test_workers_of_a_killed_supervisor_stop_on_their_own(
    workers: Workers, database_url: str
) -> None:
    await workers.ready()
    processes = workers.workers()
    workers.process.kill()  # SIGKILL: nothing is forwarded
    workers.process.wait()
    _, alive = await asyncio.to_thread(psutil.wait_procs, processes, GRACE + 10)
    assert alive == [], workers.output()
    assert workers.output().count("is gone: stopping") == WORKERS
    assert wait_until_no_connection(database_url, workers.application_name) == {}
