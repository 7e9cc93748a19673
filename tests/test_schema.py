"""The schema rules, proven against a real PostgreSQL migrated to head:
server defaults, CHECK / unique / NOT NULL / enum rules, delete behaviour, and
facts read back from the catalog.

Wherever a rule is declared in the models, the cases are derived from the metadata
(or a hand-written table is checked against it), so a constraint, foreign key or
column added later is either tested automatically or fails a coverage test.
"""

from __future__ import annotations

import collections
import datetime as dt
import enum
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    ForeignKeyConstraint,
    RowMapping,
    Table,
    UniqueConstraint,
    null,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from alembic import command
from repositories.errors import CHECK_RULES
from repositories.migrations import alembic_config
from repositories.models import Base

from . import rows as valid_rows
from .rows import requires_value

TABLES: Mapping[str, Table] = Base.metadata.tables
TAG = uuid.uuid4().hex[:8]

# SQLSTATEs (PostgreSQL appendix A).
RESTRICT_VIOLATION = "23001"
NOT_NULL_VIOLATION = "23502"
FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"
CHECK_VIOLATION = "23514"
INVALID_TEXT_REPRESENTATION = "22P02"


# --- rows ------------------------------------------------------------------------


async def minimal(conn: AsyncConnection, table_name: str) -> dict[str, Any]:
    """The table's row from tests/rows.py, its parents made fresh, one per foreign
    key, so deleting one parent meets only the rule under test."""
    parents = {
        column: await new_id(conn, parent)
        for column, parent in valid_rows.parent_columns(table_name).items()
    }
    return valid_rows.row(table_name, parents)


async def insert(conn: AsyncConnection, table_name: str, **values: Any) -> RowMapping:
    """Insert a minimal valid row of `table_name`, with `values` on top; the row as
    the database stored it."""
    table = TABLES[table_name]
    row = {**await minimal(conn, table_name), **values}
    result = await conn.execute(table.insert().values(row).returning(*table.c))
    return result.mappings().one()


async def new_id(conn: AsyncConnection, table_name: str) -> uuid.UUID:
    row_id: uuid.UUID = (await insert(conn, table_name))["id"]
    return row_id


async def refusal(conn: AsyncConnection, statement: Executable, params: Any = None) -> Any:
    """Run `statement` in a savepoint, expecting the database to refuse it; the
    driver's error, which carries sqlstate, constraint_name and column_name."""
    with pytest.raises(DBAPIError) as info:
        async with conn.begin_nested():
            await conn.execute(statement, params)
    assert info.value.orig is not None
    return info.value.orig.__cause__


async def insert_refusal(conn: AsyncConnection, table_name: str, **values: Any) -> Any:
    table = TABLES[table_name]
    row = {**await minimal(conn, table_name), **values}
    return await refusal(conn, table.insert().values(row))


async def count(conn: AsyncConnection, table_name: str, row_id: uuid.UUID) -> int:
    table = TABLES[table_name]
    result = await conn.execute(select(table.c.id).where(table.c.id == row_id))
    return len(result.all())


# --- what the metadata declares ----------------------------------------------------


def columns(predicate: Callable[[Column[Any]], bool]) -> list[Column[Any]]:
    return [c for t in TABLES.values() for c in t.columns if predicate(c)]


def column_id(column: Column[Any]) -> str:
    return f"{column.table.name}.{column.name}"


def constraints(kind: type) -> list[Any]:
    return [c for t in TABLES.values() for c in t.constraints if isinstance(c, kind)]


def foreign_keys(ondelete: str) -> list[ForeignKeyConstraint]:
    return [fk for fk in constraints(ForeignKeyConstraint) if fk.ondelete == ondelete]


def fk_column(fk: ForeignKeyConstraint) -> str:
    (name,) = fk.column_keys
    return name


def test_minimal_rows_supply_exactly_the_columns_that_have_no_default() -> None:
    assert set(valid_rows.VALUES) == set(TABLES)


