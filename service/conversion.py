"""Rows <-> protobuf messages, derived once per message type at start-up.

The contract and the schema meet by field name: every message field is a column
(or `etag`), every column is a field. A mismatch fails at start-up, not per call.
Field behaviours (OUTPUT_ONLY, INPUT_ONLY) come from the proto annotations.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import keyword
import math
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import Column, Table

from repositories.database import MAX_JSON_DEPTH, UNREADABLE
from repositories.errors import FailedPreconditionError, FieldViolation, InvalidArgumentError
from repositories.names import enum_prefix
from repositories.querying import UUID_TEXT, python_type
from repositories.repository import COLUMN_DEFAULT

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_SAFE_INT = 2**53
_FIRST_MOMENT = dt.datetime.min.replace(tzinfo=dt.UTC) + dt.timedelta(microseconds=1)
_LAST_MOMENT = dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(microseconds=1)
OUTPUT_ONLY = field_behavior_pb2.OUTPUT_ONLY
INPUT_ONLY = field_behavior_pb2.INPUT_ONLY

ToProto = Callable[[Any], Any]
FromProto = Callable[[Message, str], Any]


def behaviours(field: FieldDescriptor) -> set[int]:
    options: Any = field.GetOptions()
    return set(options.Extensions[field_behavior_pb2.field_behavior])


@dataclass(frozen=True)
class FieldPlan:
    """How one field crosses between the wire and the database."""

    name: str
    column: Column[Any] | None
    output_only: bool
    input_only: bool
    has_presence: bool
    is_enum: bool
    to_proto: ToProto
    from_proto: FromProto
    required_on_create: bool


class Converter:
    """Converts between rows of `table` and messages of `message_class`."""

    def __init__(
        self, message_class: type[Message], table: Table, *, unstored: Collection[str] = ()
    ) -> None:
        """`unstored`: fields the service sets as it answers, with no column."""
        self.message_class = message_class
        self.table = table
        descriptor: Any = message_class.DESCRIPTOR
        self.fields: dict[str, FieldPlan] = {}
        for field in descriptor.fields:
            if field.name == "etag" or field.name in unstored:
                continue
            if field.name not in table.c:
                raise TypeError(
                    f"{descriptor.full_name}.{field.name} has no column in {table.name}"
                )
            self.fields[field.name] = _plan(field, table.c[field.name])
        missing = [c.name for c in table.c if c.name not in self.fields]
        if missing:
            raise TypeError(f"{table.name} columns missing from {descriptor.full_name}: {missing}")
        # Timestamps go to the constructor as plain {seconds, nanos}: building each
        # Timestamp message first, for the constructor to copy, was a sixth of a
        # row's conversion.
        self._readable = [
            (plan.name, _timestamp_fields if plan.to_proto is timestamp_to_proto else plan.to_proto)
            for plan in self.fields.values()
            if not plan.input_only
        ]
        self.writable = frozenset(n for n, p in self.fields.items() if not p.output_only)
        # Read-only records (change events) have no version to send back.
        self._has_etag = "etag" in descriptor.fields_by_name
        self._read_row = self._row_reader()

    def _row_reader(self) -> Callable[[Mapping[Any, Any]], Any]:
        """to_message's body, written out for this message type at start-up: one
        constructor call whose keywords read the row's columns by name, converted
        where the driver's value is not the field's. Copying the row and patching
        the copy cost a tenth to a fifth more per row. None leaves a field unset."""
        namespace: dict[str, Any] = {"message_class": self.message_class}
        keywords = []
        for index, (name, to_proto) in enumerate(self._readable):
            if not name.isidentifier() or keyword.iskeyword(name):
                raise TypeError(f"{self.message_class.__name__}.{name} is no keyword argument")
            if _is_plain(self.fields[name], to_proto):
                keywords.append(f"{name}=row[{name!r}]")
            else:
                namespace[f"convert_{index}"] = to_proto
                keywords.append(
                    f"{name}=None if (value := row[{name!r}]) is None else convert_{index}(value)"
                )
        if self._has_etag:
            keywords.append("etag=row['etag']")
        source = f"def to_message(row):\n    return message_class({', '.join(keywords)})\n"
        exec(source, namespace)  # noqa: S102 - the source holds field names only
        reader: Callable[[Mapping[Any, Any]], Any] = namespace["to_message"]
        return reader

    def to_message(self, row: Mapping[Any, Any]) -> Any:
        try:
            return self._read_row(row)
        except KeyError:
            return self._picked(row)  # a row without some of the columns

    def _picked(self, row: Mapping[Any, Any]) -> Any:
        """The message of the fields a row has, whatever else it carries."""
        values = {}
        for name, to_proto in self._readable:
            value = row.get(name)
            if value is not None:
                values[name] = to_proto(value)
        if self._has_etag:
            values["etag"] = row["etag"]
        return self.message_class(**values)

    def is_set(self, message: Message, name: str) -> bool:
        plan = self.fields[name]
        if plan.has_presence:
            return message.HasField(name)
        value = getattr(message, name)
        return bool(value != 0 if plan.is_enum else value != "")

    def values_for_create(self, message: Message, path: str) -> dict[str, Any]:
        """Column values for an INSERT; output-only fields are ignored (AIP-203)."""
        values: dict[str, Any] = {}
        violations: list[FieldViolation] = []
        for name in self.writable:
            plan = self.fields[name]
            if self.is_set(message, name):
                _collect(values, violations, plan, message, f"{path}.{name}")
            elif plan.required_on_create:
                violations.append(FieldViolation(f"{path}.{name}", "is required"))
        if violations:
            raise InvalidArgumentError(*violations)
        return values

    def values_for_update(
        self, message: Message, path: str, names: Iterable[str]
    ) -> dict[str, Any]:
        """Column values for the masked fields; a masked field left unset is cleared
        (NULL, or the column's default when it cannot be NULL)."""
        values: dict[str, Any] = {}
        violations: list[FieldViolation] = []
        for name in names:
            plan = self.fields[name]
            if self.is_set(message, name):
                _collect(values, violations, plan, message, f"{path}.{name}")
            elif plan.column is not None and plan.column.nullable:
                values[name] = None
            elif plan.column is not None and plan.column.server_default is not None:
                values[name] = COLUMN_DEFAULT
            else:
                violations.append(
                    FieldViolation(f"{path}.{name}", "is required; it cannot be cleared")
                )
        if violations:
            raise InvalidArgumentError(*violations)
        return values


def _is_plain(plan: FieldPlan, to_proto: ToProto) -> bool:
    """Whether the driver reads the field's column as the field's value itself:
    text, booleans and integers (a float may come from a numeric column as a Decimal)."""
    kind = python_type(plan.column) if plan.column is not None else object
    return to_proto in (str, bool, int) and kind is to_proto and not plan.is_enum


def _collect(
    values: dict[str, Any],
    violations: list[FieldViolation],
    plan: FieldPlan,
    message: Message,
    path: str,
) -> None:
    try:
        values[plan.name] = plan.from_proto(message, path)
    except InvalidArgumentError as error:
        violations.extend(error.violations)


def _plan(field: FieldDescriptor, column: Column[Any]) -> FieldPlan:
    marks = behaviours(field)
    output_only = OUTPUT_ONLY in marks
    to_proto, from_proto, is_enum = _codec(field, column, python_type(column))
    required = (
        not column.nullable
        and column.server_default is None
        and column.default is None
        and not output_only
    )
    return FieldPlan(
        name=field.name,
        column=column,
        output_only=output_only,
        input_only=INPUT_ONLY in marks,
        has_presence=field.has_presence,
        is_enum=is_enum,
        to_proto=to_proto,
        from_proto=from_proto,
        required_on_create=required,
    )


def _codec(
    field: FieldDescriptor, column: Column[Any], kind: type
) -> tuple[ToProto, FromProto, bool]:
    name = field.name
    if field.message_type is not None:
        full_name = field.message_type.full_name
        codecs: dict[str, tuple[ToProto, FromProto]] = {
            "google.protobuf.Timestamp": (timestamp_to_proto, _getter(name, timestamp_from_proto)),
            "google.type.Date": (date_to_proto, _getter(name, date_from_proto)),
            "google.protobuf.Struct": (struct_to_proto, _getter(name, struct_from_proto)),
            "google.protobuf.ListValue": (list_to_proto, _getter(name, list_from_proto)),
            "google.protobuf.Value": (value_to_proto, _getter(name, value_from_proto)),
        }
        if full_name not in codecs:
            raise TypeError(f"no conversion for {full_name} ({name})")
        to_proto, from_proto = codecs[full_name]
        return to_proto, from_proto, False
    if field.enum_type is not None:
        if not issubclass(kind, enum.Enum):
            raise TypeError(f"{name} is an enum on the wire but not in {column.table}")
        return (*_enum_codec(field, kind), True)
    if kind is uuid.UUID:
        return str, _getter(name, parse_uuid), False
    if kind is float:
        return float, _getter(name, _finite), False
    if kind is str:
        return str, _getter(name, parse_text), False
    return kind, _getter(name, lambda value, _path: value), False


def _getter(name: str, convert: Callable[[Any, str], Any]) -> FromProto:
    return lambda message, path: convert(getattr(message, name), path)


def _enum_codec(field: FieldDescriptor, enum_class: type[enum.Enum]) -> tuple[ToProto, FromProto]:
    enum_type: Any = field.enum_type
    prefix = enum_prefix(enum_type.name)
    by_name = enum_type.values_by_name
    to_number: dict[Any, int] = {}
    for member in enum_class:
        value = by_name.get(prefix + member.name)
        if value is None:
            raise TypeError(f"{enum_type.full_name} has no value for {member}")
        to_number[member] = value.number
    from_number = {number: member for member, number in to_number.items()}
    if len(from_number) != len(enum_type.values) - 1:
        raise TypeError(f"{enum_type.full_name} and {enum_class.__name__} differ")

    def from_proto(message: Message, path: str) -> Any:
        number = getattr(message, field.name)
        if number not in from_number:
            raise InvalidArgumentError.single(path, f"{number} is not a {enum_type.name}")
        return from_number[number]

    return to_number.__getitem__, from_proto


def parse_uuid(value: str, path: str) -> uuid.UUID:
    # One spelling per row: see UUID_TEXT.
    if UUID_TEXT.fullmatch(value) is None:
        raise InvalidArgumentError.single(path, "is not a UUID")
    return uuid.UUID(value)


def parse_text(value: str, path: str) -> str:
    if "\x00" in value:
        raise InvalidArgumentError.single(path, "cannot contain NUL characters")
    return value


def _finite(value: float, path: str) -> float:
    if not math.isfinite(value):
        raise InvalidArgumentError.single(path, "must be a finite number")
    return value


def timestamp_to_proto(value: dt.datetime) -> timestamp_pb2.Timestamp:
    if value.tzinfo is None:
        # asyncpg reads PostgreSQL's -infinity / infinity as naive datetime.min / max.
        value = value.replace(tzinfo=dt.UTC)
    delta = value - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=delta.microseconds * 1000)


