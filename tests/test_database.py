"""Both engines against the real server: URL forms, application_name, keepalives,
init_db, engine_info, disposal, and connections handed back clean after every way a
unit of work can fail."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from repositories.config import DatabaseSettings
from repositories.database import Database
from repositories.errors import (
    AlreadyExistsError,
    DeadlineExceededError,
    InvalidArgumentError,
    UnavailableError,
)
from repositories.migrations import alembic_config, run_migrations

from .probes import HANG_SECONDS

if TYPE_CHECKING:  # imported by name, pytest would try to collect the class
    from .postgres import TestServer

PASSWORD = "s3cr3t-Pa55word"
# The machine's PostgreSQL 15 over TCP (always there, here and in CI): keepalives
# only exist on TCP sockets and the embedded server listens on a unix socket only.
LOCAL_TCP_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def unique_name() -> str:
    """An application_name no other test uses, to find this test's connections."""
    return f"t_{uuid.uuid4().hex[:16]}"


def settings(**values: Any) -> DatabaseSettings:
    return DatabaseSettings.model_validate(values)


def with_scheme(url: str, scheme: str) -> str:
    _, rest = url.split("://", 1)
    return f"{scheme}://{rest}"


async def connections_named(monitor: Database, name: str) -> list[str]:
    """The state of every server connection whose application_name is `name`."""
    async with monitor.async_engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT state FROM pg_stat_activity WHERE application_name = :name"),
            {"name": name},
        )
        return [str(state) for state in rows.scalars()]


async def eventually_idle(monitor: Database, name: str) -> list[str]:
    """The states once every backend of `name` is idle or gone. A discarded
    connection's backend outlives the client's close by a moment: it finishes the
    abandoned query, reports "idle in transaction", and only then reads the end of
    its socket and exits. One that stays in a transaction is a leak."""
    states = await connections_named(monitor, name)
    give_up = time.monotonic() + HANG_SECONDS
    while not set(states) <= {"idle"} and time.monotonic() < give_up:
        await asyncio.sleep(0.05)
        states = await connections_named(monitor, name)
    return states


async def eventually_closed_to(monitor: Database, name: str, count: int) -> list[str]:
    states = await connections_named(monitor, name)
    give_up = time.monotonic() + HANG_SECONDS
    while len(states) > count and time.monotonic() < give_up:
        await asyncio.sleep(0.05)
        states = await connections_named(monitor, name)
    return states


async def eventually_gone(monitor: Database, name: str) -> list[str]:
    return await eventually_closed_to(monitor, name, 0)


# -- URL forms and connection settings on a real server ---------------------------------


@pytest.mark.parametrize(
    "scheme",
    ["postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg", "postgresql+asyncpg"],
)
async def test_every_url_form_connects_both_engines(
    database: Database, database_url: str, scheme: str
) -> None:
    db = Database(settings(db_application_name=unique_name()), with_scheme(database_url, scheme))
    try:
        expected = make_url(database_url).database
        async with db.async_engine.connect() as connection:
            assert (
                await connection.execute(text("SELECT current_database()"))
            ).scalar() == expected
        with db.sync_engine.connect() as sync_connection:
            assert sync_connection.execute(text("SELECT current_database()")).scalar() == expected
    finally:
        await db.dispose()


APPLICATION_NAME_QUERY = text(
    "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"
)


@pytest.mark.parametrize("override", [False, True], ids=["default", "DB_APPLICATION_NAME"])
async def test_application_name_is_visible_in_pg_stat_activity_for_both_engines(
    database: Database, database_url: str, override: bool
) -> None:
    name = unique_name() if override else "ruleIQ_backend"
    values = {"db_application_name": name} if override else {}
    db = Database(settings(**values), database_url)
    try:
        async with db.async_engine.connect() as connection:
            assert (await connection.execute(APPLICATION_NAME_QUERY)).scalar() == name
        with db.sync_engine.connect() as sync_connection:
            assert sync_connection.execute(APPLICATION_NAME_QUERY).scalar() == name
    finally:
        await db.dispose()


async def test_application_name_from_the_url_is_visible_for_both_engines(
    database: Database, database_url: str
) -> None:
    name = unique_name()
    url = make_url(database_url).update_query_dict({"application_name": name})
    db = Database(DatabaseSettings(), url.render_as_string(hide_password=False))
    try:
        await db.ping()
        db.ping_sync()
        assert sorted(await connections_named(database, name)) == ["idle", "idle"]
    finally:
        await db.dispose()


@pytest.fixture
def tcp_url(postgres: TestServer, database_url: str) -> str:
    """A URL reaching PostgreSQL over TCP: the test server's when it has a host."""
    if make_url(postgres.admin_url).host:
        return database_url
    return LOCAL_TCP_URL


