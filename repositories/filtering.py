"""The typed query a List or an Aggregate runs, and its translation into SQL.

The service layer parses what a caller sends (filter, order_by, page token, skip)
into these values; nothing here knows a request's field names. A filter is a tree
of restrictions on declared fields, each already typed against its column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    Column,
    Table,
    Text,
    and_,
    false,
    func,
    literal,
    literal_column,
    or_,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from .querying import OrderKey

Operator = Literal["=", "!=", "<", "<=", ">", ">="]
# LIKE's own escape character; a caller's `%`, `_` and `\` are taken literally.
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class FieldRef:
    """A declared filter field: a column, or one key of a JSON-object column."""

    column: str
    key: str | None = None

    @property
    def name(self) -> str:
        return self.column if self.key is None else f"{self.column}.{self.key}"


@dataclass(frozen=True)
class Compare:
    """`field op value`; value None is `null` (only with = and !=)."""

    field: FieldRef
    op: Operator
    value: Any


@dataclass(frozen=True)
class Match:
    """`field = "a*b"`: `*` stands for any text; `!=` negates it."""

    field: FieldRef
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class Has:
    """`field:value` on a JSON-array field: the array holds the string value."""

    field: FieldRef
    value: str


@dataclass(frozen=True)
class Present:
    """`field:*`: the field is set (not null; a list is not empty)."""

    field: FieldRef


@dataclass(frozen=True)
class Search:
    """`search("text")`: case-insensitive substring of any declared text field."""

    text: str


@dataclass(frozen=True)
class All:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Either:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    part: Filter


Filter = Compare | Match | Has | Present | Search | All | Either | Not


@dataclass(frozen=True)
class ListQuery:
    """One List call, typed: which rows, in which order, from where, how many."""

    where: Filter | None = None
    order: tuple[OrderKey, ...] = ()
    after: tuple[Any, ...] | None = None
    """The sort key of the last row of the previous page."""
    skip: int = 0
    limit: int = 50
    with_total: bool = False
    fingerprint: str = ""
    """What a page token of this query is bound to."""


Truncation = Literal["day", "week", "month"]


@dataclass(frozen=True)
class GroupKey:
    column: str
    truncate: Truncation | None = None

    @property
    def name(self) -> str:
        return self.column if self.truncate is None else f"{self.column}:{self.truncate}"


@dataclass(frozen=True)
class Metric:
    function: Literal["count", "sum", "avg", "min", "max"]
    column: str | None = None

    @property
    def name(self) -> str:
        return "count" if self.column is None else f"{self.function}({self.column})"


@dataclass(frozen=True)
class AggregateQuery:
    """Groups of the rows `where` selects, by `group_by`, in key order."""

    where: Filter | None = None
    group_by: tuple[GroupKey, ...] = ()
    metrics: tuple[Metric, ...] = (Metric("count"),)
    offset: int = 0
    """Groups before this page."""
    limit: int = 100
    fingerprint: str = ""


def like_pattern(text: str, *, wildcard: bool) -> str:
    """`text` as a LIKE pattern: `%`, `_` and the escape character literal; with
    `wildcard`, each `*` stands for any text."""
    escaped = "".join(LIKE_ESCAPE + c if c in "%_\\" else c for c in text)
    return escaped.replace("*", "%") if wildcard else escaped


def where_clause(
    where: Filter | None, table: Table, searchable: Sequence[str]
) -> ColumnElement[bool] | None:
    """The SQL condition of a filter; None for no filter."""
    if where is None:
        return None
    return _sql(where, table, searchable)


def _target(table: Table, ref: FieldRef) -> ColumnElement[Any]:
    column: Column[Any] = table.c[ref.column]
    if ref.key is None:
        return column
    # The key is written into the SQL, not bound, so the expression matches the
    # expression index on (column ->> 'key'); keys are declared identifiers.
    return column.op("->>", return_type=Text())(literal_column(f"'{ref.key}'"))


def _sql(node: Filter, table: Table, searchable: Sequence[str]) -> ColumnElement[bool]:
    if isinstance(node, All):
        return and_(true(), *(_sql(p, table, searchable) for p in node.parts))
    if isinstance(node, Either):
        return or_(false(), *(_sql(p, table, searchable) for p in node.parts))
    if isinstance(node, Not):
        # Two-valued: NOT matches exactly the rows its part does not, rows whose
        # part is NULL (an absent value) included.
        inner: ColumnElement[bool] = _sql(node.part, table, searchable).is_not(True)
        return inner
    if isinstance(node, Search):
        pattern = "%" + like_pattern(node.text, wildcard=False) + "%"
        return or_(false(), *(table.c[n].ilike(pattern, escape=LIKE_ESCAPE) for n in searchable))
    target = _target(table, node.field)
    if isinstance(node, Compare):
        if node.value is None:
            return target.is_(None) if node.op == "=" else target.is_not(None)
        comparisons = {
            "=": target.__eq__,
            "!=": target.__ne__,
            "<": target.__lt__,
            "<=": target.__le__,
            ">": target.__gt__,
            ">=": target.__ge__,
        }
        condition: ColumnElement[bool] = comparisons[node.op](node.value)
        return condition
    if isinstance(node, Match):
        if node.negated:
            return target.not_like(node.pattern, escape=LIKE_ESCAPE)
        return target.like(node.pattern, escape=LIKE_ESCAPE)
    if isinstance(node, Has):
        # jsonb @> '["value"]': what a GIN index on the column serves.
        element = literal([node.value], JSONB)
        has: ColumnElement[bool] = table.c[node.field.column].op("@>")(element)
        return has
    if isinstance(node, Present):
        column = table.c[node.field.column]
        if node.field.key is None and column.info.get("json") == "array":
            length: ColumnElement[bool] = func.jsonb_array_length(column) > 0
            return length
        return target.is_not(None)
    raise TypeError(f"not a filter: {node!r}")
