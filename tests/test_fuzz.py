"""Bad input: every RPC of every data service gets thousands of
generated requests, built by hypothesis from the message descriptors, plus raw bytes
no client library would send. Each answer must be OK or a well-formed status (never
INTERNAL or UNKNOWN) with google.rpc.ErrorInfo; the server must live through it; and
only the requests the server acknowledged may have changed the database."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import math
import random
import re
import struct
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

import grpc
import pytest
from google.protobuf import field_mask_pb2, message_factory, struct_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.type import date_pb2
from grpc_health.v1 import health_pb2
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from ruleiq.data.v1 import (
    change_pb2,
    change_pb2_grpc,
    chat_message_pb2,
    data_service_pb2,
    database_pb2,
    user_pb2,
)
from sqlalchemy import Column, Table, text

from repositories.database import Database
from repositories.ids import uuid7
from repositories.names import snake
from repositories.querying import UUID_TEXT, PageTokens, parse_order, python_type
from repositories.repository import Repository
from service.changes import FILTERABLE as CHANGE_FILTERABLE
from service.conversion import INPUT_ONLY, OUTPUT_ONLY, behaviours
from service.query import MAX_FILTER_DEPTH
from service.resources import RESOURCES, Resource
from service.server import App
from service.watch import WATCH_FILTERABLE

from .api import (
    DOMAIN,
    TIMEOUT,
    Api,
    Failure,
    all_pages,
    call,
    conversation_with,
    create_with_id,
    expect_error,
    failure_of,
    items,
    valid_fields,
)
from .apps import running
from .checks import CANDIDATES, WRITABLE_RULES, Rule, breaks, column_type
from .filter_rows import ITEMS, T0, Owner, hash_of, make_owner
from .filter_rows import names as filter_names
from .health import health_stub
from .probes import HANG_SECONDS

# ---------------------------------------------------------------------------
# The methods under test, from the descriptors: every ruleiq.data.v1.*Service.

BATCH_WRITES = ("BatchCreate", "BatchUpdate", "BatchDelete")
P = ParamSpec("P")
T = TypeVar("T")
BAD_CODES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
UNUSUAL = {
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
}
EXAMPLES_PER_METHOD = 40
"""Hypothesis examples per RPC; each example is a batch of 1-6 requests sent at once."""
MAX_REQUEST_BYTES = 3_000_000
"""gRPC refuses messages over 4 MB itself, before the service (and its rich status)
sees them; the fuzz stays under that, the service's own limits are what it tests."""


@dataclass(frozen=True)
class Method:
    service: str
    descriptor: MethodDescriptor
    resource: Resource | None
    kind: str
    request_class: type[Message]
    response_class: type[Message]

    @property
    def path(self) -> str:
        return f"/{self.service}/{self.descriptor.name}"

    @property
    def name(self) -> str:
        return str(self.descriptor.name)


def _kind(name: str, resource: Resource | None) -> str:
    if resource is None:
        return "Commit" if name == "Commit" else "Info"
    for kind in (
        *BATCH_WRITES,
        "BatchGet",
        "Get",
        "List",
        "Create",
        "Update",
        "Delete",
        "Aggregate",
    ):
        if name.startswith(kind):
            return kind
    raise AssertionError(name)


def all_methods() -> list[Method]:
    owners: list[tuple[Any, Resource | None]] = [
        (r.module.DESCRIPTOR.services_by_name[f"{r.message}Service"], r) for r in RESOURCES
    ]
    owners.append((database_pb2.DESCRIPTOR.services_by_name["DatabaseService"], None))
    owners.append((change_pb2.DESCRIPTOR.services_by_name["ChangeService"], None))
    owners.append((data_service_pb2.DESCRIPTOR.services_by_name["DataService"], None))
    methods = []
    for service, resource in owners:
        for method in service.methods:
            methods.append(
                Method(
                    str(service.full_name),
                    method,
                    resource,
                    _kind(method.name, resource),
                    message_factory.GetMessageClass(method.input_type),
                    message_factory.GetMessageClass(method.output_type),
                )
            )
    return methods


METHODS = all_methods()


def table_of(r: Resource) -> Table:
    table = r.model.__table__
    assert isinstance(table, Table)
    return table


def foreign_table(r: Resource, name: str) -> str | None:
    table = table_of(r)
    if name not in table.c:
        return None
    for fk in table.c[name].foreign_keys:
        return str(fk.column.table.name)
    return None


# ---------------------------------------------------------------------------
# The rows the fuzz knows about, made through the API before the run.


@dataclass
class World:
    """Rows by role. `targets` are childless rows whose ids Get/Update/Delete may
    use; `parents` are the only ids foreign keys may name (so no Delete can cascade
    and no Create can hang a child on a target); `untouched` rows are only ever
    named by corrupted ids, or asked for as a new row's id (always taken), so
    they must come out byte-identical."""

    targets: dict[str, list[str]] = field(default_factory=dict)  # message -> ids
    parents: dict[str, list[str]] = field(default_factory=dict)  # table -> ids
    untouched: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    templates: dict[str, Message] = field(default_factory=dict)  # message -> valid payload
    known_user: str = ""
    change_tokens: list[str] = field(default_factory=list)  # real ListChanges tokens
    watch_tokens: list[str] = field(default_factory=list)  # real WatchChanges tokens

    @property
    def untouched_ids(self) -> list[str]:
        return sorted(i for ids in self.untouched.values() for i in ids)

    @property
    def parent_ids(self) -> list[str]:
        return sorted(i for ids in self.parents.values() for i in ids)


def _fks(r: Resource, message: Any) -> Iterable[tuple[str, str]]:
    for f in message.DESCRIPTOR.fields:
        table = foreign_table(r, f.name)
        value = getattr(message, f.name) if table else ""
        if table and value:
            yield table, value


def resource_of(message: str) -> Resource:
    return next(r for r in RESOURCES if r.message == message)


async def build_world(api: Api) -> World:
    world = World()
    for message in ("Evidence", "AssessmentQuestion", "EvidenceCollection", "ChatMessage"):
        made = await api.make(message)
        for table, value in _fks(resource_of(message), made):
            world.parents.setdefault(table, []).append(value)
    conversation_id = world.parents["chat_conversations"][0]
    conversation = await call(api, "ChatConversation", "Get", id=conversation_id)
    world.parents["business_profiles"].append(conversation.business_profile_id)
    for r in RESOURCES:
        rows = [await api.make(r.message) for _ in range(2)]
        world.targets[r.message] = [row.id for row in rows]
        world.templates[r.message] = _template(r, rows[0], world)
        kept = await api.make(r.message)
        world.untouched[table_of(r).name].add(kept.id)
        for table, value in _fks(r, kept):
            world.untouched[table].add(value)
    world.known_user = sorted(world.untouched["users"])[0]
    changes = change_pb2_grpc.ChangeServiceStub(api.channel)
    for text_filter in ("", f'owner_user_id = "{world.known_user}"'):
        page = await changes.ListChanges(
            change_pb2.ListChangesRequest(page_size=1, filter=text_filter), timeout=TIMEOUT
        )
        world.change_tokens.append(page.next_page_token)
        watch: Any = changes.WatchChanges(
            change_pb2.WatchChangesRequest(filter=text_filter), timeout=TIMEOUT
        )
        first = await watch.read()
        watch.cancel()
        world.watch_tokens.append(first.resume_token)
    return world


def fields_of(message: Message) -> list[FieldDescriptor]:
    """The message's fields. The stubs type them as the Python or the upb class;
    protobuf's descriptor metaclass accepts either as a FieldDescriptor."""
    fields = []
    for f in message.DESCRIPTOR.fields:
        assert isinstance(f, FieldDescriptor), f
        fields.append(f)
    return fields


def _template(r: Resource, row: Any, world: World) -> Message:
    """A valid create payload: a target's fields, output-only ones cleared, its
    parents swapped for the parent pool's."""
    template: Message = type(row)()
    template.CopyFrom(row)
    for f in fields_of(template):
        marks = behaviours(f)
        if f.name in ("id", "etag") or OUTPUT_ONLY in marks:
            template.ClearField(f.name)
        elif INPUT_ONLY in marks:
            setattr(template, f.name, "secret")
        elif (table := foreign_table(r, f.name)) and getattr(template, f.name):
            setattr(template, f.name, world.parents[table][0])
    return template


# ---------------------------------------------------------------------------
# Values: valid-looking and hostile, per field type.

