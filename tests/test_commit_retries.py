"""The executor's retry policy against real PostgreSQL errors: a serialization
failure is run again a bounded number of times, then ABORTED; a stale etag never
is; the deadline stops the retries early."""

from __future__ import annotations

from typing import Any

import pytest

from repositories.database import Database
from repositories.errors import AbortedError
from repositories.repository import Row
from repositories.unit_of_work import Transaction
from service.commit import MAX_ATTEMPTS, Executor, Step

# PostgreSQL raising the SQLSTATE itself, through the driver and the translation.
_SERIALIZATION_FAILURE = (
    "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = 'serialization_failure'; END $$"
)
_DEADLOCK = "DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = 'deadlock_detected'; END $$"


class Deadline:
    """What the executor reads of a call: the time it has left (None: no deadline)."""

    def __init__(self, remaining: float | None) -> None:
        self.remaining = remaining

    def time_remaining(self) -> float | None:
        return self.remaining


def failing_step(
    runs: list[int], error: Exception | None = None, sql: str = _SERIALIZATION_FAILURE
) -> Step:
    async def write(transaction: Transaction) -> Row | None:
        runs.append(1)
        if error is not None:
            raise error
        await transaction.script(sql)
        return None

    return Step(write, lambda row: b"", "mutations[0].create_user", 0, "mutation_index")


async def run(database: Database, step: Step, remaining: float | None) -> None:
    # The stand-in context has no peer or metadata to record: history off.
    executor = Executor(database, max_statement_timeout=5.0, tell_history=False)
    context: Any = Deadline(remaining)
    await executor.run(context, [step], lambda parts: b"")


async def test_a_serialization_failure_is_run_again_then_aborted(database: Database) -> None:
    runs: list[int] = []
    with pytest.raises(AbortedError) as error:
        await run(database, failing_step(runs), None)
    assert len(runs) == MAX_ATTEMPTS
    assert error.value.reason == "CONCURRENT_CONFLICT"
    assert error.value.metadata["mutation_index"] == "0"


async def test_a_deadlock_is_run_again_then_aborted(database: Database) -> None:
    runs: list[int] = []
    with pytest.raises(AbortedError) as error:
        await run(database, failing_step(runs, sql=_DEADLOCK), None)
    assert len(runs) == MAX_ATTEMPTS
    assert error.value.reason == "CONCURRENT_CONFLICT"


async def test_a_stale_etag_is_not_run_again(database: Database) -> None:
    runs: list[int] = []
    stale = AbortedError("the row changed", reason="ETAG_MISMATCH")
    with pytest.raises(AbortedError):
        await run(database, failing_step(runs, stale), None)
    assert len(runs) == 1


async def test_no_retry_starts_when_the_deadline_leaves_no_time(database: Database) -> None:
    runs: list[int] = []
    with pytest.raises(AbortedError):
        await run(database, failing_step(runs), 0.01)
    assert len(runs) == 1
