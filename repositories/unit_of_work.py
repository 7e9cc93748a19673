"""One transaction per call: begun on entry, committed only when told to, rolled
back otherwise, and its connection always handed back to the pool (or discarded
when it may be broken)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn

from sqlalchemy import Connection, PoolProxiedConnection, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn

from .errors import DataError, DeadlineExceededError, UnavailableError, translate
from .history import ChangeContext

Locks = Mapping[str, Collection[uuid.UUID]]
"""Rows to lock for a whole transaction: ids by table name."""


def _raise_translated(error: Exception, *, deleting: bool = False) -> NoReturn:
    """`error` as the DataError it means, the driver's error kept as its cause."""
    mapped = translate(error, deleting=deleting)
    if mapped is error:
        raise error
    raise mapped from error


class Transaction:
    """The one way a unit of work's statements reach the database, all in the
    transaction the unit opened (in a single-statement unit, each statement is
    PostgreSQL's own implicit transaction). Every error comes out translated into
    the data layer's exception tree; `deleting=True` on a statement that deletes
    reads a foreign-key violation as "still referred to", not "no such parent".

    Two ways in: SQLAlchemy Core for statements built per call (`execute`), and
    asyncpg's own calls (`fetch`, `fetchrow`, `fetchval`) for the repositories'
    precompiled hot statements, which skip SQLAlchemy's per-statement work. The
    SQLAlchemy side is built on the first `execute`: most calls (Get, Create,
    Update, Delete) never need it, and building it costs more than their query."""

    def __init__(
        self,
        engine: AsyncEngine,
        pooled: PoolProxiedConnection,
        driver: Any,
        statement_timeout: float | None = None,
        changes: ChangeContext | None = None,
    ) -> None:
        self._engine = engine
        self._pooled = pooled
        self._connection: AsyncConnection | None = None
        self._driver = driver
        # Outside a transaction (a single-statement unit) the deadline travels with each
        # statement: asyncpg cancels the query on the server when it passes.
        self.statement_timeout = statement_timeout
        # Likewise what the change history records: each write sets it itself
        # (repositories/history.py `told`), in a transaction it would end with the
        # statement that set it.
        self.changes = changes

    @property
    def closed(self) -> bool:
        """Whether the connection underneath has been closed (the server went away)."""
        return bool(self._driver.is_closed())

    async def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        deleting: bool = False,
    ) -> Result[Any]:
        try:
            if self._connection is None:
                self._connection = self._core_connection()
            return await self._connection.execute(statement, parameters)
        except Exception as error:
            _raise_translated(error, deleting=deleting)

    async def fetch(self, sql: str, *arguments: Any, deleting: bool = False) -> list[Any]:
        try:
            records: list[Any] = await self._driver.fetch(
                sql, *arguments, timeout=self.statement_timeout
            )
        except Exception as error:
            _raise_translated(error, deleting=deleting)
        return records

    async def fetchrow(self, sql: str, *arguments: Any, deleting: bool = False) -> Any:
        """The first row, or None."""
        try:
            return await self._driver.fetchrow(sql, *arguments, timeout=self.statement_timeout)
        except Exception as error:
            _raise_translated(error, deleting=deleting)

    async def fetchval(self, sql: str, *arguments: Any) -> Any:
        try:
            return await self._driver.fetchval(sql, *arguments, timeout=self.statement_timeout)
        except Exception as error:
            _raise_translated(error)

    async def script(self, sql: str) -> None:
        """`sql`, one or more statements without parameters, in the simple query
        protocol: one round trip, nothing prepared (PgBouncer shares what is)."""
        try:
            await self._driver.execute(sql)
        except Exception as error:
            _raise_translated(error)

    async def close_prepared(self) -> None:
        """Close the statements SQLAlchemy prepared in this transaction, while it still
        holds their server connection. asyncpg would close them with its next
        statement, in another transaction, likely on another server, where closing is
        a no-op: each List would leave one behind on a server connection until
        PgBouncer replaces it.

        asyncpg has no public call for this. Should its private one go, statements are
        left behind again rather than calls failing (tests/test_pgbouncer.py counts
        them)."""
        cleanup = getattr(self._driver, "_cleanup_stmts", None)
        if cleanup is not None and getattr(self._driver, "_stmts_to_close", None):
            try:
                await cleanup()
            except Exception as error:
                _raise_translated(error)

    def _core_connection(self) -> AsyncConnection:
        # The transaction is the unit of work's, opened on the driver: SQLAlchemy's
        # adapter must not begin one of its own (the pool resets this on release).
        self._pooled.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        return AsyncConnection(self._engine, Connection(self._engine.sync_engine, self._pooled))


