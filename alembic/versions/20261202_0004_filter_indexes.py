"""indexes for the grown filter language: search(), `:` on lists, JSON keys

Trigram (pg_trgm) GIN indexes on every text field search() reads that had none,
GIN indexes on the JSON lists `:` tests, and an expression index on the JSON key
filters name. Each is built CONCURRENTLY, so writers are never blocked.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from repositories.migrations import create_index_concurrently, drop_index_concurrently

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAMS = (
    ("users", "email"),
    ("users", "full_name"),
    ("business_profiles", "company_name"),
    ("compliance_frameworks", "name"),
    ("compliance_frameworks", "display_name"),
    ("compliance_frameworks", "description"),
    ("generated_policies", "policy_name"),
    ("chat_conversations", "title"),
)
JSON_LISTS = (
    ("compliance_frameworks", "geographic_scope"),
    ("compliance_frameworks", "applicable_industries"),
)
CONTENT_HASH = "ix_evidence_items_ai_metadata_content_hash"


def upgrade() -> None:
    for table, column in TRIGRAMS:
        create_index_concurrently(
            f"ix_{table}_{column}_trgm",
            table,
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
    for table, column in JSON_LISTS:
        create_index_concurrently(
            f"ix_{table}_{column}_gin",
            table,
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "jsonb_path_ops"},
        )
    create_index_concurrently(
        CONTENT_HASH, "evidence_items", [sa.text("(ai_metadata ->> 'content_hash')")]
    )


def downgrade() -> None:
    drop_index_concurrently(CONTENT_HASH, "evidence_items")
    for table, column in reversed(JSON_LISTS):
        drop_index_concurrently(f"ix_{table}_{column}_gin", table)
    for table, column in reversed(TRIGRAMS):
        drop_index_concurrently(f"ix_{table}_{column}_trgm", table)
