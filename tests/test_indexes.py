"""The list queries the service issues are served by an index on a large table.

Each case fills one table with 100,000 rows by a single INSERT ... SELECT
generate_series inside the test's outer transaction (rolled back at teardown),
ANALYZEs it, and reads `EXPLAIN (FORMAT JSON)` of the statements List runs: the
filtered page (ORDER BY the sort key and id, LIMIT page_size + 1), the keyset page
after a token, and the count behind `total_size`. The planner is left free (no
enable_seqscan games): an index in the plan means PostgreSQL chose it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

ROWS = 100_000
PAGE = 51  # the default page size, 50, plus one row to tell whether a next page exists
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
SORTS = {"Sort", "Incremental Sort"}


@dataclass(frozen=True)
class ListQuery:
    """One statement List issues, and the indexes that may serve it."""

    name: str
    sql: str
    indexes: frozenset[str]
    # A keyset page read in index order needs no sort, so page 1000 costs what page 1 costs.
    unsorted: bool = False
    # A keyset page must start where the token points (an Index Cond on the sort
    # key), not read and throw away every row before it.
    seeks: str | None = None


@dataclass(frozen=True)
class Workload:
    table: str
    # Parents first; the last statement fills `table` with ROWS rows in one go.
    setup: list[str]
    # One row of values (a user id, a keyset position...) the queries refer to.
    params: str
    queries: list[ListQuery] = field(default_factory=list)


def newest_first(table: str, where: str = "") -> str:
    condition = f" WHERE {where}" if where else ""
    return f"SELECT * FROM {table}{condition} ORDER BY created_at DESC, id DESC LIMIT {PAGE}"


def index_set(*names: str) -> frozenset[str]:
    return frozenset(names)


EVIDENCE = Workload(
    table="evidence_items",
    setup=[
        "INSERT INTO users (id, email)"
        " SELECT gen_random_uuid(), 'evidence-owner-' || g || '@bulk.example'"
        " FROM generate_series(1, 1000) g",
        "INSERT INTO business_profiles (id, user_id, company_name, industry, employee_count)"
        " SELECT gen_random_uuid(), id, 'bulk evidence', 'software', 10 FROM users"
        " WHERE email LIKE 'evidence-owner-%@bulk.example'",
        "INSERT INTO compliance_frameworks (id, name, display_name, description, category)"
        " SELECT gen_random_uuid(), 'bulk-framework-' || g, 'F', 'F', 'security'"
        " FROM generate_series(1, 50) g",
        # 1,000 owners, 50 frameworks, 7 statuses; one name in 2,000 mentions a
        # firewall and one description in 2,000 a penetration test.
        """
        WITH owners AS (
            SELECT array_agg(user_id ORDER BY user_id) AS users,
                   array_agg(id ORDER BY user_id) AS profiles
            FROM business_profiles WHERE company_name = 'bulk evidence'
        ), frameworks AS (
            SELECT array_agg(id ORDER BY name) AS ids FROM compliance_frameworks
            WHERE name LIKE 'bulk-framework-%'
        )
        INSERT INTO evidence_items (
            id, user_id, business_profile_id, framework_id, evidence_name, evidence_type,
            control_reference, description, status, ai_metadata, created_at, updated_at)
        SELECT gen_random_uuid(), o.users[1 + g % 1000], o.profiles[1 + g % 1000],
               f.ids[1 + g % 50],
               CASE WHEN g % 2000 = 0 THEN 'Firewall rule review ' || g
                    ELSE 'Evidence item ' || g END,
               'bulk document', 'A.' || g % 100,
               CASE WHEN g % 2000 = 1 THEN 'Quarterly penetration test ' || g
                    ELSE 'Description ' || g % 500 END,
               (enum_range(NULL::evidence_status))[1 + g % 7],
               jsonb_build_object('content_hash', md5(g::text)),
               now() - g * interval '1 second', now() - g * interval '1 second'
        FROM generate_series(1, :rows) g, owners o, frameworks f
        """,
    ],
    params="""
        SELECT e.user_id, e.business_profile_id, e.framework_id,
               k.created_at AS after_created_at, k.id AS after_id
        FROM (SELECT * FROM evidence_items WHERE evidence_type = 'bulk document'
              ORDER BY id LIMIT 1) e,
             (SELECT created_at, id FROM evidence_items WHERE evidence_type = 'bulk document'
              ORDER BY created_at DESC, id DESC OFFSET 90000 LIMIT 1) k
    """,
    queries=[
        ListQuery(
            "filtered by user and status",
            newest_first("evidence_items", "user_id = :user_id AND status = 'collected'"),
            index_set("ix_evidence_items_user_id_status"),
        ),
        ListQuery(
            "total_size of user and status",
            "SELECT count(*) FROM evidence_items WHERE user_id = :user_id AND status = 'collected'",
            index_set("ix_evidence_items_user_id_status"),
        ),
        ListQuery(
            "filtered by business profile",
            newest_first("evidence_items", "business_profile_id = :business_profile_id"),
            index_set("ix_evidence_items_business_profile_id"),
        ),
        ListQuery(
            "filtered by framework",
            newest_first("evidence_items", "framework_id = :framework_id"),
            # 2% of the rows: walking the newest-first index is as good a plan.
            index_set("ix_evidence_items_framework_id", "ix_evidence_items_created_at_id"),
        ),
        ListQuery(
            "newest first, first page",
            newest_first("evidence_items"),
            index_set("ix_evidence_items_created_at_id"),
            unsorted=True,
        ),
        ListQuery(
            "newest first, keyset page 90,000 rows deep",
            newest_first("evidence_items", "(created_at, id) < (:after_created_at, :after_id)"),
            index_set("ix_evidence_items_created_at_id"),
            unsorted=True,
            seeks="created_at",
        ),
        ListQuery(
            "evidence_name contains a word",
            newest_first("evidence_items", "evidence_name ILIKE '%firewall%'"),
            index_set("ix_evidence_items_evidence_name_trgm"),
        ),
        ListQuery(
            "description contains a word",
            newest_first("evidence_items", "description ILIKE '%penetration%'"),
            index_set("ix_evidence_items_description_trgm"),
        ),
        ListQuery(
            'search("firewall"): name or description',
            newest_first(
                "evidence_items",
                "(evidence_name ILIKE '%firewall%' ESCAPE '\\'"
                " OR description ILIKE '%firewall%' ESCAPE '\\')",
            ),
            index_set("ix_evidence_items_evidence_name_trgm", "ix_evidence_items_description_trgm"),
        ),
        ListQuery(
            "a wildcard on evidence_name",
            newest_first("evidence_items", "evidence_name LIKE 'Firewall rule%' ESCAPE '\\'"),
            index_set("ix_evidence_items_evidence_name_trgm"),
        ),
        ListQuery(
            "a JSON key: ai_metadata.content_hash",
            newest_first("evidence_items", "(ai_metadata ->> 'content_hash') = md5('4242')"),
            index_set("ix_evidence_items_ai_metadata_content_hash"),
        ),
        ListQuery(
            "dashboard aggregate: one user by status and framework",
            "SELECT status, framework_id, count(*), avg(compliance_score_impact)"
            " FROM evidence_items WHERE user_id = :user_id"
            " GROUP BY status, framework_id ORDER BY status NULLS LAST, framework_id NULLS LAST"
            " LIMIT 101",
            index_set("ix_evidence_items_user_id_status"),
        ),
    ],
)

BUSINESS_PROFILES = Workload(
    table="business_profiles",
    setup=[
        "INSERT INTO users (id, email)"
        " SELECT gen_random_uuid(), 'profile-owner-' || g || '@bulk.example'"
        " FROM generate_series(1, :rows) g",
        # 200 industries, 500 profiles each.
        "INSERT INTO business_profiles (id, user_id, company_name, industry, employee_count,"
        " created_at, updated_at)"
        " SELECT gen_random_uuid(), id, 'bulk profile', 'industry ' || abs(hashtext(email)) % 200,"
        " 10, now() - n * interval '1 second', now() - n * interval '1 second'"
        " FROM (SELECT id, email, row_number() OVER () AS n FROM users"
        " WHERE email LIKE 'profile-owner-%@bulk.example') owners",
    ],
    params="SELECT industry FROM business_profiles WHERE company_name = 'bulk profile' LIMIT 1",
    queries=[
        ListQuery(
            "filtered by industry",
            newest_first("business_profiles", "industry = :industry"),
            # Walking newest first and skipping other industries is also an index plan.
            index_set("ix_business_profiles_industry", "ix_business_profiles_created_at_id"),
        ),
        ListQuery(
            "total_size of industry",
            "SELECT count(*) FROM business_profiles WHERE industry = :industry",
            index_set("ix_business_profiles_industry"),
        ),
    ],
)

USERS = Workload(
    table="users",
    setup=[
        # One account in a hundred is deactivated.
        "INSERT INTO users (id, email, full_name, is_active, created_at, updated_at)"
        " SELECT gen_random_uuid(), 'user-' || g || '@bulk.example', 'Person ' || g, g % 100 <> 0,"
        " now() - g * interval '1 second', now() - g * interval '1 second'"
        " FROM generate_series(1, :rows) g",
    ],
    # The account searched for by its e-mail. A value that ANALYZE's sample made a
    # histogram bound is estimated at one row in a hundred (PostgreSQL's pattern
    # selectivity reads the histogram), and for a hundredth of the table walking
    # newest first is the cheaper plan; the search is for an account that is not one.
    params="""
        SELECT '%er-' || g || '@%' AS pattern FROM generate_series(4242, 4342) g
        WHERE NOT EXISTS (
            SELECT FROM pg_stats, unnest(histogram_bounds::text::text[]) bound
            WHERE tablename = 'users' AND attname = 'email'
              AND bound = 'user-' || g || '@bulk.example')
        ORDER BY g LIMIT 1
    """,
    queries=[
        ListQuery(
            "inactive accounts",
            newest_first("users", "is_active = false"),
            index_set("ix_users_is_active", "ix_users_created_at_id"),
        ),
        ListQuery(
            "active accounts",
            newest_first("users", "is_active = true"),
            index_set("ix_users_is_active", "ix_users_created_at_id"),
        ),
        ListQuery(
            "total_size of inactive accounts",
            "SELECT count(*) FROM users WHERE is_active = false",
            index_set("ix_users_is_active"),
        ),
        ListQuery(
            "search by e-mail or name",
            newest_first(
                "users",
                "(email ILIKE :pattern ESCAPE '\\' OR full_name ILIKE :pattern ESCAPE '\\')",
            ),
            index_set("ix_users_email_trgm", "ix_users_full_name_trgm"),
        ),
    ],
)

FRAMEWORKS = Workload(
    table="compliance_frameworks",
    setup=[
        # One framework in 1,000 covers Japan; one in 2,000 serves aviation.
        "INSERT INTO compliance_frameworks (id, name, display_name, description, category,"
        " geographic_scope, applicable_industries, created_at, updated_at)"
        " SELECT gen_random_uuid(), 'bulk-' || g, 'Framework ' || g,"
        " CASE WHEN g % 2000 = 0 THEN 'Rules for aviation ' || g ELSE 'Controls ' || g % 500 END,"
        " 'security',"
        ' CASE WHEN g % 1000 = 0 THEN \'["JP"]\'::jsonb ELSE \'["UK", "EU"]\'::jsonb END,'
        " CASE WHEN g % 2000 = 0 THEN '[\"aviation\"]'::jsonb ELSE '[\"software\"]'::jsonb END,"
        " now() - g * interval '1 second', now() - g * interval '1 second'"
        " FROM generate_series(1, :rows) g",
    ],
    params="SELECT 1 AS unused",
    queries=[
        ListQuery(
            'geographic_scope:"JP"',
            newest_first("compliance_frameworks", """geographic_scope @> '["JP"]'::jsonb"""),
            index_set("ix_compliance_frameworks_geographic_scope_gin"),
        ),
        ListQuery(
            "applicable_industries:aviation",
            newest_first(
                "compliance_frameworks", """applicable_industries @> '["aviation"]'::jsonb"""
            ),
            index_set("ix_compliance_frameworks_applicable_industries_gin"),
        ),
        ListQuery(
            'search("aviation"): name, display name or description',
            newest_first(
                "compliance_frameworks",
                "(name ILIKE '%aviation%' ESCAPE '\\'"
                " OR display_name ILIKE '%aviation%' ESCAPE '\\'"
                " OR description ILIKE '%aviation%' ESCAPE '\\')",
            ),
            index_set(
                "ix_compliance_frameworks_name_trgm",
                "ix_compliance_frameworks_display_name_trgm",
                "ix_compliance_frameworks_description_trgm",
            ),
        ),
    ],
)

CHAT_MESSAGES = Workload(
    table="chat_messages",
    setup=[
        "INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'chatter@bulk.example')",
        "INSERT INTO business_profiles (id, user_id, company_name, industry, employee_count)"
        " SELECT gen_random_uuid(), id, 'bulk chat', 'software', 10 FROM users"
        " WHERE email = 'chatter@bulk.example'",
        "INSERT INTO chat_conversations (id, user_id, business_profile_id, title)"
        " SELECT gen_random_uuid(), user_id, id, 'Bulk conversation ' || g"
        " FROM business_profiles, generate_series(1, 1000) g"
        " WHERE company_name = 'bulk chat'",
        # 1,000 conversations of 100 messages, numbered 1..100 in each.
        """
        WITH conversations AS (
            SELECT array_agg(id ORDER BY id) AS ids FROM chat_conversations
            WHERE title LIKE 'Bulk conversation %'
        )
        INSERT INTO chat_messages (id, conversation_id, role, content, sequence_number, created_at)
        SELECT gen_random_uuid(), c.ids[1 + g % 1000],
               (enum_range(NULL::chat_message_role))[1 + g % 2], 'Bulk message ' || g,
               1 + g / 1000, now() - g * interval '1 second'
        FROM generate_series(0, :rows - 1) g, conversations c
        """,
    ],
    params="""
        SELECT conversation_id, sequence_number AS after_sequence_number, id AS after_id
        FROM chat_messages WHERE content = 'Bulk message 0'
    """,
    queries=[
        ListQuery(
            "one conversation in sequence order",
            "SELECT * FROM chat_messages WHERE conversation_id = :conversation_id"
            f" ORDER BY sequence_number, id LIMIT {PAGE}",
            index_set("uq_chat_messages_conversation_id_sequence_number"),
        ),
        ListQuery(
            "one conversation, keyset page",
            "SELECT * FROM chat_messages WHERE conversation_id = :conversation_id"
            " AND (sequence_number, id) > (:after_sequence_number, :after_id)"
            f" ORDER BY sequence_number, id LIMIT {PAGE}",
            index_set("uq_chat_messages_conversation_id_sequence_number"),
            seeks="sequence_number",
        ),
    ],
)

HEALTH_LOGS = Workload(
    table="integration_health_logs",
    setup=[
        "INSERT INTO users (id, email)"
        " SELECT gen_random_uuid(), 'integrator-' || g || '@bulk.example'"
        " FROM generate_series(1, 15) g",
        # Every provider for every user: 105 integrations.
        "INSERT INTO integrations (id, user_id, provider, encrypted_credentials)"
        " SELECT gen_random_uuid(), id, provider, 'bulk ciphertext' FROM users,"
        " unnest(enum_range(NULL::integration_provider)) provider"
        " WHERE email LIKE 'integrator-%@bulk.example'",
        """
        WITH integrations AS (
            SELECT array_agg(id ORDER BY id) AS ids FROM integrations
            WHERE encrypted_credentials = 'bulk ciphertext'
        )
        INSERT INTO integration_health_logs (id, integration_id, status, response_time_ms,
                                             checked_at)
        SELECT gen_random_uuid(), i.ids[1 + g % array_length(i.ids, 1)],
               (enum_range(NULL::integration_health_status))[1 + g % 4], g % 500,
               now() - g * interval '1 second'
        FROM generate_series(1, :rows) g, integrations i
        """,
    ],
    params="""
        SELECT l.integration_id, k.checked_at AS after_checked_at, k.id AS after_id
        FROM (SELECT id AS integration_id FROM integrations
              WHERE encrypted_credentials = 'bulk ciphertext' ORDER BY id LIMIT 1) l,
        LATERAL (SELECT checked_at, id FROM integration_health_logs
                 WHERE integration_id = l.integration_id
                 ORDER BY checked_at DESC, id DESC OFFSET 500 LIMIT 1) k
    """,
    queries=[
        ListQuery(
            "one integration, newest check first",
            "SELECT * FROM integration_health_logs WHERE integration_id = :integration_id"
            f" ORDER BY checked_at DESC, id DESC LIMIT {PAGE}",
            index_set("ix_integration_health_logs_integration_id_checked_at"),
        ),
        ListQuery(
            "one integration, keyset page",
            "SELECT * FROM integration_health_logs WHERE integration_id = :integration_id"
            " AND (checked_at, id) < (:after_checked_at, :after_id)"
            f" ORDER BY checked_at DESC, id DESC LIMIT {PAGE}",
            index_set("ix_integration_health_logs_integration_id_checked_at"),
            seeks="checked_at",
        ),
    ],
)

WORKLOADS = [EVIDENCE, BUSINESS_PROFILES, USERS, FRAMEWORKS, CHAT_MESSAGES, HEALTH_LOGS]


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan tree, depth first."""
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


