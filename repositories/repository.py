"""One generic repository for every table: Core statements, one round trip per
operation where possible, flush-free (nothing is committed here)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from .errors import AbortedError, InvalidArgumentError, NotFoundError, translated
from .models import Base
from .querying import PageTokens, after_condition, parse_filter, parse_order

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
MAX_BATCH = 1000

# xmin changes with every new version of a row, whoever wrote it, so it serves as
# the etag without a column of its own.
ETAG_COLUMN: ColumnElement[str] = literal_column("xmin::text", type_=Text())
ETAG = ETAG_COLUMN.label("etag")


@dataclass(frozen=True)
class Page:
    rows: list[RowMapping]
    next_page_token: str
    total_size: int | None


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
    ) -> None:
        table = model.__table__
        assert isinstance(table, Table)
        self.table = table
        self.name = table.name
        self.hidden = frozenset(hidden)
        self.filterable = frozenset(filterable)
        self.orderable = frozenset(orderable)
        for name in self.orderable:
            # Keyset paging compares sort keys; NULLs would fall out of the comparison.
            assert not table.c[name].nullable, f"{self.name}.{name} is nullable: cannot order by it"
        self.default_order = default_order
        self.columns: list[Any] = [c for c in table.c if c.name not in self.hidden]
        self.returning: list[Any] = [*self.columns, ETAG]
        self.id_column: Column[Any] = table.c.id
        self._by_id = select(*self.returning).where(self.id_column == bindparam("id"))
        self._by_ids = select(*self.returning).where(
            self.id_column == any_(bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))
        )

    async def get(
        self, session: AsyncSession, row_id: uuid.UUID, *, lock: bool = False
    ) -> RowMapping:
        statement = self._by_id.with_for_update() if lock else self._by_id
        with translated():
            row = (await session.execute(statement, {"id": row_id})).mappings().first()
        if row is None:
            raise self.not_found(row_id)
        return row

    async def get_many(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[RowMapping]:
        """All of `ids` in the order given, or NOT_FOUND naming the first missing one."""
        if len(ids) > MAX_BATCH:
            raise InvalidArgumentError.single("ids", f"at most {MAX_BATCH} ids per call")
        with translated():
            rows = (await session.execute(self._by_ids, {"ids": list(ids)})).mappings().all()
        by_id = {row["id"]: row for row in rows}
        for row_id in ids:
            if row_id not in by_id:
                raise self.not_found(row_id)
        return [by_id[row_id] for row_id in ids]

    async def list(
        self,
        session: AsyncSession,
        *,
        filter_text: str = "",
        order_by: str = "",
        page_size: int = 0,
        page_token: str = "",
        with_total: bool = False,
        conditions: Sequence[ColumnElement[bool]] = (),
    ) -> Page:
        if page_size < 0:
            raise InvalidArgumentError.single("page_size", "cannot be negative")
        limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        where = [*conditions, *parse_filter(filter_text, self.table, self.filterable)]
        keys = parse_order(order_by, self.table, self.orderable, self.default_order)
        fingerprint = PageTokens.fingerprint(self.table, filter_text, keys)
        statement = select(*self.returning).where(*where)
        if page_token:
            after = PageTokens.decode(page_token, fingerprint, keys)
            statement = statement.where(after_condition(keys, after))
        ordering = [k.column.desc() if k.descending else k.column.asc() for k in keys]
        statement = statement.order_by(*ordering).limit(limit + 1)
        total = None
        with translated():
            rows = list((await session.execute(statement)).mappings().all())
            if with_total:
                count = select(func.count()).select_from(self.table).where(*where)
                total = (await session.execute(count)).scalar_one()
        next_token = ""
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_token = PageTokens.encode(fingerprint, [last[k.column.name] for k in keys])
        return Page(rows=rows, next_page_token=next_token, total_size=total)

    async def create(self, session: AsyncSession, values: Mapping[str, Any]) -> RowMapping:
        statement = self.table.insert().values(**values).returning(*self.returning)
        with translated():
            return (await session.execute(statement)).mappings().one()

    async def update(
        self,
        session: AsyncSession,
        row_id: uuid.UUID,
        values: Mapping[str, Any],
        *,
        etag: str = "",
    ) -> RowMapping:
        """Change only `values`; with an etag, only if the row is still that version."""
        statement = update(self.table).where(self.id_column == row_id)
        if etag:
            statement = statement.where(ETAG_COLUMN == etag)
        statement = statement.values(**values).returning(*self.returning)
        with translated():
            row = (await session.execute(statement)).mappings().first()
        if row is None:
            await self._explain_missing(session, row_id)
        assert row is not None
        return row

    async def delete(
        self, session: AsyncSession, row_id: uuid.UUID, *, etag: str = "", force: bool = False
    ) -> None:
        """Refused while other rows refer to this one, unless `force`, which deletes
        those rows first, in the same transaction."""
        if force:
            await self._delete_dependents(session, self.table, [row_id])
        statement = delete(self.table).where(self.id_column == row_id)
        if etag:
            statement = statement.where(ETAG_COLUMN == etag)
        with translated(deleting=True):
            deleted = (await session.execute(statement.returning(self.id_column))).first()
        if deleted is None:
            await self._explain_missing(session, row_id)

    async def _explain_missing(self, session: AsyncSession, row_id: uuid.UUID) -> None:
        """An UPDATE or DELETE matched nothing: no such row, or a stale etag."""
        with translated():
            exists = (
                await session.execute(select(self.id_column).where(self.id_column == row_id))
            ).first()
        if exists is None:
            raise self.not_found(row_id)
        raise AbortedError(
            "the row changed since it was read (stale etag); read it again and retry",
            reason="ETAG_MISMATCH",
            metadata={"id": str(row_id)},
        )

    async def _delete_dependents(
        self, session: AsyncSession, table: Table, ids: Sequence[uuid.UUID]
    ) -> None:
        """Depth first through ON DELETE RESTRICT references; CASCADE ones the
        database follows itself."""
        for child, column in _restrict_children(table):
            with translated(deleting=True):
                child_ids = list(
                    (
                        await session.execute(
                            select(child.c.id).where(column == any_(_uuid_array(ids)))
                        )
                    ).scalars()
                )
            if child_ids:
                await self._delete_dependents(session, child, child_ids)
                with translated(deleting=True):
                    await session.execute(
                        delete(child).where(child.c.id == any_(_uuid_array(child_ids)))
                    )

    def not_found(self, row_id: uuid.UUID | str) -> NotFoundError:
        return NotFoundError(
            f"no {self.name} row has id {row_id}",
            reason="NOT_FOUND",
            metadata={"resource": self.name, "id": str(row_id)},
        )


def _uuid_array(ids: Sequence[uuid.UUID]) -> Any:
    return bindparam(None, list(ids), type_=ARRAY(UUID(as_uuid=True)))


def _restrict_children(table: Table) -> list[tuple[Table, Column[Any]]]:
    children = []
    for other in table.metadata.tables.values():
        for fk in other.foreign_keys:
            if fk.column.table is table and (fk.ondelete or "").upper() != "CASCADE":
                children.append((other, fk.parent))
    return sorted(children, key=lambda pair: (pair[0].name, pair[1].name))
