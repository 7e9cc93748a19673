"""The change history's database side: what a write's transaction tells the
recording triggers (`record_change()`, `record_creates()`), and the retention purge.

The triggers read `ruleiq.*` settings that the unit of work sets, transaction-
scoped, in the statement that opens the transaction. A session setting would stay
on the server connection after the call, and behind PgBouncer in transaction mode
the next client's writes would carry this caller's name."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .errors import translated

log = logging.getLogger("ruleiq_data.history")

SETTING_PREFIX = "ruleiq."
# Longest value a setting may carry; longer ones are cut (ids and names are short).
MAX_SETTING_LENGTH = 256
# The column `told` adds to a RETURNING list; rows drop it.
TOLD = "_told"
SETTINGS = ("actor", "on_behalf_of", "request_id", "trace_id", "commit_id")


@dataclass(frozen=True)
class ChangeContext:
    """Who writes, for whom, as part of what: recorded with every change event.

    `commit_id` groups the events of one commit; a single Create, Update or Delete
    leaves it empty (its events share `transaction_id` anyway)."""

    actor: str
    on_behalf_of: str | None = None
    request_id: str | None = None
    trace_id: str | None = None
    commit_id: str | None = None

    def values(self) -> tuple[str, ...]:
        """The settings' values in SETTINGS order, "" for unset (read as unset)."""
        return tuple(_clean(getattr(self, name) or "") for name in SETTINGS)

    def settings_sql(self) -> str:
        """One `SELECT set_config(...)` setting every known value for the current
        transaction only (`is_local` true)."""
        calls = [
            f"set_config('{SETTING_PREFIX}{name}', {literal(value)}, true)"
            for name, value in zip(SETTINGS, self.values(), strict=True)
            if value
        ]
        return "SELECT " + ", ".join(calls)


def _clean(value: str) -> str:
    return value.replace("\x00", "")[:MAX_SETTING_LENGTH]


@functools.cache
def told(sql: str, parameters: int) -> str:
    """`sql` (an INSERT, UPDATE or DELETE ... RETURNING with `parameters` parameters)
    setting the history's settings itself, from parameters after its own: for a
    write that runs alone, outside any transaction block, where a setting made by an
    earlier statement would already be gone.

    The settings are a CTE the RETURNING list refers to, so they are set while the
    first row is returned, before the AFTER triggers run: those fire at the end
    of the statement. `ChangeContext.values()` gives the parameters."""
    head = f"WITH _history AS MATERIALIZED ({settings_select(parameters)})"
    # The service's own compiled statements and setting names: no value is in the text.
    return f"{head} {sql}, (SELECT 1 FROM _history) AS {TOLD}"  # noqa: S608


def settings_select(parameters: int) -> str:
    """A SELECT setting the history's settings for the current transaction from
    the parameters after the first `parameters` ones (`ChangeContext.values()`)."""
    calls = ", ".join(
        f"set_config('{SETTING_PREFIX}{name}', ${parameters + i}::text, true)"
        for i, name in enumerate(SETTINGS, start=1)
    )
    return f"SELECT {calls}"


def literal(value: str) -> str:
    """`value` as an SQL escape-string literal (E'...'), whose meaning does not
    depend on standard_conforming_strings: backslashes and quotes doubled. NUL,
    which no text may hold, is dropped."""
    cut = _clean(value)
    return "E'" + cut.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    batches: int


PURGE_BATCH = text("""
DELETE FROM change_events WHERE id IN (
    SELECT id FROM change_events WHERE changed_at < :before
    ORDER BY changed_at LIMIT :limit FOR UPDATE SKIP LOCKED
)""")


async def purge(
    engine: AsyncEngine,
    older_than: dt.datetime,
    *,
    batch_size: int = 1000,
    pause: float = 0.0,
    lock_timeout_ms: int = 1000,
) -> PurgeResult:
    """Delete the change events recorded before `older_than`, `batch_size` at a
    time, each batch its own short transaction.

    Writers only ever insert into change_events, so a purge never waits on them nor
    they on it; rows another transaction holds (an erasure scrubbing them) are
    skipped, not waited for, and go in a later run."""
    deleted = batches = 0
    while True:
        with translated():
            async with engine.begin() as connection:
                await connection.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
                result: Any = await connection.execute(
                    PURGE_BATCH, {"before": older_than, "limit": batch_size}
                )
        count = int(result.rowcount)
        deleted += count
        batches += 1
        log.debug("purged %d change events", count, extra={"batch": batches})
        if count < batch_size:
            return PurgeResult(deleted, batches)
        if pause:
            await asyncio.sleep(pause)