INT32 = (-(2**31), 2**31 - 1)
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", ":", "==")
INT64 = (-(2**63), 2**63 - 1)
SQLISH = [
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "$$",
    "$x$ select 1 $x$",
    "\\",
    "\\\\x00",
    "\\0",
    "%_%",
    "1; SELECT pg_sleep(10)",
    "*/ /*",
    ":id",
    "%(id)s",
    "$1",
]
ODD_TEXT = [
    "\u202eevil\u202c",
    "\u200f\u200e",
    "\ufeff",
    "\u2028\u2029",
    "\U0001f525\U0001f469\u200d\U0001f4bb",
    "e\u0301\u0301\u0301",
    "\uffff\ufffe",
    "\U0010ffff",
    "\t\r\n\x7f\x1b[31m",
]
words = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", max_size=16
)
huge_text = st.builds(
    lambda unit, count: (unit or "x") * count,
    st.text(min_size=1, max_size=4),
    st.integers(1_000, 25_000),
)
nul_text = st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=8), st.text(max_size=8))
hostile_text = st.one_of(
    st.text(),
    st.text(min_size=50, max_size=400),
    huge_text,
    nul_text,
    st.sampled_from(SQLISH),
    st.sampled_from(ODD_TEXT),
)
any_text = st.one_of(words, words, hostile_text)
int32s = st.one_of(
    st.integers(-3, 200),
    st.sampled_from([*INT32, 2**15, -(2**15) - 1, 2**15 - 1]),
    st.integers(*INT32),
)
int64s = st.one_of(
    st.integers(-3, 10**6), st.sampled_from([*INT64, *INT32, 2**53 + 1]), st.integers(*INT64)
)
doubles = st.one_of(
    st.floats(0, 100),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308, 5e-324]),
    st.floats(),
)
emails = st.builds(lambda u: f"{u.hex}@example.com", st.uuids())


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(), st.booleans(), doubles, st.integers(-(2**60), 2**60).map(float), any_text
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def nested(depth: int, leaf: Any = 1.0) -> struct_pb2.Value:
    """A Value `depth` containers deep (lists and objects in turn)."""
    value = struct_pb2.Value()
    value.number_value = leaf
    for level in range(depth):
        outer = struct_pb2.Value()
        if level % 2:
            outer.struct_value.fields["k"].CopyFrom(value)
        else:
            outer.list_value.values.add().CopyFrom(value)
        value = outer
    return value


def as_value(data: Any) -> struct_pb2.Value:
    holder = struct_pb2.ListValue()
    holder.append(data)
    return holder.values[0]


# Nesting near and past the parser's limit of 100 is built on the wire (deep_value):
# protobuf's Python CopyFrom round-trips through that same parser.
values = st.one_of(json_values().map(as_value), st.integers(1, 12).map(nested))
structs = st.one_of(
    st.dictionaries(any_text, json_values(), max_size=5).map(lambda d: _struct(d)),
    values.map(lambda v: struct_pb2.Struct(fields={"v": v})),
)
lists = st.one_of(
    st.lists(json_values(), max_size=5).map(lambda items: _list_value(items)),
    values.map(lambda v: struct_pb2.ListValue(values=[v])),
)


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(data)
    return result


def _list_value(data: list[Any]) -> struct_pb2.ListValue:
    result = struct_pb2.ListValue()
    result.extend(data)
    return result


YEAR_ONE, YEAR_10000 = -62_135_596_800, 253_402_300_800
timestamps = st.builds(
    lambda s, n: timestamp_pb2.Timestamp(seconds=s, nanos=n),
    st.one_of(
        st.integers(1_600_000_000, 1_900_000_000),
        st.sampled_from([YEAR_ONE, YEAR_ONE - 1, YEAR_10000, YEAR_10000 - 1, 0, -1]),
        st.integers(*INT64),
    ),
    st.one_of(st.just(0), st.integers(0, 999_999_999), st.integers(*INT32)),
)
dates = st.builds(
    lambda y, m, d: date_pb2.Date(year=y, month=m, day=d),
    st.one_of(st.integers(1, 9999), st.integers(*INT32)),
    st.one_of(st.integers(0, 13), st.integers(*INT32)),
    st.one_of(st.integers(0, 32), st.integers(*INT32)),
)


def uuid_forms(u: uuid.UUID) -> st.SearchStrategy[str]:
    """Spellings of a random uuid, canonical or not; none names a real row."""
    s = str(u)
    fullwidth = s.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    return st.sampled_from([s, s.upper(), u.hex, f"{{{s}}}", f"urn:uuid:{s}", fullwidth])


malformed_ids = st.one_of(
    st.sampled_from(["", "42", "null", "0", "not-a-uuid", "00000000-0000-0000-0000-000000000000"]),
    st.uuids().flatmap(uuid_forms),
    any_text,
)


def corrupt(ids: Sequence[str]) -> st.SearchStrategy[str]:
    """A real id made invalid: never a spelling uuid.UUID reads as the same row."""

    def spoil(row_id: str, how: int, at: int) -> str:
        at %= len(row_id)
        spoiled = [
            row_id[:-1],
            row_id + "0",
            row_id[:at] + "g" + row_id[at + 1 :],
            row_id[:at] + "\x00" + row_id[at:],
            row_id.replace("-", "") + "ab",
            " " + row_id + "\n",
            row_id[:at] + "\u0661" + row_id[at:],
        ][how]
        with contextlib.suppress(ValueError):
            assert uuid.UUID(spoiled) != uuid.UUID(row_id)
        return spoiled

    return st.builds(spoil, st.sampled_from(sorted(ids)), st.integers(0, 6), st.integers(0, 35))


# ---------------------------------------------------------------------------
# Requests, per method kind.


def _memo(
    build: Callable[Concatenate[Strategies, P], T],
) -> Callable[Concatenate[Strategies, P], T]:
    """Build each strategy once per Strategies object: drawing is the hot path."""

    def once(self: Strategies, /, *args: P.args, **kwargs: P.kwargs) -> T:
        key = (build.__name__, args, tuple(sorted(kwargs.items())))
        if key not in self.memo:
            self.memo[key] = build(self, *args, **kwargs)
        built: T = self.memo[key]
        return built

    return once


