"""One generic repository for every table. Nothing is committed here.

The hot operations (get, get many, create, update, delete) run SQL compiled once
per table (and per set of columns written) straight on the asyncpg connection,
one round trip each: SQLAlchemy's per-statement work cost more than the query
itself. List builds its statement per call from the caller's filter and order with
SQLAlchemy Core, and runs its SQL, compiled once per shape (compiled.py), the
same way."""

from __future__ import annotations

import builtins
import dataclasses
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

from sqlalchemy import (
    ARRAY,
    Column,
    DateTime,
    Enum,
    Integer,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from .compiled import named_sql_and_arguments, sql_and_arguments
from .errors import AbortedError, InvalidArgumentError, NotFoundError
from .filtering import AggregateQuery, GroupKey, ListQuery, Metric, where_clause
from .history import TOLD, told
from .ids import uuid7
from .models import Base
from .querying import OrderKey, PageTokens, after_condition, check_storable, parse_order
from .unit_of_work import Transaction

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
# PostgreSQL's wire protocol counts a statement's parameters in 16 bits.
_MAX_PARAMETERS = 32767

# xmin changes with every new version of a row, whoever wrote it, so it serves as
# the etag without a column of its own.
ETAG_COLUMN: ColumnElement[str] = literal_column("xmin::text", type_=Text())
ETAG = ETAG_COLUMN.label("etag")
# A value meaning "the column's own DEFAULT" in an update.
COLUMN_DEFAULT: ColumnElement[Any] = literal_column("DEFAULT")

Row = Mapping[str, Any]
Group = tuple[Sequence[Any], Sequence[Any]]
"""One group of an aggregate: its key values and its metric values."""
_DIALECT: Any = postgresql.dialect()  # type: ignore[no-untyped-call]  # untyped constructor

# A List's bound values, by name, where its SQL is compiled once per shape.
_LIMIT = bindparam("page_limit", type_=Integer())
_SKIP = bindparam("page_skip", type_=Integer())
_AFTER = "page_after_"


def _after(index: int, key: OrderKey) -> BindParameter[Any]:
    # With the column's own type, as after_condition binds a value.
    return bindparam(f"{_AFTER}{index}", type_=key.column.type)


quote: Callable[[str], str] = _DIALECT.identifier_preparer.quote


@dataclass(frozen=True)
class NextNumber:
    """A create's value for a column numbered 1, 2, 3... among the rows that share
    the value of column `within`: one more than the highest number there, read by
    the INSERT itself. Dense only while the transaction holds a lock that every
    writer of those rows takes first (UnitOfWork `locks`): the INSERT's snapshot is
    then taken after the transactions it waited for had committed their rows."""

    within: str


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_page_token: str
    total_size: int | None
    fingerprint: str = ""
    sort_columns: tuple[str, ...] = ()

    def token_after(self, index: int) -> str:
        """The token that continues right after `rows[index]`, for a page cut short
        (AIP-158 allows fewer rows than asked for)."""
        row = self.rows[index]
        return PageTokens.encode(self.fingerprint, [row[name] for name in self.sort_columns])


class Repository:
    """Get, get many, list, create, update and delete for one table.

    `hidden` columns (secrets) are written but never read back; `filterable` and
    `orderable` name the columns a List may use."""

    def __init__(
        self,
        model: type[Base],
        *,
        filterable: Sequence[str] = (),
        orderable: Sequence[str] = (),
        default_order: str = "created_at desc",
        hidden: Sequence[str] = (),
        searchable: Sequence[str] = (),
    ) -> None:
        table = model.__table__
        assert isinstance(table, Table)
        self.table = table
        self.name = table.name
        self.hidden = frozenset(hidden)
        # The default order is always allowed: a caller may spell it out.
        default_fields = {part.split()[0] for part in default_order.split(",") if part.split()}
        self.filterable = frozenset(filterable)
        self.searchable = tuple(searchable)
        self.orderable = frozenset(orderable) | default_fields
        declared = (
            ("filterable", {name.partition(".")[0] for name in self.filterable}),
            ("orderable", self.orderable),
            ("searchable", set(self.searchable)),
        )
        for kind, names in declared:
            for name in sorted(names):
                if name not in table.c:
                    raise ValueError(f"{self.name} has no column {name!r} (declared {kind})")
                if name in self.hidden:
                    # Comparing a secret would let a caller guess it one query at a time.
                    raise ValueError(f"{self.name}.{name} is hidden: it cannot be {kind}")
        for name in sorted(self.orderable):
            # Keyset paging compares sort keys; NULLs would fall out of the comparison.
            if table.c[name].nullable:
                raise ValueError(f"{self.name}.{name} is nullable: cannot order by it")
        self.default_order = default_order
        # Parsed once (a bad default fails here): every List without order_by uses it.
        self._default_keys = tuple(parse_order("", table, self.orderable, default_order))
        self.columns: list[Any] = [c for c in table.c if c.name not in self.hidden]
        self.returning: list[Any] = [*self.columns, ETAG]
        self.returned_names: tuple[str, ...] = (*(c.name for c in self.columns), "etag")
        self.returned_types: tuple[str, ...] = (
            *(str(c.type.compile(dialect=_DIALECT)) for c in self.columns),
            "text",
        )
        self.id_column: Column[Any] = table.c.id
        self._encoders: dict[str, Callable[[Any], Any]] = {
            c.name: _json_text for c in table.c if isinstance(c.type, JSONB)
        }
        # asyncpg reads native enums as their text; rows carry the Python members,
        # as they do through SQLAlchemy.
        self._enums: list[tuple[str, dict[Any, Any]]] = [
            (c.name, dict(enum_class._value2member_map_))
            for c in self.columns
            if isinstance(c.type, Enum) and (enum_class := c.type.enum_class) is not None
        ]
        self._touch = {  # columns every update refreshes (updated_at = now())
            c.name: _sql_of(c.onupdate) for c in table.c if c.onupdate is not None
        }
        name = quote(self.name)
        self._columns_sql = ", ".join(quote(c.name) for c in self.columns) + ", xmin::text AS etag"
        self._sql_get = f"SELECT {self._columns_sql} FROM {name} WHERE id = $1"
        self._sql_get_locked = self._sql_get + " FOR UPDATE"
        # One row per id asked, in the order asked (duplicates too); an id with no
        # row gets a row of NULLs. The ids may be sent as text: PostgreSQL reads them.
        qualified = ", ".join(f"{name}.{quote(c.name)}" for c in self.columns)
        self._sql_get_many = (
            f"SELECT {qualified}, {name}.xmin::text AS etag "
            f"FROM unnest($1::uuid[]) WITH ORDINALITY AS asked (id, n) "
            f"LEFT JOIN {name} ON {name}.id = asked.id ORDER BY asked.n"
        )
        self._sql_exists = f"SELECT 1 FROM {name} WHERE id = $1"
        self._sql_lock_many = (
            f"SELECT id FROM {name} WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"
        )
        self._sql_delete = f"DELETE FROM {name} WHERE id = $1 RETURNING id"
        self._sql_delete_etag = f"DELETE FROM {name} WHERE id = $1 AND xmin::text = $2 RETURNING id"
        self._insert_sql = lru_cache(maxsize=256)(self._compile_insert)
        self._update_sql = lru_cache(maxsize=256)(self._compile_update)

    def _compile_insert(
        self, names: tuple[str, ...], numbered: tuple[tuple[str, str], ...] = ()
    ) -> str:
        """`numbered`: (column, within) pairs of `names` that take a NextNumber; the
        other names bind $1, $2... in order."""
        columns = ", ".join(quote(n) for n in names)
        within = dict(numbered)
        bound = [n for n in names if n not in within]
        position = {n: f"${i}" for i, n in enumerate(bound, start=1)}
        table = quote(self.name)
        slots = [
            position[n]
            if n not in within
            else (
                f"(SELECT coalesce(max({quote(n)}), 0) + 1 FROM {table} "
                f"WHERE {quote(within[n])} = {position[within[n]]})"
            )
            for n in names
        ]
        placeholders = ", ".join(slots)
        return (
            f"INSERT INTO {quote(self.name)} ({columns}) VALUES ({placeholders}) "
            f"RETURNING {self._columns_sql}"
        )

    def _compile_update(
        self, assignments: tuple[tuple[str, bool], ...], with_etag: bool, first: int = 1
    ) -> str:
        """`assignments`: (column, set to its DEFAULT) pairs; the id binds $`first`,
        the values the parameters after it."""
        parts, position = [], first + 1
        for name, to_default in assignments:
            if to_default:
                parts.append(f"{quote(name)} = DEFAULT")
            else:
                parts.append(f"{quote(name)} = ${position}")
                position += 1
        written = {name for name, _ in assignments}
        parts += [f"{quote(n)} = {sql}" for n, sql in self._touch.items() if n not in written]
        where = f"id = ${first}" + (f" AND xmin::text = ${position}" if with_etag else "")
        return (
            f"UPDATE {quote(self.name)} SET {', '.join(parts)} WHERE {where} "
            f"RETURNING {self._columns_sql}"
        )

    def _row(self, record: Any) -> Row:
        row = dict(record)
        row.pop(TOLD, None)
        for name, members in self._enums:
            value = row[name]
            if value is not None:
                row[name] = members[value]
        return row

    def _rows(self, records: list[Any]) -> list[Row]:
        """Read rows as their records, which are mappings already, when none of
        their values needs changing: a dict copy of each was a fifth of what
        reading a row cost after the query."""
        if self._enums:
            return [self._row(record) for record in records]
        return records

    def _encode(self, name: str, value: Any) -> Any:
        encoder = self._encoders.get(name)
        return encoder(value) if encoder is not None and value is not None else value

    async def get(self, transaction: Transaction, row_id: uuid.UUID, *, lock: bool = False) -> Row:
        record = await transaction.fetchrow(self._sql_get_locked if lock else self._sql_get, row_id)
        if record is None:
            raise self.not_found(row_id)
        return self._row(record)

    async def get_many(self, transaction: Transaction, ids: Sequence[uuid.UUID | str]) -> list[Row]:
        """All of `ids` in the order given, or NOT_FOUND naming the first missing one.
        Ids may be UUIDs or their text, already checked (UUID_TEXT): the driver
        encodes either. How many a call may ask for is the service's rule
        (service/servicer.py)."""
        records = await transaction.fetch(self._sql_get_many, list(ids))
        for index, record in enumerate(records):
            if record["id"] is None:
                raise self.not_found(uuid.UUID(str(ids[index])))
        return self._rows(records)

    async def lock_many(self, transaction: Transaction, ids: Sequence[uuid.UUID]) -> None:
        """Lock the rows of `ids` that exist, in id order. Transactions that lock
        the rows they will change this way, table by table in name order, wait for
        each other instead of deadlocking."""
        await transaction.fetch(self._sql_lock_many, list(ids))

    async def list(
        self,
        transaction: Transaction,
        query: ListQuery,
    ) -> Page:
        """One page of `query`."""
        keys = query.order or self._default_keys
        where = []
        condition = where_clause(query.where, self.table, self.searchable)
        if condition is not None:
            where.append(condition)
        after = query.after

        def statement_for(values: Sequence[Any] | None) -> Select[Any]:
            statement = select(*self.returning).where(*where)
            if values is not None:
                statement = statement.where(after_condition(keys, values))
            statement = statement.order_by(
                *(k.column.desc() if k.descending else k.column.asc() for k in keys)
            )
            if condition is None:
                return statement.offset(_SKIP if query.skip else None).limit(_LIMIT)
            return statement.offset(query.skip or None).limit(query.limit + 1)

        if condition is None:
            # No filter: the statement's shape is its order and which of the
            # position and skip it has, so its SQL is built once per shape.
            shape = (
                self.name,
                self._columns_sql,
                tuple((k.column.name, k.descending) for k in keys),
            )
            values = {_LIMIT.key: query.limit + 1, _SKIP.key: query.skip}
            if after is not None:
                values.update((f"{_AFTER}{i}", value) for i, value in enumerate(after))
            sql, arguments = named_sql_and_arguments(
                (*shape, after is not None, bool(query.skip)),
                lambda: statement_for(
                    None if after is None else [_after(i, k) for i, k in enumerate(keys)]
                ),
                values,
            )
        else:
            sql, arguments = sql_and_arguments(statement_for(after))
        total = None
        rows = self._rows(await transaction.fetch(sql, *arguments))
        if query.with_total:
            count = select(func.count()).select_from(self.table).where(*where)
            sql, arguments = sql_and_arguments(count)
            total = await transaction.fetchval(sql, *arguments)
        limit = query.limit
        page = Page(rows[:limit], "", total, query.fingerprint, tuple(k.column.name for k in keys))
        if len(rows) > limit:
            return dataclasses.replace(page, next_page_token=page.token_after(limit - 1))
        return page

    async def aggregate(
        self, transaction: Transaction, query: AggregateQuery
    ) -> tuple[Sequence[Group], bool]:
        """The page of groups `query` asks for, as (key values, metric values), and
        whether more groups follow."""
        keys = [_group_key(self.table, key) for key in query.group_by]
        metrics = [_metric(self.table, metric) for metric in query.metrics]
        statement = select(*keys, *metrics).select_from(self.table)
        condition = where_clause(query.where, self.table, self.searchable)
        if condition is not None:
            statement = statement.where(condition)
        if keys:
            statement = statement.group_by(*keys).order_by(*(k.asc().nulls_last() for k in keys))
        statement = statement.offset(query.offset or None).limit(query.limit + 1)
        rows = list((await transaction.execute(statement)).all())
        width = len(keys)
        groups = [(list(row[:width]), list(row[width:])) for row in rows[: query.limit]]
        return groups, len(rows) > query.limit

    async def create(self, transaction: Transaction, values: Mapping[str, Any]) -> Row:
        self._check(values)
        if "id" not in values:
            values = {**values, "id": uuid7()}
        names = tuple(sorted(values))
        numbered = tuple(
            (name, value.within) for name, value in values.items() if type(value) is NextNumber
        )
        if numbered:
            computed = dict(numbered)
            arguments = [self._encode(n, values[n]) for n in names if n not in computed]
        else:
            arguments = [self._encode(name, values[name]) for name in names]
        sql = self._insert_sql(names, tuple(sorted(numbered)))
        sql, arguments = _told(transaction, sql, arguments)
        record = await transaction.fetchrow(sql, *arguments)
        return self._row(record)

    async def create_many(
        self, transaction: Transaction, rows: Sequence[Mapping[str, Any]]
    ) -> builtins.list[Row]:
        """Insert `rows` (each with its id) with as few statements as PostgreSQL's
        parameter limit allows; the rows as stored, in the order given. A column a
        row leaves out gets its DEFAULT, as in `create`."""
        for values in rows:
            self._check(values)
        names = tuple(sorted({name for values in rows for name in values}))
        stored: dict[uuid.UUID, Row] = {}
        per_statement = max(1, _MAX_PARAMETERS // len(names))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            arguments: builtins.list[Any] = []
            earlier: dict[tuple[str, Any], int] = {}
            tuples = [self._values_row(v, names, arguments, earlier) for v in chunk]
            columns = ", ".join(quote(n) for n in names)
            sql = (
                f"INSERT INTO {quote(self.name)} ({columns}) VALUES {', '.join(tuples)} "
                f"RETURNING {self._columns_sql}"
            )
            records = await transaction.fetch(sql, *arguments)
            stored.update((record["id"], self._row(record)) for record in records)
        return [stored[values["id"]] for values in rows]

    def _values_row(
        self,
        values: Mapping[str, Any],
        names: Sequence[str],
        arguments: builtins.list[Any],
        earlier: dict[tuple[str, Any], int],
        first: int = 1,
    ) -> str:
        """One row of an INSERT's VALUES: `values` of `names` bound as parameters
        appended to `arguments` (the first of them is $`first`), a name left out as
        its DEFAULT. Rows of one statement share its snapshot: the k-th numbered row
        of one parent (`earlier` counts them) takes the highest number there plus k."""
        slots: dict[str, str] = {}
        for name in names:
            value = values.get(name, COLUMN_DEFAULT)
            if value is COLUMN_DEFAULT:
                slots[name] = "DEFAULT"
            elif type(value) is not NextNumber:
                arguments.append(self._encode(name, value))
                slots[name] = f"${first - 1 + len(arguments)}"
        for name in names:
            value = values.get(name)
            if type(value) is NextNumber:
                key = (value.within, values[value.within])
                earlier[key] = k = earlier.get(key, 0) + 1
                slots[name] = (
                    f"(SELECT coalesce(max({quote(name)}), 0) + {k} FROM "
                    f"{quote(self.name)} WHERE {quote(value.within)} = "
                    f"{slots[value.within]})"
                )
        return f"({', '.join(slots[name] for name in names)})"

    def create_statement(
        self, values: Mapping[str, Any], first: int, earlier: dict[tuple[str, Any], int]
    ) -> tuple[str, builtins.list[Any]]:
        """`create`'s INSERT ... RETURNING (`values` with their id) as a part of a
        larger statement, its parameters numbered from $`first`; numbered columns
        as in `create_many`, `earlier` counting the statement's rows before."""
        self._check(values)
        names = tuple(sorted(values))
        arguments: builtins.list[Any] = []
        row = self._values_row(values, names, arguments, earlier, first)
        columns = ", ".join(quote(n) for n in names)
        sql = (
            f"INSERT INTO {quote(self.name)} ({columns}) VALUES {row} RETURNING {self._columns_sql}"
        )
        return sql, arguments

    def update_statement(
        self, row_id: uuid.UUID, values: Mapping[str, Any], etag: str, first: int
    ) -> tuple[str, builtins.list[Any]]:
        """`update`'s UPDATE ... RETURNING as a part of a larger statement, its
        parameters numbered from $`first`. It matches no row when the row is gone
        or not at `etag`: the statement must then fail by itself."""
        self._check(values)
        if not values:
            raise InvalidArgumentError.single("update_mask", "names no field to change")
        return self._update(row_id, values, etag, first)

    def _update(
        self, row_id: uuid.UUID, values: Mapping[str, Any], etag: str, first: int = 1
    ) -> tuple[str, builtins.list[Any]]:
        names = sorted(values)
        assignments = tuple((name, values[name] is COLUMN_DEFAULT) for name in names)
        arguments: builtins.list[Any] = [row_id]
        arguments += [
            self._encode(name, values[name]) for name, to_default in assignments if not to_default
        ]
        if etag:
            arguments.append(etag)
        return self._update_sql(assignments, bool(etag), first), arguments

    def returned(self, values: Sequence[Any]) -> Row:
        """The row a statement part returned (its columns, then the etag), from
        those values in that order."""
        return self._row(dict(zip(self.returned_names, values, strict=True)))

    async def update(
        self,
        transaction: Transaction,
        row_id: uuid.UUID,
        values: Mapping[str, Any],
        *,
        etag: str = "",
    ) -> Row:
        """Change only `values`; with an etag, only if the row is still that version."""
        self._check(values)
        if not values:
            # Nothing to write: the row as it is, if it is still that version.
            current = await self.get(transaction, row_id, lock=bool(etag))
            if etag and current["etag"] != etag:
                raise self.stale(row_id)
            return current
        sql, arguments = self._update(row_id, values, etag)
        sql, arguments = _told(transaction, sql, arguments)
        record = await transaction.fetchrow(sql, *arguments)
        if record is None:
            await self._explain_missing(transaction, row_id)
        return self._row(record)

    async def delete(
        self, transaction: Transaction, row_id: uuid.UUID, *, etag: str = "", force: bool = False
    ) -> None:
        """Refused while other rows refer to this one, unless `force`, which deletes
        those rows first, in the same transaction."""
        if force:
            # Check the row first: a missing row or a stale etag must not cost the
            # dependents (the caller might commit after catching the error).
            current = await self.get(transaction, row_id, lock=True)
            if etag and current["etag"] != etag:
                raise self.stale(row_id)
            await self._delete_dependents(transaction, self.table, [row_id])
        sql = self._sql_delete_etag if etag else self._sql_delete
        sql, arguments = _told(transaction, sql, [row_id, etag] if etag else [row_id])
        deleted = await transaction.fetchrow(sql, *arguments, deleting=True)
        if deleted is None:
            await self._explain_missing(transaction, row_id)

    async def _explain_missing(self, transaction: Transaction, row_id: uuid.UUID) -> NoReturn:
        """An UPDATE or DELETE matched nothing: no such row, or a stale etag."""
        exists = await transaction.fetchrow(self._sql_exists, row_id)
        if exists is None:
            raise self.not_found(row_id)
        raise self.stale(row_id)

    def _check(self, values: Mapping[str, Any]) -> None:
        """Refuse, naming the field, what the table has no column for or cannot
        store; the driver's own errors for these name no field."""
        for name, value in values.items():
            if name not in self.table.c:
                raise InvalidArgumentError.single(name, f"{self.name} has no such field")
            check_storable(self.table.c[name], value)

    async def _delete_dependents(
        self, transaction: Transaction, table: Table, ids: Sequence[uuid.UUID]
    ) -> None:
        """Depth first: rows referring to `ids` through ON DELETE RESTRICT are deleted
        here; CASCADE ones the database deletes, but their own RESTRICT dependents
        are visited first."""
        for child, column, cascades in _children(table):
            if cascades and not _blocks_delete(child):
                continue
            found = await transaction.execute(
                select(child.c.id).where(column == any_(_uuid_array(ids)))
            )
            child_ids = list(found.scalars())
            if not child_ids:
                continue
            await self._delete_dependents(transaction, child, child_ids)
            if not cascades:
                await transaction.execute(
                    delete(child).where(child.c.id == any_(_uuid_array(child_ids))),
                    deleting=True,
                )

    def stale(self, row_id: uuid.UUID) -> AbortedError:
        return AbortedError(
            "the row changed since it was read (stale etag); read it again and retry",
            reason="ETAG_MISMATCH",
            metadata={"resource": self.name, "id": str(row_id)},
        )

    def not_found(self, row_id: uuid.UUID | str) -> NotFoundError:
        return NotFoundError(
            f"no {self.name} row has id {row_id}",
            reason="NOT_FOUND",
            metadata={"resource": self.name, "id": str(row_id)},
        )


def _told(transaction: Transaction, sql: str, arguments: list[Any]) -> tuple[str, list[Any]]:
    """A write's statement and arguments, setting what the change history records
    itself when its transaction has no transaction to carry it (history.told)."""
    if transaction.changes is None:
        return sql, arguments
    return told(sql, len(arguments)), [*arguments, *transaction.changes.values()]


def _group_key(table: Table, key: GroupKey) -> ColumnElement[Any]:
    column: ColumnElement[Any] = table.c[key.column]
    if key.truncate is None:
        return column
    # In UTC, whatever the session's TimeZone: a day is the same day for every caller.
    truncated: ColumnElement[Any] = func.date_trunc(
        key.truncate, column, "UTC", type_=DateTime(timezone=True)
    )
    return truncated


def _metric(table: Table, metric: Metric) -> ColumnElement[Any]:
    if metric.column is None:
        counted: ColumnElement[Any] = func.count()
        return counted
    function: Any = getattr(func, metric.function)
    measured: ColumnElement[Any] = function(table.c[metric.column])
    return measured


def _sql_of(default: Any) -> str:
    compiled: Any = default.arg.compile(dialect=_DIALECT)
    return str(compiled)


def _json_text(value: Any) -> str:
    # The asyncpg connection's jsonb codec (set up by SQLAlchemy) takes JSON text.
    return json.dumps(value, separators=(",", ":"))


def _uuid_array(ids: Sequence[uuid.UUID]) -> Any:
    return bindparam(None, list(ids), type_=ARRAY(UUID(as_uuid=True)))


def _children(table: Table) -> list[tuple[Table, Column[Any], bool]]:
    """Every (table, column) referring to `table`, and whether the database deletes
    or detaches those rows itself (CASCADE, SET NULL, SET DEFAULT)."""
    children = []
    for other in table.metadata.tables.values():
        for fk in other.foreign_keys:
            if fk.column.table is table:
                action = (fk.ondelete or "").upper()
                if action in ("SET NULL", "SET DEFAULT"):
                    continue
                children.append((other, fk.parent, action == "CASCADE"))
    return sorted(children, key=lambda child: (child[0].name, child[1].name))


def _blocks_delete(table: Table, seen: frozenset[str] = frozenset()) -> bool:
    """Whether deleting rows of `table` can be refused because of RESTRICT
    references, directly or below a CASCADE."""
    if table.name in seen:
        return False
    for child, _, cascades in _children(table):
        if not cascades or _blocks_delete(child, seen | {table.name}):
            return True
    return False