@pytest.mark.parametrize("table_name", sorted(TABLES))
async def test_minimal_row_needs_exactly_the_not_null_columns_without_default(
    connection: AsyncConnection, table_name: str
) -> None:
    needed = {c.name for c in TABLES[table_name].columns if requires_value(c)}
    assert set(await minimal(connection, table_name)) == needed


# --- defaults ---------------------------------------------------------------------

EMPTY_LIST: list[Any] = []
EMPTY_OBJECT: dict[str, Any] = {}

EXPECTED_DEFAULTS: dict[str, dict[str, Any]] = {
    "users": {"is_active": True},
    "business_profiles": {
        "country": "UK",
        "data_sensitivity": "Low",
        "handles_personal_data": False,
        "processes_payments": False,
        "stores_health_data": False,
        "provides_financial_services": False,
        "operates_critical_infrastructure": False,
        "has_international_operations": False,
        "cloud_providers": EMPTY_LIST,
        "saas_tools": EMPTY_LIST,
        "development_tools": EMPTY_LIST,
        "existing_frameworks": EMPTY_LIST,
        "planned_frameworks": EMPTY_LIST,
        "assessment_completed": False,
    },
    "compliance_frameworks": {
        "applicable_industries": EMPTY_LIST,
        "geographic_scope": ["UK"],
        "key_requirements": EMPTY_LIST,
        "control_domains": EMPTY_LIST,
        "evidence_types": EMPTY_LIST,
        "complexity_score": 1,
        "implementation_time_weeks": 12,
        "is_active": True,
        "version": "1.0",
    },
    "evidence_items": {
        "required_for_audit": True,
        "collection_frequency": "once",
        "collection_method": "manual",
        "status": "not_started",
        "priority": "medium",
        "compliance_score_impact": 0.0,
    },
    "generated_policies": {
        "policy_type": "comprehensive",
        "procedures": EMPTY_LIST,
        "tool_recommendations": EMPTY_LIST,
        "sections": EMPTY_LIST,
        "controls": EMPTY_LIST,
        "responsibilities": EMPTY_OBJECT,
        "status": "draft",
        "version": "1.0",
    },
    "assessment_sessions": {
        "session_type": "compliance_scoping",
        "status": "in_progress",
        "current_stage": 1,
        "total_stages": 5,
        "questions_answered": 0,
        "total_questions": 0,
        "responses": EMPTY_OBJECT,
        "calculated_scores": EMPTY_OBJECT,
        "recommendations": EMPTY_LIST,
        "recommended_frameworks": EMPTY_LIST,
        "priority_order": EMPTY_LIST,
        "next_steps": EMPTY_LIST,
    },
    "assessment_questions": {},
    "integrations": {"is_active": True},
    "evidence_collections": {
        "status": "pending",
        "progress_percentage": 0,
        "evidence_types_requested": EMPTY_LIST,
        "evidence_types_completed": EMPTY_LIST,
        "errors": EMPTY_LIST,
        "collection_mode": "immediate",
    },
    "integration_health_logs": {},
    "readiness_assessments": {
        "score_breakdown": EMPTY_OBJECT,
        "priority_actions": EMPTY_LIST,
        "quick_wins": EMPTY_LIST,
        "score_trend": "stable",
    },
    "chat_conversations": {"status": "active"},
    "chat_messages": {},
    "idempotency_keys": {},
    "change_events": {},
    "commit_responses": {},
}

# Timestamps the database stamps with the transaction's now().
NOW_DEFAULTS = {column_id(c) for c in columns(lambda c: c.name in ("created_at", "updated_at"))}
NOW_DEFAULTS |= {
    "generated_policies.generated_at",
    "assessment_sessions.started_at",
    "assessment_sessions.last_activity",
    "integration_health_logs.checked_at",
    "change_events.changed_at",
}


def test_every_server_default_is_covered_by_the_defaults_tests() -> None:
    declared = {column_id(c) for c in columns(lambda c: c.server_default is not None)}
    expected = {f"{t}.{c}" for t, values in EXPECTED_DEFAULTS.items() for c in values}
    expected |= NOW_DEFAULTS
    expected.add("change_events.id")  # an identity: the history's own order
    assert declared == expected


