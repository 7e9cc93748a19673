"""Business rules the original application had, run inside the call's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, or_, update

from .models import Integration
from .unit_of_work import Transaction

_integrations: Table = Integration.__table__  # type: ignore[assignment]


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
