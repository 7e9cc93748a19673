"""The service as Kubernetes runs it: a process, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from ruleiq.data.v1 import user_pb2, user_pb2_grpc

from .health import health_stub, next_status
from .postgres import connect, fetch_all, lock_waiters
from .probes import HANG_SECONDS, wait_for
from .service_process import ServiceProcess, named_service

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def server_connections(url: str, application_name: str) -> int:
    ((count,),) = fetch_all(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
        (application_name,),
    )
    return int(count)


@pytest.fixture
def service_process(database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    service = named_service(database_url, tmp_path / "service.log", grace=5.0)
    yield service
    service.kill()


@pytest.fixture
async def user_stub(
    service_process: ServiceProcess,
) -> AsyncIterator[user_pb2_grpc.UserServiceAsyncStub]:
    await service_process.ready()
    async with grpc.aio.insecure_channel(service_process.address) as channel:
        yield user_pb2_grpc.UserServiceStub(channel)


async def test_sigterm_drains_in_flight_calls_refuses_new_ones_and_exits_zero(
    service_process: ServiceProcess,
    user_stub: user_pb2_grpc.UserServiceAsyncStub,
    database_url: str,
) -> None:
    user = await user_stub.CreateUser(
        user_pb2.CreateUserRequest(user=user_pb2.User(email=f"{uuid.uuid4().hex}@drain.io")),
        timeout=5,
    )
    # A row lock held elsewhere keeps an UpdateUser in flight for as long as we like.
    blocker = connect(database_url)
    blocker.autocommit = False
    with blocker.cursor() as cursor:
        cursor.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user.id,))
    in_flight = asyncio.ensure_future(
        user_stub.UpdateUser(
            user_pb2.UpdateUserRequest(user=user_pb2.User(id=user.id, full_name="drained")),
            timeout=10,
        )
    )
    async with grpc.aio.insecure_channel(service_process.address) as channel:
        watch = health_stub(channel).Watch(
            health_pb2.HealthCheckRequest(service="readiness"), timeout=10
        )
        assert await next_status(watch) == SERVING

        async def update_at_the_lock() -> bool:
            name = service_process.application_name
            return await asyncio.to_thread(lock_waiters, database_url, name) == 1

        await wait_for(update_at_the_lock, within=HANG_SECONDS)
        service_process.process.send_signal(signal.SIGTERM)
        assert await next_status(watch) == NOT_SERVING
        watch.cancel()

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await user_stub.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=2)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in (refused.value.details() or "")

    blocker.rollback()  # the in-flight call may now finish
    blocker.close()
    updated = await in_flight
    assert updated.full_name == "drained"

    exit_code = await asyncio.to_thread(service_process.wait, HANG_SECONDS)
    assert exit_code == 0, service_process.output()
    # Drained within the grace period: the server says so when it is not.
    output = service_process.output(last=None)
    assert "stopped" in output, output
    assert "grace period over" not in output, output
    assert server_connections(database_url, service_process.application_name) == 0


async def test_sigterm_on_an_idle_server_exits_zero_and_closes_every_connection(
    service_process: ServiceProcess, database_url: str
) -> None:
    await service_process.ready()
    assert server_connections(database_url, service_process.application_name) > 0
    service_process.process.send_signal(signal.SIGTERM)
    exit_code = await asyncio.to_thread(service_process.wait, HANG_SECONDS)
    assert exit_code == 0, service_process.output()
    assert server_connections(database_url, service_process.application_name) == 0
