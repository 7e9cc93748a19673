"""Alembic, driven from code: the server and the tests migrate over an async
connection they already hold, so no second event loop is started.

`run_migrations` is the runner for a database that is serving: one migrator at a
time (an advisory lock), each step behind a short `lock_timeout` and retried, on a
direct session (never PgBouncer's transaction pooling)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alembic import command, context, op

from .config import PROJECT_ROOT, ConfigError, DatabaseSettings
from .errors import sqlstate_of
from .models import Base

log = logging.getLogger(__name__)

# Session-level advisory lock every migrator of a database takes (pg_locks shows it
# as locktype advisory, classid 0, objid this, objsubid 1).
MIGRATION_LOCK_KEY = 0x6D696772  # "migr"
_LOCK_NOT_AVAILABLE = "55P03"
_MAX_BACKOFF_SECONDS = 60.0
_LOCK_POLL_SECONDS = 0.2
# squawk's comment for "skip these rules on the next statement".
SQUAWK_IGNORE = "-- squawk-ignore "


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate's filter: pg_trgm's own objects are not ours to diff."""
    return not (type_ == "table" and name is not None and name.startswith("pg_"))


def comparison_options() -> dict[str, Any]:
    """How models and schema are compared, shared by env.py and the tests that
    prove autogenerate finds no difference."""
    return {
        "target_metadata": Base.metadata,
        "compare_type": True,
        "compare_server_default": True,
        "include_object": include_object,
    }


