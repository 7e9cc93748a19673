"""Aggregate<R>s through the real server and the generated client, checked
against the same counts done by SQL on the same PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, timestamp_pb2
from ruleiq.data.v1 import evidence_pb2
from sqlalchemy import text

from repositories.database import Database
from service.query import MAX_GROUP_BY
from service.resources import RESOURCES

from .api import Api, call, expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT
STATUSES = ["collected", "approved", "rejected", "collected", "approved", "collected", "expired"]


@dataclass(frozen=True)
class Dashboard:
    user_id: str
    frameworks: list[str]


def timestamp(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


@pytest.fixture(scope="module")
async def dashboard(api: Api) -> Dashboard:
    """One user's evidence over two frameworks, with scores and collection dates."""
    first = await api.make("Evidence")
    second_framework = await api.make("ComplianceFramework")
    frameworks = [first.framework_id, second_framework.id]
    for index in range(21):
        status = STATUSES[index % len(STATUSES)]
        fields: dict[str, Any] = {
            "user_id": first.user_id,
            "business_profile_id": first.business_profile_id,
            "framework_id": frameworks[index % 2],
            "evidence_name": f"dashboard item {index}",
            "evidence_type": "document",
            "control_reference": "A.1",
            "description": "counted",
            "status": evidence_pb2.EvidenceStatus.Value(f"EVIDENCE_STATUS_{status.upper()}"),
            "compliance_score_impact": float(index * 3 % 100),
        }
        if index % 3:
            fields["collected_at"] = timestamp(dt.datetime(2026, 1 + index % 4, 5, tzinfo=dt.UTC))
        await api.create("Evidence", **fields)
    await call(api, "Evidence", "Delete", id=first.id)
    return Dashboard(first.user_id, frameworks)


def plain(value: Any) -> Any:
    """A google.protobuf.Value as a Python value."""
    return json_format.MessageToDict(value)


async def all_groups(api: Api, **fields: Any) -> list[tuple[list[Any], list[Any]]]:
    groups: list[tuple[list[Any], list[Any]]] = []
    token = ""
    while True:
        response = await call(api, "Evidence", "Aggregate", page_token=token, **fields)
        groups += [
            ([plain(k) for k in g.keys], [plain(v) for v in g.values]) for g in response.groups
        ]
        token = response.next_page_token
        if not token:
            return groups


def status_name(value: str) -> str:
    return f"EVIDENCE_STATUS_{value.upper()}"


async def by_sql(database: Database, sql: str, user_id: str) -> list[tuple[Any, ...]]:
    async with database.async_engine.connect() as connection:
        result = await connection.execute(text(sql), {"user_id": uuid.UUID(user_id)})
        return [tuple(row) for row in result]


async def test_dashboard_counts_and_averages_match_sql(
    api: Api, database: Database, dashboard: Dashboard
) -> None:
    groups = await all_groups(
        api,
        filter=f'user_id = "{dashboard.user_id}"',
        group_by=["status", "framework_id"],
        metrics=["count", "avg(compliance_score_impact)", "max(compliance_score_impact)"],
        page_size=3,
    )
    expected = await by_sql(
        database,
        "SELECT status::text, framework_id::text, count(*), avg(compliance_score_impact),"
        " max(compliance_score_impact) FROM evidence_items WHERE user_id = :user_id"
        " GROUP BY status, framework_id ORDER BY evidence_items.status, framework_id",
        dashboard.user_id,
    )
    assert len(groups) == len(expected) > 3
    for (keys, values), row in zip(groups, expected, strict=True):
        assert keys == [status_name(row[0]), row[1]]
        assert values[0] == row[2]
        assert math.isclose(values[1], float(row[3]))
        assert math.isclose(values[2], float(row[4]))


async def test_without_group_by_one_group_counts_every_matching_row(
    api: Api, dashboard: Dashboard
) -> None:
    groups = await all_groups(
        api, filter=f'user_id = "{dashboard.user_id}" AND (status = collected OR status = expired)'
    )
    assert groups == [([], [12])]


async def test_times_group_by_month_in_utc_and_absent_values_come_last(
    api: Api, database: Database, dashboard: Dashboard
) -> None:
    groups = await all_groups(
        api,
        filter=f'user_id = "{dashboard.user_id}"',
        group_by=["collected_at:month"],
        metrics=["count", "sum(compliance_score_impact)"],
    )
    expected = await by_sql(
        database,
        "SELECT date_trunc('month', collected_at, 'UTC'), count(*), sum(compliance_score_impact)"
        " FROM evidence_items WHERE user_id = :user_id GROUP BY 1 ORDER BY 1 NULLS LAST",
        dashboard.user_id,
    )
    assert groups[-1][0] == [None]
    assert [g[1][0] for g in groups] == [row[1] for row in expected]
    months = [row[0].astimezone(dt.UTC).isoformat().replace("+00:00", "Z") for row in expected[:-1]]
    assert [g[0][0] for g in groups[:-1]] == months
    assert months[0] == "2026-01-01T00:00:00Z"


async def test_a_group_page_token_belongs_to_its_request(api: Api, dashboard: Dashboard) -> None:
    first = await call(
        api,
        "Evidence",
        "Aggregate",
        filter=f'user_id = "{dashboard.user_id}"',
        group_by=["status"],
        page_size=1,
    )
    assert first.next_page_token
    await expect_error(
        call(
            api,
            "Evidence",
            "Aggregate",
            filter=f'user_id = "{dashboard.user_id}"',
            group_by=["framework_id"],
            page_size=1,
            page_token=first.next_page_token,
        ),
        INVALID,
        field_name="page_token",
    )


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"group_by": ["evidence_name"]}, "group_by"),
        ({"group_by": ["collected_at"]}, "group_by"),
        ({"group_by": ["status:day"]}, "group_by"),
        ({"group_by": ["status", "status"]}, "group_by"),
        ({"group_by": ["status"] * (MAX_GROUP_BY + 1)}, "group_by"),
        ({"metrics": ["avg(evidence_name)"]}, "metrics"),
        ({"metrics": ["median(compliance_score_impact)"]}, "metrics"),
        ({"metrics": ["count(*)"]}, "metrics"),
        ({"filter": "status = nope"}, "filter"),
        ({"page_size": -1}, "page_size"),
        ({"page_token": "garbage"}, "page_token"),
    ],
)
async def test_bad_aggregate_requests_are_refused_naming_the_field(
    api: Api, fields: dict[str, Any], field_name: str
) -> None:
    await expect_error(call(api, "Evidence", "Aggregate", **fields), INVALID, field_name=field_name)


async def test_every_service_aggregates(api: Api) -> None:
    for resource in RESOURCES:
        response = await call(api, resource.message, "Aggregate", metrics=["count"])
        assert len(response.groups) == 1
        assert response.groups[0].values[0].number_value >= 0
