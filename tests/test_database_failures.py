"""How database failures reach callers, each injected for real through the real
server: backends killed under load, a read-only database, a locked table under an
admin call, and connection errors that must name their cause."""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Awaitable

import grpc
import pytest
from grpc_health.v1 import health_pb2
from ruleiq.data.v1 import database_pb2, database_pb2_grpc, user_pb2, user_pb2_grpc
from sqlalchemy.engine import make_url

from repositories.database import Database
from repositories.errors import UnavailableError
from repositories.migrations import upgrade
from service.server import App

from .api import Api, expect_error
from .apps import db_settings, running
from .postgres import TestServer, connect, fetch_all
from .probes import (
    health_status,
    scrape,
    value,
    wait_for,
)

# Codes a caller may see while its connection is killed: retryable ones, and the
# deadline of a call that was waiting. Never INTERNAL or UNKNOWN.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def terminate_backends(database_url: str, application_name: str) -> int:
    """pg_terminate_backend on every connection `application_name` holds, from an
    admin connection of its own; how many were ended."""
    rows = fetch_all(
        database_url,
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = %s AND pid <> pg_backend_pid()",
        (application_name,),
    )
    return int(rows[0][0])


async def test_killed_backends_under_load_answer_unavailable_and_lose_no_acknowledged_write(
    database_url: str, database: Database
) -> None:
    name = f"killed_{uuid.uuid4().hex[:8]}"
    domain = f"{name}.io"
    acknowledged: list[str] = []
    failures: collections.Counter[tuple[grpc.StatusCode, str]] = collections.Counter()
    stop = asyncio.Event()
    written = asyncio.Condition()
    async with (
        running(database_url, database_options={"db_application_name": name}) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        users = user_pb2_grpc.UserServiceStub(channel)

        async def attempt(call: Awaitable[object]) -> object | None:
            try:
                return await call
            except grpc.aio.AioRpcError as error:
                failures[error.code(), error.details() or ""] += 1
                await asyncio.sleep(0.02)
                return None

        async def writer(index: int) -> None:
            while not stop.is_set():
                user = user_pb2.User(email=f"{uuid.uuid4().hex}@{domain}")
                # Half the creates are idempotent ones: a transaction, not one INSERT.
                request_id = str(uuid.uuid4()) if index % 2 else ""
                request = user_pb2.CreateUserRequest(user=user, request_id=request_id)
                reply = await attempt(users.CreateUser(request, timeout=5))
                if isinstance(reply, user_pb2.User):
                    acknowledged.append(reply.id)
                    async with written:
                        written.notify_all()
                    update = user_pb2.UpdateUserRequest(
                        user=user_pb2.User(id=reply.id, full_name="updated"),
                        etag=reply.etag,
                    )
                    await attempt(users.UpdateUser(update, timeout=5))

        async def reader() -> None:
            while not stop.is_set():
                page = user_pb2.ListUsersRequest(page_size=20)
                await attempt(users.ListUsers(page, timeout=5))
                if acknowledged:
                    get = user_pb2.GetUserRequest(id=acknowledged[-1])
                    await attempt(users.GetUser(get, timeout=5))

        async def progressed(by: int) -> None:
            target = len(acknowledged) + by
            async with written:
                await written.wait_for(lambda: len(acknowledged) >= target)

        tasks = [asyncio.create_task(writer(i)) for i in range(6)]
        tasks += [asyncio.create_task(reader()) for _ in range(2)]
        try:
            await asyncio.wait_for(progressed(30), timeout=60)
            killed = 0
            for _ in range(5):
                killed += await asyncio.to_thread(terminate_backends, database_url, name)
                await asyncio.wait_for(progressed(30), timeout=60)
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    assert killed > 0
    unexpected = {key: n for key, n in failures.items() if key[0] not in RETRYABLE}
    assert not unexpected, unexpected
    stored = {
        str(row[0])
        for row in fetch_all(
            database_url, "SELECT id FROM users WHERE email LIKE %s", (f"%@{domain}",)
        )
    }
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged writes lost"


async def test_a_read_only_database_refuses_writes_as_unavailable_and_keeps_serving_reads(
    postgres: TestServer,
) -> None:
    """`default_transaction_read_only` on the database (what a disk-full primary is
    set to; a standby refuses writes the same way, SQLSTATE 25006)."""
    name = postgres.create_database("ruleiq_read_only")
    url = postgres.url(name)
    try:
        database = Database(db_settings(), url)
        await upgrade(database.async_engine)
        await database.dispose()
        seeded = fetch_all(
            url,
            "INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'seeded@ro.io') RETURNING id",
        )
        user_id = str(seeded[0][0])
        postgres.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        async with (
            running(
                url, readiness_interval_seconds=0.2, metrics_port=0, metrics_host="127.0.0.1"
            ) as app,
            grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
        ):
            users = user_pb2_grpc.UserServiceStub(channel)
            writes: list[Awaitable[object]] = [
                users.CreateUser(
                    user_pb2.CreateUserRequest(user=user_pb2.User(email="new@ro.io")), timeout=5
                ),
                users.CreateUser(  # a transaction, not one INSERT
                    user_pb2.CreateUserRequest(
                        user=user_pb2.User(email="new@ro.io"), request_id=str(uuid.uuid4())
                    ),
                    timeout=5,
                ),
                users.UpdateUser(
                    user_pb2.UpdateUserRequest(user=user_pb2.User(id=user_id, full_name="x")),
                    timeout=5,
                ),
                users.DeleteUser(user_pb2.DeleteUserRequest(id=user_id), timeout=5),
            ]
            for write in writes:
                failure = await expect_error(
                    write, grpc.StatusCode.UNAVAILABLE, "DATABASE_READ_ONLY"
                )
                assert "read-only" in failure.message

            fetched = await users.GetUser(user_pb2.GetUserRequest(id=user_id), timeout=5)
            assert fetched.email == "seeded@ro.io"
            listed = await users.ListUsers(user_pb2.ListUsersRequest(), timeout=5)
            assert [u.id for u in listed.users] == [user_id]

            info = await database_pb2_grpc.DatabaseServiceStub(channel).GetDatabaseInfo(
                database_pb2.GetDatabaseInfoRequest(), timeout=5
            )
            assert info.read_only

            async def gauge_shows_it() -> bool:
                return value(await scrape(app), "ruleiq_db_read_only") == 1.0

            await wait_for(gauge_shows_it, within=10)
            # Reads are served: the instance stays in the load balancer.
            assert (
                await health_status(channel, "readiness") == health_pb2.HealthCheckResponse.SERVING
            )
    finally:
        postgres.drop_database(name)


async def test_a_writable_database_reports_read_only_false(api: Api, grpc_app: App) -> None:
    info = await database_pb2_grpc.DatabaseServiceStub(api.channel).GetDatabaseInfo(
        database_pb2.GetDatabaseInfoRequest(), timeout=5
    )
    assert not info.read_only


@pytest.mark.timeout(120)  # a hang fails here; no assertion is about speed
async def test_get_database_info_behind_a_locked_alembic_version_answers_deadline_exceeded(
    database: Database, database_url: str
) -> None:
    name = f"info_lock_{uuid.uuid4().hex[:8]}"
    lock = connect(database_url)
    try:
        lock.autocommit = False
        with lock.cursor() as cursor:
            cursor.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        async with (
            running(
                database_url,
                database_options={"db_application_name": name},
                max_statement_timeout_seconds=1,
            ) as app,
            grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
        ):
            stub = database_pb2_grpc.DatabaseServiceStub(channel)
            request = database_pb2.GetDatabaseInfoRequest()
            # No deadline: MAX_STATEMENT_TIMEOUT_SECONDS bounds it. A deadline longer
            # than the cap: the cap still does. A shorter one: the deadline does.
            for timeout in (None, 60.0, 0.5):
                await expect_error(
                    stub.GetDatabaseInfo(request, timeout=timeout),
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    rich=timeout != 0.5,  # the client's own deadline carries no details
                )

            async def none_waiting() -> bool:
                rows = await asyncio.to_thread(
                    fetch_all,
                    database_url,
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE application_name = %s AND state = 'active'",
                    (name,),
                )
                return int(rows[0][0]) == 0

            # The server ended each query, the one past the caller's deadline too.
            await wait_for(none_waiting, within=10)
            lock.rollback()
            info = await stub.GetDatabaseInfo(request, timeout=10)
            assert info.migration_revision
            assert app.database.pool_stats().checked_out == 0
    finally:
        lock.close()


def _with(url: str, **parts: str) -> str:
    return make_url(url).set(**parts).render_as_string(hide_password=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("part", "cause"),
    [
        ({"username": "ruleiq_no_such_role"}, 'role "ruleiq_no_such_role" does not exist'),
        (
            {"database": "ruleiq_no_such_database"},
            'database "ruleiq_no_such_database" does not exist',
        ),
    ],
    ids=["missing-role", "missing-database"],
)
async def test_a_refused_connection_names_its_cause_at_start_up_and_in_calls(
    database_url: str, part: dict[str, str], cause: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = _with(database_url, **part)
    database = Database(db_settings(), url)
    try:
        with pytest.raises(UnavailableError) as at_start:
            await database.init_db()
        assert cause in at_start.value.message, at_start.value.message
        with pytest.raises(UnavailableError) as sync_ping:
            database.ping_sync()
        assert cause in sync_ping.value.message, sync_ping.value.message
    finally:
        await database.dispose()

    async with (
        running(url) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        users = user_pb2_grpc.UserServiceStub(channel)
        failure = await expect_error(
            users.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=10),
            grpc.StatusCode.UNAVAILABLE,
            "DATABASE_UNAVAILABLE",
        )
        assert cause in failure.message, failure.message
        info = database_pb2_grpc.DatabaseServiceStub(channel).GetDatabaseInfo(
            database_pb2.GetDatabaseInfoRequest(), timeout=10
        )
        failure = await expect_error(info, grpc.StatusCode.UNAVAILABLE)
        assert cause in failure.message, failure.message
        assert (
            await health_status(channel, "readiness") == health_pb2.HealthCheckResponse.NOT_SERVING
        )
    # The readiness check's log line says why.
    assert any(cause in record.getMessage() for record in caplog.records), caplog.text