class Strategies:
    """Hypothesis strategies for one run, bound to the world's rows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.memo: dict[Any, Any] = {}
        self.corrupted = corrupt(world.untouched_ids)
        self.random_ids = st.uuids().map(str)

    @_memo
    def ids_for(self, r: Resource, *, deleting: bool = False) -> st.SearchStrategy[str]:
        real = list(self.world.targets[r.message])
        if not deleting:
            real += self.world.parents.get(table_of(r).name, [])
        return st.one_of(
            st.sampled_from(real),
            st.sampled_from(real),
            self.random_ids,
            malformed_ids,
            self.corrupted,
        )

    @_memo
    def chosen_ids(self, r: Resource) -> st.SearchStrategy[str]:
        """Ids a Create may ask for: none, garbage, taken (an untouched row's, so
        always refused), or fresh. Fresh ones come from uuid7, not from hypothesis,
        which may repeat a value later drawn as an id to delete: the ledger would
        then see a created row deleted, though it was made after the delete."""
        taken = sorted(self.world.untouched[table_of(r).name])
        return st.one_of(
            st.just(""),
            st.just(""),
            malformed_ids.filter(lambda value: UUID_TEXT.fullmatch(value) is None),
            st.sampled_from(["00000000-0000-0000-0000-000000000000", "0" * 32]),
            st.sampled_from(taken),
            self.corrupted,
            st.builds(lambda: str(uuid7())),
        )

    @_memo
    def foreign_ids(self, table: str) -> st.SearchStrategy[str]:
        return st.one_of(
            st.sampled_from(self.world.parents[table]),
            st.sampled_from(self.world.parents[table]),
            st.sampled_from(self.world.parent_ids),
            self.random_ids,
            malformed_ids,
            self.corrupted,
        )

    @_memo
    def field_value(self, r: Resource, f: FieldDescriptor) -> st.SearchStrategy[Any]:
        if f.message_type is not None:
            return {
                "google.protobuf.Timestamp": timestamps,
                "google.type.Date": dates,
                "google.protobuf.Struct": structs,
                "google.protobuf.ListValue": lists,
                "google.protobuf.Value": values,
            }[f.message_type.full_name]
        if f.enum_type is not None:
            numbers = [v.number for v in f.enum_type.values]
            return st.one_of(st.sampled_from(numbers), st.sampled_from(numbers), int32s)
        if f.type == FieldDescriptor.TYPE_STRING:
            table = foreign_table(r, f.name)
            if table:
                return self.foreign_ids(table)
            special = {
                "id": self.ids_for(r),
                "email": st.one_of(emails, emails, any_text),
                "version": st.one_of(st.just("1.0"), any_text),
                "etag": st.one_of(st.integers(0, 2**32).map(str), any_text),
            }
            return special.get(f.name, any_text)
        if f.type == FieldDescriptor.TYPE_BOOL:
            return st.booleans()
        if f.type == FieldDescriptor.TYPE_DOUBLE:
            return doubles
        if f.type == FieldDescriptor.TYPE_INT64:
            return int64s
        if f.type == FieldDescriptor.TYPE_INT32:
            return int32s
        raise AssertionError(f"no strategy for {f.full_name}")

    @_memo
    def resource_message(self, r: Resource) -> st.SearchStrategy[Message]:
        template = self.world.templates[r.message]
        fields = fields_of(template)

        @st.composite
        def build(draw: st.DrawFn) -> Message:
            mode = draw(st.sampled_from(["template", "template", "few", "random"]))
            message: Any = type(template)()
            if mode != "random":
                message.CopyFrom(template)
                for name in ("email", "name"):
                    if name in template.DESCRIPTOR.fields_by_name:
                        setattr(message, name, draw(emails))
            chosen: list[FieldDescriptor]
            if mode == "few":
                chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3))
            elif mode == "random":
                chosen = [f for f in fields if draw(st.booleans())]
            else:
                chosen = []
            for f in chosen:
                if draw(st.integers(0, 5)) == 0:
                    message.ClearField(f.name)
                    continue
                value = draw(self.field_value(r, f))
                if f.message_type is not None:
                    getattr(message, f.name).CopyFrom(value)
                else:
                    setattr(message, f.name, value)
            return message  # type: ignore[no-any-return]

        return build()

    @_memo
    def filters(self, r: Resource) -> st.SearchStrategy[str]:
        table = table_of(r)
        names = sorted({*r.filterable, "id", "etag", "nope", "hashed_password", *table.c.keys()})
        operators = st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "==", "~", "LIKE", ":", ""])
        hostile_values = st.one_of(
            st.sampled_from(
                [
                    '"\\ud800"',
                    '"a\\udfffb"',
                    '"\\u0000"',
                    '"unterminated',
                    "null",
                    "9" * 30,
                    "1e999",
                    "NaN",
                    "-inf",
                    "0x10",
                    "1_000",
                    "'single'",
                    "(",
                    '"a" "b"',
                    '"0001-01-01T00:00:00+23:59"',
                    '"9999-12-31T23:59:59-23:59"',
                    '"2026-01-01T00:00:00"',
                    '"2026-02-30"',
                    "true",
                    "AND",
                ]
            ),
            any_text.map(json.dumps),
            words,
        )

        def literal_for(name: str) -> st.SearchStrategy[str]:
            if name not in table.c:
                return hostile_values
            column: Column[Any] = table.c[name]
            kind = python_type(column)
            options: list[st.SearchStrategy[str]] = [hostile_values]
            if kind is bool:
                options.append(st.sampled_from(["true", "false"]))
            elif kind is int:
                options.append(int64s.map(str))
            elif kind is float:
                options.append(doubles.map(repr))
            elif kind is uuid.UUID:
                pool = self.world.parent_ids
                options.append(st.sampled_from(pool).map(json.dumps))
                options.append(st.sampled_from(pool))
            elif kind.__name__ in ("datetime", "date"):
                options.append(st.datetimes().map(lambda d: json.dumps(d.isoformat() + "Z")))
            elif hasattr(kind, "__members__"):
                options.append(st.sampled_from([m.name for m in kind]))  # type: ignore[attr-defined]
            else:
                options.append(any_text.map(json.dumps))
            return st.one_of(*options)

        condition = st.sampled_from(names).flatmap(
            lambda name: st.builds(
                lambda op, value: f"{name} {op} {value}", operators, literal_for(name)
            )
        )
        joiners = st.sampled_from([" AND ", " AND ", " OR ", " and ", " ", " AND AND ", " NOT "])
        joined = st.builds(
            lambda first, rest: first + "".join(j + c for j, c in rest),
            condition,
            st.lists(st.tuples(joiners, condition), max_size=3),
        )
        return st.one_of(joined, joined, joined, any_text, huge_text.map(lambda s: s[:2500]))

    @_memo
    def orders(self, r: Resource) -> st.SearchStrategy[str]:
        table = table_of(r)
        names = sorted({*r.orderable, "id", "nope", *table.c.keys()})
        part = st.builds(
            lambda name, direction: f"{name}{direction}",
            st.one_of(st.sampled_from(names), words),
            st.sampled_from(["", " asc", " desc", " sideways", " desc desc"]),
        )
        return st.one_of(
            st.lists(part, min_size=1, max_size=3).map(", ".join),
            st.lists(part, min_size=1, max_size=3).map(",".join),
            any_text,
        )

    @_memo
    def forged_token(self, r: Resource) -> st.SearchStrategy[tuple[str, str]]:
        """(order_by, page_token): a token with a good checksum and fingerprint for
        an empty filter and that order, carrying values no server ever wrote."""
        table = table_of(r)
        repository = Repository(
            r.model, filterable=r.filterable, orderable=r.orderable, default_order=r.default_order
        )
        orderings = ["", *sorted(repository.orderable), *[f"{n} desc" for n in r.orderable]]
        token_values = st.one_of(
            st.text(alphabet=st.characters(codec=None, exclude_categories=())),
            st.sampled_from(["\ud800", "a\udfff", "\x00", "2026-01-01T00:00:00+00:00"]),
            st.integers(-(2**70), 2**70),
            doubles,
            st.booleans(),
            st.none(),
            st.uuids().map(str),
            st.lists(st.integers(), max_size=3),
        )

        @st.composite
        def make(draw: st.DrawFn) -> tuple[str, str]:
            order_by = draw(st.sampled_from(orderings))
            keys = parse_order(order_by, table, repository.orderable, r.default_order)
            count = draw(st.one_of(st.just(len(keys)), st.integers(0, 4)))
            drawn = draw(st.lists(token_values, min_size=count, max_size=count))
            fingerprint = PageTokens.fingerprint(table, "", keys)
            return order_by, PageTokens.encode(fingerprint, drawn)

        return make()

    def request(self, method: Method) -> st.SearchStrategy[Message]:
        r = method.resource
        cls = method.request_class
        if cls is change_pb2.ListChangesRequest:
            return self._list_changes()
        if cls is change_pb2.WatchChangesRequest:
            return self._watch_changes()
        if method.kind == "Commit":
            return self._commit()
        if r is None:
            return st.just(cls())
        if method.kind in BATCH_WRITES:
            return self._batch(method, r)
        if method.kind == "Get":
            return st.builds(lambda i: cls(id=i), self.ids_for(r))
        if method.kind == "BatchGet":
            many = st.builds(
                lambda n, seed: cls(
                    ids=[
                        str(uuid.UUID(int=random.Random(seed).getrandbits(128) + i))
                        for i in range(n)
                    ]
                ),
                st.sampled_from([1000, 1001, 5000]),
                st.integers(0, 2**32),
            )
            return st.one_of(
                st.lists(self.ids_for(r), max_size=8).map(lambda ids: cls(ids=ids)),
                st.lists(st.sampled_from(self.world.targets[r.message]), max_size=30).map(
                    lambda ids: cls(ids=ids)
                ),
                many,
            )
        if method.kind == "Delete":
            return st.builds(
                lambda i, etag, force: cls(id=i, etag=etag, force=force),
                self.ids_for(r, deleting=True),
                st.one_of(st.just(""), st.just(""), st.integers(0, 2**32).map(str), any_text),
                st.booleans(),
            )
        if method.kind == "List":
            return self._list(method, r)
        if method.kind == "Aggregate":
            return self._aggregate(method, r)
        if method.kind == "Create":
            request_ids = st.one_of(
                st.just(""), st.uuids().map(str), malformed_ids, self.ids_for(r)
            )
            return st.builds(
                lambda resource, rid, chosen: cls(
                    **{
                        snake(r.message): resource,
                        "request_id": rid,
                        f"{snake(r.message)}_id": chosen,
                    }
                ),
                self.resource_message(r),
                request_ids,
                self.chosen_ids(r),
            )
        assert method.kind == "Update"
        return self._update(method, r)

    def single(self, r: Resource, kind: str) -> st.SearchStrategy[Message]:
        """Requests of `r`'s single write `kind` (Create, Update, Delete)."""
        method = next(m for m in METHODS if m.resource is r and m.kind == kind)
        return self.request(method)

    @_memo
    def _batch(self, method: Method, r: Resource) -> st.SearchStrategy[Message]:
        cls = method.request_class
        if method.kind == "BatchDelete":
            return st.builds(
                lambda ids, etags, force: cls(ids=ids, etags=etags[: len(ids)], force=force),
                st.lists(self.ids_for(r, deleting=True), max_size=4),
                st.lists(st.one_of(st.just(""), st.integers(0, 2**32).map(str)), max_size=4),
                st.booleans(),
            )
        one = self.single(r, method.kind.removeprefix("Batch"))
        return st.lists(one, max_size=4).map(lambda requests: cls(requests=requests))

    @_memo
    def _commit(self) -> st.SearchStrategy[Message]:
        writes = []
        for r in RESOURCES:
            for kind in ("Create", "Update", "Delete"):
                if kind == "Update" and r.append_only:
                    continue
                name = f"{kind.lower()}_{snake(r.message)}"

                def mutation(request: Message, name: str = name) -> data_service_pb2.Mutation:
                    wrapped = data_service_pb2.Mutation()
                    getattr(wrapped, name).CopyFrom(request)  # sets the oneof's `name`
                    return wrapped

                writes.append(self.single(r, kind).map(mutation))
        mutations = st.one_of(*writes, st.just(data_service_pb2.Mutation()))
        # Fresh ids only: a repeat answers the first commit's response, which the
        # accounting would read against the repeat's own mutations.
        request_ids = st.one_of(st.just(""), st.builds(lambda: str(uuid.uuid4())), malformed_ids)
        return st.builds(
            lambda ms, rid, dry: data_service_pb2.CommitRequest(
                mutations=ms, request_id=rid, validate_only=dry
            ),
            st.lists(mutations, max_size=5),
            request_ids,
            st.booleans(),
        )

    def _aggregate(self, method: Method, r: Resource) -> st.SearchStrategy[Message]:
        cls = method.request_class
        fields = sorted({*r.groupable, *r.measures, *r.filterable, "id", "nope"})
        keys = st.builds(
            lambda name, unit: f"{name}{unit}",
            st.one_of(st.sampled_from(fields), words),
            st.sampled_from(["", "", ":day", ":week", ":month", ":year", ":"]),
        )
        metrics = st.one_of(
            st.just("count"),
            st.builds(
                lambda f, name: f"{f}({name})",
                st.sampled_from(["sum", "avg", "min", "max", "median", "count"]),
                st.one_of(st.sampled_from(fields), words, st.just("*")),
            ),
            any_text,
        )

        @st.composite
        def build(draw: st.DrawFn) -> Message:
            request: Any = cls()
            if draw(st.booleans()):
                request.filter = draw(self.filters(r))
            request.group_by.extend(draw(st.lists(keys, max_size=6)))
            request.metrics.extend(draw(st.lists(metrics, max_size=4)))
            if draw(st.booleans()):
                request.page_size = draw(st.one_of(st.integers(-3, 1100), st.sampled_from(INT32)))
            request.page_token = draw(
                st.one_of(st.just(""), any_text, st.binary(max_size=60).map(lambda b: b.hex()))
            )
            return request  # type: ignore[no-any-return]

        return build()

    def _list(self, method: Method, r: Resource) -> st.SearchStrategy[Message]:
        cls = method.request_class
        page_sizes = st.one_of(st.just(0), st.integers(-3, 1100), st.sampled_from(INT32))
        tokens = st.one_of(
            st.just(""),
            st.just(""),
            any_text,
            st.binary(max_size=120).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        )

        @st.composite
        def build(draw: st.DrawFn) -> Message:
            request: Any = cls()
            if draw(st.booleans()):
                request.page_size = draw(page_sizes)
            request.show_total_size = draw(st.booleans())
            if draw(st.integers(0, 4)) == 0:
                request.order_by, request.page_token = draw(self.forged_token(r))
                return request  # type: ignore[no-any-return]
            if draw(st.booleans()):
                request.filter = draw(self.filters(r))
            if draw(st.booleans()):
                request.order_by = draw(self.orders(r))
            request.page_token = draw(tokens)
            return request  # type: ignore[no-any-return]

        return build()

    def _watch_changes(self) -> st.SearchStrategy[Message]:
        """WatchChanges: filters on its fields and others, good and bad; tokens
        real, forged, of a wrong version, from the future or the far past."""
        ids = st.sampled_from(self.world.parent_ids)
        values = st.one_of(
            ids.map(lambda i: f'"{i}"'),
            st.sampled_from(['"create"', '"update"', '"User"', '"a*"', "null", "3"]),
            any_text.map(json.dumps),
            any_text,
        )
        names = st.one_of(
            st.sampled_from(WATCH_FILTERABLE), st.sampled_from(["actor", "id", "changed_at"])
        )
        condition = st.builds(
            lambda n, op, v: f"{n} {op} {v}", names, st.sampled_from(OPERATORS), values
        )
        filters = st.one_of(
            st.just(""),
            st.lists(condition, min_size=1, max_size=3).map(" OR ".join),
            st.lists(condition, min_size=1, max_size=3).map(" AND ".join),
            any_text,
        )
        made = st.builds(
            lambda v, lo, hi, last, at: base64.urlsafe_b64encode(
                struct.pack(">Bqqqq", v, lo, hi, last, at)
            ).decode(),
            st.integers(0, 3),
            st.integers(-(2**63), 2**63 - 1),
            st.integers(-(2**63), 2**63 - 1),
            st.integers(-(2**63), 2**63 - 1),
            st.integers(-(2**63), 2**63 - 1),
        )
        tokens = st.one_of(
            st.just(""),
            any_text,
            made,
            st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode()),
            st.sampled_from(self.world.watch_tokens or [""]),
        )
        return st.builds(
            lambda token, text: change_pb2.WatchChangesRequest(resume_token=token, filter=text),
            tokens,
            filters,
        )

    def _list_changes(self) -> st.SearchStrategy[Message]:
        """ListChanges: filters on each of its fields, good and bad, and tokens of
        its own, real (a first page's), forged and foreign."""
        ids = st.sampled_from(self.world.parent_ids)
        values = st.one_of(
            ids.map(lambda i: f'"{i}"'),
            st.sampled_from(['"create"', '"update"', '"delete"', '"service"', '"User"']),
            st.sampled_from(['"2026-01-01T00:00:00Z"', '"1970-01-01T00:00:00Z"', "3", "true"]),
            any_text.map(json.dumps),
            any_text,
        )
        names = st.one_of(st.sampled_from(CHANGE_FILTERABLE), st.sampled_from(["id", "before"]))
        condition = st.builds(
            lambda n, op, v: f"{n} {op} {v}", names, st.sampled_from(OPERATORS), values
        )
        filters = st.one_of(
            st.just(""),
            st.lists(condition, min_size=1, max_size=3).map(" AND ".join),
            any_text,
        )
        tokens = st.one_of(
            st.just(""),
            any_text,
            st.binary(max_size=120).map(lambda b: base64.urlsafe_b64encode(b).decode()),
            st.sampled_from(self.world.change_tokens or [""]),
        )
        return st.builds(
            lambda size, token, text: change_pb2.ListChangesRequest(
                page_size=size, page_token=token, filter=text
            ),
            st.one_of(st.just(0), st.integers(-3, 1100), st.sampled_from(INT32)),
            tokens,
            filters,
        )

    def _update(self, method: Method, r: Resource) -> st.SearchStrategy[Message]:
        cls = method.request_class
        resource_type = cls.DESCRIPTOR.fields_by_name[snake(r.message)].message_type
        assert resource_type is not None
        names = [f.name for f in resource_type.fields]
        paths = st.one_of(st.sampled_from([*names, "*"]), st.sampled_from(names), any_text)
        masks = st.one_of(
            st.none(),
            st.lists(paths, max_size=6),
            st.lists(st.sampled_from(names), min_size=1, max_size=4),
            st.lists(words, min_size=50, max_size=300),
        )

        @st.composite
        def build(draw: st.DrawFn) -> Message:
            resource: Any = draw(self.resource_message(r))
            resource.id = draw(self.ids_for(r))
            request: Any = cls(**{snake(r.message): resource})
            mask = draw(masks)
            if mask is not None:
                request.update_mask.CopyFrom(field_mask_pb2.FieldMask(paths=mask))
            request.etag = draw(
                st.one_of(st.just(""), st.just(""), st.integers(0, 2**32).map(str), any_text)
            )
            return request  # type: ignore[no-any-return]

        return build()

    # -- the wire level --------------------------------------------------------

    def wire(self, method: Method) -> st.SearchStrategy[tuple[str, bytes]]:
        """(how, bytes): mostly serialized generated messages, some altered on the
        wire, some raw garbage."""
        structured = self.request(method).map(lambda m: m.SerializeToString())
        kinds = [
            structured.map(lambda b: ("message", b)),
            structured.map(lambda b: ("message", b)),
            structured.map(lambda b: ("message", b)),
            st.builds(_truncate, structured, st.integers(0, 2**16)).map(lambda b: ("truncated", b)),
            st.builds(_flip, structured, st.integers(0, 2**16), st.integers(0, 255)).map(
                lambda b: ("flipped", b)
            ),
            st.binary(max_size=400).map(lambda b: ("garbage", b)),
            st.builds(_unknown_field, structured, st.integers(16, 2**29 - 1), st.binary()).map(
                lambda b: ("unknown-field", b)
            ),
            st.builds(lambda b, n: b + _deep_groups(n), structured, st.integers(50, 5000)).map(
                lambda b: ("deep-groups", b)
            ),
        ]
        strings = _string_paths(method.request_class.DESCRIPTOR)
        if strings:
            kinds.append(
                st.builds(
                    _bad_utf8, structured, st.sampled_from(strings), st.sampled_from(BAD_UTF8)
                ).map(lambda b: ("bad-utf8", b))
            )
        deep = _json_paths(method.request_class.DESCRIPTOR)
        if deep:
            kinds.append(
                st.builds(_deep_json, structured, st.sampled_from(deep), st.integers(90, 5000)).map(
                    lambda b: ("deep-json", b)
                )
            )
        return st.one_of(*kinds).map(lambda kb: (kb[0], kb[1][:MAX_REQUEST_BYTES]))


