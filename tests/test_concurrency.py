"""Concurrent writers through the real server: etags stop lost updates."""

from __future__ import annotations

import asyncio
import uuid

import grpc
from google.protobuf import field_mask_pb2

from repositories.database import Database
from repositories.errors import AbortedError
from repositories.models import User
from repositories.repository import Repository

from .api import TIMEOUT, Api

WRITERS = 8
INCREMENTS_EACH = 10


async def test_read_modify_write_with_etags_loses_no_increment(api: Api) -> None:
    pb = api.pb("AssessmentSession")
    session = await api.make("AssessmentSession")
    conflicts = 0

    async def writer() -> None:
        nonlocal conflicts
        done = 0
        while done < INCREMENTS_EACH:
            current = await api.AssessmentSession.GetAssessmentSession(
                pb.GetAssessmentSessionRequest(id=session.id), timeout=TIMEOUT
            )
            request = pb.UpdateAssessmentSessionRequest(
                assessment_session=pb.AssessmentSession(
                    id=session.id, questions_answered=current.questions_answered + 1
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["questions_answered"]),
                etag=current.etag,
            )
            try:
                await api.AssessmentSession.UpdateAssessmentSession(request, timeout=TIMEOUT)
                done += 1
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.ABORTED:
                    raise
                conflicts += 1

    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    final = await api.AssessmentSession.GetAssessmentSession(
        pb.GetAssessmentSessionRequest(id=session.id), timeout=TIMEOUT
    )
    assert final.questions_answered == WRITERS * INCREMENTS_EACH
    assert conflicts > 0, "the writers never collided: the test proved nothing"


async def test_a_deadlock_between_two_transactions_is_aborted_for_one_of_them(
    database: Database,
) -> None:
    """PostgreSQL breaks the deadlock by failing one transaction (40P01); its
    caller gets ABORTED, the retryable code, and the other proceeds."""
    users = Repository(User)
    async with database.unit_of_work() as uow:
        first = await users.create(uow.transaction, {"email": f"{uuid.uuid4().hex}@dl.io"})
        second = await users.create(uow.transaction, {"email": f"{uuid.uuid4().hex}@dl.io"})
        await uow.commit()
    both_hold_one = asyncio.Barrier(2)

    async def lock_in_order(a: uuid.UUID, b: uuid.UUID) -> str:
        try:
            async with database.unit_of_work(statement_timeout=10) as uow:
                await users.get(uow.transaction, a, lock=True)
                await both_hold_one.wait()
                await users.get(uow.transaction, b, lock=True)
                await uow.commit()
        except AbortedError as error:
            return error.reason
        return "ok"

    outcomes = await asyncio.gather(
        lock_in_order(first["id"], second["id"]), lock_in_order(second["id"], first["id"])
    )
    assert sorted(outcomes) == ["CONCURRENT_CONFLICT", "ok"]
    assert database.pool_stats().checked_out == 0
