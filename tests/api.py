"""The generated client as the tests' caller, plus valid payloads for every
resource: tests/rows.py's rows as messages, parents created through the API too."""

from __future__ import annotations

import functools
import importlib
import random
import re
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import struct_pb2, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from google.type import date_pb2
from ruleiq.data.v1 import (
    assessment_session_pb2,
    business_profile_pb2,
    chat_conversation_pb2,
    chat_message_pb2,
    chat_message_pb2_grpc,
    evidence_collection_pb2,
    evidence_pb2,
    integration_health_log_pb2,
    integration_pb2,
    policy_pb2,
    readiness_assessment_pb2,
)
from sqlalchemy import Table

from repositories.names import snake
from service.conversion import Converter
from service.resources import RESOURCES, Resource

from . import rows as valid_rows

TIMEOUT = 10.0


class Api:
    """`api.User` is a UserServiceStub; `api.pb("User")` its *_pb2 module."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        for resource in RESOURCES:
            grpc_module = importlib.import_module(resource.module.__name__ + "_grpc")
            stub = getattr(grpc_module, f"{resource.message}ServiceStub")(channel)
            setattr(self, resource.message, stub)

    def __getattr__(self, name: str) -> Any:
        """Stubs are set per resource in __init__; this only tells type checkers so."""
        raise AttributeError(name)

    @staticmethod
    def pb(message: str) -> Any:
        return next(r.module for r in RESOURCES if r.message == message)

    async def create(self, message: str, **fields: Any) -> Any:
        """Create one `message` resource with `fields` over the wire."""
        module = self.pb(message)
        request = getattr(module, f"Create{message}Request")(
            **{snake(message): getattr(module, message)(**fields)}
        )
        return await getattr(getattr(self, message), f"Create{message}")(request, timeout=TIMEOUT)

    async def make(self, message: str, **overrides: Any) -> Any:
        """A valid `message` resource with any parents it needs."""
        fields = await valid_fields(self, message)
        fields.update(overrides)
        return await self.create(message, **fields)


def _struct(**items: Any) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(items)
    return struct


def table_of(message: str) -> Table:
    table = resource(message).model.__table__
    assert isinstance(table, Table), message
    return table


def table_name(message: str) -> str:
    return table_of(message).name


def _message_of_table(name: str) -> str:
    return next(r.message for r in RESOURCES if table_name(r.message) == name)


@functools.cache
def converter(message: str) -> Converter:
    return Converter(getattr(resource(message).module, message), table_of(message))


def as_fields(message: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as the keyword arguments of `message`; output-only ones are
    left out, as the server ignores them."""
    plans = converter(message).fields
    return {
        name: plans[name].to_proto(value)
        for name, value in values.items()
        if value is not None and not plans[name].output_only
    }


async def parents_of(api: Api, message: str) -> dict[str, str]:
    """Ids of fresh parents for every reference a `message` needs. A reference one
    of them already holds (the profile's user) is taken from it, so the row and
    its parents agree about their owner."""
    references = valid_rows.parent_columns(table_name(message))
    made: list[Any] = []
    ids: dict[str, str] = {}
    # The users table is every owner's parent: make the others first.
    for column, parent in sorted(references.items(), key=lambda item: item[1] == "users"):
        holders = [p for p in made if column in p.DESCRIPTOR.fields_by_name]
        if holders:
            ids[column] = getattr(holders[0], column)
            continue
        made.append(await api.make(_message_of_table(parent)))
        ids[column] = made[-1].id
    return ids


async def valid_fields(api: Api, message: str) -> dict[str, Any]:
    """The fields of a valid `message` (tests/rows.py's row), parents made on the way."""
    values = valid_rows.row(table_name(message), await parents_of(api, message), full=True)
    return as_fields(message, values)


def unindexable(length: int = 3000) -> str:
    """Text too long for a B-tree index entry (a third of a page, about 2,700
    bytes): random letters, which PostgreSQL cannot compress below that."""
    return "".join(random.choices(string.ascii_letters, k=length))


def resource(message: str) -> Resource:
    return next(r for r in RESOURCES if r.message == message)


# ---------------------------------------------------------------------------
# How the API tests exercise each resource beyond its valid payload.

MARKED = (3, 4)
"""Of the five rows a List test makes, the ones each declared filter must find."""


@dataclass(frozen=True)
class Group:
    """How a test makes several rows that only its own List filter finds: rows
    sharing one fresh parent, or rows given a fresh tag in a filterable field."""

    shared: bool
    """True: every row reuses one payload, so they share its freshly made parents."""
    row: Callable[[str, int], dict[str, Any]]
    """(tag, i) -> fields of row i."""
    filter: Callable[[str, Mapping[str, Any]], str]
    """(tag, shared payload) -> the filter that finds exactly the group."""


