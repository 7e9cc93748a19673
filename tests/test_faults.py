"""Faults a data service meets in production, injected for real: the database
going away under load, a burst larger than the pool, calls cancelled mid-query."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from ruleiq.data.v1 import user_pb2, user_pb2_grpc
from sqlalchemy import text

from repositories.database import Database
from repositories.migrations import upgrade
from service.server import App

from .api import failure_of
from .apps import db_settings, running
from .postgres import CrashableEmbeddedPostgres
from .probes import (
    HANG_SECONDS,
    NOT_SERVING,
    SERVING,
    Samples,
    blocked_statements,
    health_status,
    lock_user_row,
    new_user,
    now,
    scrape_once,
    value,
    wait_for,
)

USERS = user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
# Far longer than any refusal here needs: a call that ends before it was ended by
# the server's own decision (its ErrorInfo reason says which), not by the deadline.
LONG_DEADLINE = 30.0


async def refused_calls(app: App, method: str, seen: int) -> float:
    """UNAVAILABLE replies to `method` the server itself counted, once it has
    counted the `seen` its callers got (a count past them fails the caller's assert)."""

    def refused(samples: Samples) -> float:
        labels = {"service": USERS, "method": method, "code": "UNAVAILABLE"}
        return value(samples, "ruleiq_grpc_calls_total", **labels)

    return refused(await scrape_once(app, lambda samples: refused(samples) >= seen))


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[CrashableEmbeddedPostgres]:
    """A server of this module's own, so crashing it disturbs no other test."""
    server = CrashableEmbeddedPostgres(
        Path(tempfile.mkdtemp(prefix="ruleiq-fault-")) / "pg", temporary=True
    )
    yield server
    server.stop()


@pytest.fixture
async def outage_app(private_postgres: CrashableEmbeddedPostgres) -> AsyncIterator[App]:
    url = private_postgres.create_database()
    database = Database(db_settings(), url)
    await upgrade(database.async_engine)
    await database.dispose()
    async with running(
        url,
        database_options={"db_pool_timeout": 2},
        readiness_interval_seconds=0.2,
        metrics_port=0,
        metrics_host="127.0.0.1",
    ) as app:
        yield app


async def test_database_outage_fails_fast_flips_readiness_and_recovers_without_losing_writes(
    outage_app: App, private_postgres: CrashableEmbeddedPostgres
) -> None:
    acknowledged: list[str] = []
    codes: list[grpc.StatusCode] = []
    reasons: set[str] = set()
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{outage_app.port}") as channel:
        users = user_pb2_grpc.UserServiceStub(channel)

        async def writer() -> None:
            while not stop.is_set():
                request = user_pb2.CreateUserRequest(
                    user=user_pb2.User(email=f"{uuid.uuid4().hex}@outage.io")
                )
                try:
                    reply = await users.CreateUser(request, timeout=LONG_DEADLINE)
                    acknowledged.append(reply.id)
                except grpc.aio.AioRpcError as error:
                    codes.append(error.code())
                    info = failure_of(error).info
                    reasons.add(info.reason if info is not None else "no ErrorInfo")
                    await asyncio.sleep(0.05)

        writers = [asyncio.create_task(writer()) for _ in range(8)]
        await wait_for(lambda: now(len(acknowledged) >= 50), within=HANG_SECONDS)

        private_postgres.crash()
        during = len(acknowledged)
        await wait_for(lambda: now(len(codes) >= 20), within=HANG_SECONDS)
        # Fail fast, not hang: the server answers each call itself, UNAVAILABLE with a
        # reason of its own, while the caller would have waited far longer.
        assert set(codes) == {grpc.StatusCode.UNAVAILABLE}, codes
        assert reasons <= {"DATABASE_UNAVAILABLE", "POOL_EXHAUSTED"}, reasons
        assert await refused_calls(outage_app, "CreateUser", 20) >= 20

        async def not_ready() -> bool:
            return await health_status(channel, "readiness") == NOT_SERVING

        await wait_for(not_ready, within=HANG_SECONDS)
        assert await health_status(channel, "liveness") == SERVING
        assert await health_status(channel, "") == SERVING

        private_postgres.start()

        async def ready() -> bool:
            return await health_status(channel, "readiness") == SERVING

        await wait_for(ready, within=HANG_SECONDS)
        recovered_from = len(acknowledged)
        await wait_for(lambda: now(len(acknowledged) >= recovered_from + 50), within=HANG_SECONDS)
        stop.set()
        await asyncio.gather(*writers)

    assert during >= 50
    # Every refusal the callers saw is one the server counted: none came from the
    # channel or the deadline.
    refused = codes.count(grpc.StatusCode.UNAVAILABLE)
    assert await refused_calls(outage_app, "CreateUser", refused) == refused
    async with outage_app.database.async_engine.connect() as connection:
        stored = {
            str(row[0])
            for row in await connection.execute(
                text("SELECT id FROM users WHERE email LIKE '%@outage.io'")
            )
        }
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged writes lost"


async def test_a_burst_larger_than_the_pool_fails_fast_with_unavailable_and_then_recovers(
    database_url: str, database: Database
) -> None:
    async with running(
        database_url,
        database_options={"db_pool_size": 2, "db_max_overflow": 0, "db_pool_timeout": 0.5},
        readiness_interval_seconds=0.2,
        metrics_port=0,
        metrics_host="127.0.0.1",
    ) as app:
        lock = await database.async_engine.connect()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                users = user_pb2_grpc.UserServiceStub(channel)
                user = await new_user(users)
                # Two updates wait on a row lock and hold both pooled connections.
                await lock_user_row(lock, user.id)
                holders = [
                    asyncio.ensure_future(
                        users.UpdateUser(
                            user_pb2.UpdateUserRequest(
                                user=user_pb2.User(id=user.id, full_name=f"holder {i}")
                            ),
                            timeout=10,
                        )
                    )
                    for i in range(2)
                ]
                await blocked_statements(database.async_engine, 2)

                async def get() -> tuple[grpc.StatusCode, str | None]:
                    try:
                        await users.GetUser(
                            user_pb2.GetUserRequest(id=user.id), timeout=LONG_DEADLINE
                        )
                    except grpc.aio.AioRpcError as error:
                        info = failure_of(error).info
                        return error.code(), info.reason if info is not None else None
                    return grpc.StatusCode.OK, None

                burst = await asyncio.gather(*(get() for _ in range(40)))
                # Ended by the 0.5 s pool timeout (POOL_EXHAUSTED), not by the far
                # longer deadline, and counted by the server as refused.
                assert set(burst) == {(grpc.StatusCode.UNAVAILABLE, "POOL_EXHAUSTED")}, burst
                assert await refused_calls(app, "GetUser", 40) == 40

                # A deadline shorter than the pool timeout wins.
                short = await asyncio.gather(
                    *(
                        users.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=0.2)
                        for _ in range(5)
                    ),
                    return_exceptions=True,
                )
                assert all(
                    isinstance(e, grpc.aio.AioRpcError)
                    and e.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                    for e in short
                )

                await lock.rollback()
                for holder in holders:
                    assert (await holder).full_name.startswith("holder")
                assert await health_status(channel, "readiness") == SERVING
                after = await users.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=5)
                assert after.id == user.id
            assert app.database.pool_stats().checked_out == 0
        finally:
            with contextlib.suppress(Exception):
                await lock.close()


