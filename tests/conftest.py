from __future__ import annotations

import os

# Tests fork psql and pg_ctl while gRPC threads run; gRPC's fork handlers would
# only print warnings about it.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from repositories.database import Database
from repositories.migrations import upgrade
from repositories.unit_of_work import Transaction
from service.server import App

from .api import Api
from .apps import db_settings, running
from .client_venv import ClientVenv, client_installed
from .isolation import OuterTransaction, outer_transaction
from .pgbouncer import Bouncer, started
from .postgres import TestServer

DB_FIXTURES = {
    "postgres",
    "database_url",
    "database",
    "connection",
    "sessions",
    "session",
    "grpc_app",
    "channel",
    "api",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything that reaches PostgreSQL runs again against TEST_DATABASE_URL in CI.
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def postgres() -> Iterator[TestServer]:
    server = TestServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(postgres: TestServer) -> Iterator[str]:
    """A database migrated to head, shared by the run; tests isolate themselves."""
    with postgres.database() as url:
        yield url


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(db_settings(), database_url)
    await upgrade(db.async_engine)
    yield db
    await db.dispose()


@pytest.fixture
async def connection(database: Database) -> AsyncIterator[AsyncConnection]:
    """One connection inside an outer transaction that is rolled back at teardown."""
    async with database.async_engine.connect() as conn:
        outer = await conn.begin()
        # asyncpg's adapter sends BEGIN with the first statement; units of work
        # open their savepoints on the driver directly, so the transaction must exist.
        await conn.execute(text("SELECT 1"))
        yield conn
        if outer.is_active:
            await outer.rollback()
        # A Transaction on it outside any unit of work leaves it set (see `session`).
        (await conn.get_raw_connection()).dbapi_connection.autocommit = False  # type: ignore[union-attr]


@pytest.fixture
async def sessions(connection: AsyncConnection) -> OuterTransaction:
    """What a UnitOfWork takes in tests: the outer connection, whose commits become
    savepoints of the outer transaction."""
    return await outer_transaction(connection)


@pytest.fixture
async def session(sessions: OuterTransaction) -> Transaction:
    """A repository transaction on the outer one, outside any unit of work."""
    pooled = await sessions.checkout()
    return Transaction(sessions.engine, pooled, sessions.driver(pooled))


@pytest.fixture(scope="session")
async def grpc_app(database: Database, database_url: str) -> AsyncIterator[App]:
    """The real server on a free port, with its own pool on the test database."""
    async with running(database_url) as app:
        yield app


@pytest.fixture(scope="session")
async def channel(grpc_app: App) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_app.port}") as ch:
        yield ch


@pytest.fixture(scope="session")
def pgbouncer(database: Database, database_url: str) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of the (migrated) test database."""
    with started(database_url) as bouncer:
        yield bouncer


@pytest.fixture(scope="session")
async def bounced_app(pgbouncer: Bouncer) -> AsyncIterator[App]:
    """The real server, its Database pointing at PgBouncer with DB_PGBOUNCER=true."""
    async with running(pgbouncer.url, database_options={"db_pgbouncer": True}) as app:
        yield app


@pytest.fixture(scope="session")
async def client_venv(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ClientVenv]:
    """The shipped client installed in a virtual environment of its own, once per
    run: the tests only run scripts in it, none installs anything."""
    async with client_installed(tmp_path_factory) as venv:
        yield venv


@pytest.fixture(scope="session")
def api(channel: grpc.aio.Channel) -> Api:
    """A stub per service, by resource message name: `api.User.GetUser(...)`."""
    return Api(channel)