# ---------------------------------------------------------------------------
# Hand-built protobuf wire format.

BAD_UTF8 = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"abc\xfe", b"\xf4\x90\x80\x80", b"\xe2\x82"]


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def ld(number: int, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, bytes."""
    return tag(number, 2) + varint(len(payload)) + payload


def _truncate(data: bytes, at: int) -> bytes:
    return data[: at % len(data)] if data else b"\x0a"


def _flip(data: bytes, at: int, byte: int) -> bytes:
    if not data:
        return bytes([byte])
    at %= len(data)
    return data[:at] + bytes([byte]) + data[at + 1 :]


def _unknown_field(data: bytes, number: int, payload: bytes) -> bytes:
    return data + ld(number, payload)


def _deep_groups(depth: int) -> bytes:
    """An unknown group field nested `depth` times (wire types 3 and 4)."""
    return tag(1000, 3) * depth + tag(1000, 4) * depth


def _string_paths(descriptor: Any, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    """Field-number paths to every string field, one message level down at most."""
    paths = []
    for f in descriptor.fields:
        if f.type == FieldDescriptor.TYPE_STRING:
            paths.append((*prefix, f.number))
        elif (
            f.message_type is not None
            and not prefix
            and f.message_type.full_name.startswith("ruleiq.")
        ):
            paths.extend(_string_paths(f.message_type, (f.number,)))
        elif f.message_type is not None and f.message_type.full_name.endswith("FieldMask"):
            paths.append((f.number, 1))
    return paths


def _json_paths(descriptor: Any) -> list[tuple[int, int, str]]:
    """(resource field, JSON field, its type) for every Struct/ListValue/Value in the
    request's resource."""
    paths = []
    for f in descriptor.fields:
        if f.message_type is not None and f.message_type.full_name.startswith("ruleiq."):
            for inner in f.message_type.fields:
                if inner.message_type is not None and inner.message_type.full_name in (
                    "google.protobuf.Struct",
                    "google.protobuf.ListValue",
                    "google.protobuf.Value",
                ):
                    paths.append((f.number, inner.number, inner.message_type.name))
    return paths


def _wrap(path: Sequence[int], payload: bytes) -> bytes:
    for number in reversed(path):
        payload = ld(number, payload)
    return payload


def _bad_utf8(data: bytes, path: tuple[int, ...], bad: bytes) -> bytes:
    """Invalid UTF-8 in a string field, which no protobuf library would serialize."""
    return data + _wrap(path[:-1], ld(path[-1], bad))


def deep_value(depth: int) -> bytes:
    """A google.protobuf.Value nested `depth` lists deep, as bytes: protobuf's own
    serializer would build it, but the point is bytes past any parser's limit."""
    value = tag(2, 1) + struct.pack("<d", 1.0)  # number_value
    for _ in range(depth):
        value = ld(6, ld(1, value))  # list_value { values: <value> }
    return value


def _deep_json(data: bytes, path: tuple[int, int, str], depth: int) -> bytes:
    resource_field, json_field, kind = path
    value = deep_value(depth)
    if kind == "Struct":
        payload = ld(1, ld(1, b"k") + ld(2, value))  # fields: {key: "k", value: ...}
    elif kind == "ListValue":
        payload = ld(1, value)
    else:
        payload = value
    return data + ld(resource_field, ld(json_field, payload))


# ---------------------------------------------------------------------------
# Sending, checking and accounting.


@dataclass
class Ledger:
    """What the server acknowledged, and what the fuzz saw."""

    created: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    deleted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    claimed: set[tuple[str, uuid.UUID]] = field(default_factory=set)
    commits: set[uuid.UUID] = field(default_factory=set)
    sent: Counter[str] = field(default_factory=Counter)
    how: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    unusual: set[str] = field(default_factory=set)


def against_a_live_database(max_examples: int) -> settings:
    """Hypothesis settings for examples that change a database which stays: the
    same draws every run, and no shrinking."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        # A bad answer is collected, not raised (see Fuzzer.check); should the
        # harness itself raise, shrinking would replay examples against rows that
        # earlier ones already changed. The failing example is reported as drawn.
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )


class Fuzzer:
    def __init__(
        self, channel: grpc.aio.Channel, world: World, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.loop = loop
        self.world = world
        self.strategies = Strategies(world)
        self.ledger = Ledger()
        self.calls = {
            m.path: channel.unary_unary(m.path, request_serializer=None, response_deserializer=None)
            for m in METHODS
            if not m.descriptor.server_streaming
        }
        self.streams = {
            m.path: channel.unary_stream(
                m.path, request_serializer=None, response_deserializer=None
            )
            for m in METHODS
            if m.descriptor.server_streaming
        }

    async def send(self, method: Method, data: bytes) -> tuple[bytes | None, Any]:
        if method.path in self.streams:
            return await self.first_response(method, data)
        try:
            reply = await self.calls[method.path](data, timeout=60)
        except grpc.aio.AioRpcError as error:
            return None, error
        return reply, None

    async def first_response(self, method: Method, data: bytes) -> tuple[bytes | None, Any]:
        """A stream's answer: its first response (the stream is then cancelled), or
        the status it ended with before sending one."""
        stream: Any = self.streams[method.path](data, timeout=60)
        try:
            first = await stream.read()
        except grpc.aio.AioRpcError as error:
            return None, error
        finally:
            stream.cancel()
        return (first if isinstance(first, bytes) else b""), None

    async def send_all(
        self, method: Method, batch: Sequence[tuple[str, bytes]]
    ) -> list[tuple[bytes | None, Any]]:
        return await asyncio.gather(*(self.send(method, data) for _, data in batch))

    def check(self, method: Method, how: str, data: bytes, reply: bytes | None, error: Any) -> None:
        """Record the answer; a bad one becomes a problem, reported with its request
        at the end (raising here would make hypothesis replay it against a server
        whose state has moved on, and report flakiness instead of the answer)."""
        ledger = self.ledger
        ledger.sent[method.name] += 1
        ledger.how[how] += 1
        if error is None:
            ledger.codes["OK"] += 1
            assert reply is not None
            self.account(method, data, reply)
            return
        code = error.code()
        ledger.codes[code.name] += 1
        details = error.details() or ""
        if code in UNUSUAL:
            ledger.unusual.add(f"{method.name} ({how}) {code.name}: {details[:120]!r}")
        try:
            assert code not in BAD_CODES, "a bad code"
            failure = failure_of(error)  # asserts the trailer agrees with the status
            assert failure.status is not None, "no grpc-status-details-bin"
            assert failure.info is not None, "no ErrorInfo"
            assert failure.info.domain == DOMAIN, f"domain {failure.info.domain}"
        except AssertionError as problem:
            key = (method.name, code.name, details[:60])
            if key not in ledger.seen:
                ledger.seen.add(key)
                ledger.problems.append(
                    f"{method.path} ({how}) -> {code.name} {details[:300]!r}: {problem}\n"
                    f"    request {data[:600]!r}"
                )

    def account(self, method: Method, data: bytes, reply: bytes) -> None:
        r = method.resource
        if method.kind == "Commit":
            self.account_commit(data, reply)
            return
        if r is not None and method.kind in ("BatchCreate", "BatchDelete"):
            self.account_batch(method, r, data, reply)
            return
        if r is None or method.kind not in ("Create", "Delete"):
            return
        table = table_of(r).name
        request: Any = method.request_class.FromString(data)
        if method.kind == "Delete":
            self.ledger.deleted[table].add(str(uuid.UUID(request.id)))
            return
        created: Any = method.response_class.FromString(reply)
        self.ledger.created[table].add(created.id)
        if request.request_id:
            self.ledger.claimed.add((table, uuid.UUID(request.request_id)))

    def account_batch(self, method: Method, r: Resource, data: bytes, reply: bytes) -> None:
        table = table_of(r).name
        request: Any = method.request_class.FromString(data)
        if method.kind == "BatchDelete":
            self.ledger.deleted[table].update(str(uuid.UUID(i)) for i in request.ids)
            return
        response: Any = method.response_class.FromString(reply)
        for item, created in zip(request.requests, items(r.message, response), strict=True):
            self.created(table, item, created)

    def account_commit(self, data: bytes, reply: bytes) -> None:
        request = data_service_pb2.CommitRequest.FromString(data)
        if request.validate_only:
            return
        if request.request_id:
            self.ledger.commits.add(uuid.UUID(request.request_id))
        response = data_service_pb2.CommitResponse.FromString(reply)
        for mutation, result in zip(request.mutations, response.results, strict=True):
            operation = mutation.WhichOneof("operation")
            assert operation is not None
            verb, _, field_name = operation.partition("_")
            r = next(r for r in RESOURCES if snake(r.message) == field_name)
            table = table_of(r).name
            if verb == "delete":
                self.ledger.deleted[table].add(str(uuid.UUID(getattr(mutation, operation).id)))
            elif verb == "create":
                self.created(table, getattr(mutation, operation), getattr(result, field_name))

    def created(self, table: str, request: Any, row: Any) -> None:
        self.ledger.created[table].add(row.id)
        if request.request_id:
            self.ledger.claimed.add((table, uuid.UUID(request.request_id)))

    def run(self) -> None:
        """Runs in a worker thread: hypothesis drives a plain function that hands
        each batch to the test's event loop, where the server and channel live."""
        for method in METHODS:
            try:
                self.fuzz(method)
            except Exception as error:  # one method's failure must not hide another's
                self.ledger.problems.append(f"{method.path}: {error}")

    def fuzz(self, method: Method) -> None:
        batches = st.lists(self.strategies.wire(method), min_size=1, max_size=6)

        # No health check needs suppressing: nothing here is function-scoped, and
        # huge values come from a short draw repeated, not from long draws.
        @against_a_live_database(EXAMPLES_PER_METHOD)
        @given(batch=batches)
        def examples(batch: list[tuple[str, bytes]]) -> None:
            future = asyncio.run_coroutine_threadsafe(self.send_all(method, batch), self.loop)
            for (how, data), (reply, error) in zip(batch, future.result(120), strict=True):
                self.check(method, how, data, reply, error)

        examples()


# ---------------------------------------------------------------------------
# The database before and after.


async def table_counts(database: Database) -> dict[str, int]:
    async with database.async_engine.connect() as connection:
        names = (
            await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ).scalars()
        counts = {}
        for name in sorted(names):
            query = text(f'SELECT count(*) FROM "{name}"')
            counts[name] = (await connection.execute(query)).scalar_one()
    return counts


async def row_digests(database: Database, rows: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    digests = {}
    async with database.async_engine.connect() as connection:
        for table, ids in rows.items():
            query = text(
                f'SELECT id::text, md5(t::text) FROM "{table}" t WHERE id::text = ANY(:ids)'
            )
            for row_id, digest in await connection.execute(query, {"ids": sorted(ids)}):
                digests[(table, row_id)] = digest
    return digests


async def newest_change(database: Database) -> int:
    async with database.async_engine.connect() as connection:
        query = text("SELECT coalesce(max(id), 0) FROM change_events")
        return int((await connection.execute(query)).scalar_one())


async def creates_recorded_since(database: Database, event_id: int) -> dict[str, int]:
    async with database.async_engine.connect() as connection:
        query = text(
            "SELECT resource_type, count(*) FROM change_events"
            " WHERE id > :id AND operation = 'create' GROUP BY resource_type"
        )
        return {kind: int(n) for kind, n in await connection.execute(query, {"id": event_id})}


def resource_of_table(table: str) -> Resource:
    return next(r for r in RESOURCES if table_of(r).name == table)


async def count_present(database: Database, table: str, ids: Iterable[str]) -> int:
    async with database.async_engine.connect() as connection:
        query = text(f'SELECT count(*) FROM "{table}" WHERE id::text = ANY(:ids)')
        return int((await connection.execute(query, {"ids": sorted(ids)})).scalar_one())


async def pool_idle(app: App, seconds: float = HANG_SECONDS) -> int:
    give_up = time.monotonic() + seconds
    # The pool has no event to wait on: poll its counter.
    while app.database.pool_stats().checked_out and time.monotonic() < give_up:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return app.database.pool_stats().checked_out


# ---------------------------------------------------------------------------
# The tests.


async def test_every_rpc_answers_generated_and_garbage_requests_with_a_proper_status(
    grpc_app: App, channel: grpc.aio.Channel, api: Api, database: Database
) -> None:
    world = await build_world(api)
    counts_before = await table_counts(database)
    history_before = await newest_change(database)
    digests_before = await row_digests(database, world.untouched)
    assert len(digests_before) == len(world.untouched_ids)

    fuzzer = Fuzzer(channel, world, asyncio.get_running_loop())
    started = time.monotonic()
    # Hypothesis' @given cannot drive a coroutine here; in a thread, a plain
    # function draws each batch and waits on run_coroutine_threadsafe, while this
    # loop (the server's and the channel's) stays free to serve the calls.
    await asyncio.to_thread(fuzzer.run)
    elapsed = time.monotonic() - started
    ledger = fuzzer.ledger

    total = sum(ledger.sent.values())
    summary = (
        f"fuzz: {total} requests to {len(ledger.sent)} methods in {elapsed:.1f}s; "
        f"by shape {dict(ledger.how)}; answers {dict(ledger.codes)}; "
        f"acknowledged creates {sum(map(len, ledger.created.values()))}, "
        f"deletes {sum(map(len, ledger.deleted.values()))}"
        + "".join(f"\n  {line}" for line in sorted(ledger.unusual))
    )
    print(summary)
    assert not ledger.problems, "\n\n".join([summary, *ledger.problems])
    assert {m.name for m in METHODS} == set(ledger.sent), summary
    assert min(ledger.sent.values()) >= EXAMPLES_PER_METHOD, summary

    # The server lived through it.
    health = health_stub(channel)
    check = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)
    assert check.status == health_pb2.HealthCheckResponse.SERVING
    user = await call(api, "User", "Get", id=world.known_user)
    assert user.id == world.known_user
    assert await pool_idle(grpc_app) == 0

    # Only acknowledged writes changed the database.
    counts_after = await table_counts(database)
    expected = dict(counts_before)
    for table, ids in ledger.created.items():
        expected[table] += len(ids)
        assert await count_present(database, table, ids) == len(ids), table
    for table, ids in ledger.deleted.items():
        expected[table] -= len(ids)
        assert await count_present(database, table, ids) == 0, table
    expected["idempotency_keys"] += len(ledger.claimed)
    # Every write records events, the refused ones none: the creates recorded are
    # exactly the acknowledged ones.
    expected["change_events"] = counts_after["change_events"]
    expected["commit_responses"] += len(ledger.commits)
    assert counts_after == expected, summary
    creates = {
        resource_of_table(table).message: len(ids) for table, ids in ledger.created.items() if ids
    }
    assert await creates_recorded_since(database, history_before) == creates
    assert await row_digests(database, world.untouched) == digests_before


# SQL-looking and otherwise awkward text, stored and read back verbatim.
VERBATIM = [
    *SQLISH,
    "Robert'); DROP TABLE students;--",
    "' UNION SELECT hashed_password FROM users --",
    "\\'; \\\\; \\x41 \\u0041 \\n",
    "😀👩‍👩‍👧‍👦🏳️‍🌈",
    "\u202eRTL override\u202c and \u200fmark\u200e",
    "שלום עליכם",
    "null",
    "true",
    "  leading and trailing spaces  ",
    "\u02bc\u2032\uff07",
]
BIG = ("0123456789abcdef" * 6400)[:100_000]


@pytest.mark.parametrize("value", [*VERBATIM, BIG], ids=[*map(repr, VERBATIM), "100kB"])
async def test_sql_looking_input_is_stored_and_read_back_verbatim(api: Api, value: str) -> None:
    email = f"{value[:200]}{uuid.uuid4().hex}@example.com"
    user = await api.make("User", email=email, full_name=value)
    assert (user.email, user.full_name) == (email, value)
    again = await call(api, "User", "Get", id=user.id)
    assert (again.email, again.full_name) == (email, value)

    metadata = struct_pb2.Struct()
    metadata.update({value[:1000]: value, "list": [value, {"k": value}]})
    evidence = await api.make(
        "Evidence", description=value, evidence_type=value[:200], ai_metadata=metadata
    )
    stored = await call(api, "Evidence", "Get", id=evidence.id)
    assert (stored.description, stored.evidence_type) == (value, value[:200])
    assert stored.ai_metadata == metadata

    if len(email) < 1000:
        found = await call(api, "User", "List", filter=f"email = {json.dumps(email)}")
        assert [u.id for u in found.users] == [user.id]
    kind = json.dumps(value[:200])
    listed = await call(
        api,
        "Evidence",
        "List",
        filter=f"business_profile_id = {json.dumps(evidence.business_profile_id)}"
        f" AND evidence_type = {kind}",
    )
    assert [e.id for e in items("Evidence", listed)] == [evidence.id]
    for expression in (
        f"email = {json.dumps(value[:500])}",
        f"email != {json.dumps(value[:500])} AND email > {json.dumps(value[:300])}",
    ):
        await call(api, "User", "List", filter=expression, page_size=1)


# ---------------------------------------------------------------------------
# Properties of input that is always wrong: a value breaking its field's CHECK
# rule, a JSON Value with no kind, a malformed filter. Each must be answered with
# INVALID_ARGUMENT naming the field, never OK, INTERNAL or UNKNOWN.

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, derandomize=True, database=None, phases=list(Phase)
)


