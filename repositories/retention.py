"""Rows kept only for a while: a create's or a commit's request_id and what it gave
back, so that a retry gets the first result. The writers that add them purge them,
a batch at a time, at most once a minute per process and table."""

from __future__ import annotations

import time
from datetime import timedelta

from .unit_of_work import Transaction

RETENTION = timedelta(days=7)
"""How long a request_id's first result is kept for repeats (at least)."""
_BATCH = 500
_EVERY_SECONDS = 60.0


class Expiring:
    """A table whose rows (with a `created_at`) go once older than `retention`."""

    def __init__(self, table: str, retention: timedelta = RETENTION) -> None:
        self.table = table
        self.retention = retention
        self._due = 0.0
        # The service's own table name, never a value: ctid reaches the rows whatever
        # their key; SKIP LOCKED, so a purge never waits behind a writer or a purge.
        self._purge = (
            f"WITH purged AS (DELETE FROM {table} WHERE ctid = ANY(ARRAY("  # noqa: S608
            f" SELECT ctid FROM {table} WHERE created_at < now() - $1::interval"
            " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1)"
            " SELECT count(*) FROM purged"
        )

    async def purge(self, transaction: Transaction) -> int:
        """Delete up to a batch of rows past retention; how many were deleted."""
        purged: int = await transaction.fetchval(self._purge, self.retention, _BATCH)
        return purged

    async def purge_when_due(self, transaction: Transaction) -> None:
        """`purge`, in the transaction of a write that adds a row, when this process
        has not purged the table for a minute."""
        now = time.monotonic()
        if now >= self._due:
            self._due = now + _EVERY_SECONDS
            await self.purge(transaction)
