"""Rows become messages the same way whichever path builds them: the timestamps
the converter hands the message constructor as plain fields are the Timestamps
timestamp_to_proto makes, including PostgreSQL's infinities."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Table

from service.conversion import Converter, timestamp_to_proto
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