async def explain(conn: AsyncConnection, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    result = await conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params)
    document = result.scalar_one()
    if isinstance(document, str):
        document = json.loads(document)
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


def plan_problems(plan: dict[str, Any], table: str, query: ListQuery) -> list[str]:
    nodes = list(plan_nodes(plan))
    problems = []
    if any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table for n in nodes):
        problems.append(f"a Seq Scan on {table}")
    used = {n.get("Index Name") for n in nodes if n["Node Type"] in INDEX_SCANS}
    if not used & query.indexes:
        problems.append(f"none of {sorted(query.indexes)} among the indexes used {used}")
    if query.unsorted and any(n["Node Type"] in SORTS for n in nodes):
        problems.append("a sort: the page is not read in index order")
    conditions = [n.get("Index Cond", "") for n in nodes if n["Node Type"] in INDEX_SCANS]
    if query.seeks and not any(query.seeks in condition for condition in conditions):
        problems.append(f"no index condition on {query.seeks}: the page does not seek")
    return problems


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.table)
async def test_list_queries_on_a_large_table_are_served_by_an_index(
    connection: AsyncConnection, workload: Workload
) -> None:
    for statement in workload.setup:
        filled = await connection.execute(text(statement), {"rows": ROWS})
    assert filled.rowcount == ROWS
    # Inside the transaction ANALYZE samples this transaction's own rows.
    await connection.execute(text(f"ANALYZE {workload.table}"))
    params = dict((await connection.execute(text(workload.params))).mappings().one())

    failures = {}
    for query in workload.queries:
        names = set(re.findall(r"(?<!:):(\w+)", query.sql))
        used_params = {k: v for k, v in params.items() if k in names}
        plan = await explain(connection, query.sql, used_params)
        problems = plan_problems(plan, workload.table, query)
        if problems:
            failures[query.name] = (problems, json.dumps(plan, indent=1)[:3000])
    assert failures == {}


def test_plan_walk_finds_nodes_at_every_depth() -> None:
    plan = {
        "Node Type": "Limit",
        "Plans": [
            {
                "Node Type": "Sort",
                "Plans": [
                    {
                        "Node Type": "Bitmap Heap Scan",
                        "Relation Name": "users",
                        "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "ix_a"}],
                    }
                ],
            }
        ],
    }
    assert [n["Node Type"] for n in plan_nodes(plan)] == [
        "Limit",
        "Sort",
        "Bitmap Heap Scan",
        "Bitmap Index Scan",
    ]
    query = ListQuery("q", "", index_set("ix_a"), unsorted=True)
    assert plan_problems(plan, "users", query) == ["a sort: the page is not read in index order"]
    seeking = ListQuery("q", "", index_set("ix_a"), seeks="created_at")
    assert plan_problems(plan, "users", seeking) == [
        "no index condition on created_at: the page does not seek"
    ]
    seq = {"Node Type": "Seq Scan", "Relation Name": "users"}
    assert plan_problems(seq, "users", ListQuery("q", "", index_set("ix_a"))) == [
        "a Seq Scan on users",
        "none of ['ix_a'] among the indexes used set()",
    ]
