"""change history: a change event for every write, recorded by the database

`change_events` is append-only; `record_change()` is the trigger function every
resource table calls after each row it inserts, updates or deletes, in the write's
own transaction, so a write and its event can never disagree, whoever wrote.

What the service knows and the database does not (the caller, the end user it acts
for, the request and trace ids, the commit) arrives in transaction-scoped settings
(`set_config('ruleiq.actor', ..., true)`), never session ones, which would stay on a
connection PgBouncer hands to the next client. Without them (psql, a DBA's script)
the event names the database role and is marked `source = 'database'`.

The function runs as its owner (SECURITY DEFINER), so a role that may write a table
records its changes without any right on `change_events` itself.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op
from repositories.migrations import squawk_ignore

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (resource type, owner column, the owner column's table when it holds a
# parent's id rather than the user's, secret columns never recorded). A users row
# is its own owner ("id"): deleting one erases the personal values of its history.
RECORDED = {
    "users": ("User", "id", "", ("hashed_password",)),
    "business_profiles": ("BusinessProfile", "user_id", "", ()),
    "compliance_frameworks": ("ComplianceFramework", "", "", ()),
    "evidence_items": ("Evidence", "user_id", "", ()),
    "generated_policies": ("Policy", "user_id", "", ()),
    "assessment_sessions": ("AssessmentSession", "user_id", "", ()),
    "assessment_questions": ("AssessmentQuestion", "session_id", "assessment_sessions", ()),
    "integrations": ("Integration", "user_id", "", ("encrypted_credentials",)),
    "evidence_collections": ("EvidenceCollection", "user_id", "", ()),
    "integration_health_logs": ("IntegrationHealthLog", "integration_id", "integrations", ()),
    "readiness_assessments": ("ReadinessAssessment", "user_id", "", ()),
    "chat_conversations": ("ChatConversation", "user_id", "", ()),
    "chat_messages": ("ChatMessage", "conversation_id", "chat_conversations", ()),
}

RECORD_CHANGE = r"""
CREATE FUNCTION record_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    -- TG_ARGV: resource type, owner column, owner column's table, secrets...
    secrets text[] := coalesce(TG_ARGV[3:TG_NARGS - 1], '{}');
    actor text := nullif(current_setting('ruleiq.actor', true), '');
    old_row jsonb;
    new_row jsonb;
    row_data jsonb;
    operation text;
    fields text[];
    resource uuid;
    owner uuid;
    parent uuid;
    next_revision bigint := 1;
