"""commit responses: what a Commit sent with a request_id answered

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commit_responses",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_commit_responses")),
    )
    op.create_index(
        op.f("ix_commit_responses_created_at"), "commit_responses", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_commit_responses_created_at"), table_name="commit_responses")
    op.drop_table("commit_responses")