class Payloads:
    """A valid create payload per resource, its parents made once (a CHECK is
    judged before a unique index, so reused parents hide no refusal)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.made: dict[str, dict[str, Any]] = {}

    async def of(self, message: str) -> dict[str, Any]:
        if message not in self.made:
            self.made[message] = await valid_fields(self.api, message)
        return dict(self.made[message])


async def outcome(answer: Any) -> Failure | None:
    """None for OK, else the failure as the caller sees it."""
    try:
        await answer
    except grpc.aio.AioRpcError as error:
        return failure_of(error)
    return None


def _values_for(rule: Rule) -> st.SearchStrategy[Any]:
    candidates = st.sampled_from(list(CANDIDATES[column_type(rule.column)]))
    if rule.field.type == FieldDescriptor.TYPE_INT32:
        drawn: st.SearchStrategy[Any] = st.one_of(st.integers(-5, 300), st.integers(*INT32))
    elif rule.field.type == FieldDescriptor.TYPE_INT64:
        drawn = st.one_of(st.integers(-5, 300), st.integers(*INT64))
    elif rule.field.type == FieldDescriptor.TYPE_DOUBLE:
        drawn = st.floats(allow_nan=False, allow_infinity=False)
    else:
        drawn = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
    return st.one_of(candidates, drawn)


RULES_BY_NAME = {r.name: r for r in WRITABLE_RULES}
# Drawn by name, so a failing example prints short.
CHECKED = st.sampled_from([r.name for r in WRITABLE_RULES]).flatmap(
    lambda name: st.tuples(st.just(name), _values_for(RULES_BY_NAME[name]))
)


@PROPERTY_SETTINGS
@given(case=CHECKED)
async def test_a_value_is_refused_naming_its_field_exactly_when_its_check_rule_refuses_it(
    api: Api, database: Database, payloads: Payloads, case: tuple[str, Any]
) -> None:
    name, value = case
    rule = RULES_BY_NAME[name]
    async with database.async_engine.connect() as connection:
        refused = await breaks(connection, rule, value)
    fields = {**await payloads.of(rule.message), rule.column.name: value}
    failure = await outcome(api.create(rule.message, **fields))

    if refused:
        assert failure is not None, f"{rule.path} = {value!r} was accepted"
        assert failure.code == INVALID, (failure.code, failure.message)
        assert failure.fields == [rule.path]
        assert failure.info is not None
        assert failure.info.reason == "CHECK_VIOLATION"
    elif failure is not None:
        assert failure.code not in BAD_CODES, failure.message
        assert failure.info is not None
        assert failure.info.reason != "CHECK_VIOLATION", failure.message


# JSON leaves that are valid anywhere, so the hole is the only thing wrong.
clean_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(-1e6, 1e6), words),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(words, inner, max_size=3)),
    max_leaves=8,
)
JSON_FIELDS = [
    (r, f)
    for r in RESOURCES
    for f in getattr(r.module, r.message).DESCRIPTOR.fields
    if f.message_type is not None
    and f.message_type.full_name in ("google.protobuf.Struct", "google.protobuf.ListValue")
    and OUTPUT_ONLY not in behaviours(f)
]


def _containers(value: struct_pb2.Value, path: str) -> list[tuple[Any, str]]:
    """Every Struct and ListValue inside `value`, with its path."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        inner = [_containers(v, f"{path}.{k}") for k, v in value.struct_value.fields.items()]
        return [(value.struct_value, path), *(c for found in inner for c in found)]
    if kind == "list_value":
        inner = [_containers(v, f"{path}[{i}]") for i, v in enumerate(value.list_value.values)]
        return [(value.list_value, path), *(c for found in inner for c in found)]
    return []


