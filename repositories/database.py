"""One PostgreSQL server's engines: the async one every call uses, and the sync
one for tools that need a blocking connection (the seed's dual-engine design).
A primary and its read replicas are each one of these (see cluster.py)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    create_async_engine,
)
from sqlalchemy.pool import NullPool, QueuePool

from .config import ConfigError, DatabaseSettings
from .errors import UnavailableError, refusal_cause
from .history import ChangeContext
from .ids import random_hex
from .pooling import BurstPool
from .unit_of_work import Locks, Pool, Transaction, UnitOfWork
from .urls import DatabaseUrls, parse_database_url

log = logging.getLogger(__name__)
T = TypeVar("T")

# TCP keepalives for the sync engine: a silently dropped connection (a NAT or
# firewall timeout) is noticed within about a minute instead of hanging.
_SYNC_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def _unique_statement_name() -> str:
    return f"__asyncpg_{random_hex()}__"


class Unreadable:
    """A stored JSON value the API cannot carry: a number of more than 4,300 digits
    (Python cannot hold it), or nesting past MAX_JSON_DEPTH. The API refuses both;
    only SQL can write them. Read as this marker, not as an error, so one such value
    fails only what must show it (service/conversion.py), not every read near it."""

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE = Unreadable()

# A level of JSON object is three levels of protobuf message (Value, Struct and its
# map entry), and protobuf's parsers stop at 100: a value deeper than this would leave
# some response (a Commit's, a change event's) no client can parse. The API takes
# values this deep; reading allows one level more, for the history rows holding them.
MAX_JSON_DEPTH = 30
_READABLE_DEPTH = MAX_JSON_DEPTH + 1


def read_json(text: str) -> Any:
    """The JSON and JSONB columns' values as Python: UNREADABLE for what it cannot hold
    or the API cannot carry."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return UNREADABLE
    # Only text with that many brackets can nest that deep: most values skip the walk.
    if text.count("[") + text.count("{") > _READABLE_DEPTH and nests_deeper(value, _READABLE_DEPTH):
        return UNREADABLE
    return value


def nests_deeper(value: Any, depth: int) -> bool:
    """Whether `value` holds lists and dicts more than `depth` levels deep."""
    level = [value]
    for _ in range(depth + 1):
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return False
        level = [
            inner
            for container in containers
            for inner in (container.values() if isinstance(container, dict) else container)
        ]
    return True


@dataclass(frozen=True)
class PoolStats:
    size: int
    checked_in: int
    checked_out: int
    overflow: int
    max_overflow: int
    timeout_seconds: float
    opened_total: int  # connections this process's pool opened since it started


# On a standby: whether it is one, whether it has received WAL since it started
# (NULL: its WAL receiver never connected), and how far its replay is behind what
# it received, as time since the last replayed commit. 0 once it has replayed all
# it received: after a restart it receives from the start of a WAL segment, behind
# what it has replayed already.
_REPLICATION_LAG_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_receive_lsn() IS NOT NULL,
       CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0.0
            ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
       END