def under(parent: str) -> Group:
    return Group(True, lambda _tag, _i: {}, lambda _tag, fields: f'{parent} = "{fields[parent]}"')


def tagged(field_name: str) -> Group:
    return Group(
        False, lambda tag, _i: {field_name: tag}, lambda tag, _f: f'{field_name} = "{tag}"'
    )


# Users have no parent and no shareable filterable text: the group is an e-mail range.
EMAIL_RANGE = Group(
    False,
    lambda tag, i: {"email": f"{tag}{i}@example.com"},
    lambda tag, _f: f'email > "{tag}" AND email < "{tag}z"',
)


@dataclass(frozen=True)
class Filter:
    """A filter on a declared field that finds exactly the MARKED rows of a group."""

    expression: Callable[[Sequence[Any]], str]
    """From the rows made, in order (some filters compare with their values)."""
    marks: Mapping[str, Any] = field(default_factory=dict)
    """Fields given to the MARKED rows when they are created."""
    enum: bool = False


def where(expression: str, **marks: Any) -> Filter:
    return Filter(lambda _rows: expression, marks)


def where_enum(expression: str, **marks: Any) -> Filter:
    return Filter(lambda _rows: expression, marks, enum=True)


@dataclass(frozen=True)
class Shape:
    """Per resource: a List group, filters, and (unless append-only) the fields an
    Update test changes."""

    group: Group
    filters: tuple[Filter, ...]
    update: tuple[str, Any] | None = None
    """A writable field and a new value for it."""
    other: tuple[str, Any] | None = None
    """Another writable field and a value different from the payload's: sent in an
    Update but left out of its mask, so it must not change."""
    clear: tuple[str, Any] | None = None
    """A nullable field and a value to create the row with, so clearing it shows."""
    vary: Callable[[int], dict[str, Any]] = lambda _i: {}
    """Fields of row i of a group (unique constraints within a parent)."""


def _ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


_PROVIDERS = [
    integration_pb2.INTEGRATION_PROVIDER_AWS,
    integration_pb2.INTEGRATION_PROVIDER_OKTA,
    integration_pb2.INTEGRATION_PROVIDER_GITLAB,
    integration_pb2.INTEGRATION_PROVIDER_AZURE,
    integration_pb2.INTEGRATION_PROVIDER_GITHUB,
]
_CHECKED_AT = 1_780_000_000


def _created_at_of(index: int) -> Callable[[Sequence[Any]], str]:
    return lambda rows: f'created_at >= "{rows[index].created_at.ToJsonString()}"'


