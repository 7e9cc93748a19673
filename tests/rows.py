"""One valid row per table, as column values: the single source the SQL, repository
and API tests build their rows from (the API derives its messages from these).

`row(table)` holds exactly the NOT NULL columns without a default, so a test that
adds one value breaks one rule and nothing else; `full=True` adds a few optional
values so a row read back over the wire shows JSON, dates and nullable text too.
Parents are the caller's: each layer makes them its own way and passes their ids."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Column, Table

from repositories.models import (
    Base,
    ChatMessageRole,
    IntegrationHealthStatus,
    IntegrationProvider,
)

TABLES: Mapping[str, Table] = Base.metadata.tables


def unique(prefix: str = "x") -> str:
    """A value no other row has, for columns under a unique rule."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def requires_value(column: Column[Any]) -> bool:
    """The column must be given a value on insert: NOT NULL and no default."""
    return not (column.nullable or column.server_default is not None or column.default is not None)


def parent_columns(table_name: str) -> dict[str, str]:
    """The row's required references: column -> the table it points at."""
    parents = {}
    for column in TABLES[table_name].columns:
        if requires_value(column) and column.foreign_keys:
            (key,) = column.foreign_keys
            parents[column.name] = key.column.table.name
    return parents


# The values of each table's required columns other than its references.
VALUES: dict[str, Callable[[], dict[str, Any]]] = {
    "users": lambda: {"email": f"{unique('user')}@example.com"},
    "business_profiles": lambda: {
        "company_name": unique("co"),
        "industry": "fintech",
        "employee_count": 50,
    },
    "compliance_frameworks": lambda: {
        "name": unique("ISO"),
        "display_name": "ISO 27001",
        "description": "Information security",
        "category": "security",
    },
    "evidence_items": lambda: {
        "evidence_name": unique("ev"),
        "evidence_type": "document",
        "control_reference": "A.5.1",
        "description": "Access policy",
    },
    "generated_policies": lambda: {
        "policy_name": unique("policy"),
        "framework_name": "ISO27001",
        "policy_content": "# Policy\n" * 10,
    },
    "assessment_sessions": dict,
    "assessment_questions": lambda: {
        "question_text": "Do you store personal data?",
        "question_type": "yes_no",
        "position": 1,
    },
    "integrations": lambda: {
        "provider": IntegrationProvider.GITHUB,
        "encrypted_credentials": "ciphertext",
    },
    "evidence_collections": lambda: {"framework_code": "soc2_type2"},
    "integration_health_logs": lambda: {"status": IntegrationHealthStatus.HEALTHY},
    "readiness_assessments": lambda: {"overall_score": 72.5},
    "chat_conversations": lambda: {"title": "Help"},
    "chat_messages": lambda: {
        "role": ChatMessageRole.USER,
        "content": "Hello",
        "sequence_number": 1,
    },
    "change_events": lambda: {
        "resource_type": "User",
        "resource_id": uuid.uuid4(),
        "operation": "update",
        "revision": 2,
        "changed_fields": ["full_name"],
        "actor": "schema-test",
        "source": "database",
        "database_role": "postgres",
        "transaction_id": 1,
    },
    "idempotency_keys": lambda: {
        "resource": "users",
        "request_id": uuid.uuid4(),
        "resource_id": uuid.uuid4(),
    },
    "commit_responses": lambda: {"request_id": uuid.uuid4()},
}

# Optional values a fuller row carries.
EXTRAS: dict[str, Callable[[], dict[str, Any]]] = {
    "users": lambda: {"full_name": "Test User"},
    "generated_policies": lambda: {"sections": ["intro", "scope"]},
    "integration_health_logs": lambda: {"response_time_ms": 12.5},
    "readiness_assessments": lambda: {
        "score_breakdown": {"policies": 80, "evidence": 65},
        "estimated_readiness_date": dt.date(2027, 3, 1),
    },
}


def row(
    table_name: str, parents: Mapping[str, Any] | None = None, *, full: bool = False, **values: Any
) -> dict[str, Any]:
    """A valid row of `table_name` with `values` on top; `parents` gives the id of
    every required reference (column -> id) and may name optional ones too."""
    given = dict(parents or {})
    missing = set(parent_columns(table_name)) - set(given)
    if missing:
        raise KeyError(f"{table_name} needs ids for {sorted(missing)}")
    extras = EXTRAS.get(table_name, dict)() if full else {}
    return {**VALUES[table_name](), **given, **extras, **values}
