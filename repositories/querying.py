"""The List language: a documented subset of AIP-160 filters, AIP-132 order_by,
and opaque keyset page tokens. Everything a caller sends is parsed against the
resource's declared fields and typed before it reaches SQL."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import json
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, and_, false, or_, tuple_
from sqlalchemy.sql.elements import ColumnElement

from .errors import InvalidArgumentError

_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|<=|>=|!=|=|<|>|[^\s"<>=!]+)')
_OPERATORS = {"=", "!=", "<", "<=", ">", ">="}
_EQUALITY_ONLY = (bool, uuid.UUID, enum.Enum)
MAX_FILTER_LENGTH = 2000


def _bad(field: str, description: str) -> InvalidArgumentError:
    return InvalidArgumentError.single(field, description)


def python_type(column: Column[Any]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return object


def enum_prefix(enum_class: type[enum.Enum]) -> str:
    """EvidenceStatus -> EVIDENCE_STATUS_, the prefix of its proto enum values."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_class.__name__).upper() + "_"


def parse_value(column: Column[Any], raw: str, *, field: str = "filter") -> Any:
    """A caller's text as a value of `column`'s type, or INVALID_ARGUMENT."""
    kind = python_type(column)
    name = column.name
    try:
        if issubclass(kind, enum.Enum):
            for member in kind:
                if raw in (member.value, member.name, enum_prefix(kind) + member.name):
                    return member
            allowed = ", ".join(m.name for m in kind)
            raise _bad(field, f"{name} takes one of {allowed}")
        if kind is bool:
            if raw in ("true", "false"):
                return raw == "true"
            raise _bad(field, f"{name} takes true or false")
        if kind is int:
            number = int(raw)
            if not -(2**63) <= number < 2**63:
                raise _bad(field, f"{name} is out of range")
            return number
        if kind is float:
            real = float(raw)
            if not math.isfinite(real):
                raise _bad(field, f"{name} must be a finite number")
            return real
        if kind is uuid.UUID:
            return uuid.UUID(raw)
        if kind is dt.datetime:
            moment = dt.datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                raise _bad(field, f"{name} needs a time zone (RFC 3339, e.g. 2026-01-31T12:00:00Z)")
            return moment
        if kind is dt.date:
            return dt.date.fromisoformat(raw)
        if kind is str:
            if "\x00" in raw:
                raise _bad(field, f"{name} cannot contain NUL")
            return raw
    except ValueError:
        raise _bad(field, f"{raw[:40]!r} is not a valid value for {name}") from None
    raise _bad(field, f"{name} cannot be filtered on")


def parse_filter(text: str, table: Table, allowed: frozenset[str]) -> list[ColumnElement[bool]]:
    """`field op value [AND field op value]...`; strings in double quotes; `null`
    with = and != for absent values."""
    if len(text) > MAX_FILTER_LENGTH:
        raise _bad("filter", f"is longer than {MAX_FILTER_LENGTH} characters")
    tokens = _tokens(text)
    conditions: list[ColumnElement[bool]] = []
    position = 0
    while position < len(tokens):
        if conditions:
            if tokens[position] != "AND":
                raise _bad("filter", f"expected AND, found {tokens[position][:40]!r}")
            position += 1
        if position + 3 > len(tokens):
            raise _bad("filter", "expected `field operator value`")
        name, operator, raw = tokens[position : position + 3]
        position += 3
        conditions.append(_condition(table, allowed, name, operator, raw))
    return conditions


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad("filter", f"cannot read {text[position : position + 20]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _condition(
    table: Table, allowed: frozenset[str], name: str, operator: str, raw: str
) -> ColumnElement[bool]:
    if name not in allowed:
        fields = ", ".join(sorted(allowed)) or "none"
        raise _bad("filter", f"cannot filter on {name[:40]!r}; fields: {fields}")
    if operator not in _OPERATORS:
        raise _bad("filter", f"{operator[:10]!r} is not an operator; use = != < <= > >=")
    column = table.c[name]
    if raw == "null":
        if operator == "=":
            return column.is_(None)
        if operator == "!=":
            return column.is_not(None)
        raise _bad("filter", "null only goes with = and !=")
    if raw.startswith('"'):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _bad("filter", f"bad string literal for {name}") from None
    value = parse_value(column, raw)
    if isinstance(value, _EQUALITY_ONLY) and operator not in ("=", "!="):
        raise _bad("filter", f"{name} only takes = and !=")
    comparisons = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }
    condition: ColumnElement[bool] = comparisons[operator](value)
    return condition


@dataclass(frozen=True)
class OrderKey:
    column: Column[Any]
    descending: bool


def parse_order(text: str, table: Table, allowed: frozenset[str], default: str) -> list[OrderKey]:
    """`field [asc|desc], ...`, ending with the primary key so the order is total."""
    keys: list[OrderKey] = []
    for part in (text.strip() or default).split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise _bad("order_by", f"expected `field [asc|desc]`, found {part.strip()[:40]!r}")
        if words[0] not in allowed and words[0] != "id":
            fields = ", ".join(sorted(allowed))
            raise _bad("order_by", f"cannot order by {words[0][:40]!r}; fields: {fields}")
        if any(key.column.name == words[0] for key in keys):
            raise _bad("order_by", f"{words[0]} appears twice")
        keys.append(OrderKey(table.c[words[0]], len(words) == 2 and words[1] == "desc"))
    if keys[-1].column.name != "id" and all(k.column.name != "id" for k in keys):
        keys.append(OrderKey(table.c.id, keys[-1].descending))
    return keys


def after_condition(keys: Sequence[OrderKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order `keys` describe (a keyset)."""
    if len({key.descending for key in keys}) == 1:
        # One direction: a row comparison, which a composite b-tree index serves.
        left = tuple_(*(key.column for key in keys))
        right = tuple_(*values)
        return left < right if keys[0].descending else left > right
    alternatives = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        step = key.column < values[i] if key.descending else key.column > values[i]
        alternatives.append(and_(*equal, step))
    return or_(false(), *alternatives)


class PageTokens:
    """Opaque tokens that carry the last row's sort key and a fingerprint of the
    query they belong to. The checksum detects edits and truncation; it is not a
    secret, because a forged position is no more than a filter could express, and
    every value is re-typed against its column on the way back in."""

    @staticmethod
    def fingerprint(table: Table, filter_text: str, keys: Sequence[OrderKey]) -> str:
        order = ",".join(f"{k.column.name}:{int(k.descending)}" for k in keys)
        material = f"{table.name}\x00{filter_text.strip()}\x00{order}"
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    @staticmethod
    def encode(fingerprint: str, values: Sequence[Any]) -> str:
        body = json.dumps([fingerprint, [_jsonable(v) for v in values]], separators=(",", ":"))
        digest = hashlib.sha256(body.encode()).digest()[:12]
        return base64.urlsafe_b64encode(digest + body.encode()).decode().rstrip("=")

    @staticmethod
    def decode(token: str, fingerprint: str, keys: Sequence[OrderKey]) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            digest, body = raw[:12], raw[12:]
            if hashlib.sha256(body).digest()[:12] != digest:
                raise ValueError("checksum")
            token_fingerprint, values = json.loads(body)
        except (ValueError, binascii.Error, TypeError):
            raise _bad("page_token", "is not a token this service issued") from None
        if token_fingerprint != fingerprint:
            raise _bad("page_token", "belongs to a different filter or order_by")
        if not isinstance(values, list) or len(values) != len(keys):
            raise _bad("page_token", "is not a token this service issued")
        return [
            parse_value(key.column, str(value), field="page_token")
            for key, value in zip(keys, values, strict=True)
        ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