async def test_sync_engine_connections_have_tcp_keepalives(tcp_url: str) -> None:
    db = Database(settings(db_application_name=unique_name()), tcp_url)
    try:
        with db.sync_engine.connect() as connection:
            raw: Any = connection.connection.dbapi_connection
            parameters = raw.get_dsn_parameters()
            assert parameters["keepalives"] == "1"
            assert int(parameters["keepalives_idle"]) > 0
            # And the kernel agrees: the socket itself has keepalives switched on.
            with socket.socket(fileno=os.dup(raw.fileno())) as sock:
                assert sock.family in (socket.AF_INET, socket.AF_INET6)
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
                for option, parameter in (
                    (socket.TCP_KEEPIDLE, "keepalives_idle"),
                    (socket.TCP_KEEPINTVL, "keepalives_interval"),
                    (socket.TCP_KEEPCNT, "keepalives_count"),
                ):
                    assert sock.getsockopt(socket.IPPROTO_TCP, option) == int(parameters[parameter])
    finally:
        await db.dispose()


# -- init_db, engine_info, dispose ----------------------------------------------------------


async def test_init_db_round_trips_on_both_engines(database: Database, database_url: str) -> None:
    name = unique_name()
    db = Database(settings(db_application_name=name), database_url)
    try:
        await db.init_db()
        # One connection from each engine did the round trip and went back to its pool.
        assert db.pool_stats().checked_in == 1
        sync_pool: Any = db.sync_engine.pool
        assert sync_pool.checkedin() == 1
        assert sorted(await connections_named(database, name)) == ["idle", "idle"]
    finally:
        await db.dispose()


async def test_init_db_then_migrations_bring_an_empty_database_to_head(
    postgres: TestServer,
) -> None:
    with postgres.database() as url:
        db = Database(settings(db_application_name=unique_name()), url)
        try:
            assert (await db.engine_info())["migration_revision"] == ""
            await db.init_db()
            await run_migrations(db.settings, url)
            assert (await db.engine_info())["migration_revision"] == HEAD
            async with db.async_engine.connect() as connection:
                tables = await connection.execute(
                    text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                )
                assert tables.scalar_one() > 10
        finally:
            await db.dispose()


UNREACHABLE = [
    (f"postgresql://ruleiq:{PASSWORD}@127.0.0.1:1/ruleiq_prod", "127.0.0.1:1"),
    (f"postgres://ruleiq:{PASSWORD}@127.0.0.1:1/ruleiq_prod?sslmode=prefer", "127.0.0.1:1"),
    (f"postgresql://ruleiq:{PASSWORD}@/ruleiq_prod?host=/nonexistent/socket", "/nonexistent"),
]


@pytest.mark.parametrize(("url", "host"), UNREACHABLE, ids=["tcp", "tcp-sslmode", "socket"])
async def test_init_db_against_unreachable_server_names_host_not_password(
    url: str, host: str
) -> None:
    db = Database(settings(), url)
    try:
        with pytest.raises(UnavailableError) as info:
            await db.init_db()
        with pytest.raises(UnavailableError) as sync_info:
            db.ping_sync()
        for error in (info.value, sync_info.value):
            assert host in str(error)
            assert "ruleiq_prod" in str(error)
            assert error.reason == "DATABASE_UNAVAILABLE"
            # Not in the message, nor anywhere in the chain a log line would print.
            assert PASSWORD not in "".join(traceback.format_exception(error))
    finally:
        await db.dispose()


async def test_engine_info_reports_server_revision_latency_and_pool(
    database: Database, database_url: str
) -> None:
    db = Database(
        settings(db_application_name=unique_name(), db_pool_size=1, db_max_overflow=3),
        database_url,
    )
    try:
        info = await db.engine_info()
        async with database.async_engine.connect() as connection:
            version = (await connection.execute(text("SHOW server_version"))).scalar()
        assert info["server_version"] == version
        assert info["migration_revision"] == HEAD
        assert info["round_trip_ms"] > 0
        assert info["database"] == make_url(database_url).database
        assert (info["pool"].size, info["pool"].checked_out, info["pool"].overflow) == (1, 0, 0)

        held = [await db.async_engine.connect() for _ in range(3)]
        try:
            stats = db.pool_stats()
            assert (stats.size, stats.checked_out, stats.overflow) == (1, 3, 2)
            assert stats.max_overflow == 3
            await held.pop().close()
            # engine_info's own round trip takes the free connection and returns it.
            stats = (await db.engine_info())["pool"]
            assert (stats.checked_out, stats.checked_in, stats.overflow) == (2, 1, 2)
        finally:
            for connection in held:
                await connection.close()
        stats = (await db.engine_info())["pool"]
        assert stats.checked_out == 0
        assert stats.checked_in >= 1
    finally:
        await db.dispose()


