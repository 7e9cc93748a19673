"""What a write tells the change history about its call: who is calling (the
authenticated caller, or `anonymous` and the peer), for which end user
(`x-on-behalf-of`), and the call's request and trace ids."""

from __future__ import annotations

import re
import uuid
from typing import Any

import grpc
from opentelemetry import trace

from repositories.errors import InvalidArgumentError
from repositories.history import ChangeContext

from .logs import CALLER, REQUEST_ID

ON_BEHALF_OF = "x-on-behalf-of"
MAX_ON_BEHALF_OF = 128
# An identifier (a user id, an e-mail, a URN), nothing that could pass for markup
# or another field when an auditor's tool shows it.
_ON_BEHALF_OF_TEXT = re.compile(r"[A-Za-z0-9._@:+/=-]+", re.ASCII)
# A UUID as it is written, hyphens in their places: other spellings that Python
# would read as one (`--0192c6a4...--`) are identifiers, kept as sent.
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", re.ASCII)


def actor_of(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The authenticated caller's name; with auth off, `anonymous` and the peer."""
    caller = CALLER.get()
    return caller if caller is not None else f"anonymous ({context.peer()})"


def on_behalf_of(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    """The end user the caller says it acts for: a UUID (kept in its canonical
    form) or a short identifier (letters, digits and `._@:+/=-`); anything else is
    INVALID_ARGUMENT."""
    sent = [str(v) for k, v in context.invocation_metadata() or () if k == ON_BEHALF_OF]
    if not sent:
        return None
    if len(sent) > 1:
        # One end user per call: a second one would go unrecorded.
        raise InvalidArgumentError.single(ON_BEHALF_OF, "metadata must be sent once")
    (text,) = sent
    if _UUID.fullmatch(text):
        return str(uuid.UUID(text))
    return _bounded(text)


def _bounded(text: str) -> str:
    if not 0 < len(text) <= MAX_ON_BEHALF_OF or not _ON_BEHALF_OF_TEXT.fullmatch(text):
        raise InvalidArgumentError.single(
            ON_BEHALF_OF,
            f"metadata must be a UUID or an identifier of 1 to {MAX_ON_BEHALF_OF} letters, "
            "digits and ._@:+/=-",
        )
    return text


def changes_of(context: grpc.aio.ServicerContext[Any, Any]) -> ChangeContext:
    """What a write's change events record about the call."""
    span = trace.get_current_span().get_span_context()
    return ChangeContext(
        actor=actor_of(context),
        on_behalf_of=on_behalf_of(context),
        request_id=REQUEST_ID.get(),
        trace_id=format(span.trace_id, "032x") if span.is_valid else None,
    )