@pytest.mark.parametrize("table_name", sorted(EXPECTED_DEFAULTS))
async def test_minimal_row_gets_the_documented_defaults(
    connection: AsyncConnection, table_name: str
) -> None:
    row = await insert(connection, table_name)
    stored = {name: row[name] for name in EXPECTED_DEFAULTS[table_name]}
    assert stored == EXPECTED_DEFAULTS[table_name]
    # `True == 1` would let an integer column pass for a boolean one.
    for name, value in EXPECTED_DEFAULTS[table_name].items():
        assert isinstance(stored[name], type(value)), name


@pytest.mark.parametrize("table_name", sorted(TABLES))
async def test_timestamps_are_set_by_the_database_and_timezone_aware(
    connection: AsyncConnection, table_name: str
) -> None:
    row = await insert(connection, table_name)
    transaction_start = (await connection.execute(text("SELECT now()"))).scalar_one()
    stamped = [c.name for c in TABLES[table_name].columns if column_id(c) in NOW_DEFAULTS]
    assert "created_at" in stamped or table_name in ("integration_health_logs", "change_events")
    for name in stamped:
        value: dt.datetime = row[name]
        assert value.utcoffset() is not None, name
        assert value == transaction_start, name


async def test_json_column_given_none_stores_sql_null(connection: AsyncConnection) -> None:
    """None must mean SQL NULL, not the JSON document `null` (which the object/list
    CHECKs refuse and `IS NULL` does not find)."""
    profile = await insert(connection, "business_profiles", assessment_data=None)
    framework = await insert(connection, "compliance_frameworks", policy_template=None)
    result = await connection.execute(
        text(
            "SELECT (SELECT assessment_data IS NULL FROM business_profiles WHERE id = :p),"
            " (SELECT policy_template IS NULL FROM compliance_frameworks WHERE id = :f)"
        ),
        {"p": profile["id"], "f": framework["id"]},
    )
    assert result.one() == (True, True)


# --- CHECK constraints --------------------------------------------------------------