SHAPES: dict[str, Shape] = {
    "User": Shape(
        EMAIL_RANGE,
        (where("is_active = false", is_active=False),),
        update=("is_active", False),
        other=("full_name", "Someone Else"),
        clear=("full_name", "Test User"),
    ),
    "BusinessProfile": Shape(
        tagged("industry"),
        (
            where("employee_count >= 500", employee_count=500),
            where_enum(
                "data_sensitivity = CRITICAL",
                data_sensitivity=business_profile_pb2.DATA_SENSITIVITY_CRITICAL,
            ),
        ),
        update=("company_name", "Renamed Ltd"),
        other=("industry", "retail"),
        clear=("annual_revenue", "1-5M"),
    ),
    "ComplianceFramework": Shape(
        tagged("category"),
        (where("complexity_score > 5", complexity_score=8),),
        update=("display_name", "Renamed"),
        other=("category", "privacy"),
        clear=("estimated_cost_range", "10k-50k"),
    ),
    "Evidence": Shape(
        under("business_profile_id"),
        (
            where('evidence_type = "log"', evidence_type="log"),
            where_enum(
                "status = EVIDENCE_STATUS_APPROVED", status=evidence_pb2.EVIDENCE_STATUS_APPROVED
            ),
        ),
        update=("description", "Renamed"),
        other=("evidence_type", "log"),
        clear=("review_notes", "looks fine"),
    ),
    "Policy": Shape(
        under("business_profile_id"),
        (
            where('policy_type = "summary"', policy_type="summary"),
            where_enum("status = APPROVED", status=policy_pb2.POLICY_STATUS_APPROVED),
        ),
        update=("policy_name", "Renamed"),
        other=("framework_name", "GDPR"),
        clear=("review_notes", "ok"),
    ),
    "AssessmentSession": Shape(
        under("user_id"),
        (
            where('session_type = "quick"', session_type="quick"),
            where_enum(
                "status = COMPLETED",
                status=assessment_session_pb2.ASSESSMENT_SESSION_STATUS_COMPLETED,
            ),
        ),
        update=("current_stage", 3),
        other=("session_type", "quick"),
        clear=("completed_at", _ts(1_790_000_000)),
    ),
    "AssessmentQuestion": Shape(
        under("session_id"),
        (where('question_type = "free_text"', question_type="free_text"),),
        update=("question_text", "Changed?"),
        other=("question_type", "free_text"),
        clear=("answer_text", "yes"),
    ),
    "Integration": Shape(
        under("user_id"),
        (
            where("is_active = false", is_active=False),
            where_enum("provider != AWS AND provider != OKTA AND provider != GITLAB"),
        ),
        update=("is_active", False),
        other=("last_health_check", _ts(1_790_000_000)),
        clear=("configuration_metadata", _struct(region="eu-west-2")),
        vary=lambda i: {"provider": _PROVIDERS[i]},
    ),
    "EvidenceCollection": Shape(
        under("integration_id"),
        (
            where('framework_code = "iso27001"', framework_code="iso27001"),
            where_enum(
                "status = RUNNING",
                status=evidence_collection_pb2.EVIDENCE_COLLECTION_STATUS_RUNNING,
            ),
        ),
        update=("progress_percentage", 40),
        other=("framework_code", "iso27001"),
        clear=("current_activity", "scanning"),
    ),
    "IntegrationHealthLog": Shape(
        under("integration_id"),
        (
            Filter(lambda rows: f'checked_at >= "{rows[3].checked_at.ToJsonString()}"'),
            where_enum(
                "status = DEGRADED",
                status=integration_health_log_pb2.INTEGRATION_HEALTH_STATUS_DEGRADED,
            ),
        ),
        vary=lambda i: {"checked_at": _ts(_CHECKED_AT + 60 * i)},
    ),
    "ReadinessAssessment": Shape(
        under("business_profile_id"),
        (
            where("overall_score > 90", overall_score=95.0),
            where_enum(
                "score_trend = IMPROVING",
                score_trend=readiness_assessment_pb2.SCORE_TREND_IMPROVING,
            ),
        ),
        update=("overall_score", 91.5),
        other=("score_trend", readiness_assessment_pb2.SCORE_TREND_IMPROVING),
        clear=("estimated_readiness_date", date_pb2.Date(year=2027, month=3, day=1)),
    ),
    "ChatConversation": Shape(
        under("business_profile_id"),
        (
            Filter(_created_at_of(MARKED[0])),
            where_enum(
                "status = ARCHIVED", status=chat_conversation_pb2.CHAT_CONVERSATION_STATUS_ARCHIVED
            ),
        ),
        update=("title", "Renamed"),
        other=("status", chat_conversation_pb2.CHAT_CONVERSATION_STATUS_ARCHIVED),
    ),
    "ChatMessage": Shape(
        under("conversation_id"),
        (
            where("sequence_number >= 4"),
            where_enum("role = ASSISTANT", role=chat_message_pb2.CHAT_MESSAGE_ROLE_ASSISTANT),
        ),
    ),
}


def shape(message: str) -> Shape:
    return SHAPES[message]


# ---------------------------------------------------------------------------
# What a caller sees of an error.

DOMAIN = "data.ruleiq"
DETAILS_KEY = "grpc-status-details-bin"
_LEAKS = ("SELECT", "INSERT", "Traceback", 'File "', "sqlalchemy", "asyncpg")
_PATH = re.compile(r"(?:/[\w.-]+){2,}|\b[\w-]+\.py\b")


@dataclass
class Failure:
    """An error as the caller sees it: status, message and rich details."""

    code: grpc.StatusCode
    message: str
    status: status_pb2.Status | None
    info: error_details_pb2.ErrorInfo | None
    violations: list[error_details_pb2.BadRequest.FieldViolation]

    @property
    def fields(self) -> list[str]:
        return [v.field for v in self.violations]


def failure_of(error: grpc.aio.AioRpcError) -> Failure:
    """Parse the grpc-status-details-bin trailer into google.rpc.Status."""
    status = None
    info = None
    violations: list[error_details_pb2.BadRequest.FieldViolation] = []
    trailers: Any = error.trailing_metadata() or ()
    for key, value in trailers:
        if key == DETAILS_KEY:
            status = status_pb2.Status.FromString(value)
    if status is not None:
        # grpcio-status rejects a Status whose code or text differ from the call's.
        assert status.code == error.code().value[0]
        assert status.message == error.details()
        for detail in status.details:
            if detail.TypeName() == error_details_pb2.ErrorInfo.DESCRIPTOR.full_name:
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
            elif detail.TypeName() == error_details_pb2.BadRequest.DESCRIPTOR.full_name:
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend(bad.field_violations)
    return Failure(error.code(), error.details() or "", status, info, violations)


