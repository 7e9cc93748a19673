"""Typing a caller's values against their columns, AIP-132 order_by, and opaque
keyset page tokens. The filter grammar is service/query.py's; its typed result
becomes SQL in filtering.py."""

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

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    SmallInteger,
    Table,
    and_,
    false,
    literal,
    or_,
    tuple_,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from .errors import InvalidArgumentError
from .names import enum_prefix

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_REAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_NOT_FINITE = {"nan", "inf", "infinity"}
# What a UUID in a request may look like: uuid.UUID alone also reads braces,
# "urn:uuid:", spaces, underscores and non-ASCII digits.
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}(?:-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}", re.ASCII)


def _bad(field: str, description: str) -> InvalidArgumentError:
    return InvalidArgumentError.single(field, description)


def python_type(column: Column[Any]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return object


def integer_range(column: Column[Any]) -> tuple[int, int]:
    """The values PostgreSQL stores in `column` (asyncpg refuses others client-side,
    with an error that names no field)."""
    bits = 64
    if isinstance(column.type, SmallInteger):
        bits = 16
    elif isinstance(column.type, Integer) and not isinstance(column.type, BigInteger):
        bits = 32
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def check_storable(column: Column[Any], value: Any, *, field: str | None = None) -> None:
    """Refuse, naming the field, a value PostgreSQL cannot store in `column`: an
    integer out of the column's range, text (or JSON text) with a NUL character."""
    name = field or column.name
    if isinstance(value, int) and not isinstance(value, bool) and python_type(column) is int:
        low, high = integer_range(column)
        if not low <= value <= high:
            raise _bad(name, f"{value} is out of range ({low}..{high})")
    elif _has_nul(value):
        raise _bad(name, "cannot contain a NUL character")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def parse_value(column: Column[Any], raw: str, *, field: str = "filter") -> Any:
    """A caller's text as a value of `column`'s type, or INVALID_ARGUMENT."""
    kind = python_type(column)
    name = column.name
    try:
        if issubclass(kind, enum.Enum):
            for member in kind:
                if raw in (member.value, member.name, enum_prefix(kind.__name__) + member.name):
                    return member
            allowed = ", ".join(m.name for m in kind)
            raise _bad(field, f"{name} takes one of {allowed}")
        if kind is bool:
            if raw in ("true", "false"):
                return raw == "true"
            raise _bad(field, f"{name} takes true or false")
        if kind is int:
            # int() also reads `1_000` and other scripts' digits.
            if _INTEGER.fullmatch(raw) is None:
                raise ValueError(raw)
            number = int(raw)
            low, high = integer_range(column)
            if not low <= number <= high:
                raise _bad(field, f"{name} is out of range ({low}..{high})")
            return number
        if kind is float:
            if _REAL.fullmatch(raw) is None and raw.lstrip("+-").lower() not in _NOT_FINITE:
                raise ValueError(raw)
            real = float(raw)
            if not math.isfinite(real):
                raise _bad(field, f"{name} must be a finite number")
            return real
        if kind is uuid.UUID:
            if UUID_TEXT.fullmatch(raw) is None:
                raise ValueError(raw)
            return uuid.UUID(raw)
        if kind is dt.datetime:
            moment = dt.datetime.fromisoformat(raw)
            if moment.tzinfo is None:
                raise _bad(field, f"{name} needs a time zone (RFC 3339, e.g. 2026-01-31T12:00:00Z)")
            try:
                return moment.astimezone(dt.UTC)
            except OverflowError:  # e.g. 0001-01-01T00:00:00+23:59 is before year 1 in UTC
                raise _bad(field, f"{name} is out of range") from None
        if kind is dt.date:
            return dt.date.fromisoformat(raw)
        if kind is str:
            if "\x00" in raw:
                raise _bad(field, f"{name} cannot contain NUL")
            if not is_unicode(raw):
                # A JSON escape (in a filter or a page token) can spell half a
                # surrogate pair, which no database text can hold.
                raise _bad(field, f"{name} takes text; a lone surrogate is not text")
            return raw
    except ValueError:
        raise _bad(field, f"{raw[:40]!r} is not a valid value for {name}") from None
    raise _bad(field, f"{name} cannot be filtered on")


def is_unicode(text: str) -> bool:
    """Whether `text` is text PostgreSQL can take (no lone surrogates)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


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
    """Rows strictly after `values` in the order `keys` describe (a keyset); a value
    may be a bind parameter, for a statement compiled before its values are known."""
    # Bound with the columns' own types: inferred from the Python values, an enum
    # would be sent untyped.
    bound = [
        value if isinstance(value, BindParameter) else literal(value, key.column.type)
        for key, value in zip(keys, values, strict=True)
    ]
    if len({key.descending for key in keys}) == 1:
        # One direction: a row comparison, which a composite b-tree index serves.
        left = tuple_(*(key.column for key in keys))
        right = tuple_(*bound)
        return left < right if keys[0].descending else left > right
    alternatives = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == bound[j] for j in range(i)]
        step = key.column < bound[i] if key.descending else key.column > bound[i]
        alternatives.append(and_(*equal, step))
    return or_(false(), *alternatives)


class PageTokens:
    """Opaque tokens that carry the last row's sort key and a fingerprint of the
    query they belong to. The checksum detects edits and truncation; it is not a
    secret, because a forged position is no more than a filter could express, and
    every value is re-typed against its column on the way back in."""

    @staticmethod
    def fingerprint(
        table: Table, filter_text: str, keys: Sequence[OrderKey], *, scope: str = ""
    ) -> str:
        """What a token is bound to: the table, the filter, the order and any
        conditions (`scope`, e.g. a parent id) the caller added."""
        order = ",".join(f"{k.column.name}:{int(k.descending)}" for k in keys)
        material = f"{table.name}\x00{filter_text.strip()}\x00{order}\x00{scope}"
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
            # Only the exact text `encode` gives: the decoder would skip stray
            # characters and ignore the last character's unused bits.
            if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
                raise ValueError("not canonical")
            digest, body = raw[:12], raw[12:]
            if hashlib.sha256(body).digest()[:12] != digest:
                raise ValueError("checksum")
            token_fingerprint, values = json.loads(body)
        except (ValueError, binascii.Error, TypeError, RecursionError):
            # RecursionError: deeply nested JSON behind a forged checksum.
            raise _bad("page_token", "is not a token this service issued") from None
        if token_fingerprint != fingerprint:
            raise _bad("page_token", "belongs to a different filter or order_by")
        if not isinstance(values, list) or len(values) != len(keys):
            raise _bad("page_token", "is not a token this service issued")
        return [_from_token(key.column, value) for key, value in zip(keys, values, strict=True)]


def _from_token(column: Column[Any], value: Any) -> Any:
    """A token value back as a value of `column`, if it has the JSON type `_jsonable`
    gives that column's values."""
    kind = python_type(column)
    if kind is float:
        expected: tuple[type, ...] = (int, float)
    elif kind is int:
        expected = (int,)
    else:
        expected = (str,)
    if isinstance(value, bool) or not isinstance(value, expected):
        raise _bad("page_token", "is not a token this service issued")
    return parse_value(column, str(value), field="page_token")


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        # asyncpg reads -infinity / infinity as naive datetime.min / max.
        return value.replace(tzinfo=dt.UTC).isoformat()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