# Each rule that is not a JSON shape check, broken at every edge it has.
CHECK_VIOLATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("ck_users_email_has_at", "users", {"email": "no-at-sign.example.com"}),
    ("ck_users_email_has_at", "users", {"email": "@example.com"}),
    ("ck_change_events_operation_is_known", "change_events", {"operation": "upsert"}),
    ("ck_change_events_source_is_known", "change_events", {"source": "nowhere"}),
    ("ck_change_events_revision_positive", "change_events", {"revision": 0}),
    ("ck_business_profiles_employee_count_range", "business_profiles", {"employee_count": 0}),
    (
        "ck_business_profiles_employee_count_range",
        "business_profiles",
        {"employee_count": 1_000_001},
    ),
    (
        "ck_compliance_frameworks_complexity_score_range",
        "compliance_frameworks",
        {"complexity_score": 0},
    ),
    (
        "ck_compliance_frameworks_complexity_score_range",
        "compliance_frameworks",
        {"complexity_score": 11},
    ),
    (
        "ck_compliance_frameworks_implementation_time_weeks_positive",
        "compliance_frameworks",
        {"implementation_time_weeks": 0},
    ),
    ("ck_compliance_frameworks_version_format", "compliance_frameworks", {"version": "1"}),
    ("ck_compliance_frameworks_version_format", "compliance_frameworks", {"version": "v1.0"}),
    ("ck_compliance_frameworks_version_format", "compliance_frameworks", {"version": "1.0.0.0"}),
    ("ck_compliance_frameworks_version_format", "compliance_frameworks", {"version": "1.0-rc1"}),
    ("ck_evidence_items_file_size_bytes_not_negative", "evidence_items", {"file_size_bytes": -1}),
    (
        "ck_evidence_items_compliance_score_impact_range",
        "evidence_items",
        {"compliance_score_impact": -0.5},
    ),
    (
        "ck_evidence_items_compliance_score_impact_range",
        "evidence_items",
        {"compliance_score_impact": 100.5},
    ),
    (
        "ck_evidence_items_compliance_score_impact_range",
        "evidence_items",
        {"compliance_score_impact": float("nan")},
    ),
    (
        "ck_generated_policies_generation_time_not_negative",
        "generated_policies",
        {"generation_time_seconds": -0.1},
    ),
    ("ck_generated_policies_word_count_not_negative", "generated_policies", {"word_count": -1}),
    (
        "ck_generated_policies_reading_time_not_negative",
        "generated_policies",
        {"estimated_reading_time": -1},
    ),
    (
        "ck_generated_policies_compliance_coverage_range",
        "generated_policies",
        {"compliance_coverage": -0.01},
    ),
    (
        "ck_generated_policies_compliance_coverage_range",
        "generated_policies",
        {"compliance_coverage": 1.01},
    ),
    (
        "ck_assessment_sessions_current_stage_positive",
        "assessment_sessions",
        {"current_stage": 0},
    ),
    ("ck_assessment_sessions_total_stages_positive", "assessment_sessions", {"total_stages": 0}),
    (
        "ck_assessment_sessions_questions_answered_not_negative",
        "assessment_sessions",
        {"questions_answered": -1},
    ),
    (
        "ck_assessment_sessions_total_questions_not_negative",
        "assessment_sessions",
        {"total_questions": -1},
    ),
    ("ck_assessment_questions_position_not_negative", "assessment_questions", {"position": -1}),
    (
        "ck_evidence_collections_progress_percentage_range",
        "evidence_collections",
        {"progress_percentage": -1},
    ),
    (
        "ck_evidence_collections_progress_percentage_range",
        "evidence_collections",
        {"progress_percentage": 101},
    ),
    (
        "ck_integration_health_logs_response_time_not_negative",
        "integration_health_logs",
        {"response_time_ms": -1.0},
    ),
    (
        "ck_readiness_assessments_overall_score_range",
        "readiness_assessments",
        {"overall_score": -1},
    ),
    (
        "ck_readiness_assessments_overall_score_range",
        "readiness_assessments",
        {"overall_score": 100.01},
    ),
    ("ck_chat_conversations_title_length", "chat_conversations", {"title": ""}),
    ("ck_chat_conversations_title_length", "chat_conversations", {"title": "x" * 256}),
    ("ck_chat_messages_sequence_number_positive", "chat_messages", {"sequence_number": 0}),
]

# A value of the wrong JSON shape for each shape-checked column.
WRONG_SHAPE = {"array": {"not": "a list"}, "object": ["not", "an object"]}
JSON_SHAPE_VIOLATIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        f"ck_{c.table.name}_{c.name}_is_{c.info['json']}",
        c.table.name,
        {c.name: WRONG_SHAPE[c.info["json"]]},
    )
    for c in columns(lambda c: "json" in c.info)
]
# A scalar is neither a list nor an object.
JSON_SHAPE_VIOLATIONS += [
    ("ck_business_profiles_cloud_providers_is_array", "business_profiles", {"cloud_providers": 3}),
    (
        "ck_readiness_assessments_score_breakdown_is_object",
        "readiness_assessments",
        {"score_breakdown": "text"},
    ),
]

ALL_CHECK_VIOLATIONS = CHECK_VIOLATIONS + JSON_SHAPE_VIOLATIONS


def test_every_check_constraint_in_the_models_is_violated_by_some_test() -> None:
    declared = {c.name for c in constraints(CheckConstraint)}
    tested = {name for name, _, _ in ALL_CHECK_VIOLATIONS}
    assert tested == declared


