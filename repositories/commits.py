"""Idempotent commits: a Commit sent with a request_id claims it first, in its own
transaction, and stores its response there; a repeat (even one running at the same
moment) gets that response back."""

from __future__ import annotations

import uuid
from datetime import timedelta

from .unit_of_work import Transaction

RETENTION = timedelta(days=7)
"""How long a commit's response is kept for repeats of its request_id (at least)."""
_PURGE_BATCH = 500

_CLAIM = (
    "INSERT INTO commit_responses (request_id) VALUES ($1) "
    "ON CONFLICT DO NOTHING RETURNING request_id"
)
_FIRST = "SELECT response FROM commit_responses WHERE request_id = $1"
_STORE = "UPDATE commit_responses SET response = $2 WHERE request_id = $1"
_PURGE = (
    "WITH purged AS (DELETE FROM commit_responses WHERE request_id IN ("
    " SELECT request_id FROM commit_responses WHERE created_at < now() - $1::interval"
    " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1)"
    " SELECT count(*) FROM purged"
)


async def claim(transaction: Transaction, request_id: uuid.UUID) -> bytes | None:
    """None when this transaction owns `request_id` (run the commit, then `store`);
    otherwise the response the first commit stored.

    A concurrent claim of the same id waits on the primary key until the first
    transaction ends: committed, it reads that response; rolled back, it owns the id."""
    if await transaction.fetchval(_CLAIM, request_id) is not None:
        return None
    first: bytes | None = await transaction.fetchval(_FIRST, request_id)
    # Only a committed claim conflicts, and every committed one holds its response.
    assert first is not None
    return first


async def store(transaction: Transaction, request_id: uuid.UUID, response: bytes) -> None:
    await transaction.fetchval(_STORE, request_id, response)


async def purge(transaction: Transaction, older_than: timedelta = RETENTION) -> int:
    """Delete up to a batch of responses past retention; how many were deleted.
    SKIP LOCKED: a purge never waits behind a commit, nor another purge."""
    purged: int = await transaction.fetchval(_PURGE, older_than, _PURGE_BATCH)
    return purged