async def backend_pids_under_burst(db: Database, callers: int, calls: int) -> set[int]:
    """The server processes that served `callers` concurrent callers making `calls`
    units of work each, every one holding its connection for a moment and pausing
    between them (the call's work outside the database)."""
    pids: set[int] = set()

    async def caller() -> None:
        for _ in range(calls):
            async with db.unit_of_work() as uow:
                pid = await uow.transaction.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.002)")
                pids.add(pid)
            await asyncio.sleep(0.002)

    await asyncio.gather(*(caller() for _ in range(callers)))
    return pids


async def test_a_burst_above_the_pool_size_keeps_its_overflow_connections(
    database_url: str,
) -> None:
    # Closing each overflow connection as it came back made every few calls open a
    # new server process, which cost the database more than the calls.
    db = Database(
        settings(db_application_name=unique_name(), db_pool_size=2, db_max_overflow=4),
        database_url,
    )
    try:
        # More callers than the pool keeps, fewer than it may open.
        pids = await backend_pids_under_burst(db, callers=5, calls=25)
        assert len(pids) == 5
        stats = db.pool_stats()
        assert (stats.size, stats.checked_in, stats.checked_out, stats.overflow) == (2, 5, 0, 3)
        assert stats.opened_total == 5
    finally:
        await db.dispose()


async def test_the_pool_shrinks_back_once_the_burst_is_over(
    database: Database, database_url: str
) -> None:
    name = unique_name()
    db = Database(
        settings(
            db_application_name=name,
            db_pool_size=2,
            db_max_overflow=4,
            db_pool_overflow_keep=0.2,
        ),
        database_url,
    )
    try:
        await backend_pids_under_burst(db, callers=5, calls=5)
        assert db.pool_stats().checked_in == 5
        await asyncio.sleep(0.3)  # past DB_POOL_OVERFLOW_KEEP since the burst last needed them
        for _ in range(3):  # one at a time: each returned beyond the two kept is closed
            async with db.unit_of_work() as uow:
                await uow.transaction.fetchval("SELECT 1")
        stats = db.pool_stats()
        assert (stats.size, stats.checked_in, stats.overflow) == (2, 2, 0)
        assert len(await eventually_closed_to(database, name, 2)) == 2
    finally:
        await db.dispose()


