"""Several writes as one statement, outside any transaction block: one round trip,
where the same writes in a transaction take one each, and its BEGIN and COMMIT two
more.

Each write is a data-modifying CTE (an INSERT or UPDATE ... RETURNING). They all see
the statement's one snapshot, so no write may touch a row another write of the
statement writes (the caller sees to it). The rows come back as one result: the
UNION ALL of the writes' RETURNING lists, each table's columns in a block of their
own, the other blocks NULL. The statement fails whole, writing nothing, when any of
its writes fails, and when an UPDATE matches no row (no such row, a stale etag: the
final `expect_rows()` counts the rows). Its refusals name neither the write nor the
field: a caller that needs them runs the writes again, one by one."""

# The statement's text holds the service's own table and column names and parameter
# numbers, never a value: every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import DataError, DeadlineExceededError, UnavailableError, sqlstate_of
from .history import SETTINGS, settings_select
from .repository import Repository, Row, quote
from .unit_of_work import Locks, Transaction

MAX_PARAMETERS = 32767
"""PostgreSQL's limit on one statement's parameters."""
_NO_DATA_FOUND = "P0002"  # raised by expect_rows()


class Refused(Exception):
    """The statement wrote nothing, for a reason that one of its writes would meet
    alone, not the database's absence or the call's deadline."""


@dataclass
class Statement:
    """The writes of one statement, in the order added."""

    parts: list[tuple[Repository, str]] = field(default_factory=list)
    arguments: list[Any] = field(default_factory=list)
    _earlier: dict[str, dict[tuple[str, Any], int]] = field(default_factory=dict)

    def create(self, repository: Repository, values: Mapping[str, Any]) -> None:
        """`values` (with the row's id) inserted; numbered columns take their
        numbers after the rows of the same parent the statement inserts before."""
        earlier = self._earlier.setdefault(repository.name, {})
        sql, arguments = repository.create_statement(values, len(self.arguments) + 1, earlier)
        self._add(repository, sql, arguments)

    def update(
        self, repository: Repository, row_id: uuid.UUID, values: Mapping[str, Any], etag: str
    ) -> None:
        sql, arguments = repository.update_statement(row_id, values, etag, len(self.arguments) + 1)
        self._add(repository, sql, arguments)

    def _add(self, repository: Repository, sql: str, arguments: list[Any]) -> None:
        self.parts.append((repository, sql))
        self.arguments += arguments

    def sql(self, *, history: bool, locks: Locks) -> str:
        """The statement; with `history`, it sets the change history's settings from
        parameters after the writes' own. `locks` are taken before the first write."""
        blocks, types = self._blocks()
        ctes, gates = [], []
        if history:
            ctes.append(f"_history AS MATERIALIZED ({settings_select(len(self.arguments))})")
            gates.append("(SELECT count(*) FROM _history) = 1")
        position = len(self.arguments) + (len(SETTINGS) if history else 0)
        for i, table in enumerate(sorted(locks)):
            position += 1
            # One global order (table, then id), as UnitOfWork's locks: see there.
            ctes.append(
                f"_lock{i} AS MATERIALIZED (SELECT 1 FROM {quote(table)} "
                f"WHERE id = ANY(${position}::uuid[]) ORDER BY id FOR UPDATE)"
            )
            gates.append(f"(SELECT count(*) FROM _lock{i}) >= 0")
        branches = []
        for i, (repository, write) in enumerate(self.parts):
            ctes.append(f"_w{i} AS ({write})")
            # Typed NULLs: a UNION of several branches resolves its types pairwise.
            columns = [f"NULL::{t}" for t in types]
            start = blocks[repository.name]
            for k, name in enumerate(repository.returned_names):
                columns[start + k] = f"_w{i}.{quote(name)}"
            # The first branch's filter runs before any write: the settings are set
            # and the locks held before the first row is written.
            where = f" WHERE {' AND '.join(gates)}" if i == 0 and gates else ""
            branches.append(f"SELECT {i} AS _step, {', '.join(columns)} FROM _w{i}{where}")
        ctes.append(f"_out AS ({' UNION ALL '.join(branches)})")
        # A constant filter, evaluated once before any row is read, even when there
        # is none: a filter on the rows would never run when no write matched.
        ctes.append(
            f"_counted AS MATERIALIZED (SELECT expect_rows({len(self.parts)}, "
            "(SELECT count(*) FROM _out)) AS ok)"
        )
        return (
            f"WITH {', '.join(ctes)} SELECT * FROM _out "
            "WHERE (SELECT ok FROM _counted) ORDER BY _step"
        )

    async def run(self, transaction: Transaction, locks: Locks) -> list[Row]:
        """The rows written, one per write, in order; Refused when the statement
        failed for a write's reason."""
        changes = transaction.changes
        arguments = [*self.arguments, *(changes.values() if changes is not None else ())]
        arguments += [sorted(locks[table]) for table in sorted(locks)]
        if len(arguments) > MAX_PARAMETERS:
            raise Refused
        sql = self.sql(history=changes is not None, locks=locks)
        try:
            records = await transaction.fetch(sql, *arguments)
        except (UnavailableError, DeadlineExceededError):
            raise
        except DataError as error:
            raise Refused from error
        except Exception as error:
            if sqlstate_of(error) == _NO_DATA_FOUND:
                raise Refused from error
            raise
        blocks, _ = self._blocks()
        rows = []
        for (repository, _), record in zip(self.parts, records, strict=True):
            start = blocks[repository.name] + 1  # after _step
            values = tuple(record.values())[start : start + len(repository.returned_names)]
            rows.append(repository.returned(values))
        return rows

    def _blocks(self) -> tuple[dict[str, int], list[str]]:
        """Where each table's block of columns starts, and every column's type."""
        blocks: dict[str, int] = {}
        types: list[str] = []
        for repository, _ in self.parts:
            if repository.name not in blocks:
                blocks[repository.name] = len(types)
                types += repository.returned_types
        return blocks, types
