"""Business rules the original application had, run inside the call's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, or_, update

from .errors import FailedPreconditionError
from .models import Integration
from .unit_of_work import Transaction

_integrations: Table = Integration.__table__  # type: ignore[assignment]


# Two statements: in READ COMMITTED each statement takes a new snapshot, so the
# count read after the lock sees every message committed by the appends the lock
# waited for (one statement would read with its older snapshot).
_LOCK_CONVERSATION = "SELECT 1 FROM chat_conversations WHERE id = $1 FOR UPDATE"
_LAST_NUMBER = (
    "SELECT coalesce(max(sequence_number), 0) FROM chat_messages WHERE conversation_id = $1"
)


async def number_chat_message(transaction: Transaction, values: dict[str, Any]) -> None:
    """Give a new message the next sequence number of its conversation.

    The conversation row is locked first, so concurrent appends to one conversation
    take turns and the numbers stay 1, 2, 3... with no gap and no duplicate, while
    appends to different conversations do not wait for each other. The lock lasts
    until the transaction ends: a later append in the same transaction (a Commit)
    takes the number after the one it gave, without asking again."""
    conversation_id = values["conversation_id"]
    key = ("chat_message_number", conversation_id)
    last = transaction.memo.get(key)
    if last is None:
        locked = await transaction.fetchval(_LOCK_CONVERSATION, conversation_id)
        if locked is None:
            raise FailedPreconditionError(
                "conversation_id names no row in chat_conversations",
                reason="PARENT_NOT_FOUND",
                metadata={"field": "conversation_id"},
            )
        last = await transaction.fetchval(_LAST_NUMBER, conversation_id)
    values["sequence_number"] = transaction.memo[key] = last + 1


async def record_health_check(transaction: Transaction, log: Mapping[Any, Any]) -> None:
    """A new health log becomes its integration's current health, in the same
    transaction, so the two never disagree."""
    status = log["status"]
    health = {
        "status": getattr(status, "value", status),
        "response_time_ms": log["response_time_ms"],
        "checked_at": log["checked_at"].isoformat(),
        "log_id": str(log["id"]),
    }
    await transaction.execute(
        update(_integrations)
        .where(_integrations.c.id == log["integration_id"])
        # A back-filled older check does not replace a newer one.
        .where(
            or_(
                _integrations.c.last_health_check.is_(None),
                _integrations.c.last_health_check <= log["checked_at"],
            )
        )
        .values(health_status=health, last_health_check=log["checked_at"])
    )