def alembic_config(
    connection: Connection | None = None, script_location: Path | None = None
) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(script_location or PROJECT_ROOT / "alembic"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    # connect(), not begin(): Alembic opens each step's transaction itself, which an
    # autocommit block (CREATE INDEX CONCURRENTLY) must be able to end.
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        await connection.commit()


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
        await connection.commit()


async def current_revision(connection: AsyncConnection) -> str | None:
    try:
        async with connection.begin_nested():
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return result.scalar_one_or_none()
    except ProgrammingError:  # no alembic_version table: never migrated
        return None


class MigrationError(Exception):
    """A migration could not be applied; the message says why and what holds it up."""


@dataclass(frozen=True)
class Backend:
    """A PostgreSQL session as pg_stat_activity shows it, for messages."""

    pid: int
    application_name: str
    state: str
    seconds: float
    """How long its transaction (or, with none open, the session) has lasted."""

    def describe(self) -> str:
        return (
            f"pid {self.pid} (application_name {self.application_name!r}, {self.state}, "
            f"for {self.seconds:.1f}s)"
        )


_BACKENDS_SQL = """
SELECT pid, coalesce(application_name, ''), coalesce(state, ''),
       extract(epoch FROM clock_timestamp() - coalesce(xact_start, backend_start))::float8
FROM pg_stat_activity WHERE pid = ANY(:pids) ORDER BY pid
"""
_LOCK_HOLDER_SQL = """
SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()
  AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1
"""


def migration_url(settings: DatabaseSettings, url: str) -> str:
    """DATABASE_MIGRATION_URL, else `url` (DATABASE_URL or the embedded server's);
    refused when that goes through PgBouncer in transaction pooling mode."""
    if settings.database_migration_url is not None:
        return settings.database_migration_url.get_secret_value()
    if settings.db_pgbouncer:
        raise ConfigError(
            "DATABASE_MIGRATION_URL: not set, and DATABASE_URL goes through PgBouncer in "
            "transaction pooling mode (DB_PGBOUNCER=true). Migrations need a session of "
            "their own (an advisory lock, session settings, CREATE INDEX CONCURRENTLY): "
            "set DATABASE_MIGRATION_URL to a direct connection to PostgreSQL"
        )
    return url


async def run_migrations(
    settings: DatabaseSettings,
    url: str,
    revision: str = "head",
    *,
    down: bool = False,
    script_location: Path | None = None,
) -> list[str]:
    """Upgrade (or downgrade) to `revision` as the one migrator of the database, one
    revision per transaction; returns the revisions reached, in order."""
    from .database import Database

    direct = migration_url(settings, url)
    # Two connections: the migrator's session and one that watches who blocks it.
    own = settings.model_copy(update={"db_pgbouncer": False, "db_pool_size": 2})
    try:
        database = Database(own, direct)
    except ConfigError as error:
        if settings.database_migration_url is None:
            raise
        raise ConfigError(str(error).replace("DATABASE_URL", "DATABASE_MIGRATION_URL", 1)) from None
    runner = _Runner(own, database.async_engine, script_location)
    try:
        await database.ping()
        return await runner.run(revision, down=down)
    finally:
        await database.dispose()


class _Runner:
    def __init__(
        self, settings: DatabaseSettings, engine: AsyncEngine, script_location: Path | None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.script_location = script_location

    def config(self, connection: Connection | None = None) -> Config:
        return alembic_config(connection, self.script_location)

    async def run(self, revision: str, *, down: bool) -> list[str]:
        async with self.engine.connect() as connection:
            try:
                await self._lock(connection)
                await self._set_timeouts(connection)
                steps = await connection.run_sync(lambda sync: self._steps(sync, revision, down))
                if not steps:
                    log.info("database already at %s: no migration to run", revision)
                for destination in steps:
                    await self._step(connection, destination, down=down)
                    log.info("%s to %s done", "downgrade" if down else "upgrade", destination)
                return steps
            finally:
                # Ending the session is what releases the advisory lock and the
                # session settings, whatever state a failure left it in.
                await connection.invalidate()

    async def _lock(self, connection: AsyncConnection) -> None:
        """The migration lock, waiting at most DB_MIGRATION_WAIT for another migrator.

        The wait polls with pg_try_advisory_lock, idle between tries: a session
        blocked in pg_advisory_lock holds a snapshot, which the holder's CREATE
        INDEX CONCURRENTLY waits for, and PostgreSQL ends that cycle as a deadlock."""
        key = {"key": MIGRATION_LOCK_KEY}
        wait = self.settings.db_migration_wait
        deadline = time.monotonic() + wait
        holder = ""
        while True:
            taken = (
                await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key)
            ).scalar()
            if taken:
                # A session-level lock outlives the transaction that took it.
                await connection.commit()
                return
            if not holder:
                holder = await self._lock_holder(connection)
                if wait > 0:
                    log.info("waiting up to %ss for the migrator %s to finish", wait, holder)
            await connection.rollback()
            remaining = deadline - time.monotonic()
            if wait == 0:
                raise MigrationError(f"another migrator holds the migration lock: {holder}")
            if remaining <= 0:
                raise MigrationError(
                    f"gave up after {wait}s (DB_MIGRATION_WAIT) waiting for another migrator "
                    f"to finish: {await self._lock_holder(connection)}"
                )
            await asyncio.sleep(min(_LOCK_POLL_SECONDS, remaining))

    async def _lock_holder(self, connection: AsyncConnection) -> str:
        pids = list(
            (await connection.execute(text(_LOCK_HOLDER_SQL), {"key": MIGRATION_LOCK_KEY}))
            .scalars()
            .all()
        )
        backends = await _backends(connection, pids)
        return ", ".join(b.describe() for b in backends) or "a session that has just ended"

    async def _set_timeouts(self, connection: AsyncConnection) -> None:
        # Session-wide, not SET LOCAL: an autocommit block (CREATE INDEX
        # CONCURRENTLY) runs outside the step's transaction and needs them too.
        s = self.settings
        await connection.execute(
            text(f"SET lock_timeout = '{int(s.db_migration_lock_timeout * 1000)}ms'")
        )
        await connection.execute(
            text(f"SET statement_timeout = '{int(s.db_migration_statement_timeout * 1000)}ms'")
        )
        await connection.commit()

    def _steps(self, connection: Connection, revision: str, down: bool) -> list[str]:
        """Where each step goes, in order: the migrations form one line (a test
        proves it), so a step is one revision up or down."""
        script = ScriptDirectory.from_config(self.config())
        line = [s.revision for s in reversed(list(script.walk_revisions()))]
        current = MigrationContext.configure(connection).get_current_revision()
        connection.commit()
        at = line.index(current) + 1 if current else 0
        target = _position(script, line, revision, at)
        if down:
            if target > at:
                raise MigrationError(f"cannot downgrade to {revision}: it is above {current}")
            return [line[i - 1] if i else "base" for i in range(at - 1, target - 1, -1)]
        if target < at:
            raise MigrationError(f"cannot upgrade to {revision}: it is below {current}")
        return line[at:target]

    async def _step(self, connection: AsyncConnection, destination: str, *, down: bool) -> None:
        """One revision in its own transaction; a lock timeout rolls it back, and it
        is tried again after a pause, DB_MIGRATION_LOCK_RETRIES times at most."""
        s = self.settings
        apply = command.downgrade if down else command.upgrade
        pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await connection.commit()
        for attempt in range(s.db_migration_lock_retries + 1):
            async with self._watch_blockers(pid) as blockers:
                try:
                    await connection.run_sync(lambda sync: apply(self.config(sync), destination))
                    await connection.commit()
                    return
                except DBAPIError as error:
                    await connection.rollback()
                    if sqlstate_of(error) != _LOCK_NOT_AVAILABLE:
                        raise MigrationError(
                            f"migration to {destination} failed: {error.orig}"
                        ) from None
            seen = ", ".join(b.describe() for b in blockers) or "not seen (it let go at once)"
            if attempt == s.db_migration_lock_retries:
                raise MigrationError(
                    f"migration to {destination} gave up after {attempt + 1} tries: each "
                    f"waited {s.db_migration_lock_timeout}s (DB_MIGRATION_LOCK_TIMEOUT) for a "
                    f"lock held by {seen}"
                )
            pause = min(s.db_migration_retry_backoff * 2**attempt, _MAX_BACKOFF_SECONDS)
            log.warning(
                "migration to %s: lock timeout after %ss, held by %s; try %d of %d in %.1fs",
                destination,
                s.db_migration_lock_timeout,
                seen,
                attempt + 2,
                s.db_migration_lock_retries + 1,
                pause,
            )
            await asyncio.sleep(pause)

    @contextlib.asynccontextmanager
    async def _watch_blockers(self, pid: int) -> AsyncIterator[list[Backend]]:
        """The sessions that block `pid`, as last seen while the block runs: once a
        lock wait has timed out, PostgreSQL no longer says who held it."""
        seen: list[Backend] = []
        every = min(max(self.settings.db_migration_lock_timeout / 5, 0.05), 1.0)

        async def watch() -> None:
            async with self.engine.connect() as observer:
                await observer.execution_options(isolation_level="AUTOCOMMIT")
                query = text("SELECT pg_blocking_pids(:pid)")
                while True:
                    pids = (await observer.execute(query, {"pid": pid})).scalar_one()
                    if pids:
                        seen[:] = await _backends(observer, list(pids)) or seen
                    await asyncio.sleep(every)

        async def watch_quietly() -> None:
            # Only a message depends on it: the step's own error is what counts.
            try:
                await watch()
            except (DBAPIError, OSError) as error:
                log.debug("not watching for blockers: %s", type(error).__name__)

        task = asyncio.create_task(watch_quietly())
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _backends(connection: AsyncConnection, pids: list[int]) -> list[Backend]:
    if not pids:
        return []
    rows = await connection.execute(text(_BACKENDS_SQL), {"pids": pids})
    return [Backend(*row) for row in rows]


def _position(script: ScriptDirectory, line: list[str], revision: str, at: int) -> int:
    """How many revisions of `line` are applied once at `revision`."""
    if revision in ("head", "heads"):
        return len(line)
    if revision == "base":
        return 0
    if revision[:1] in "+-" and revision[1:].isdigit():
        target = at + int(revision)
        if not 0 <= target <= len(line):
            raise MigrationError(
                f"{revision} from {line[at - 1] if at else 'base'} is out of range"
            )
        return target
    try:
        found = script.get_revision(revision)
    except CommandError as error:
        raise MigrationError(str(error)) from None
    if found is None or found.revision not in line:
        raise MigrationError(f"no revision {revision}")
    return line.index(found.revision) + 1


def create_index_concurrently(
    name: str, table: str, columns: Sequence[Any], *, unique: bool = False, **options: Any
) -> None:
    """For migrations: build an index without blocking writers (CONCURRENTLY, in an
    autocommit block), first dropping an INVALID one a failed earlier try left."""
    context = op.get_context()
    with context.autocommit_block():
        if not context.as_sql:
            valid = (
                op.get_bind()
                .execute(
                    text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
                    {"name": name},
                )
                .scalar()
            )
            if valid is False:
                log.warning("dropping the invalid index %s an earlier build left", name)
                op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(
            name,
            table,
            list(columns),
            unique=unique,
            postgresql_concurrently=True,
            if_not_exists=True,
            **options,
        )


def drop_index_concurrently(name: str, table: str) -> None:
    """For migrations: drop an index without blocking readers or writers."""
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)


def revision_module(revision: str) -> Any:
    """For migrations: an earlier revision's module, as alembic loaded it. A revision
    that replaces a function restores the earlier body on downgrade from there."""
    script = context.script.get_revision(revision)
    if script is None:
        raise CommandError(f"no revision {revision}")
    return script.module


def squawk_ignore(*rules: str, reason: str) -> None:
    """For migrations: squawk skips `rules` on the next statement; `reason` says why
    that is safe. Only the rendered SQL carries it (nothing runs online)."""
    if not rules or not reason.strip():
        raise ValueError("name the rules and say why ignoring them is safe")
    context = op.get_context()
    if context.as_sql:
        context.impl.static_output(f"{SQUAWK_IGNORE}{','.join(rules)} -- {reason}")
