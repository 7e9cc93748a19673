"""Idempotent creates: the first create sent with a request_id claims it, and a
retry (even one running at the same moment) gets the first result back."""

from __future__ import annotations

import uuid

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert

from .models import IdempotencyKey
from .retention import Expiring
from .unit_of_work import Transaction

KEYS = Expiring("idempotency_keys")

_keys: Table = IdempotencyKey.__table__  # type: ignore[assignment]


async def claim(
    transaction: Transaction, resource: str, request_id: uuid.UUID, new_id: uuid.UUID
) -> uuid.UUID | None:
    """None when this call owns `request_id` (create the row with `new_id`);
    otherwise the id of the row the first call created.

    A concurrent claim of the same key waits on the unique index until the first
    transaction ends, so exactly one caller creates."""
    statement = (
        insert(_keys)
        .values(resource=resource, request_id=request_id, resource_id=new_id)
        .on_conflict_do_nothing()
        .returning(_keys.c.resource_id)
    )
    if (await transaction.execute(statement)).first() is not None:
        await KEYS.purge_when_due(transaction)
        return None
    existing = await transaction.execute(
        select(_keys.c.resource_id).where(
            _keys.c.resource == resource, _keys.c.request_id == request_id
        )
    )
    resource_id: uuid.UUID = existing.scalar_one()
    return resource_id
