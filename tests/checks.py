"""The schema's CHECK rules as a caller meets them, derived from the models: which
field each guards, whether the wire can reach it, and values that break it, as
PostgreSQL itself judges them. A new CHECK is covered without a new test case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from sqlalchemy import CheckConstraint, Column, Table, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from repositories.errors import CHECK_RULES
from repositories.models import Base
from repositories.names import snake
from service.conversion import OUTPUT_ONLY, behaviours
from service.resources import RESOURCES, Resource

# Values tried, in order, to find one a rule refuses: edges of the usual ranges,
# lengths and shapes.
CANDIDATES: dict[type, Sequence[Any]] = {
    int: [0, -1, 11, 101, 256, 1_000_001, 2**31 - 1, -(2**31)],
    float: [-1.0, -0.01, 1.01, 100.5, 1e300, -1e300],
    str: ["", "x" * 256, "no-at-sign", "@x", "v1", "1.0-rc1", " "],
}
# What the wire gives each JSON message type: Struct is always an object,
# ListValue always an array.
WIRE_SHAPES: dict[str, Any] = {"google.protobuf.Struct": {}, "google.protobuf.ListValue": []}


@dataclass(frozen=True)
class Rule:
    """One CHECK constraint and the one field of one resource it guards."""

    constraint: CheckConstraint
    resource: Resource
    column: Column[Any]

    @property
    def name(self) -> str:
        return str(self.constraint.name)

    @property
    def message(self) -> str:
        return self.resource.message

    @property
    def field(self) -> FieldDescriptor:
        message: Any = getattr(self.resource.module, self.resource.message)
        return message.DESCRIPTOR.fields_by_name[self.column.name]  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        """The field as a request names it: `user.email`."""
        return f"{snake(self.message)}.{self.column.name}"

    @property
    def wire_shape(self) -> Any:
        """The one JSON shape the field's wire type can hold, or None."""
        message_type = self.field.message_type
        return WIRE_SHAPES.get(message_type.full_name) if message_type else None

    @property
    def assigned_by_service(self) -> bool:
        return OUTPUT_ONLY in behaviours(self.field)

    def __str__(self) -> str:
        return self.name


def _resource_of(table: Table) -> Resource:
    return next(r for r in RESOURCES if r.model.__table__ is table)


def all_rules() -> list[Rule]:
    """Every CHECK of the schema with the columns it guards, from the models."""
    rules = []
    served = {r.model.__table__ for r in RESOURCES}
    for table in Base.metadata.sorted_tables:
        if table not in served:
            continue  # the change history: only the database writes it
        for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
            if not isinstance(constraint, CheckConstraint):
                continue
            guarded = CHECK_RULES[str(constraint.name)].columns
            assert len(guarded) == 1, f"{constraint.name}: a test for {guarded} together"
            rules.append(Rule(constraint, _resource_of(table), table.c[guarded[0]]))
    return rules


RULES = all_rules()
WRITABLE_RULES = [r for r in RULES if not r.assigned_by_service and r.wire_shape is None]
"""Rules a caller's value can break."""
SHAPE_RULES = [r for r in RULES if not r.assigned_by_service and r.wire_shape is not None]
"""JSON shape rules, which the field's wire type always satisfies."""
SERVICE_RULES = [r for r in RULES if r.assigned_by_service]
"""Rules on values only the service writes."""


async def breaks(connection: AsyncConnection, rule: Rule, value: Any) -> bool:
    """PostgreSQL's own verdict: the rule's expression false on a row holding `value`
    (NULL, as in a CHECK, passes)."""
    column = rule.column
    row = select(literal(value, column.type).label(column.name)).subquery(column.table.name)
    expression: Any = literal_column(f"({rule.constraint.sqltext})")
    verdict = await connection.scalar(select(expression).select_from(row))
    return verdict is False


async def violating_value(connection: AsyncConnection, rule: Rule) -> Any:
    """The first candidate of the column's type that `rule` refuses."""
    kind = column_type(rule.column)
    for value in CANDIDATES[kind]:
        if await breaks(connection, rule, value):
            return value
    raise AssertionError(f"no candidate breaks {rule}: add one to CANDIDATES[{kind.__name__}]")


def column_type(column: Column[Any]) -> type:
    kind: type = column.type.python_type
    return kind