async def test_each_check_rule_guards_the_columns_postgresql_says_it_reads(
    connection: AsyncConnection,
) -> None:
    # The error mapping reads the columns out of the models' SQL; the catalog knows.
    rows = await connection.execute(
        text(
            "SELECT c.conname, array_agg(a.attname::text ORDER BY a.attname)"
            " FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace"
            " GROUP BY c.conname"
        )
    )
    in_database = {name: sorted(columns) for name, columns in rows}
    derived = {name: sorted(rule.columns) for name, rule in CHECK_RULES.items()}
    assert derived == in_database


@pytest.mark.parametrize(
    ("constraint", "table_name", "values"),
    [
        pytest.param(*case, id=f"{case[0]}-{next(iter(case[2].values()))!r}"[:90])
        for case in ALL_CHECK_VIOLATIONS
    ],
)
async def test_row_breaking_a_check_rule_is_refused_with_the_rule_name(
    connection: AsyncConnection, constraint: str, table_name: str, values: dict[str, Any]
) -> None:
    error = await insert_refusal(connection, table_name, **values)
    assert (error.sqlstate, error.constraint_name) == (CHECK_VIOLATION, constraint)


@pytest.mark.parametrize(
    ("table_name", "values"),
    [
        ("users", {"email": "a@x.io"}),
        ("business_profiles", {"employee_count": 1}),
        ("business_profiles", {"employee_count": 1_000_000}),
        ("compliance_frameworks", {"complexity_score": 10}),
        ("compliance_frameworks", {"version": "2.1"}),
        ("compliance_frameworks", {"version": "10.0.3"}),
        ("compliance_frameworks", {"implementation_time_weeks": 1}),
        ("evidence_items", {"compliance_score_impact": 100.0, "file_size_bytes": 0}),
        ("generated_policies", {"compliance_coverage": 1.0, "word_count": 0}),
        ("generated_policies", {"compliance_coverage": 0.0, "generation_time_seconds": 0.0}),
        ("evidence_collections", {"progress_percentage": 100}),
        ("readiness_assessments", {"overall_score": 0.0}),
        ("readiness_assessments", {"overall_score": 100.0}),
        ("chat_conversations", {"title": "x"}),
        # The limit counts characters, not bytes.
        ("chat_conversations", {"title": "é" * 255}),
        ("business_profiles", {"assessment_data": {"q1": "yes"}, "saas_tools": ["slack"]}),
    ],
)
async def test_values_at_the_edge_of_a_check_rule_are_accepted(
    connection: AsyncConnection, table_name: str, values: dict[str, Any]
) -> None:
    row = await insert(connection, table_name, **values)
    assert {name: row[name] for name in values} == values


# --- closed sets ------------------------------------------------------------------


def enum_type(column: Column[Any]) -> Enum:
    assert isinstance(column.type, Enum), column
    return column.type


def enum_class(column: Column[Any]) -> type[enum.Enum]:
    members = enum_type(column).enum_class
    assert members is not None, column
    return members


ENUM_COLUMNS = columns(lambda c: isinstance(c.type, Enum))


@pytest.mark.parametrize("column", ENUM_COLUMNS, ids=column_id)
async def test_enum_type_holds_exactly_the_member_values(
    connection: AsyncConnection, column: Column[Any]
) -> None:
    labels = await connection.execute(
        text(
            "SELECT array_agg(enumlabel ORDER BY enumsortorder) FROM pg_enum"
            " WHERE enumtypid = CAST(:name AS regtype)"
        ),
        {"name": enum_type(column).name},
    )
    assert labels.scalar_one() == [m.value for m in enum_class(column)]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        pytest.param(c, bad, id=f"{column_id(c)}-{bad}")
        # The member's *name* is what the original stored by mistake.
        for c in ENUM_COLUMNS
        for bad in (next(iter(enum_class(c))).name, "not_a_member")
    ],
)
async def test_enum_column_refuses_a_value_outside_its_set(
    connection: AsyncConnection, column: Column[Any], value: str
) -> None:
    row = await insert(connection, column.table.name)
    statement = text(f"UPDATE {column.table.name} SET {column.name} = :value WHERE id = :id")
    error = await refusal(connection, statement, {"value": value, "id": row["id"]})
    assert error.sqlstate == INVALID_TEXT_REPRESENTATION