@st.composite
def with_a_hole(draw: st.DrawFn) -> tuple[Resource, str, Message, str]:
    """(resource, field, a JSON message with one kindless Value, the hole's path)."""
    r, f = draw(st.sampled_from(JSON_FIELDS))
    is_struct = f.message_type.full_name == "google.protobuf.Struct"
    top = draw(
        st.dictionaries(words, clean_json, max_size=4)
        if is_struct
        else st.lists(clean_json, max_size=4)
    )
    whole = as_value(top)
    root = f"{snake(r.message)}.{f.name}"
    container, path = draw(st.sampled_from(_containers(whole, root)))
    if isinstance(container, struct_pb2.Struct):
        key = draw(words.filter(lambda k: k not in container.fields))
        container.fields[key].CopyFrom(struct_pb2.Value())
        path = f"{path}.{key}"
    else:
        at = draw(st.integers(0, len(container.values)))
        container.values.insert(at, struct_pb2.Value())
        path = f"{path}[{at}]"
    message = whole.struct_value if is_struct else whole.list_value
    return r, f.name, message, path


@PROPERTY_SETTINGS
@given(case=with_a_hole())
async def test_a_value_with_no_kind_anywhere_in_json_is_refused_naming_its_path(
    api: Api, payloads: Payloads, case: tuple[Resource, str, Message, str]
) -> None:
    r, name, message, path = case
    fields = {**await payloads.of(r.message), name: message}
    failure = await outcome(api.create(r.message, **fields))

    assert failure is not None, f"{path} with no kind was accepted"
    assert failure.code == INVALID, (failure.code, failure.message)
    assert failure.fields == [path]


