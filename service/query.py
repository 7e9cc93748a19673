"""What a List or Aggregate caller sends, parsed into a typed query.

The grammar (docs/filtering.md has it with examples) is the useful part of
AIP-160; OR binds tighter than AND, as AIP-160 says:

    filter      = [ and ]
    and         = or { "AND" or }
    or          = unary { "OR" unary }
    unary       = ( "NOT" | "-" ) unary | primary
    primary     = "(" and ")" | search | restriction
    search      = "search" "(" string ")"
    restriction = field ( op value | ":" value | ":" "*" )
    field       = name [ "." key ]
    op          = "=" | "!=" | "<" | "<=" | ">" | ">="

Every field is checked against the resource's declarations and every value typed
against its column here; errors name the request field they came from."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from google.protobuf import struct_pb2
from sqlalchemy import BigInteger, Column, Table

from repositories.errors import InvalidArgumentError
from repositories.filtering import (
    AggregateQuery,
    All,
    Compare,
    Either,
    FieldRef,
    Filter,
    GroupKey,
    Has,
    ListQuery,
    Match,
    Metric,
    Not,
    Operator,
    Present,
    Search,
    Truncation,
    like_pattern,
)
from repositories.names import enum_prefix
from repositories.querying import (
    OrderKey,
    PageTokens,
    is_unicode,
    parse_order,
    parse_value,
    python_type,
)
from repositories.repository import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_FILTER_LENGTH = 2000
MAX_FILTER_TERMS = 50
"""Restrictions and searches in one filter."""
MAX_FILTER_DEPTH = 10
"""Parentheses and NOTs nested inside each other."""
MAX_SKIP = 10_000
"""Rows a List may skip: PostgreSQL reads and throws away each one."""

# One token of a filter, by kind. A bare word is letters, digits and the few marks
# that ids, numbers, times, e-mail addresses, JSON keys and wildcards need;
# anything else is `other`, which no position of the grammar takes.
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<operator><=|>=|!=|=|<|>)
    | (?P<paren>[()])
    | (?P<word>[\w.:+@*-]+)
    | (?P<quote>")
    | (?P<other>[^\s"()<>=!]+|\S)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT"}
_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
_NAME = re.compile(r"[a-z_][a-z0-9_]*", re.ASCII)


def _bad(description: str) -> InvalidArgumentError:
    return InvalidArgumentError.single("filter", description)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int
    """Where it starts: the character's number in the filter, from 1."""

    def __str__(self) -> str:
        return f"{self.text[:40]!r} at character {self.at}"


_END = _Token("end", "", 0)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    end = len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        # `other` takes any character the rest do not.
        assert match is not None
        assert match.lastgroup is not None
        kind = match.lastgroup
        token = _Token(kind, match.group(kind), match.start(kind) + 1)
        if kind == "quote":
            raise _bad(f"unterminated quoted string {text[token.at - 1 :][:20]!r}")
        tokens.append(token)
        position = match.end()
    return tokens


class FilterLanguage:
    """The filter language of one resource: its declared fields, typed.

    `filterable` names columns, and `column.key` for a declared key of a
    JSON-object column; `searchable` the text columns `search()` reads."""

    def __init__(self, table: Table, filterable: Sequence[str], searchable: Sequence[str]) -> None:
        self.table = table
        self.searchable = tuple(searchable)
        self.fields: dict[str, FieldRef] = {}
        for name in filterable:
            column, _, key = name.partition(".")
            if column not in table.c:
                raise ValueError(f"{table.name} has no column {column!r} (declared filterable)")
            if key and (table.c[column].info.get("json") != "object" or not _NAME.fullmatch(key)):
                raise ValueError(f"{table.name}.{name}: keys are of JSON-object columns")
            self.fields[name] = FieldRef(column, key or None)
        for name in self.searchable:
            if name not in table.c or python_type(table.c[name]) is not str:
                raise ValueError(f"{table.name}.{name} is not a text column (declared searchable)")

    def parse(self, text: str) -> Filter | None:
        """The filter `text` means, or INVALID_ARGUMENT naming `filter`."""
        if len(text) > MAX_FILTER_LENGTH:
            raise _bad(f"is longer than {MAX_FILTER_LENGTH} characters")
        if "\x00" in text:
            raise _bad("cannot contain a NUL character")
        tokens = _tokens(text)
        if not tokens:
            return None
        return _Parser(self, tokens).parse()

    def is_array(self, ref: FieldRef) -> bool:
        return ref.key is None and self.table.c[ref.column].info.get("json") == "array"


