"""Idempotent commits: a Commit sent with a request_id claims it first, in its own
transaction, and stores its response there; a repeat (even one running at the same
moment) gets that response back."""

from __future__ import annotations

import uuid

from .errors import AlreadyExistsError, DataError
from .retention import Expiring
from .unit_of_work import Transaction

RESPONSES = Expiring("commit_responses")

_KEY = "pk_commit_responses"
_FIRST = "SELECT response FROM commit_responses WHERE request_id = $1"


def claim_statement(request_id: uuid.UUID) -> str:
    """The statement that claims `request_id` as the transaction opens (UnitOfWork
    `first`): no ON CONFLICT, so a taken one fails the opening (see `taken`) and a
    commit that owns it pays no round trip of its own. The id is rendered from a
    UUID object, never from a caller's text.

    A concurrent claim of the same id waits on the primary key until the first
    transaction ends: committed, it fails as taken; rolled back, it owns the id."""
    return f"INSERT INTO commit_responses (request_id) VALUES ('{request_id.hex}')"  # noqa: S608


def taken(error: DataError) -> bool:
    """Whether `error` is a claim finding its request_id already committed."""
    return isinstance(error, AlreadyExistsError) and error.metadata.get("constraint") == _KEY


async def stored_response(transaction: Transaction, request_id: uuid.UUID) -> bytes | None:
    """The response the commit that claimed `request_id` stored; None if none did."""
    first: bytes | None = await transaction.fetchval(_FIRST, request_id)
    return first


def store_statement(request_id: uuid.UUID, response: bytes) -> str:
    """The statement that stores the response, sent with the COMMIT: hex digits only."""
    return (
        f"UPDATE commit_responses SET response = decode('{response.hex()}', 'hex') "  # noqa: S608
        f"WHERE request_id = '{request_id.hex}'"
    )
