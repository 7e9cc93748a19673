"""Prometheus metrics, scraped over HTTP as Prometheus would: calls by service,
method and code, latency histograms, the pool, and the database check."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from ruleiq.data.v1 import (
    change_pb2,
    change_pb2_grpc,
    data_service_pb2,
    data_service_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)

from repositories.config import ConfigError
from repositories.database import Database
from service.server import App

from .apps import running
from .probes import HANG_SECONDS, lock_user_row, moved, scrape, scrape_once, value, wait_for

TIMEOUT = 5
USERS = "ruleiq.data.v1.UserService"


@pytest.fixture
async def app(database: Database, database_url: str) -> AsyncIterator[App]:
    async with running(database_url, metrics_port=0, metrics_host="127.0.0.1") as app:
        yield app


async def test_call_counts_by_code_and_latency_histograms_move(app: App) -> None:
    before = await scrape(app)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = user_pb2_grpc.UserServiceStub(channel)
        email = f"metrics-{uuid.uuid4().hex[:10]}@example.com"
        user = await stub.CreateUser(
            user_pb2.CreateUserRequest(user=user_pb2.User(email=email, full_name="M")),
            timeout=TIMEOUT,
        )
        await stub.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=TIMEOUT)
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=TIMEOUT)
    histogram = "ruleiq_grpc_call_duration_seconds"

    after = await scrape_once(
        app, lambda s: moved(s, before, f"{histogram}_count", service=USERS, method="GetUser") >= 3
    )

    def grew(name: str, **labels: str) -> float:
        return moved(after, before, name, **labels)

    calls = "ruleiq_grpc_calls_total"
    assert grew(calls, service=USERS, method="CreateUser", code="OK") == 1
    assert grew(calls, service=USERS, method="GetUser", code="OK") == 1
    assert grew(calls, service=USERS, method="GetUser", code="NOT_FOUND") == 2
    assert grew(f"{histogram}_count", service=USERS, method="GetUser") == 3
    assert grew(f"{histogram}_sum", service=USERS, method="GetUser") > 0
    assert grew(f"{histogram}_bucket", service=USERS, method="GetUser", le="+Inf") == 3


async def test_calls_whose_deadline_runs_out_are_counted_as_deadline_exceeded(
    app: App, database: Database
) -> None:
    calls = "ruleiq_grpc_calls_total"
    methods = ((USERS, "UpdateUser"), ("ruleiq.data.v1.DataService", "Commit"))
    lock = await database.async_engine.connect()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)
            commits = data_service_pb2_grpc.DataServiceStub(channel)
            email = f"late-{uuid.uuid4().hex[:10]}@example.com"
            user = await stub.CreateUser(
                user_pb2.CreateUserRequest(user=user_pb2.User(email=email)), timeout=TIMEOUT
            )
            update = user_pb2.UpdateUserRequest(
                user=user_pb2.User(id=user.id, full_name="Late"),
                update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
            )
            commit = data_service_pb2.CommitRequest(
                mutations=[data_service_pb2.Mutation(update_user=update)] * 2
            )
            before = await scrape(app)
            # Each waits on the lock until its deadline ends the call; the caller
            # sees DEADLINE_EXCEEDED, and so must the server's counts.
            await lock_user_row(lock, user.id)
            for _ in range(3):
                for late in (
                    stub.UpdateUser(update, timeout=0.2),
                    commits.Commit(commit, timeout=0.2),
                ):
                    with pytest.raises(grpc.aio.AioRpcError) as error:
                        await late
                    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    finally:
        await lock.close()

    def counted(s: Any, service: str, method: str, code: str | None = None) -> float:
        if code is not None:
            return moved(s, before, calls, service=service, method=method, code=code)
        return moved(
            s, before, "ruleiq_grpc_call_duration_seconds_count", service=service, method=method
        )

    after = await scrape_once(app, lambda s: all(counted(s, *m) >= 3 for m in methods))
    for service, method in methods:
        codes = {c.name: counted(after, service, method, c.name) for c in grpc.StatusCode}
        assert codes["DEADLINE_EXCEEDED"] == 3, (method, {k: v for k, v in codes.items() if v})


async def test_an_unknown_method_is_counted_without_its_name(app: App) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        call = channel.unary_unary(
            "/no.such.Service/Garbage" + uuid.uuid4().hex,
            request_serializer=None,
            response_deserializer=None,
        )
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call(b"", timeout=TIMEOUT)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    samples = await scrape(app)
    unknown = value(
        samples,
        "ruleiq_grpc_calls_total",
        service="unknown",
        method="unknown",
        code="UNIMPLEMENTED",
    )
    assert unknown == 1
    assert not any("no.such" in str(labels) for _, labels in samples)


async def test_pool_gauges_follow_the_pool(app: App) -> None:
    idle = await scrape(app)
    assert value(idle, "ruleiq_db_pool_size") == app.database.settings.db_pool_size
    assert value(idle, "ruleiq_db_pool_max_overflow") == app.database.settings.db_max_overflow
    assert value(idle, "ruleiq_db_pool_checked_out") == 0
    async with (
        app.database.async_engine.connect() as one,
        app.database.async_engine.connect() as two,
    ):
        assert one is not two
        busy = await scrape(app)
    assert value(busy, "ruleiq_db_pool_checked_out") == 2
    after = await scrape(app)
    assert value(after, "ruleiq_db_pool_checked_out") == 0
    opened = app.database.pool_stats().opened_total
    assert opened >= 2
    assert value(after, "ruleiq_db_connections_opened_total") == opened
    assert value(busy, "ruleiq_grpc_calls_in_flight") == 0


async def test_database_check_latency_and_up(app: App) -> None:
    first = await scrape(app)
    assert value(first, "ruleiq_db_up") == 1
    assert value(first, "ruleiq_db_check_duration_seconds_count") >= 1
    checks = "ruleiq_db_check_duration_seconds_count"

    async def checked_again() -> bool:
        return value(await scrape(app), checks) > value(first, checks)

    # The readiness check runs every 0.5 s here: another one is counted.
    await wait_for(checked_again, within=HANG_SECONDS)
    assert value(await scrape(app), "ruleiq_db_check_duration_seconds_sum") > 0


async def test_metrics_are_off_unless_a_port_is_set(database: Database, database_url: str) -> None:
    async with running(database_url) as app:
        assert app.metrics is None
        assert app.metrics_port is None


async def test_a_metrics_port_in_use_is_a_config_error(app: App, database_url: str) -> None:
    with pytest.raises(ConfigError, match="METRICS_PORT: cannot listen"):
        async with running(database_url, metrics_port=app.metrics_port, metrics_host="127.0.0.1"):
            pass


async def test_watch_streams_events_lag_and_reads_are_counted(app: App) -> None:
    before = await scrape(app)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = change_pb2_grpc.ChangeServiceStub(channel)
        email = f"watched-{uuid.uuid4().hex[:10]}@example.com"
        stream: Any = stub.WatchChanges(
            change_pb2.WatchChangesRequest(filter='resource_type = "User"')
        )
        assert (await stream.read()).resume_token
        opened = await scrape(app)
        await user_pb2_grpc.UserServiceStub(channel).CreateUser(
            user_pb2.CreateUserRequest(user=user_pb2.User(email=email)), timeout=TIMEOUT
        )
        while not any(
            "email" in e.after and e.after["email"] == email for e in (await stream.read()).changes
        ):
            pass
        stream.cancel()
    after = await scrape(app)
    assert value(opened, "ruleiq_watch_streams") == 1
    assert value(after, "ruleiq_watch_events_sent_total") > value(
        before, "ruleiq_watch_events_sent_total"
    )
    assert value(after, "ruleiq_watch_delivery_lag_seconds_count") >= 1
    assert value(after, "ruleiq_watch_reader_ticks_total") >= 1


async def test_two_stops_at_once_both_end_and_free_the_metrics_port(app: App) -> None:
    """A second SIGTERM or a caller's stop can come while one is under way; each
    round stops the metrics endpoint from two threads at once."""
    metrics = app.metrics
    assert metrics is not None
    for _ in range(3):
        port = metrics.start("127.0.0.1", 0)
        await asyncio.gather(asyncio.to_thread(metrics.stop), asyncio.to_thread(metrics.stop))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