# --- NOT NULL ---------------------------------------------------------------------


# An identity (GENERATED ALWAYS) refuses any value given, NULL or not.
@pytest.mark.parametrize(
    "column", columns(lambda c: not c.nullable and c.identity is None), ids=column_id
)
async def test_not_null_column_refuses_null(
    connection: AsyncConnection, column: Column[Any]
) -> None:
    # null() is SQL NULL even where a JSON type would turn None into JSON `null`.
    error = await insert_refusal(connection, column.table.name, **{column.name: null()})
    assert (error.sqlstate, error.column_name) == (NOT_NULL_VIOLATION, column.name)


# --- unique rules -----------------------------------------------------------------

# (rule, table, values of the first row, values of the second from the first row)
UNIQUE_CASES: list[tuple[str, str, dict[str, Any], Callable[[RowMapping], dict[str, Any]]]] = [
    (
        "uq_users_lower_email",
        "users",
        {"email": f"A.{TAG}@X.io"},
        lambda first: {"email": first["email"].lower()},
    ),
    (
        "uq_users_lower_email",
        "users",
        {"email": f"a.{TAG}@x.io"},
        lambda first: {"email": first["email"].upper()},
    ),
    (
        "uq_users_google_id",
        "users",
        {"google_id": f"google-{TAG}"},
        lambda first: {"google_id": first["google_id"]},
    ),
    (
        "uq_business_profiles_user_id",
        "business_profiles",
        {},
        lambda first: {"user_id": first["user_id"], "company_name": "Second Ltd"},
    ),
    (
        "uq_compliance_frameworks_name",
        "compliance_frameworks",
        {},
        lambda first: {"name": first["name"]},
    ),
    (
        "uq_integrations_user_id_provider",
        "integrations",
        {"provider": "github"},
        lambda first: {"user_id": first["user_id"], "provider": "github"},
    ),
    (
        "uq_chat_messages_conversation_id_sequence_number",
        "chat_messages",
        {"sequence_number": 7},
        lambda first: {"conversation_id": first["conversation_id"], "sequence_number": 7},
    ),
]


def test_every_unique_rule_in_the_models_is_tested() -> None:
    declared = {c.name for c in constraints(UniqueConstraint)}
    declared |= {i.name for t in TABLES.values() for i in t.indexes if i.unique}
    assert {name for name, *_ in UNIQUE_CASES} == declared


@pytest.mark.parametrize(
    ("constraint", "table_name", "first_values", "second_values"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(UNIQUE_CASES)],
)
async def test_second_row_breaking_a_unique_rule_is_refused_with_the_rule_name(
    connection: AsyncConnection,
    constraint: str,
    table_name: str,
    first_values: dict[str, Any],
    second_values: Callable[[RowMapping], dict[str, Any]],
) -> None:
    first = await insert(connection, table_name, **first_values)
    error = await insert_refusal(connection, table_name, **second_values(first))
    assert (error.sqlstate, error.constraint_name) == (UNIQUE_VIOLATION, constraint)


async def test_unique_rules_leave_unrelated_rows_alone(connection: AsyncConnection) -> None:
    # Users signed up with a password have no google_id: NULLs do not collide.
    await insert(connection, "users", google_id=None)
    await insert(connection, "users", google_id=None)
    # One provider per user, but every user may connect it.
    await insert(connection, "integrations", provider="okta")
    await insert(connection, "integrations", provider="okta")
    # Numbering restarts in every conversation.
    await insert(connection, "chat_messages", sequence_number=1)
    await insert(connection, "chat_messages", sequence_number=1)
    message = await insert(connection, "chat_messages", sequence_number=1)
    second = await insert(
        connection, "chat_messages", conversation_id=message["conversation_id"], sequence_number=2
    )
    assert second["sequence_number"] == 2


# --- deleting ---------------------------------------------------------------------