# Filters on User, as tokens: a valid one has 4k - 1 of them (k conditions joined
# by AND), so adding or dropping any one token leaves it malformed.
CONDITIONS = st.one_of(
    st.builds(
        lambda op, w: ["email", op, json.dumps(w)], st.sampled_from(["=", "!=", "<", ">="]), words
    ),
    st.builds(
        lambda w: ["email", "=", w],
        words.filter(lambda w: w and w not in ("AND", "OR", "NOT", "null")),
    ),
    st.builds(lambda b: ["is_active", "!=" if b else "=", "true"], st.booleans()),
    st.just(["created_at", ">=", '"2025-01-01T00:00:00Z"']),
)
STRAY_TOKENS = st.one_of(
    # NOT is left out: before a condition it makes a valid filter.
    st.sampled_from(["(", ")", "AND", "OR", "=", "!=", "<=", '"x"', "email", "*", "'", ";"]),
    st.sampled_from(list("*';,/#$%&?[]{}|~^`\\")).map(lambda c: f"x{c}"),
    words.filter(bool),
)


@st.composite
def malformed_filters(draw: st.DrawFn) -> tuple[str, str]:
    """(a valid filter, the same made malformed)."""
    conditions = draw(st.lists(CONDITIONS, min_size=1, max_size=3))
    tokens = [t for i, c in enumerate(conditions) for t in ([] if i == 0 else ["AND"]) + c]
    valid = " ".join(tokens)
    broken = list(tokens)
    how = draw(st.sampled_from(["insert", "drop", "wrap", "glue"]))
    if how == "insert":
        broken.insert(draw(st.integers(0, len(broken))), draw(STRAY_TOKENS))
    elif how == "drop":
        broken.pop(draw(st.integers(0, len(broken) - 1)))
    elif how == "wrap":
        # Balanced parentheses are valid: only one of the pair.
        left, right = draw(st.sampled_from([("(", ""), ("", ")")]))
        broken = [left, *broken, right]
    else:  # a character no bare word holds, stuck to a bare token
        at = draw(st.sampled_from([i for i, t in enumerate(broken) if not t.startswith('"')]))
        # `*` is left out: stuck to a bare text value it is a wildcard.
        broken[at] += draw(st.sampled_from(list("';,/#$%&?[]{}|~^`\\()")))
    return valid, " ".join(t for t in broken if t)


@PROPERTY_SETTINGS
@given(case=malformed_filters())
async def test_a_malformed_filter_is_refused_naming_filter(api: Api, case: tuple[str, str]) -> None:
    valid, broken = case
    await call(api, "User", "List", filter=valid, page_size=1)
    failure = await outcome(call(api, "User", "List", filter=broken, page_size=1))

    assert failure is not None, f"{broken!r} was accepted"
    assert failure.code == INVALID, (failure.code, failure.message)
    assert failure.fields == ["filter"]


@pytest.fixture(scope="module")
def payloads(api: Api) -> Payloads:
    return Payloads(api)


# ---------------------------------------------------------------------------
# Regression tests for what the fuzz found.


async def test_an_error_echoing_much_input_still_reaches_the_caller_as_its_own_status(
    api: Api,
) -> None:
    user = await api.make("User")
    mask = field_mask_pb2.FieldMask(paths=[f"no_such_field_{i:04d}" for i in range(300)])
    failure = await expect_error(
        call(api, "User", "Update", user=user_pb2.User(id=user.id), update_mask=mask),
        INVALID,
        field_name="update_mask",
    )
    assert len(failure.violations) <= 10
    assert failure.message.endswith("more")

    huge_key = "k" * 100_000
    metadata = struct_pb2.Struct()
    metadata.update({huge_key: "nul\x00"})
    failure = await expect_error(
        api.make("Evidence", ai_metadata=metadata), INVALID, "INVALID_ARGUMENT"
    )
    assert len(failure.message.encode()) <= 600


async def test_filter_string_with_a_lone_surrogate_escape_is_invalid_argument(api: Api) -> None:
    for expression in ('email = "\\ud800"', 'full_name = "a\\udfffb"'):
        await expect_error(
            call(api, "User", "List", filter=expression), INVALID, field_name="filter"
        )


async def test_forged_page_token_with_unencodable_text_is_invalid_argument(api: Api) -> None:
    table = table_of(resource_of("User"))
    keys = parse_order("email", table, frozenset({"email"}), "created_at desc")
    token = PageTokens.encode(
        PageTokens.fingerprint(table, "", keys), ["\ud800", str(uuid.uuid4())]
    )
    await expect_error(
        call(api, "User", "List", order_by="email", page_token=token),
        INVALID,
        field_name="page_token",
    )


async def test_id_spelled_other_than_as_ascii_hex_is_invalid_argument(api: Api) -> None:
    user = await api.make("User")
    fullwidth = user.id.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    for spelling in (fullwidth, f"urn:uuid:{user.id}", f" {user.id[1:]}", "0_" + user.id[2:]):
        await expect_error(call(api, "User", "Get", id=spelling), INVALID, field_name="id")
    failure = await expect_error(
        call(api, "BusinessProfile", "List", filter=f'user_id = "{fullwidth}"'),
        INVALID,
        field_name="filter",
    )
    assert "not a valid value for user_id" in failure.message


CHOSEN_ID_EXAMPLES = 150


async def test_chosen_ids_from_arbitrary_strings_are_made_taken_or_refused_never_internal(
    api: Api,
) -> None:
    """Each answer is exactly one of: the row, made under the id asked for (or a
    new one when none is); taken (ALREADY_EXISTS); or INVALID_ARGUMENT naming
    `<resource>_id` when the string is not a UUID or is the nil one."""
    taken = {r.message: (await api.make(r.message)).id for r in RESOURCES}
    made: set[tuple[str, uuid.UUID]] = {(m, uuid.UUID(i)) for m, i in taken.items()}
    chosen_ids = st.one_of(
        any_text,
        malformed_ids,
        st.uuids().flatmap(uuid_forms),
        st.sampled_from(sorted(taken.values())).flatmap(lambda i: uuid_forms(uuid.UUID(i))),
        corrupt(sorted(taken.values())),
        st.just("00000000-0000-0000-0000-000000000000"),
    )
    loop = asyncio.get_running_loop()

    async def attempt(r: Resource, chosen: str) -> None:
        fields = await valid_fields(api, r.message)
        try:
            created = await create_with_id(api, r, fields, chosen)
        except grpc.aio.AioRpcError as error:
            failure = failure_of(error)
            assert failure.code not in BAD_CODES, (chosen, failure.message)
            assert failure.info is not None
            assert failure.info.domain == DOMAIN
            code = failure.code
        else:
            code = grpc.StatusCode.OK
        wanted = UUID_TEXT.fullmatch(chosen) is not None and uuid.UUID(chosen).int != 0
        if not chosen:
            assert code == grpc.StatusCode.OK, (chosen, code)  # the server assigns one
        elif not wanted:
            assert code == INVALID, (chosen, code)
            assert f"{snake(r.message)}_id" in failure.fields, (chosen, failure.fields)
        elif (r.message, uuid.UUID(chosen)) in made:
            assert code == grpc.StatusCode.ALREADY_EXISTS, (chosen, code)
        else:
            assert code == grpc.StatusCode.OK, (chosen, code)
            assert created.id == str(uuid.UUID(chosen))
            made.add((r.message, uuid.UUID(chosen)))

    # As in the big fuzz: hypothesis drives a plain function in a thread, the
    # calls run on this loop.
    @against_a_live_database(CHOSEN_ID_EXAMPLES)
    @given(r=st.sampled_from(RESOURCES), chosen=chosen_ids)
    def example(r: Resource, chosen: str) -> None:
        asyncio.run_coroutine_threadsafe(attempt(r, chosen), loop).result(120)

    await asyncio.to_thread(example)


# ---------------------------------------------------------------------------
# Large rows against a response limit: pages cut short still visit every row once.

SMALL_LIMIT = 256 * 1024