async def test_calls_past_the_concurrency_cap_are_refused_but_health_still_answers(
    database_url: str, database: Database
) -> None:
    async with running(
        database_url, readiness_interval_seconds=0.2, grpc_max_concurrent_calls=2
    ) as app:
        lock = await database.async_engine.connect()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                users = user_pb2_grpc.UserServiceStub(channel)
                user = await new_user(users)
                await lock_user_row(lock, user.id)
                update = user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=user.id, full_name="held")
                )
                held = [
                    asyncio.ensure_future(users.UpdateUser(update, timeout=10)) for _ in range(2)
                ]
                await blocked_statements(database.async_engine, 2)

                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await users.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=5)
                assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert await health_status(channel, "readiness") == SERVING
                assert await health_status(channel, "liveness") == SERVING

                await lock.rollback()
                for call in held:
                    assert (await call).full_name == "held"
                fetched = await users.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=5)
                assert fetched.full_name == "held"
        finally:
            await lock.close()


async def test_a_read_past_its_deadline_is_cancelled_on_the_server(
    database_url: str, database: Database
) -> None:
    """Get runs outside a transaction, so its deadline travels with the statement:
    when it passes, the query is cancelled on the server, not left waiting."""
    application_name = f"read_deadline_{uuid.uuid4().hex[:8]}"
    async with running(
        database_url,
        database_options={"db_application_name": application_name},
        readiness_interval_seconds=0.2,
    ) as app:
        lock = await database.async_engine.connect()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                users = user_pb2_grpc.UserServiceStub(channel)
                user = await new_user(users)
                await lock.begin()
                await lock.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
                with pytest.raises(grpc.aio.AioRpcError) as late:
                    await users.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=0.5)
                assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

                async def waiting() -> int:
                    async with database.async_engine.connect() as watcher:
                        result = await watcher.execute(
                            text(
                                "SELECT count(*) FROM pg_stat_activity "
                                "WHERE application_name = :name AND state = 'active'"
                            ),
                            {"name": application_name},
                        )
                        return int(result.scalar_one())

                async def none_waiting() -> bool:
                    return await waiting() == 0

                await wait_for(none_waiting, within=3)
                await lock.rollback()
                fetched = await users.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=5)
                assert fetched.id == user.id
            assert app.database.pool_stats().checked_out == 0
        finally:
            await lock.close()