CASCADES = foreign_keys("CASCADE")
# What a second child of one parent needs to differ in.
SECOND_CHILD = {"chat_messages": {"sequence_number": 2}}
RESTRICTS = foreign_keys("RESTRICT")


def test_only_children_that_live_inside_their_parent_cascade() -> None:
    pairs = {(fk.table.name, fk.referred_table.name) for fk in CASCADES}
    assert pairs == {
        ("chat_messages", "chat_conversations"),
        ("integration_health_logs", "integrations"),
        ("evidence_collections", "integrations"),
        ("assessment_questions", "assessment_sessions"),
    }
    every = constraints(ForeignKeyConstraint)
    assert len(CASCADES) + len(RESTRICTS) == len(every)


@pytest.mark.parametrize("fk", CASCADES, ids=lambda fk: fk.name)
async def test_deleting_a_parent_deletes_its_children(
    connection: AsyncConnection, fk: ForeignKeyConstraint
) -> None:
    parent = fk.referred_table
    children = [await insert(connection, fk.table.name) for _ in range(2)]
    parent_id = children[0][fk_column(fk)]
    sibling = await insert(
        connection,
        fk.table.name,
        **{fk_column(fk): parent_id, **SECOND_CHILD.get(fk.table.name, {})},
    )
    await connection.execute(parent.delete().where(parent.c.id == parent_id))
    assert await count(connection, fk.table.name, children[0]["id"]) == 0
    assert await count(connection, fk.table.name, sibling["id"]) == 0
    # Another parent's children stay.
    assert await count(connection, fk.table.name, children[1]["id"]) == 1


@pytest.mark.parametrize("fk", RESTRICTS, ids=lambda fk: fk.name)
async def test_deleting_a_parent_that_still_has_dependents_is_refused(
    connection: AsyncConnection, fk: ForeignKeyConstraint
) -> None:
    parent = fk.referred_table
    parent_id = await new_id(connection, parent.name)
    child = await insert(connection, fk.table.name, **{fk_column(fk): parent_id})

    error = await refusal(connection, parent.delete().where(parent.c.id == parent_id))

    # PostgreSQL 18 gave RESTRICT its own SQLSTATE (commit 086c84b23).
    version = int((await connection.execute(text("SHOW server_version_num"))).scalar_one())
    expected = RESTRICT_VIOLATION if version >= 180000 else FOREIGN_KEY_VIOLATION
    assert (error.sqlstate, error.constraint_name) == (expected, fk.name)
    assert await count(connection, parent.name, parent_id) == 1
    # The dependent was the only thing in the way.
    await connection.execute(fk.table.delete().where(fk.table.c.id == child["id"]))
    await connection.execute(parent.delete().where(parent.c.id == parent_id))
    assert await count(connection, parent.name, parent_id) == 0


@pytest.mark.parametrize("fk", constraints(ForeignKeyConstraint), ids=lambda fk: fk.name)
async def test_row_pointing_at_a_missing_parent_is_refused(
    connection: AsyncConnection, fk: ForeignKeyConstraint
) -> None:
    error = await insert_refusal(connection, fk.table.name, **{fk_column(fk): uuid.uuid4()})
    assert (error.sqlstate, error.constraint_name) == (FOREIGN_KEY_VIOLATION, fk.name)


# --- the catalog of the migrated database ----------------------------------------


async def rows(conn: AsyncConnection, sql: str) -> list[Any]:
    return list((await conn.execute(text(sql))).all())


