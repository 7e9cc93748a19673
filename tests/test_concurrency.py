"""Concurrent writers through the real server: etags stop lost updates."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf import field_mask_pb2

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