@pytest.mark.parametrize("seed", range(4))
async def test_random_large_rows_page_once_each_and_batches_fit_or_say_how_many_do(
    database: Database, database_url: str, seed: int
) -> None:
    draw = random.Random(seed)
    # Rows of every size up to what one reply can carry (the row's other fields and
    # the reply's framing take about 200 bytes).
    sizes = [
        draw.choice(
            (
                draw.randrange(100),
                draw.randrange(100_000),
                SMALL_LIMIT - draw.randrange(400, 20_000),
            )
        )
        for _ in range(draw.randrange(4, 12))
    ]
    async with (
        running(database_url, grpc_max_response_bytes=SMALL_LIMIT) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        api = Api(channel)
        conversation_id, ids = await conversation_with(api, sizes)
        for page_size in (0, draw.randrange(1, 5)):
            pages = await all_pages(api.ChatMessage, conversation_id, page_size)
            assert [m.id for page in pages for m in page.chat_messages] == ids
            assert all(0 < page.ByteSize() <= SMALL_LIMIT for page in pages)
        asked = draw.sample(ids, draw.randrange(1, len(ids) + 1))
        batch = api.ChatMessage.BatchGetChatMessages(
            chat_message_pb2.BatchGetChatMessagesRequest(ids=asked), timeout=TIMEOUT
        )
        rows = {m.id: m for page in pages for m in page.chat_messages}
        framed = [
            len(
                chat_message_pb2.ListChatMessagesResponse(
                    chat_messages=[rows[i]]
                ).SerializeToString()
            )
            for i in asked
        ]
        if sum(framed) <= SMALL_LIMIT:
            assert [m.id for m in (await batch).chat_messages] == asked
        else:
            failure = await expect_error(
                batch, grpc.StatusCode.FAILED_PRECONDITION, "RESPONSE_TOO_LARGE"
            )
            assert failure.info is not None
            fit = int(failure.info.metadata["ids_that_fit"])
            assert sum(framed[:fit]) <= SMALL_LIMIT < sum(framed[: fit + 1])
            # What it says fits does.
            fitting = await api.ChatMessage.BatchGetChatMessages(
                chat_message_pb2.BatchGetChatMessagesRequest(ids=asked[:fit]), timeout=TIMEOUT
            )
            assert [m.id for m in fitting.chat_messages] == asked[:fit]


# ---------------------------------------------------------------------------
# Filters generated from the grammar, on rows the test wrote: the server's answer
# equals the same filter evaluated in Python over those rows.


@dataclass(frozen=True)
class Expr:
    """A generated filter: its text, how tightly it binds, and its meaning."""

    text: str
    level: int
    """0 a conjunction, 1 a disjunction, 2 a negation or a restriction."""
    holds: Any  # Callable[[Item], bool]
    depth: int = 0
    """Parentheses and negations nested, as the server counts them."""


def _wildcard(pattern: str) -> Any:
    """What `field = pattern` means in Python: `*` any text, the rest literal."""
    regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
    return lambda value: value is not None and regex.fullmatch(value) is not None


def _needs_parens(expr: Expr, level: int, parens: bool) -> bool:
    return parens or expr.level < level


def _grouped(expr: Expr, level: int, parens: bool) -> str:
    return f"({expr.text})" if _needs_parens(expr, level, parens) else expr.text


def _depth(parts: list[Expr], level: int, parens: list[bool]) -> int:
    return max(p.depth + _needs_parens(p, level, b) for p, b in zip(parts, parens, strict=False))


_MOMENTS = [T0 - dt.timedelta(days=1), T0, T0 + dt.timedelta(days=1)]
_COMPARE = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_FRAGMENTS = sorted({part for item in ITEMS for part in item.name.split()} | {"", "%", "_", "a"})


def _text_patterns() -> st.SearchStrategy[str]:
    piece = st.sampled_from(_FRAGMENTS)
    return st.lists(st.one_of(piece, st.just("*")), min_size=1, max_size=3).map("".join)


def _restrictions() -> st.SearchStrategy[Expr]:
    statuses = sorted({item.status for item in ITEMS} | {"expired"})

    def status(op: str, value: str) -> Expr:
        return Expr(f"status {op} {value}", 2, lambda i: _COMPARE[op](i.status, value))

    def moment(op: str, when: dt.datetime) -> Expr:
        return Expr(
            f'collected_at {op} "{when.isoformat()}"',
            2,
            lambda i: i.collected_at is not None and _COMPARE[op](i.collected_at, when),
        )

    def absent(op: str) -> Expr:
        if op == ":*":
            return Expr("collected_at:*", 2, lambda i: i.collected_at is not None)
        return Expr(f"collected_at {op} null", 2, lambda i: (i.collected_at is None) == (op == "="))

    def name(op: str, pattern: str) -> Expr:
        matches = _wildcard(pattern)
        if op == "=":
            return Expr(f"evidence_name = {json.dumps(pattern)}", 2, lambda i: matches(i.name))
        return Expr(f"evidence_name != {json.dumps(pattern)}", 2, lambda i: not matches(i.name))

    def content_hash(op: str, pattern: str) -> Expr:
        if op == ":*":
            return Expr("ai_metadata.content_hash:*", 2, lambda i: hash_of(i) is not None)
        matches = _wildcard(pattern)
        text = f"ai_metadata.content_hash {op} {json.dumps(pattern)}"
        if op == "=":
            return Expr(text, 2, lambda i: matches(hash_of(i)))
        return Expr(text, 2, lambda i: hash_of(i) is not None and not matches(hash_of(i)))

    def search(needle: str) -> Expr:
        lowered = needle.lower()
        return Expr(
            f"search({json.dumps(needle)})",
            2,
            lambda i: lowered in i.name.lower() or lowered in i.description.lower(),
        )

    needles = st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.sampled_from(_FRAGMENTS).map(str.upper),
        st.text(alphabet="aeiouüÉé%_ rl", min_size=1, max_size=3),
    )
    return st.one_of(
        st.builds(status, st.sampled_from(["=", "!="]), st.sampled_from(statuses)),
        st.builds(moment, st.sampled_from(sorted(_COMPARE)), st.sampled_from(_MOMENTS)),
        st.builds(absent, st.sampled_from(["=", "!=", ":*"])),
        st.builds(name, st.sampled_from(["=", "!="]), _text_patterns()),
        st.builds(
            content_hash,
            st.sampled_from(["=", "!=", ":*"]),
            st.sampled_from(["abc1", "ab*", "*2", "*", "zz"]),
        ),
        st.builds(search, needles),
    )


def _combined(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def conjunction(parts: list[Expr], parens: list[bool]) -> Expr:
        text = " AND ".join(_grouped(p, 0, b) for p, b in zip(parts, parens, strict=False))
        return Expr(text, 0, lambda i: all(p.holds(i) for p in parts), _depth(parts, 0, parens))

    def disjunction(parts: list[Expr], parens: list[bool]) -> Expr:
        text = " OR ".join(_grouped(p, 1, b) for p, b in zip(parts, parens, strict=False))
        return Expr(text, 1, lambda i: any(p.holds(i) for p in parts), _depth(parts, 1, parens))

    def negation(part: Expr, word: str) -> Expr:
        if word == "-" and part.level < 2:
            text = f"-({part.text})"
        elif word == "-":
            text = f"-{part.text}"
        else:
            text = f"NOT {_grouped(part, 2, False)}"
        depth = part.depth + 1 + (part.level < 2)
        return Expr(text, 2, lambda i: not part.holds(i), depth)

    flags = st.lists(st.booleans(), min_size=4, max_size=4)
    return st.one_of(
        st.builds(conjunction, st.lists(children, min_size=2, max_size=3), flags),
        st.builds(disjunction, st.lists(children, min_size=2, max_size=3), flags),
        st.builds(negation, children, st.sampled_from(["NOT", "-"])),
    )


GRAMMAR_FILTERS = st.recursive(_restrictions(), _combined, max_leaves=8)


@pytest.fixture(scope="module")
async def filter_owner(api: Api) -> Owner:
    return await make_owner(api)


@PROPERTY_SETTINGS
@given(expr=GRAMMAR_FILTERS)
async def test_a_filter_from_the_grammar_selects_what_python_selects(
    api: Api, filter_owner: Owner, expr: Expr
) -> None:
    # The filter is parenthesised once more inside the user_id scope.
    assume(expr.depth < MAX_FILTER_DEPTH)
    failure = await outcome(filter_names(api, filter_owner, expr.text))
    assert failure is None, (expr.text, failure.code, failure.message)
    found = await filter_names(api, filter_owner, expr.text)
    assert found == {item.name for item in ITEMS if expr.holds(item)}, expr.text


@PROPERTY_SETTINGS
@given(
    garbage=st.one_of(
        st.text(max_size=80),
        st.lists(
            st.sampled_from(
                [
                    "(",
                    ")",
                    "AND",
                    "OR",
                    "NOT",
                    "-",
                    ":",
                    "*",
                    ".",
                    "search",
                    "status",
                    "=",
                    "collected",
                    '"x"',
                    "ai_metadata.content_hash",
                    "evidence_name",
                    "null",
                ]
            ),
            max_size=12,
        ).map(" ".join),
    )
)
async def test_a_garbage_filter_is_answered_ok_or_invalid_argument_naming_filter(
    api: Api, garbage: str
) -> None:
    failure = await outcome(call(api, "Evidence", "List", filter=garbage, page_size=1))
    if failure is not None:
        assert failure.code == INVALID, (garbage, failure.code, failure.message)
        assert failure.fields == ["filter"]