def _timestamp_fields(value: dt.datetime) -> dict[str, int]:
    """What timestamp_to_proto makes, as the fields a message constructor takes."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # see timestamp_to_proto
    delta = value - _EPOCH
    return {"seconds": delta.days * 86400 + delta.seconds, "nanos": delta.microseconds * 1000}


def timestamp_from_proto(value: timestamp_pb2.Timestamp, path: str) -> dt.datetime:
    try:
        moment = value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgumentError.single(path, "is not a valid timestamp") from None
    if not _FIRST_MOMENT <= moment <= _LAST_MOMENT:
        # asyncpg would store these two as -infinity / infinity, which are not moments.
        raise InvalidArgumentError.single(
            path, "must be after 0001-01-01T00:00:00Z and before 9999-12-31T23:59:59.999999Z"
        )
    return moment


def date_to_proto(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def date_from_proto(value: date_pb2.Date, path: str) -> dt.date:
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgumentError.single(path, "is not a valid calendar date") from None


def _readable(value: Any) -> None:
    if value is UNREADABLE:
        raise FailedPreconditionError(
            "the row holds a JSON value written outside the service that the API cannot "
            f"carry (a number of more than 4,300 digits, or nesting past {MAX_JSON_DEPTH} "
            "levels): "
            "correct it in the database",
            reason="VALUE_UNREADABLE",
        )


def struct_to_proto(value: Mapping[str, Any]) -> struct_pb2.Struct:
    _readable(value)
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def list_to_proto(value: list[Any]) -> struct_pb2.ListValue:
    _readable(value)
    values = struct_pb2.ListValue()
    values.extend(value)
    return values


def value_to_proto(value: Any) -> struct_pb2.Value:
    _readable(value)
    holder = struct_pb2.ListValue()
    holder.append(value)
    return holder.values[0]


def struct_from_proto(value: struct_pb2.Struct, path: str) -> dict[str, Any]:
    with _shallow(path):
        return _object(value, path, 1)


def list_from_proto(value: struct_pb2.ListValue, path: str) -> list[Any]:
    with _shallow(path):
        return _array(value, path, 1)


def value_from_proto(value: struct_pb2.Value, path: str) -> Any:
    with _shallow(path):
        return _plain(value, path, 0)


class _TooDeep(Exception):
    pass


@contextlib.contextmanager
def _shallow(path: str) -> Iterator[None]:
    """Deeper values could be stored, but some response holding them no client could
    parse (MAX_JSON_DEPTH): refused, naming the field rather than the innermost key."""
    try:
        yield
    except _TooDeep:
        raise InvalidArgumentError.single(
            path, f"nests JSON more than {MAX_JSON_DEPTH} levels deep"
        ) from None


def _object(value: struct_pb2.Struct, path: str, depth: int) -> dict[str, Any]:
    if depth > MAX_JSON_DEPTH:
        raise _TooDeep
    return {
        parse_text(key, path): _plain(item, f"{path}.{key}", depth)
        for key, item in value.fields.items()
    }


def _array(value: struct_pb2.ListValue, path: str, depth: int) -> list[Any]:
    if depth > MAX_JSON_DEPTH:
        raise _TooDeep
    return [_plain(item, f"{path}[{i}]", depth) for i, item in enumerate(value.values)]


def _plain(value: struct_pb2.Value, path: str, depth: int) -> Any:
    """A JSON value as plain Python; whole numbers come back as ints, because JSON
    (and Struct) cannot tell 5 from 5.0 and people mean 5. `depth`: the containers
    around it."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return _object(value.struct_value, path, depth + 1)
    if kind == "list_value":
        return _array(value.list_value, path, depth + 1)
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise InvalidArgumentError.single(path, "JSON numbers must be finite")
        return int(number) if number.is_integer() and abs(number) < _MAX_SAFE_INT else number
    if kind == "string_value":
        return parse_text(value.string_value, path)
    if kind == "bool_value":
        return value.bool_value
    if kind == "null_value":
        return None
    # Not JSON null: nothing was set, usually a client building the Value by hand
    # in the wrong shape. Stored as null, the caller's data would be lost silently.
    raise InvalidArgumentError.single(
        path, "is a google.protobuf.Value with no kind set; JSON null is null_value"
    )