async def test_the_pool_logs_under_sqlalchemys_logger(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Under SQLAlchemy's logger its level (warnings) applies, and SQLALCHEMY_ECHO.
    db = Database(settings(db_application_name=unique_name()), database_url)
    with caplog.at_level(logging.INFO, logger="sqlalchemy"):
        async with db.unit_of_work() as uow:
            await uow.transaction.fetchval("SELECT 1")
        await db.dispose()
    disposed = [r for r in caplog.records if r.getMessage().startswith("Pool disposed")]
    assert [r.name for r in disposed] == ["sqlalchemy.pool.BurstPool"]
    assert "Connections in pool: 0 Current Overflow: -10" in disposed[0].getMessage()


async def test_dispose_leaves_no_connection_behind(database: Database, database_url: str) -> None:
    name = unique_name()
    db = Database(settings(db_application_name=name, db_pool_size=3), database_url)
    held = [await db.async_engine.connect() for _ in range(3)]
    for connection in held:
        await connection.execute(text("SELECT 1"))
        await connection.close()
    db.ping_sync()
    assert len(await connections_named(database, name)) == 4
    await db.dispose()
    assert await eventually_gone(database, name) == []


# -- connections handed back after errors (the seed's "connection cleanup") ------------------


@pytest.fixture
async def small_database(database: Database, database_url: str) -> AsyncIterator[Database]:
    """A pool of two with no overflow, so one leaked connection shows at once."""
    db = Database(
        settings(
            db_application_name=unique_name(), db_pool_size=2, db_max_overflow=0, db_pool_timeout=5
        ),
        database_url,
    )
    yield db
    await db.dispose()


INSERT_USER = text("INSERT INTO users (id, email) VALUES (:id, :email)")


def marker_email(db: Database) -> str:
    """The address the failing blocks insert before they fail; never committed."""
    return f"{db.application_name}@example.com"


async def fail_on_unique_violation(db: Database) -> None:
    email = f"{uuid.uuid4().hex}@example.com"
    async with db.unit_of_work() as uow:
        await uow.transaction.execute(INSERT_USER, {"id": uuid.uuid4(), "email": email})
        await uow.transaction.execute(INSERT_USER, {"id": uuid.uuid4(), "email": email.upper()})


async def fail_on_check_violation(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.transaction.execute(INSERT_USER, {"id": uuid.uuid4(), "email": "no-at-sign"})


class Boom(Exception):
    pass


async def fail_in_python(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.transaction.execute(INSERT_USER, {"id": uuid.uuid4(), "email": marker_email(db)})
        raise Boom


async def fail_on_statement_timeout(db: Database) -> None:
    async with db.unit_of_work(0.05) as uow:
        await uow.transaction.execute(text("SELECT pg_sleep(1)"))


async def fail_by_cancellation(db: Database) -> None:
    async def query() -> None:
        async with db.unit_of_work() as uow:
            await uow.transaction.execute(
                INSERT_USER, {"id": uuid.uuid4(), "email": marker_email(db)}
            )
            await uow.transaction.execute(text("SELECT pg_sleep(30)"))

    await asyncio.wait_for(query(), timeout=0.2)


FAILURES: list[tuple[Callable[[Database], Awaitable[None]], type[BaseException]]] = [
    (fail_on_unique_violation, AlreadyExistsError),
    (fail_on_check_violation, InvalidArgumentError),
    (fail_in_python, Boom),
    (fail_on_statement_timeout, DeadlineExceededError),
    (fail_by_cancellation, TimeoutError),
]


async def assert_pool_is_clean(db: Database, monitor: Database) -> None:
    assert db.pool_stats().checked_out == 0
    states = await eventually_idle(monitor, db.application_name)
    assert set(states) <= {"idle"}, states
    # The next call works, with no leftover of the failed ones.
    async with db.unit_of_work() as uow:
        timeout = (await uow.transaction.execute(text("SHOW statement_timeout"))).scalar()
        ours = await uow.transaction.execute(
            text("SELECT count(*) FROM users WHERE email = :email"), {"email": marker_email(db)}
        )
        assert ours.scalar() == 0
    assert timeout == "0"
    assert db.pool_stats().checked_out == 0


@pytest.mark.parametrize(
    ("fail", "expected"), FAILURES, ids=[fail.__name__ for fail, _ in FAILURES]
)
async def test_failed_units_of_work_hand_their_connections_back(
    small_database: Database,
    database: Database,
    fail: Callable[[Database], Awaitable[None]],
    expected: type[BaseException],
) -> None:
    # Five times the pool's size: a single leaked connection would exhaust it.
    for _ in range(10):
        with pytest.raises(expected):
            await fail(small_database)
        assert small_database.pool_stats().checked_out == 0
    await assert_pool_is_clean(small_database, database)


async def test_many_concurrent_failures_leave_the_pool_clean(
    small_database: Database, database: Database
) -> None:
    failures = [fail for fail, _ in FAILURES] * 4
    outcomes = await asyncio.gather(
        *(fail(small_database) for fail in failures), return_exceptions=True
    )
    expected = [kind for _, kind in FAILURES] * 4
    for outcome, kind in zip(outcomes, expected, strict=True):
        assert isinstance(outcome, kind), outcome
    await assert_pool_is_clean(small_database, database)


async def test_waiting_for_idle_outlasts_a_backend_still_in_its_transaction(
    small_database: Database, database: Database
) -> None:
    async def hold_a_transaction(opened: asyncio.Event) -> None:
        async with small_database.async_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            opened.set()
            await asyncio.sleep(0.3)

    opened = asyncio.Event()
    holder = asyncio.create_task(hold_a_transaction(opened))
    await opened.wait()
    assert "idle in transaction" in await connections_named(
        database, small_database.application_name
    )
    states = await eventually_idle(database, small_database.application_name)
    await holder
    assert set(states) <= {"idle"}, states


async def test_cancelled_query_is_ended_on_the_server(
    small_database: Database, database: Database
) -> None:
    with pytest.raises(TimeoutError):
        await fail_by_cancellation(small_database)
    # No backend of ours is still sleeping through the abandoned query.
    states = await eventually_idle(database, small_database.application_name)
    assert "active" not in states
    assert small_database.pool_stats().checked_out == 0


async def test_unit_of_work_cancelled_again_and_again_hands_its_connection_back(
    small_database: Database, database: Database
) -> None:
    """Cancelled at every await, its rollback and close included (a caller that
    gives up twice, a task group tearing down): the connection still goes back."""

    async def block(kind: int) -> None:
        async with small_database.unit_of_work() as uow:
            await uow.transaction.execute(text("SELECT pg_sleep(0.002)"))
            if kind == 0:
                raise Boom
            if kind == 1:
                await uow.commit()

    for attempt in range(60):
        task = asyncio.create_task(block(attempt % 3))
        await asyncio.sleep(attempt * 0.0001)
        while not task.done():
            task.cancel()
            await asyncio.sleep(0)
        # Finished, failed or cancelled, depending on where the first cancel landed.
        outcome = (await asyncio.gather(task, return_exceptions=True))[0]
        assert outcome is None or isinstance(outcome, (asyncio.CancelledError, Boom))
        assert small_database.pool_stats().checked_out == 0
    await assert_pool_is_clean(small_database, database)