"""


# Inside a transaction, transaction_read_only is on when the server is a standby
# or default_transaction_read_only is set (a disk-full primary, say).
_READ_ONLY_SQL = "SELECT current_setting('transaction_read_only') = 'on'"
_SERVER_SQL = (
    "SELECT current_setting('server_version'), current_setting('transaction_read_only') = 'on'"
)


async def _revision(transaction: Transaction) -> str | None:
    """The Alembic revision; None when the database was never migrated."""
    # Looked up first: reading a missing table would abort the transaction.
    if await transaction.fetchval("SELECT to_regclass('alembic_version')") is None:
        return None
    revision: str | None = await transaction.fetchval("SELECT version_num FROM alembic_version")
    return revision


class Database:
    """One server: both engines, built from one URL and one settings object, its
    pool, and the checks of that server alone (round trip, probe, replication lag)."""

    def __init__(self, settings: DatabaseSettings, url: str | None = None) -> None:
        raw = url or (settings.database_url.get_secret_value() if settings.database_url else None)
        if raw is None:
            raise ConfigError("DATABASE_URL: not set (and no embedded server was started)")
        self.settings = settings
        self.url = raw
        self.urls: DatabaseUrls = parse_database_url(raw)
        self.application_name = self._application_name()
        self.async_engine: AsyncEngine = self._create_async_engine()
        self._opened = 0
        event.listen(self.async_engine.sync_engine, "connect", self._count_opened)
        self._sync_engine: Engine | None = None
        self._probe_engine: AsyncEngine | None = None
        self.pool = Pool(self.async_engine)
        # Told after each committed write of this process (the change stream's
        # wake-up, service/watch.py); never inside the write's transaction.
        self.after_write: Callable[[], None] | None = None

    def _count_opened(self, _dbapi_connection: Any, _record: Any) -> None:
        self._opened += 1

    def _application_name(self) -> str:
        """DB_APPLICATION_NAME when set, else the URL's `application_name`, else
        the default: a name given anywhere is never silently replaced."""
        if (
            "db_application_name" in self.settings.model_fields_set
            or not self.urls.application_name
        ):
            return self.settings.db_application_name
        return self.urls.application_name

    def _pool_arguments(self) -> dict[str, Any]:
        s = self.settings
        return {
            "pool_size": s.db_pool_size,
            "max_overflow": s.db_max_overflow,
            "pool_recycle": s.db_pool_recycle,
            "pool_timeout": s.db_pool_timeout,
            "pool_pre_ping": s.db_pool_pre_ping,
            "echo": s.sqlalchemy_echo,
        }

    def _async_connect_args(self) -> dict[str, Any]:
        connect_args = dict(self.urls.async_connect_args)
        connect_args["server_settings"] = {"application_name": self.application_name}
        if self.settings.db_pgbouncer:
            # Transaction pooling: the next transaction may run on another server
            # connection, where a statement prepared on this one does not exist.
            # asyncpg's own statements become unnamed (re-parsed with each
            # execution); SQLAlchemy's named ones get names no other client can
            # collide with, and none are kept for reuse. client_connection_check_
            # interval is no startup parameter PgBouncer accepts: the unit of work
            # sets it per transaction instead.
            connect_args["statement_cache_size"] = 0
            connect_args["prepared_statement_cache_size"] = 0
            connect_args["prepared_statement_name_func"] = _unique_statement_name
        return connect_args

    def _create_async_engine(self) -> AsyncEngine:
        connect_args = self._async_connect_args()
        interval = self.settings.db_client_connection_check_interval
        if interval > 0 and not self.settings.db_pgbouncer:
            # When a cancelled call's connection is closed mid-query (SQLAlchemy and
            # the unit of work discard it; asyncpg's own cancel request dies with
            # it), PostgreSQL notices the closed socket and ends the query.
            connect_args["server_settings"]["client_connection_check_interval"] = str(interval)
        return create_async_engine(
            self.urls.async_url,
            connect_args=connect_args,
            json_deserializer=read_json,
            poolclass=BurstPool,
            keep_overflow=self.settings.db_pool_overflow_keep,
            **self._pool_arguments(),
        )

    def dedicated_engine(self) -> AsyncEngine:
        """An engine without a pool, for a connection kept open for one purpose
        (LISTEN): its connections are the caller's to close."""
        return create_async_engine(
            self.urls.async_url,
            connect_args=self._async_connect_args(),
            json_deserializer=read_json,
            poolclass=NullPool,
        )

    @property
    def sync_engine(self) -> Engine:
        """Created on first use so a process that never needs it opens no connection."""
        if self._sync_engine is None:
            connect_args: dict[str, Any] = dict(_SYNC_KEEPALIVES)
            connect_args["application_name"] = self.application_name
            self._sync_engine = create_engine(
                self.urls.sync_url,
                connect_args=connect_args,
                json_deserializer=read_json,
                poolclass=QueuePool,
                **self._pool_arguments(),
            )
        return self._sync_engine

    async def ping(self) -> float:
        """One real round trip on the async engine; its latency in milliseconds."""
        return await self._round_trip(self.async_engine)

    async def probe(self, query_timeout: float) -> bool:
        """A round trip on a connection of its own, outside the pool: whether the
        database answers, even while a burst holds every pooled connection (a full
        pool is load, not a reason to leave the load balancer). True when it takes
        reads only (a standby, or default_transaction_read_only). `query_timeout`
        (seconds) goes to asyncpg, which cancels the query on the server when it
        passes: the connection is then discarded, not left mid-query."""
        read_only = await self._on_driver(
            self._probe(), lambda driver: driver.fetchval(_READ_ONLY_SQL, timeout=query_timeout)
        )
        return bool(read_only)

    def _probe(self) -> AsyncEngine:
        if self._probe_engine is None:
            self._probe_engine = create_async_engine(
                self.urls.async_url,
                connect_args=self._async_connect_args(),
                json_deserializer=read_json,
                pool_size=1,
                max_overflow=0,
                pool_timeout=self.settings.db_pool_timeout,
                pool_recycle=self.settings.db_pool_recycle,
                pool_pre_ping=False,
            )
        return self._probe_engine

    async def replication_lag(self, query_timeout: float) -> float | None:
        """Seconds this standby's replay is behind (0: it has replayed all it has
        received); None when that is not known. Raises UnavailableError when it does
        not answer, is no standby (promoted, or the URL names a primary), or receives
        nothing from its primary. `query_timeout` as for `probe`."""
        row = await self._on_driver(
            self._probe(),
            lambda driver: driver.fetchrow(_REPLICATION_LAG_SQL, timeout=query_timeout),
        )
        in_recovery, receiving, lag = row
        if not in_recovery:
            raise UnavailableError(
                f"{self.urls.safe_description} is not a standby (not in recovery)",
                reason="NOT_A_REPLICA",
            )
        if not receiving:
            raise UnavailableError(
                f"{self.urls.safe_description} receives no WAL from its primary",
                reason="REPLICA_NOT_STREAMING",
            )
        return None if lag is None else max(0.0, float(lag))

    async def _round_trip(self, engine: AsyncEngine) -> float:
        started = time.perf_counter()
        # The simple query protocol: no statement prepared, none left behind on a
        # server connection PgBouncer shares with other clients.
        await self._on_driver(engine, lambda driver: driver.execute("SELECT 1"))
        return (time.perf_counter() - started) * 1000

    async def _on_driver(self, engine: AsyncEngine, call: Callable[[Any], Awaitable[T]]) -> T:
        """`call` on an asyncpg connection of `engine`'s pool."""
        try:
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                try:
                    return await call(raw.driver_connection)
                except Exception:
                    # Not back into the pool: a connection the server dropped would
                    # fail every later check, though the server is back.
                    await connection.invalidate()
                    raise
        except Exception as error:
            raise self._unreachable(error) from error

    def ping_sync(self) -> float:
        started = time.perf_counter()
        try:
            with self.sync_engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            raise self._unreachable(error) from error
        return (time.perf_counter() - started) * 1000

    def _unreachable(self, error: Exception) -> UnavailableError:
        # The driver's text can carry the DSN: only PostgreSQL's own reason for a
        # refusal is shown (it names the role or database), else the class name.
        cause = refusal_cause(error) or type(error).__name__
        return UnavailableError(
            f"cannot reach PostgreSQL at {self.urls.safe_description} ({cause})",
            reason="DATABASE_UNAVAILABLE",
        )

    async def init_db(self) -> None:
        """Prove both engines reach the server (migrations are the caller's: the
        runner, repositories/migrations.py, is built on this class)."""
        await self.ping()
        self.ping_sync()
        log.info("database ready at %s", self.urls.safe_description)

    def unit_of_work(
        self,
        statement_timeout: float | None = None,
        *,
        single_statement: bool = False,
        changes: ChangeContext | None = None,
        locks: Locks | None = None,
        first: Sequence[str] = (),
    ) -> UnitOfWork:
        """One call's unit of work on the pool (see UnitOfWork for `single_statement`,
        `changes`, `locks` and `first`)."""
        pgbouncer = self.settings.db_pgbouncer
        return UnitOfWork(
            self.pool,
            statement_timeout=statement_timeout,
            single_statement=single_statement,
            changes=changes,
            locks=locks,
            first=first,
            after_commit=self.after_write if changes is not None else None,
            transaction_pooling=pgbouncer,
            connection_check_interval=(
                self.settings.db_client_connection_check_interval if pgbouncer else 0
            ),
        )

    def pool_stats(self) -> PoolStats:
        pool: Any = self.async_engine.pool
        return PoolStats(
            size=pool.size(),
            checked_in=pool.checkedin(),
            checked_out=pool.checkedout(),
            overflow=max(pool.overflow(), 0),
            max_overflow=self.settings.db_max_overflow,
            timeout_seconds=pool.timeout(),
            opened_total=self._opened,
        )

    async def engine_info(self, statement_timeout: float | None = None) -> dict[str, Any]:
        """What the seed's health monitoring reported: server, revision, pool,
        latency, and whether the database takes reads only. Its statements run in
        one unit of work whose statement_timeout is `statement_timeout` (seconds):
        a locked alembic_version ends as DEADLINE_EXCEEDED, never a wait."""
        async with self.unit_of_work(statement_timeout) as uow:
            transaction = uow.transaction
            started = time.perf_counter()
            await transaction.script("SELECT 1")
            latency = (time.perf_counter() - started) * 1000
            version, read_only = await transaction.fetchrow(_SERVER_SQL)
            revision = await _revision(transaction)
        return {
            "server_version": str(version),
            "migration_revision": revision or "",
            "round_trip_ms": latency,
            "read_only": bool(read_only),
            "pool": self.pool_stats(),
            "application_name": self.application_name,
            "database": self.urls.async_url.database or "",
            "host": self.urls.host_port,
        }

    async def dispose(self) -> None:
        await self.async_engine.dispose()
        if self._probe_engine is not None:
            await self._probe_engine.dispose()
        if self._sync_engine is not None:
            self._sync_engine.dispose()