def assert_no_leak(text: str) -> None:
    """No SQL, no stack trace, no file path in anything an error shows a caller."""
    for word in _LEAKS:
        assert word not in text, f"{word!r} leaked into {text!r}"
    assert not _PATH.search(text), f"a file path leaked into {text!r}"


async def expect_error(
    call: Awaitable[Any],
    code: grpc.StatusCode,
    reason: str | None = None,
    *,
    field_name: str | None = None,
    rich: bool = True,
) -> Failure:
    """Await `call`, which must fail with `code`; the failure carries ErrorInfo
    (domain data.ruleiq, `reason` if given) and, for `field_name`, a BadRequest
    field violation naming it. Every error is checked for leaks."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        failure = failure_of(error)
    else:
        raise AssertionError(f"expected {code.name}, the call succeeded")
    assert failure.code == code, f"expected {code.name}, got {failure.code.name}: {failure.message}"
    assert_no_leak(failure.message)
    for violation in failure.violations:
        assert_no_leak(violation.description)
    if rich:
        assert failure.info is not None, f"no ErrorInfo in {failure.message!r}"
        assert failure.info.domain == DOMAIN
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", failure.info.reason), failure.info.reason
        for value in failure.info.metadata.values():
            assert_no_leak(value)
        if reason is not None:
            assert failure.info.reason == reason, (failure.info.reason, failure.message)
    if field_name is not None:
        assert field_name in failure.fields, (field_name, failure.fields, failure.message)
        assert code == grpc.StatusCode.INVALID_ARGUMENT
    return failure


# ---------------------------------------------------------------------------
# Calls by resource name.


def stub(api: Api, message: str) -> Any:
    return getattr(api, message)


def request(message: str, method: str, **fields: Any) -> Any:
    """`request("User", "Get", id=...)` is a GetUserRequest; List/BatchGet/Aggregate take
    the plural."""
    name = method_name(message, method)
    return getattr(Api.pb(message), f"{name}Request")(**fields)


BATCH_METHODS = ("BatchGet", "BatchCreate", "BatchUpdate", "BatchDelete")


def method_name(message: str, method: str) -> str:
    plural = resource(message).plural
    kinds = ("List", "Aggregate", *BATCH_METHODS)
    return f"{method}{plural}" if method in kinds else f"{method}{message}"


async def call(api: Api, message: str, method: str, **fields: Any) -> Any:
    """Make the call with a deadline, e.g. `await call(api, "User", "Get", id=...)`."""
    rpc = getattr(stub(api, message), method_name(message, method))
    return await rpc(request(message, method, **fields), timeout=TIMEOUT)


def items(message: str, response: Any) -> list[Any]:
    """The resources of a List or BatchGet response."""
    return list(getattr(response, snake(resource(message).plural)))


def resource_field(message: str) -> str:
    return snake(message)


def service_name(message: str) -> str:
    module = Api.pb(message)
    return str(module.DESCRIPTOR.services_by_name[f"{message}Service"].full_name)


# ---------------------------------------------------------------------------
# Calls several tests make the same way.


def id_field(r: Resource) -> str:
    """The Create request's field for a caller-chosen id (AIP-133)."""
    return f"{resource_field(r.message)}_id"


async def create_with_id(
    api: Api, r: Resource, fields: dict[str, Any], chosen: str, request_id: str = ""
) -> Any:
    """Create<R> with `fields`, the chosen id and request_id as given."""
    message = getattr(r.module, r.message)(**fields)
    return await call(
        api,
        r.message,
        "Create",
        **{resource_field(r.message): message, id_field(r): chosen, "request_id": request_id},
    )


async def conversation_with(api: Api, sizes: list[int]) -> tuple[str, list[str]]:
    """A conversation whose messages have contents of `sizes` bytes, in order."""
    first = await api.make("ChatMessage", content="x" * sizes[0])
    ids = [first.id]
    for size in sizes[1:]:
        message = await api.create(
            "ChatMessage",
            conversation_id=first.conversation_id,
            role=chat_message_pb2.CHAT_MESSAGE_ROLE_ASSISTANT,
            content="y" * size,
        )
        ids.append(message.id)
    return first.conversation_id, ids


async def all_pages(
    stub: chat_message_pb2_grpc.ChatMessageServiceAsyncStub,
    conversation_id: str,
    page_size: int = 0,
) -> list[chat_message_pb2.ListChatMessagesResponse]:
    """Every page of a conversation's messages, with the total size asked for."""
    pages = []
    token = ""
    while True:
        page = await stub.ListChatMessages(
            chat_message_pb2.ListChatMessagesRequest(
                filter=f'conversation_id = "{conversation_id}"',
                page_size=page_size,
                page_token=token,
                show_total_size=True,
            ),
            timeout=TIMEOUT,
        )
        pages.append(page)
        token = page.next_page_token
        if not token:
            return pages