class _Parser:
    def __init__(self, language: FilterLanguage, tokens: list[_Token]) -> None:
        self.language = language
        self.tokens = tokens
        self.position = 0
        self.depth = 0
        self.terms = 0

    def peek(self, ahead: int = 0) -> _Token:
        at = self.position + ahead
        return self.tokens[at] if at < len(self.tokens) else _END

    def take(self, *, readable: bool = True) -> _Token:
        token = self.peek()
        self.position += 1
        if readable and token.kind == "other":
            raise _bad(f"cannot read {token}")
        return token

    def parse(self) -> Filter:
        node = self.conjunction()
        token = self.take()
        self.position -= 1
        if token.kind == "paren":
            raise _bad(f"unbalanced parenthesis {token}")
        if token.kind != "end":
            raise _bad(f"expected AND or OR between conditions, found {token}")
        return node

    def conjunction(self) -> Filter:
        parts = [self.disjunction()]
        while self.peek().kind == "word" and self.peek().text == "AND":
            joiner = self.take()
            if self.peek().kind == "end":
                raise _bad(f"AND at the end has no condition after it (character {joiner.at})")
            parts.append(self.disjunction())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def disjunction(self) -> Filter:
        parts = [self.unary()]
        while self.peek().kind == "word" and self.peek().text == "OR":
            joiner = self.take()
            if self.peek().kind == "end":
                raise _bad(f"OR at the end has no condition after it (character {joiner.at})")
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Either(tuple(parts))

    def nested(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise _bad(f"nests deeper than {MAX_FILTER_DEPTH} levels ({token})")

    def unary(self) -> Filter:
        token = self.peek()
        if token.kind == "word" and token.text == "NOT":
            self.take()
            if self.peek().kind == "end":
                raise _bad(f"NOT needs a condition after it (character {token.at})")
            self.nested(token)
            node = Not(self.unary())
            self.depth -= 1
            return node
        if token.kind == "word" and token.text.startswith("-"):
            # `-field = x` and `-(...)`: the minus is a NOT of what follows it.
            self.nested(token)
            rest = token.text[1:]
            if rest:
                self.tokens[self.position] = _Token("word", rest, token.at + 1)
            else:
                self.take()
                if self.peek().kind == "end":
                    raise _bad(f"`-` needs a condition after it (character {token.at})")
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Filter:
        token = self.peek()
        if token.kind == "paren" and token.text == "(":
            self.take()
            self.nested(token)
            node = self.conjunction()
            closing = self.take()
            if closing.kind != "paren" or closing.text != ")":
                found = str(closing) if closing.kind != "end" else "the end"
                raise _bad(f"the parenthesis {token} is not closed: found {found}")
            self.depth -= 1
            return node
        if token.kind == "paren":
            raise _bad(f"expected a condition, found {token}")
        self.count(token)
        if token.kind == "word" and token.text == "search" and self.peek(1).text == "(":
            return self.search()
        return self.restriction()

    def count(self, token: _Token) -> None:
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise _bad(f"has more than {MAX_FILTER_TERMS} conditions ({token})")

    def search(self) -> Search:
        start = self.take()
        self.take()  # (
        argument = self.take()
        closing = self.take()
        if argument.kind != "string" or closing.kind != "paren" or closing.text != ")":
            raise _bad(f'search takes one quoted string: search("text") ({start})')
        if not self.language.searchable:
            raise _bad(f"{self.language.table.name} has no text fields to search")
        text = _string(argument, "search")
        return Search(text)

    def restriction(self) -> Filter:
        token = self.take()
        if token.kind == "word" and token.text in _KEYWORDS:
            raise _bad(f"{token.text} needs a condition on each side ({token})")
        if token.kind != "word":
            raise _bad(f"expected a field name, found {token}")
        name, colon, rest = token.text.partition(":")
        ref = self.field(name)
        if colon:
            return self.has(ref, rest, token)
        operator = self.take(readable=False)
        if operator.kind == "word" and operator.text.startswith(":"):
            return self.has(ref, operator.text[1:], operator)
        if operator.kind != "operator":
            found = str(operator) if operator.kind != "end" else "nothing"
            raise _bad(f"expected an operator (= != < <= > >= :) after {ref.name}, found {found}")
        value = self.take()
        op = cast(Operator, operator.text)
        if value.kind in ("end", "operator", "paren") or value.text in _KEYWORDS:
            found = f": found {value}" if value.kind != "end" else ""
            raise _bad(f"`{ref.name} {op}` has no value{found}")
        return self.compare(ref, op, value)

    def field(self, name: str) -> FieldRef:
        fields = self.language.fields
        if name in fields:
            return fields[name]
        listed = ", ".join(sorted(fields)) or "none"
        if name.partition(".")[0] in self.language.table.c:
            raise _bad(f"cannot filter on {name[:40]!r}; filterable fields: {listed}")
        raise _bad(f"unknown field {name[:40]!r}; filterable fields: {listed}")

    def has(self, ref: FieldRef, rest: str, at: _Token) -> Filter:
        """`field:value` or `field:*`; the value may follow in its own token."""
        if rest:
            value = _Token("word", rest, at.at + at.text.index(":") + 1)
        else:
            value = self.take()
            if value.kind not in ("word", "string") or value.text in _KEYWORDS:
                found = f": found {value}" if value.kind != "end" else ""
                raise _bad(f"`{ref.name}:` has no value{found}")
        if value.kind == "word" and value.text == "*":
            return Present(ref)
        if not self.language.is_array(ref):
            raise _bad(f"{ref.name} is not a list: `:` takes only * on it (`{ref.name}:*`)")
        text = _string(value, ref.name) if value.kind == "string" else value.text
        if "\x00" in text or not is_unicode(text):
            raise _bad(f"{ref.name} takes text")
        return Has(ref, text)

    def compare(self, ref: FieldRef, op: Operator, token: _Token) -> Filter:
        if self.language.is_array(ref):
            raise _bad(f"{ref.name} is a list: use {ref.name}:value or {ref.name}:*")
        column: Column[Any] = self.language.table.c[ref.column]
        kind = str if ref.key is not None else python_type(column)
        if issubclass(kind, (bool, uuid.UUID, enum.Enum)) and op not in ("=", "!="):
            raise _bad(f"{ref.name} only takes = and !=, not {op}")
        if ref.key is not None and op not in ("=", "!="):
            raise _bad(f"{ref.name} only takes = and !=, not {op}")
        if token.kind == "word" and token.text == "null":
            if op in ("=", "!="):
                return Compare(ref, op, None)
            raise _bad(f"null only goes with = and !=, not {op} (on {ref.name})")
        raw = _string(token, ref.name) if token.kind == "string" else token.text
        if kind is str and op in ("=", "!=") and "*" in raw:
            _text(raw, ref.name)
            return Match(ref, like_pattern(raw, wildcard=True), negated=op == "!=")
        if ref.key is not None:
            return Compare(ref, op, _text(raw, ref.name))
        return Compare(ref, op, parse_value(column, raw))


def _string(token: _Token, name: str) -> str:
    try:
        value = json.loads(token.text)
    except ValueError:
        raise _bad(f"bad string literal for {name}: {token.text[:40]}") from None
    assert isinstance(value, str)
    return value


def _text(raw: str, name: str) -> str:
    if "\x00" in raw:
        raise _bad(f"{name} cannot contain NUL")
    if not is_unicode(raw):
        raise _bad(f"{name} takes text; a lone surrogate is not text")
    return raw


class ListLanguage:
    """Everything a List request may say about which rows, for one resource."""

    def __init__(
        self,
        table: Table,
        *,
        filterable: Sequence[str],
        orderable: frozenset[str],
        default_order: str,
        searchable: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.filters = FilterLanguage(table, filterable, searchable)
        self.orderable = orderable
        self.default_order = default_order

    def list_query(
        self,
        *,
        filter_text: str = "",
        order_by: str = "",
        page_size: int = 0,
        page_token: str = "",
        skip: int = 0,
        with_total: bool = False,
    ) -> ListQuery:
        """What a List request asks for, checked: the typed query a repository runs."""
        if page_size < 0:
            raise InvalidArgumentError.single("page_size", "cannot be negative")
        if skip < 0:
            raise InvalidArgumentError.single("skip", "cannot be negative")
        if skip > MAX_SKIP:
            raise InvalidArgumentError.single(
                "skip", f"is at most {MAX_SKIP}; page on with page_token instead"
            )
        where = self.filters.parse(filter_text)
        keys = parse_order(order_by, self.table, self.orderable, self.default_order)
        fingerprint = PageTokens.fingerprint(self.table, filter_text, keys)
        after = None
        if page_token:
            after = tuple(PageTokens.decode(page_token, fingerprint, keys))
        return ListQuery(
            where=where,
            order=tuple(keys),
            after=after,
            skip=skip,
            limit=min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
            with_total=with_total,
            fingerprint=fingerprint,
        )


MAX_GROUP_BY = 5
MAX_METRICS = 10
DEFAULT_GROUPS = 100
MAX_GROUPS = 1000
_METRIC = re.compile(r"(sum|avg|min|max)\(\s*([a-z_][a-z0-9_]*)\s*\)", re.ASCII)
_OFFSET = OrderKey(Column("offset", BigInteger()), descending=False)


class AggregateLanguage:
    """What an Aggregate request may say, for one resource: its filter language,
    the fields it may group by and the numeric fields it may measure."""

    def __init__(
        self,
        table: Table,
        filters: FilterLanguage,
        *,
        groupable: Sequence[str],
        measures: Sequence[str],
    ) -> None:
        self.table = table
        self.filters = filters
        self.groupable = tuple(groupable)
        self.measures = tuple(measures)
        for name in self.groupable:
            kind = python_type(table.c[name]) if name in table.c else None
            if kind is None or not issubclass(kind, (bool, uuid.UUID, enum.Enum, dt.datetime)):
                raise ValueError(f"{table.name}.{name}: only enums, booleans, ids, times group")
        for name in self.measures:
            if name not in table.c or python_type(table.c[name]) not in (int, float):
                raise ValueError(f"{table.name}.{name} is not a numeric column")

    def aggregate_query(
        self,
        *,
        filter_text: str = "",
        group_by: Sequence[str] = (),
        metrics: Sequence[str] = (),
        page_size: int = 0,
        page_token: str = "",
    ) -> AggregateQuery:
        if page_size < 0:
            raise InvalidArgumentError.single("page_size", "cannot be negative")
        where = self.filters.parse(filter_text)
        keys = tuple(self._group_key(text) for text in group_by)
        if len(keys) > MAX_GROUP_BY:
            raise InvalidArgumentError.single("group_by", f"at most {MAX_GROUP_BY} fields")
        if len({key.column for key in keys}) != len(keys):
            raise InvalidArgumentError.single("group_by", "names a field twice")
        measured = tuple(self._metric(text) for text in metrics) or (Metric("count"),)
        if len(measured) > MAX_METRICS:
            raise InvalidArgumentError.single("metrics", f"at most {MAX_METRICS} metrics")
        material = "\x00".join(
            [
                filter_text.strip(),
                ",".join(k.name for k in keys),
                ",".join(m.name for m in measured),
            ]
        )
        fingerprint = PageTokens.fingerprint(self.table, material, [_OFFSET], scope="aggregate")
        offset = 0
        if page_token:
            (offset,) = PageTokens.decode(page_token, fingerprint, [_OFFSET])
            if offset < 1:
                raise InvalidArgumentError.single(
                    "page_token", "is not a token this service issued"
                )
        return AggregateQuery(
            where=where,
            group_by=keys,
            metrics=measured,
            offset=offset,
            limit=min(page_size or DEFAULT_GROUPS, MAX_GROUPS),
            fingerprint=fingerprint,
        )

    def _group_key(self, text: str) -> GroupKey:
        name, _, unit = text.strip().partition(":")
        if name not in self.groupable:
            listed = ", ".join(self.groupable) or "none"
            raise InvalidArgumentError.single(
                "group_by", f"cannot group by {text[:40]!r}; groupable fields: {listed}"
            )
        is_time = python_type(self.table.c[name]) is dt.datetime
        if is_time and unit not in ("day", "week", "month"):
            raise InvalidArgumentError.single(
                "group_by", f"{name} is a time: group by {name}:day, {name}:week or {name}:month"
            )
        if not is_time and unit:
            raise InvalidArgumentError.single("group_by", f"{name} is not a time to truncate")
        return GroupKey(name, cast(Truncation, unit) if unit else None)

    def _metric(self, text: str) -> Metric:
        text = text.strip()
        if text == "count":
            return Metric("count")
        match = _METRIC.fullmatch(text)
        if match is None or match.group(2) not in self.measures:
            listed = ", ".join(self.measures) or "none"
            raise InvalidArgumentError.single(
                "metrics",
                f"{text[:40]!r} is not count, or sum, avg, min or max of a numeric field: {listed}",
            )
        function = cast(Literal["sum", "avg", "min", "max"], match.group(1))
        return Metric(function, match.group(2))

    def next_token(self, query: AggregateQuery) -> str:
        return PageTokens.encode(query.fingerprint, [query.offset + query.limit])


def group_value(value: Any) -> struct_pb2.Value:
    """A group key or metric as a JSON value: enums by full name, ids as text,
    times in RFC 3339 (UTC), numbers as numbers, null for no value."""
    result = struct_pb2.Value()
    if value is None:
        result.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):
        result.bool_value = value
    elif isinstance(value, enum.Enum):
        result.string_value = enum_prefix(type(value).__name__) + value.name
    elif isinstance(value, dt.datetime):
        result.string_value = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    elif isinstance(value, (int, float, decimal.Decimal)):
        result.number_value = float(value)
    else:
        result.string_value = str(value)
    return result