class Pool:
    """Where units of work take their connections: an engine's pool, used straight
    (an AsyncConnection around each checkout costs more than a primary-key read)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._last_reset = 0.0

    async def checkout(self) -> PoolProxiedConnection:
        """A pooled connection whose driver is still open. Those the server ended
        while they sat in the pool (a restart, pg_terminate_backend) are replaced
        here rather than failing the calls that draw them; without pre-ping this
        check costs nothing. After a restart every idle one is dead: one try more
        than the pool holds idle."""
        pool: Any = self.engine.pool
        attempts = pool.checkedin() + 1 if hasattr(pool, "checkedin") else 2
        for attempt in range(attempts):
            try:
                pooled = await self.engine.raw_connection()
            except Exception as error:
                _raise_translated(error)
            driver: Any = pooled.driver_connection
            if driver is None or not driver.is_closed() or attempt == attempts - 1:
                return pooled  # the last one's first statement fails as UNAVAILABLE
            await greenlet_spawn(pooled.invalidate)
        raise AssertionError("unreachable")

    def driver(self, pooled: PoolProxiedConnection) -> Any:
        """The asyncpg connection under `pooled`."""
        return pooled.driver_connection

    async def release(self, pooled: PoolProxiedConnection) -> None:
        adapter: Any = pooled.dbapi_connection
        if adapter is not None and adapter.autocommit:
            adapter.autocommit = False  # as the pool's other users expect it
        # In a greenlet: closing a surplus connection awaits the driver.
        await greenlet_spawn(pooled.close)

    async def discard(self, pooled: PoolProxiedConnection, error: BaseException) -> None:
        """Hand back a connection that may be mid-query or broken: the pool closes it
        instead of lending it again. After a lost connection the idle ones are
        likely dead too (a restart), so they are closed as well, at most once a
        second, rather than failing one call each."""
        if pooled.dbapi_connection is not None:  # else SQLAlchemy has discarded it already
            # Invalidating also hands it back to the pool.
            await greenlet_spawn(pooled.invalidate, error if isinstance(error, Exception) else None)
        if isinstance(error, UnavailableError) and error.server_lost:
            now = time.monotonic()
            if now - self._last_reset > 1.0:
                self._last_reset = now
                await self.engine.dispose(close=True)


class UnitOfWork:
    """`async with UnitOfWork(pool) as uow: ...; await uow.commit()`.

    The transaction is opened with one round trip that also sets, for this
    transaction only, `statement_timeout` (seconds, from the call's deadline: then
    PostgreSQL itself ends a query the caller no longer waits for).

    `single_statement` units open no transaction at all: one statement (a read, or
    a write such as an INSERT ... RETURNING) is atomic by itself, and skipping
    BEGIN/COMMIT saves two of its three round trips. Their statements carry the
    deadline themselves (`Transaction.statement_timeout`): asyncpg cancels the query
    on the server when it passes. A write whose deadline passes as it commits may
    still have happened, as when a reply is lost; callers that retry creates send
    a request_id, whose units are transactions.

    `transaction_pooling` (behind PgBouncer in transaction mode): only a transaction
    keeps one server connection, so nothing may rely on more than that. Single-statement
    units open one too: SQLAlchemy prepares a statement and executes it in two
    exchanges, which outside a transaction PgBouncer may send to two different
    servers, and the deadline then travels by `SET LOCAL` like the others'. A
    session-level SET would stay on a server connection other clients share: the
    opening statement sets `client_connection_check_interval` (ms, if given) locally
    instead. Before the transaction ends, the statements SQLAlchemy prepared in it
    are closed, on the server that holds them.

    `changes` (a write's caller, end user, request, trace and commit) are set for
    the transaction only, by the opening statement, for the change history's
    trigger (repositories/history.py). A single-statement unit has no transaction
    for them to last in: its write sets them itself (`Transaction.changes`).

    `first` (statements without parameters, such as a claim) run in the opening
    round trip after those settings; a failing one fails the opening and the unit
    rolls back. `locks` (rows by table) are locked by the opening round trip too, in one
    global order (table, then id), until the transaction ends: transactions that
    lock the rows they will change this way queue instead of deadlocking, and a
    statement that follows reads, in its own snapshot, whatever the transactions
    it waited for committed. Ids of rows that do not exist lock nothing.
    """

    def __init__(
        self,
        pool: Pool,
        *,
        statement_timeout: float | None = None,
        single_statement: bool = False,
        transaction_pooling: bool = False,
        connection_check_interval: int = 0,
        changes: ChangeContext | None = None,
        locks: Locks | None = None,
        first: Sequence[str] = (),
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self._locks = locks
        self._first = first
        self._after_commit = after_commit
        self._statement_timeout = statement_timeout
        self._transaction_pooling = transaction_pooling
        self._pooled: PoolProxiedConnection | None = None
        self._check_interval = connection_check_interval
        self._changes = changes
        self._single_statement = single_statement and not transaction_pooling and not locks
        self._committed = False
        self.transaction: Transaction

    def _opening_sql(self) -> str:
        statements = ["BEGIN"]
        if self._statement_timeout is not None:
            milliseconds = max(1, int(self._statement_timeout * 1000))
            statements.append(f"SET LOCAL statement_timeout = {milliseconds}")
        if self._check_interval > 0:
            statements.append(
                f"SET LOCAL client_connection_check_interval = {self._check_interval}"
            )
        if self._changes is not None:
            statements.append(self._changes.settings_sql())
        statements += self._first
        if self._locks:
            statements += lock_statements(self._locks)
        return "; ".join(statements)

    async def __aenter__(self) -> UnitOfWork:
        pool = self._pool
        self._pooled = pooled = await pool.checkout()
        self.transaction = Transaction(
            pool.engine,
            pooled,
            pool.driver(pooled),
            self._statement_timeout if self._single_statement else None,
            self._changes if self._single_statement else None,
        )
        if not self._single_statement:
            try:
                await self.transaction.script(self._opening_sql())
            except BaseException as error:
                # A lock that timed out or deadlocked leaves a connection that can
                # roll back and serve again; one that may be broken is discarded.
                await self.__aexit__(type(error), error, error.__traceback__)
                raise
        return self

    def _lost(self, error: BaseException) -> UnavailableError | None:
        """What an untranslated error means when it left the connection closed: the
        connection died under the call. asyncpg raises its own protocol errors
        (InternalClientError "another operation is in progress") when the server's
        farewell arrived on an idle connection just before its end of stream, and
        closes it: the database went away, not a bug."""
        if isinstance(error, DataError) or not isinstance(error, Exception):
            return None
        transaction: Transaction | None = getattr(self, "transaction", None)
        if transaction is None or not transaction.closed:
            return None
        return UnavailableError("the database connection was lost", reason="DATABASE_UNAVAILABLE")

    async def commit(self, *last: str) -> None:
        """Commit, after `last` (statements without parameters) in the same round trip;
        then tell `after_commit`."""
        if self._single_statement:
            assert not last  # no transaction to run them in
        else:
            if self._transaction_pooling:
                await self.transaction.close_prepared()
            await self.transaction.script("; ".join((*last, "COMMIT")))
        self._committed = True
        if self._after_commit is not None:
            self._after_commit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None:
            lost = self._lost(exc)
            if lost is not None:
                await self._discard(lost)
                raise lost from exc
            if _connection_unusable(exc):
                await self._discard(exc)
                return
        try:
            if not self._committed and not self._single_statement:
                # Translated: the connection may die between the call's last
                # statement and this one.
                if self._transaction_pooling:
                    await self.transaction.close_prepared()
                await self.transaction.script("ROLLBACK")
        except BaseException as error:
            lost = self._lost(error)
            await self._discard(lost or error)
            if exc is None:
                if lost is not None:
                    raise lost from error
                raise
            return
        if self._pooled is not None:
            await self._pool.release(self._pooled)

    async def _discard(self, error: BaseException) -> None:
        if self._pooled is not None:
            await self._pool.discard(self._pooled, error)


def lock_statements(locks: Locks) -> list[str]:
    """`SELECT ... FOR UPDATE` of `locks`, table by table in name order, each in id
    order, for a script (no parameters). The ids are rendered from UUID objects
    (`.hex` fails on anything else), so no caller's text reaches the SQL."""
    statements = []
    for table in sorted(locks):
        ids = sorted(set(locks[table]))
        if ids:
            listed = ", ".join(f"'{row_id.hex}'" for row_id in ids)
            statements.append(
                f'SELECT 1 FROM "{table}" WHERE id IN ({listed}) ORDER BY id FOR UPDATE'  # noqa: S608
            )
    return statements


def _connection_unusable(error: BaseException) -> bool:
    """Whether the connection may be mid-operation or gone, so that no ROLLBACK
    should be sent on it."""
    if isinstance(error, asyncio.CancelledError):
        return True
    if isinstance(error, DeadlineExceededError) and isinstance(error.__cause__, TimeoutError):
        return True  # asyncpg's own timeout: its cancel request may still be in flight
    return isinstance(error, UnavailableError) and error.discard_connection
