"""Rows become messages the same way whichever path builds them: the timestamps
the converter hands the message constructor as plain fields are the Timestamps
timestamp_to_proto makes, including PostgreSQL's infinities."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

import pytest
from sqlalchemy import Table

from repositories.querying import python_type
from service.conversion import (
    Converter,
    date_to_proto,
    list_to_proto,
    struct_to_proto,
    timestamp_to_proto,
    value_to_proto,
)
from service.resources import RESOURCES

MOMENTS = [
    dt.datetime(2026, 12, 1, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
    dt.datetime.min,  # asyncpg's -infinity
    dt.datetime.max,  # asyncpg's infinity
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.message)
def test_a_row_s_timestamps_reach_the_message_as_timestamp_to_proto_makes_them(
    resource: Any, moment: dt.datetime
) -> None:
    table = resource.model.__table__
    assert isinstance(table, Table)
    converter = Converter(getattr(resource.module, resource.message), table)
    row: dict[str, Any] = {"etag": "1"}
    times = [c.name for c in table.c if c.type.python_type is dt.datetime]
    row.update({name: moment for name in times})

    message = converter.to_message(row)

    for name in times:
        assert getattr(message, name) == timestamp_to_proto(moment), name


def sample_value(converter: Converter, name: str) -> Any:
    """A value of column `name` as the driver reads it."""
    plan = converter.fields[name]
    to_proto = plan.to_proto
    if to_proto is timestamp_to_proto:
        return MOMENTS[0]
    samples: dict[Any, Any] = {
        date_to_proto: dt.date(2026, 12, 2),
        struct_to_proto: {"content_hash": "ab12", "tags": ["gdpr", 2]},
        list_to_proto: ["UK", "EU"],
        value_to_proto: {"nested": [1, 2.5, None, True]},
    }
    if to_proto in samples:
        return samples[to_proto]
    assert plan.column is not None
    kind = python_type(plan.column)
    if issubclass(kind, enum.Enum):
        return list(kind)[-1]
    by_kind: dict[type, Any] = {
        uuid.UUID: uuid.UUID("0b9a5f4e-3c1d-4e2f-9a8b-7c6d5e4f3a2b"),
        str: "Zoë's 100% _text_",
        bool: True,
        int: 42,
        float: 2.5,
        decimal.Decimal: decimal.Decimal("87.25"),
    }
    return by_kind[kind]


@pytest.mark.parametrize("nulls", [False, True], ids=["every column set", "nullable columns NULL"])
@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.message)
def test_the_written_out_reader_makes_the_message_field_by_field_reading_makes(
    resource: Any, nulls: bool
) -> None:
    table = resource.model.__table__
    assert isinstance(table, Table)
    converter = Converter(getattr(resource.module, resource.message), table)
    row: dict[str, Any] = {"etag": "17"}
    for column in table.c:
        row[column.name] = (
            None if nulls and column.nullable else sample_value(converter, column.name)
        )

    message = converter.to_message(row)

    assert message == converter._picked(row)
    assert message == converter._read_row(row)  # not the fallback for a partial row
    secrets = [name for name, plan in converter.fields.items() if plan.input_only]
    assert all(not message.HasField(name) for name in secrets)