BEGIN
    IF TG_OP = 'INSERT' THEN
        operation := 'create';
        new_row := to_jsonb(NEW);
        row_data := new_row;
        fields := ARRAY(SELECT jsonb_object_keys(new_row) ORDER BY 1);
    ELSIF TG_OP = 'UPDATE' THEN
        operation := 'update';
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        row_data := new_row;
        fields := ARRAY(
            SELECT n.key FROM jsonb_each(new_row) AS n
            WHERE n.value IS DISTINCT FROM old_row -> n.key ORDER BY 1
        );
        IF cardinality(fields) = 0 THEN
            RETURN NULL;  -- nothing changed: nothing to tell
        END IF;
    ELSE
        operation := 'delete';
        old_row := to_jsonb(OLD);
        row_data := old_row;
        fields := ARRAY(SELECT jsonb_object_keys(old_row) ORDER BY 1);
    END IF;
    resource := (row_data ->> 'id')::uuid;
    IF TG_ARGV[1] <> '' THEN
        IF TG_ARGV[2] = '' THEN
            owner := (row_data ->> TG_ARGV[1])::uuid;
        ELSE
            parent := (row_data ->> TG_ARGV[1])::uuid;
            EXECUTE format('SELECT user_id FROM %I WHERE id = $1', TG_ARGV[2])
                INTO owner USING parent;
            IF owner IS NULL THEN
                -- The parent went first (a cascade): its history still names the owner.
                SELECT e.owner_user_id INTO owner FROM change_events AS e
                WHERE e.resource_id = parent ORDER BY e.id DESC LIMIT 1;
            END IF;
        END IF;
    END IF;
    IF operation <> 'create' THEN
        SELECT e.revision + 1 INTO next_revision FROM change_events AS e
        WHERE e.resource_id = resource AND e.resource_type = TG_ARGV[0]
        ORDER BY e.id DESC LIMIT 1;
        next_revision := coalesce(next_revision, 1);
    END IF;
    IF operation = 'delete' AND TG_ARGV[1] = 'id' THEN
        -- Erasure: the person is gone, so are the personal values of everything
        -- they owned; who, when, what kind of change and which fields stay.
        -- Every event of every resource the user owned (its own included), found
        -- through the two indexes: also a resource's events that name no owner.
        UPDATE change_events SET before = NULL, after = NULL, erased_at = clock_timestamp()
        WHERE erased_at IS NULL AND resource_id IN (
            SELECT o.resource_id FROM change_events AS o WHERE o.owner_user_id = resource
        );
        old_row := NULL;
    END IF;
    INSERT INTO change_events (
        resource_type, resource_id, owner_user_id, operation, revision, changed_fields,
        before, after, actor, source, database_role, on_behalf_of, request_id, trace_id,
        commit_id, transaction_id, erased_at
    ) VALUES (
        TG_ARGV[0], resource, owner, operation, next_revision, fields,
        old_row - secrets, new_row - secrets,
        coalesce(actor, session_user),
        CASE WHEN actor IS NULL THEN 'database' ELSE 'service' END,
        session_user,
        nullif(current_setting('ruleiq.on_behalf_of', true), ''),
        nullif(current_setting('ruleiq.request_id', true), ''),
        nullif(current_setting('ruleiq.trace_id', true), ''),
        nullif(current_setting('ruleiq.commit_id', true), ''),
        pg_current_xact_id()::text::bigint,
        CASE WHEN operation = 'delete' AND TG_ARGV[1] = 'id' THEN clock_timestamp() END
    );
    RETURN NULL;
END
$$
"""


def _arguments(resource_type: str, owner: str, owner_table: str, secrets: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in (resource_type, owner, owner_table, *secrets))


def upgrade() -> None:
    op.create_table(
        "change_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("resource_type", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.UUID(), nullable=False),
        sa.Column("owner_user_id", sa.UUID(), nullable=True),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("changed_fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("database_role", sa.Text(), nullable=False),
        sa.Column("on_behalf_of", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("trace_id", sa.Text(), nullable=True),
        sa.Column("commit_id", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.BigInteger(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "operation IN ('create', 'update', 'delete')",
            name=op.f("ck_change_events_operation_is_known"),
        ),
        sa.CheckConstraint(
            "source IN ('service', 'database')", name=op.f("ck_change_events_source_is_known")
        ),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_change_events_revision_positive")),
        sa.CheckConstraint(
            "jsonb_typeof(before) = 'object'", name=op.f("ck_change_events_before_is_object")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(after) = 'object'", name=op.f("ck_change_events_after_is_object")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
    )
    for columns in (("resource_id", "id"), ("owner_user_id", "id"), ("changed_at",)):
        squawk_ignore(
            "require-concurrent-index-creation", reason="change_events was created just above"
        )
        op.create_index(
            op.f(f"ix_change_events_{'_'.join(columns)}"), "change_events", list(columns)
        )
    # Append-only for everyone but its owner (erasure and the retention purge).
    op.execute("REVOKE ALL ON change_events FROM PUBLIC")
    op.execute(RECORD_CHANGE)
    for table, declaration in RECORDED.items():
        op.execute(
            f"CREATE TRIGGER record_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION record_change({_arguments(*declaration)})"
        )


def downgrade() -> None:
    for table in RECORDED:
        op.execute(f"DROP TRIGGER IF EXISTS record_change ON {table}")
    op.execute("DROP FUNCTION IF EXISTS record_change()")
    op.drop_index(op.f("ix_change_events_changed_at"), table_name="change_events")
    op.drop_index(op.f("ix_change_events_owner_user_id_id"), table_name="change_events")
    op.drop_index(op.f("ix_change_events_resource_id_id"), table_name="change_events")
    op.drop_table("change_events")