async def test_every_foreign_key_column_leads_some_index(connection: AsyncConnection) -> None:
    foreign = await rows(
        connection,
        "SELECT conname, conrelid::regclass::text, conkey::int[] FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )
    indexes = await rows(
        connection,
        "SELECT indrelid::regclass::text, string_to_array(indkey::text, ' ')::int[]"
        " FROM pg_index JOIN pg_class ON pg_class.oid = indrelid"
        " WHERE relnamespace = 'public'::regnamespace",
    )
    leading = collections.defaultdict(list)
    for table_name, keys in indexes:
        leading[table_name].append(keys)
    unindexed = [
        name
        for name, table_name, keys in foreign
        if not any(index[: len(keys)] == keys for index in leading[table_name])
    ]
    assert len(foreign) == len(constraints(ForeignKeyConstraint))
    assert unindexed == []


async def test_every_foreign_key_has_the_on_delete_the_models_declare(
    connection: AsyncConnection,
) -> None:
    actions = dict(
        await rows(
            connection,
            "SELECT conname, confdeltype::text FROM pg_constraint"
            " WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
        )
    )
    # 'a' is NO ACTION, PostgreSQL's default when none is written.
    assert {name for name, action in actions.items() if action not in ("c", "r")} == set()
    declared = {
        str(fk.name): {"CASCADE": "c", "RESTRICT": "r"}[str(fk.ondelete)] for fk in CASCADES
    }
    declared |= {str(fk.name): "r" for fk in RESTRICTS}
    assert actions == declared


async def test_every_timestamp_column_is_timestamptz(connection: AsyncConnection) -> None:
    found = await rows(
        connection,
        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type LIKE 'time%'",
    )
    declared = {column_id(c) for c in columns(lambda c: isinstance(c.type, DateTime))}
    assert {name for name, _ in found} == declared
    assert {data_type for _, data_type in found} == {"timestamp with time zone"}


async def test_every_json_column_is_jsonb(connection: AsyncConnection) -> None:
    found = await rows(
        connection,
        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type IN ('json', 'jsonb')",
    )
    declared = {column_id(c) for c in columns(lambda c: isinstance(c.type, JSONB))}
    assert {name for name, _ in found} == declared
    assert {data_type for _, data_type in found} == {"jsonb"}


def test_no_two_indexes_or_constraints_in_the_models_share_a_name() -> None:
    names = [str(i.name) for t in TABLES.values() for i in t.indexes]
    names += [str(c.name) for t in TABLES.values() for c in t.constraints]
    assert [n for n, k in collections.Counter(names).items() if k > 1] == []
    # PostgreSQL cuts identifiers at 63 bytes; a cut name would not match its rule.
    assert [n for n in names if len(n.encode()) > 63] == []


async def test_database_has_every_index_of_the_models_under_its_name(
    connection: AsyncConnection,
) -> None:
    found = await rows(
        connection,
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'",
    )
    names = [name for (name,) in found]
    assert len(names) == len(set(names))
    declared = {i.name for t in TABLES.values() for i in t.indexes}
    assert declared <= set(names)
    # The original declared this on users and integrations: a clash in PostgreSQL.
    assert "idx_user_active" not in names


async def test_database_constraints_carry_the_names_of_the_models(
    connection: AsyncConnection,
) -> None:
    found = await rows(
        connection,
        "SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        " AND contype IN ('c', 'f', 'u', 'p')",
    )
    declared = {c.name for t in TABLES.values() for c in t.constraints}
    assert {name for (name,) in found} == declared | {"alembic_version_pkc"}


async def test_trigram_indexes_on_evidence_text_exist(connection: AsyncConnection) -> None:
    extensions = await rows(connection, "SELECT extname FROM pg_extension")
    assert ("pg_trgm",) in extensions
    found = await rows(
        connection,
        "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE tablename = 'evidence_items' AND indexdef LIKE '%USING gin%gin_trgm_ops%'",
    )
    definitions = dict(found)
    assert sorted(definitions) == [
        "ix_evidence_items_description_trgm",
        "ix_evidence_items_evidence_name_trgm",
    ]
    assert "(description gin_trgm_ops)" in definitions["ix_evidence_items_description_trgm"]
    assert "(evidence_name gin_trgm_ops)" in definitions["ix_evidence_items_evidence_name_trgm"]


async def test_migrated_database_matches_the_models(connection: AsyncConnection) -> None:
    # Raises AutogenerateDiffsDetected naming the difference.
    await connection.run_sync(lambda sync: command.check(alembic_config(sync)))
