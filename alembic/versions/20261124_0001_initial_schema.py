"""initial schema: every table the service owns

The downgrade removes everything the upgrade made: tables, indexes, the enum
types (which dropping a table leaves behind) and the pg_trgm extension.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 20:14:01.261606
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# The migration lint (make migration-lint) skips this one: it only creates tables,
# empty and used by nothing yet, so no lock it takes can hold up a query.
squawk_exempt = "creates the first, empty tables"


ENUM_TYPES = (
    "assessment_session_status",
    "chat_conversation_status",
    "chat_message_role",
    "collection_mode",
    "data_sensitivity",
    "evidence_collection_status",
    "evidence_priority",
    "evidence_status",
    "integration_health_status",
    "integration_provider",
    "policy_status",
    "score_trend",
)


def upgrade() -> None:
    # The trigram indexes on evidence text need it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "compliance_frameworks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column(
            "applicable_industries",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("employee_thresholds", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("revenue_thresholds", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "geographic_scope",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[\"UK\"]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "key_requirements",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "control_domains",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "evidence_types",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("relevance_factors", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("policy_template", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("control_templates", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("evidence_templates", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("complexity_score", sa.Integer(), server_default="1", nullable=False),
        sa.Column("implementation_time_weeks", sa.Integer(), server_default="12", nullable=False),
        sa.Column("estimated_cost_range", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Text(), server_default="1.0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(applicable_industries) = 'array'",
            name=op.f("ck_compliance_frameworks_applicable_industries_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(control_domains) = 'array'",
            name=op.f("ck_compliance_frameworks_control_domains_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(evidence_types) = 'array'",
            name=op.f("ck_compliance_frameworks_evidence_types_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(geographic_scope) = 'array'",
            name=op.f("ck_compliance_frameworks_geographic_scope_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(key_requirements) = 'array'",
            name=op.f("ck_compliance_frameworks_key_requirements_is_array"),
        ),
        sa.CheckConstraint(
            "version ~ '^[0-9]+\\.[0-9]+(\\.[0-9]+)?$'",
            name=op.f("ck_compliance_frameworks_version_format"),
        ),
        sa.CheckConstraint(
            "complexity_score BETWEEN 1 AND 10",
            name=op.f("ck_compliance_frameworks_complexity_score_range"),
        ),
        sa.CheckConstraint(
            "implementation_time_weeks >= 1",
            name=op.f("ck_compliance_frameworks_implementation_time_weeks_positive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_frameworks")),
        sa.UniqueConstraint("name", name=op.f("uq_compliance_frameworks_name")),
    )
    op.create_index(
        op.f("ix_compliance_frameworks_category"),
        "compliance_frameworks",
        ["category"],
        unique=False,
    )
    op.create_index(
        op.f("ix_compliance_frameworks_created_at_id"),
        "compliance_frameworks",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_compliance_frameworks_is_active"),
        "compliance_frameworks",
        ["is_active"],
        unique=False,
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("resource_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("resource", "request_id", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("hashed_password", sa.Text(), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=True),
        sa.Column("google_id", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("position('@' in email) > 1", name=op.f("ck_users_email_has_at")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("google_id", name=op.f("uq_users_google_id")),
    )
    op.create_index(op.f("ix_users_created_at_id"), "users", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_users_is_active"), "users", ["is_active"], unique=False)
    op.create_index(
        "uq_users_lower_email", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "business_profiles",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("company_name", sa.Text(), nullable=False),
        sa.Column("industry", sa.Text(), nullable=False),
        sa.Column("employee_count", sa.Integer(), nullable=False),
        sa.Column("annual_revenue", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), server_default="UK", nullable=False),
        sa.Column(
            "data_sensitivity",
            sa.Enum("Low", "Medium", "High", "Critical", name="data_sensitivity"),
            server_default="Low",
            nullable=False,
        ),
        sa.Column(
            "handles_personal_data", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "processes_payments", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "stores_health_data", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "provides_financial_services",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column(
            "operates_critical_infrastructure",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column(
            "has_international_operations",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
        sa.Column(
            "cloud_providers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "saas_tools",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "development_tools",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "existing_frameworks",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "planned_frameworks",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("compliance_budget", sa.Text(), nullable=True),
        sa.Column("compliance_timeline", sa.Text(), nullable=True),
        sa.Column(
            "assessment_completed", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("assessment_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(assessment_data) = 'object'",
            name=op.f("ck_business_profiles_assessment_data_is_object"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(cloud_providers) = 'array'",
            name=op.f("ck_business_profiles_cloud_providers_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(development_tools) = 'array'",
            name=op.f("ck_business_profiles_development_tools_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(existing_frameworks) = 'array'",
            name=op.f("ck_business_profiles_existing_frameworks_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(planned_frameworks) = 'array'",
            name=op.f("ck_business_profiles_planned_frameworks_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(saas_tools) = 'array'",
            name=op.f("ck_business_profiles_saas_tools_is_array"),
        ),
        sa.CheckConstraint(
            "employee_count BETWEEN 1 AND 1000000",
            name=op.f("ck_business_profiles_employee_count_range"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_business_profiles_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_business_profiles_user_id")),
    )
    op.create_index(
        op.f("ix_business_profiles_created_at_id"),
        "business_profiles",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_business_profiles_industry"), "business_profiles", ["industry"], unique=False
    )
    op.create_table(
        "integrations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "provider",
            sa.Enum(
                "aws",
                "okta",
                "google_workspace",
                "microsoft_365",
                "azure",
                "github",
                "gitlab",
                name="integration_provider",
            ),
            nullable=False,
        ),
        sa.Column("encrypted_credentials", sa.Text(), nullable=False),
        sa.Column("health_status", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_health_check", sa.DateTime(timezone=True), nullable=True),
        sa.Column("configuration_metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(configuration_metadata) = 'object'",
            name=op.f("ck_integrations_configuration_metadata_is_object"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(health_status) = 'object'",
            name=op.f("ck_integrations_health_status_is_object"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_integrations_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("user_id", "provider", name=op.f("uq_integrations_user_id_provider")),
    )
    op.create_index(
        op.f("ix_integrations_created_at_id"), "integrations", ["created_at", "id"], unique=False
    )
    op.create_index(
        op.f("ix_integrations_provider_is_active"),
        "integrations",
        ["provider", "is_active"],
        unique=False,
    )
    op.create_index(
        op.f("ix_integrations_user_id_is_active"),
        "integrations",
        ["user_id", "is_active"],
        unique=False,
    )
    op.create_table(
        "assessment_sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("business_profile_id", sa.UUID(), nullable=True),
        sa.Column("session_type", sa.Text(), server_default="compliance_scoping", nullable=False),
        sa.Column(
            "status",
            sa.Enum("in_progress", "completed", "abandoned", name="assessment_session_status"),
            server_default="in_progress",
            nullable=False,
        ),
        sa.Column("current_stage", sa.Integer(), server_default="1", nullable=False),
        sa.Column("total_stages", sa.Integer(), server_default="5", nullable=False),
        sa.Column("questions_answered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total_questions", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "responses",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "calculated_scores",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "recommendations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "recommended_frameworks",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "priority_order",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "next_steps",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_activity",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(calculated_scores) = 'object'",
            name=op.f("ck_assessment_sessions_calculated_scores_is_object"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(next_steps) = 'array'",
            name=op.f("ck_assessment_sessions_next_steps_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(priority_order) = 'array'",
            name=op.f("ck_assessment_sessions_priority_order_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(recommendations) = 'array'",
            name=op.f("ck_assessment_sessions_recommendations_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(recommended_frameworks) = 'array'",
            name=op.f("ck_assessment_sessions_recommended_frameworks_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(responses) = 'object'",
            name=op.f("ck_assessment_sessions_responses_is_object"),
        ),
        sa.CheckConstraint(
            "current_stage >= 1", name=op.f("ck_assessment_sessions_current_stage_positive")
        ),
        sa.CheckConstraint(
            "questions_answered >= 0",
            name=op.f("ck_assessment_sessions_questions_answered_not_negative"),
        ),
        sa.CheckConstraint(
            "total_questions >= 0", name=op.f("ck_assessment_sessions_total_questions_not_negative")
        ),
        sa.CheckConstraint(
            "total_stages >= 1", name=op.f("ck_assessment_sessions_total_stages_positive")
        ),
        sa.ForeignKeyConstraint(
            ["business_profile_id"],
            ["business_profiles.id"],
            name=op.f("fk_assessment_sessions_business_profile_id_business_profiles"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_assessment_sessions_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_sessions")),
    )
    op.create_index(
        op.f("ix_assessment_sessions_business_profile_id"),
        "assessment_sessions",
        ["business_profile_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_assessment_sessions_created_at_id"),
        "assessment_sessions",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_assessment_sessions_user_id_status"),
        "assessment_sessions",
        ["user_id", "status"],
        unique=False,
    )
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("business_profile_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "archived", "deleted", name="chat_conversation_status"),
            server_default="active",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "char_length(title) BETWEEN 1 AND 255", name=op.f("ck_chat_conversations_title_length")
        ),
        sa.ForeignKeyConstraint(
            ["business_profile_id"],
            ["business_profiles.id"],
            name=op.f("fk_chat_conversations_business_profile_id_business_profiles"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_conversations_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_conversations")),
    )
    op.create_index(
        op.f("ix_chat_conversations_business_profile_id"),
        "chat_conversations",
        ["business_profile_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_chat_conversations_created_at_id"),
        "chat_conversations",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_chat_conversations_user_id"), "chat_conversations", ["user_id"], unique=False
    )
    op.create_table(
        "evidence_collections",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("framework_code", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="evidence_collection_status",
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("progress_percentage", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "evidence_types_requested",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "evidence_types_completed",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("quality_score", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("estimated_completion", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_activity", sa.Text(), nullable=True),
        sa.Column(
            "errors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "business_profile_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=True
        ),
        sa.Column(
            "collection_mode",
            sa.Enum("immediate", "scheduled", "streaming", name="collection_mode"),
            server_default="immediate",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(business_profile_snapshot) = 'object'",
            name=op.f("ck_evidence_collections_business_profile_snapshot_is_object"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(errors) = 'array'", name=op.f("ck_evidence_collections_errors_is_array")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(evidence_types_completed) = 'array'",
            name=op.f("ck_evidence_collections_evidence_types_completed_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(evidence_types_requested) = 'array'",
            name=op.f("ck_evidence_collections_evidence_types_requested_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(quality_score) = 'object'",
            name=op.f("ck_evidence_collections_quality_score_is_object"),
        ),
        sa.CheckConstraint(
            "progress_percentage BETWEEN 0 AND 100",
            name=op.f("ck_evidence_collections_progress_percentage_range"),
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_evidence_collections_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_evidence_collections_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_collections")),
    )
    op.create_index(
        op.f("ix_evidence_collections_created_at_id"),
        "evidence_collections",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evidence_collections_framework_code"),
        "evidence_collections",
        ["framework_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evidence_collections_integration_id"),
        "evidence_collections",
        ["integration_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evidence_collections_status"), "evidence_collections", ["status"], unique=False
    )
    op.create_index(
        op.f("ix_evidence_collections_user_id"), "evidence_collections", ["user_id"], unique=False
    )
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("business_profile_id", sa.UUID(), nullable=False),
        sa.Column("framework_id", sa.UUID(), nullable=False),
        sa.Column("evidence_name", sa.Text(), nullable=False),
        sa.Column("evidence_type", sa.Text(), nullable=False),
        sa.Column("control_reference", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "required_for_audit", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("collection_frequency", sa.Text(), server_default="once", nullable=False),
        sa.Column("collection_method", sa.Text(), server_default="manual", nullable=False),
        sa.Column("automation_source", sa.Text(), nullable=True),
        sa.Column("automation_guidance", sa.Text(), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("file_type", sa.Text(), nullable=True),
        sa.Column("file_size_bytes", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "collected",
                "under_review",
                "approved",
                "rejected",
                "expired",
                name="evidence_status",
            ),
            server_default="not_started",
            nullable=False,
        ),
        sa.Column("collection_notes", sa.Text(), nullable=True),
        sa.Column("review_notes", sa.Text(), nullable=True),
        sa.Column("collected_by", sa.Text(), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "priority",
            sa.Enum("low", "medium", "high", "critical", name="evidence_priority"),
            server_default="medium",
            nullable=False,
        ),
        sa.Column("effort_estimate", sa.Text(), nullable=True),
        sa.Column("audit_section", sa.Text(), nullable=True),
        sa.Column("compliance_score_impact", sa.Double(), server_default="0", nullable=False),
        sa.Column("ai_metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(ai_metadata) = 'object'",
            name=op.f("ck_evidence_items_ai_metadata_is_object"),
        ),
        sa.CheckConstraint(
            "compliance_score_impact BETWEEN 0 AND 100",
            name=op.f("ck_evidence_items_compliance_score_impact_range"),
        ),
        sa.CheckConstraint(
            "file_size_bytes >= 0", name=op.f("ck_evidence_items_file_size_bytes_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["business_profile_id"],
            ["business_profiles.id"],
            name=op.f("fk_evidence_items_business_profile_id_business_profiles"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["compliance_frameworks.id"],
            name=op.f("fk_evidence_items_framework_id_compliance_frameworks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_evidence_items_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
    )
    op.create_index(
        op.f("ix_evidence_items_business_profile_id"),
        "evidence_items",
        ["business_profile_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evidence_items_created_at_id"),
        "evidence_items",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_evidence_items_description_trgm",
        "evidence_items",
        ["description"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"description": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_evidence_items_evidence_name_trgm",
        "evidence_items",
        ["evidence_name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"evidence_name": "gin_trgm_ops"},
    )
    op.create_index(
        op.f("ix_evidence_items_framework_id"), "evidence_items", ["framework_id"], unique=False
    )
    op.create_index(
        op.f("ix_evidence_items_user_id_status"),
        "evidence_items",
        ["user_id", "status"],
        unique=False,
    )
    op.create_table(
        "generated_policies",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("business_profile_id", sa.UUID(), nullable=False),
        sa.Column("framework_id", sa.UUID(), nullable=False),
        sa.Column("policy_name", sa.Text(), nullable=False),
        sa.Column("framework_name", sa.Text(), nullable=False),
        sa.Column("policy_type", sa.Text(), server_default="comprehensive", nullable=False),
        sa.Column("generation_prompt", sa.Text(), nullable=True),
        sa.Column("generation_model", sa.Text(), nullable=True),
        sa.Column("generation_time_seconds", sa.Double(), nullable=True),
        sa.Column("policy_content", sa.Text(), nullable=False),
        sa.Column(
            "procedures",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tool_recommendations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "sections",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "controls",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "responsibilities",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("word_count", sa.Integer(), nullable=True),
        sa.Column("estimated_reading_time", sa.Integer(), nullable=True),
        sa.Column("compliance_coverage", sa.Double(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft", "reviewed", "approved", "implemented", "deprecated", name="policy_status"
            ),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("review_notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), server_default="1.0", nullable=False),
        sa.Column(
            "generated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(controls) = 'array'", name=op.f("ck_generated_policies_controls_is_array")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(procedures) = 'array'",
            name=op.f("ck_generated_policies_procedures_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(responsibilities) = 'object'",
            name=op.f("ck_generated_policies_responsibilities_is_object"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(sections) = 'array'", name=op.f("ck_generated_policies_sections_is_array")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(tool_recommendations) = 'array'",
            name=op.f("ck_generated_policies_tool_recommendations_is_array"),
        ),
        sa.CheckConstraint(
            "compliance_coverage BETWEEN 0 AND 1",
            name=op.f("ck_generated_policies_compliance_coverage_range"),
        ),
        sa.CheckConstraint(
            "estimated_reading_time >= 0",
            name=op.f("ck_generated_policies_reading_time_not_negative"),
        ),
        sa.CheckConstraint(
            "generation_time_seconds >= 0",
            name=op.f("ck_generated_policies_generation_time_not_negative"),
        ),
        sa.CheckConstraint(
            "word_count >= 0", name=op.f("ck_generated_policies_word_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["business_profile_id"],
            ["business_profiles.id"],
            name=op.f("fk_generated_policies_business_profile_id_business_profiles"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["compliance_frameworks.id"],
            name=op.f("fk_generated_policies_framework_id_compliance_frameworks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_generated_policies_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generated_policies")),
    )
    op.create_index(
        op.f("ix_generated_policies_business_profile_id"),
        "generated_policies",
        ["business_profile_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_generated_policies_created_at_id"),
        "generated_policies",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_generated_policies_framework_id"),
        "generated_policies",
        ["framework_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_generated_policies_user_id"), "generated_policies", ["user_id"], unique=False
    )
    op.create_table(
        "integration_health_logs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "healthy", "unhealthy", "degraded", "unknown", name="integration_health_status"
            ),
            nullable=False,
        ),
        sa.Column("response_time_ms", sa.Double(), nullable=True),
        sa.Column("error_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("health_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "checked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "response_time_ms >= 0",
            name=op.f("ck_integration_health_logs_response_time_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_health_logs_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_health_logs")),
    )
    op.create_index(
        op.f("ix_integration_health_logs_checked_at_id"),
        "integration_health_logs",
        ["checked_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_integration_health_logs_integration_id_checked_at",
        "integration_health_logs",
        ["integration_id", sa.literal_column("checked_at DESC")],
        unique=False,
    )
    op.create_index(
        op.f("ix_integration_health_logs_status"),
        "integration_health_logs",
        ["status"],
        unique=False,
    )
    op.create_table(
        "readiness_assessments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("business_profile_id", sa.UUID(), nullable=False),
        sa.Column("framework_id", sa.UUID(), nullable=False),
        sa.Column("overall_score", sa.Double(), nullable=False),
        sa.Column(
            "score_breakdown",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "priority_actions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "quick_wins",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "score_trend",
            sa.Enum("improving", "stable", "declining", "unknown", name="score_trend"),
            server_default="stable",
            nullable=False,
        ),
        sa.Column("estimated_readiness_date", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(priority_actions) = 'array'",
            name=op.f("ck_readiness_assessments_priority_actions_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(quick_wins) = 'array'",
            name=op.f("ck_readiness_assessments_quick_wins_is_array"),
        ),
        sa.CheckConstraint(
            "jsonb_typeof(score_breakdown) = 'object'",
            name=op.f("ck_readiness_assessments_score_breakdown_is_object"),
        ),
        sa.CheckConstraint(
            "overall_score BETWEEN 0 AND 100",
            name=op.f("ck_readiness_assessments_overall_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["business_profile_id"],
            ["business_profiles.id"],
            name=op.f("fk_readiness_assessments_business_profile_id_business_profiles"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["compliance_frameworks.id"],
            name=op.f("fk_readiness_assessments_framework_id_compliance_frameworks"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_readiness_assessments_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_assessments")),
    )
    op.create_index(
        op.f("ix_readiness_assessments_business_profile_id"),
        "readiness_assessments",
        ["business_profile_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_readiness_assessments_created_at_id"),
        "readiness_assessments",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_readiness_assessments_framework_id"),
        "readiness_assessments",
        ["framework_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_readiness_assessments_user_id"), "readiness_assessments", ["user_id"], unique=False
    )
    op.create_table(
        "assessment_questions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("question_text", sa.Text(), nullable=False),
        sa.Column("question_type", sa.Text(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("options", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "position >= 0", name=op.f("ck_assessment_questions_position_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["assessment_sessions.id"],
            name=op.f("fk_assessment_questions_session_id_assessment_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_questions")),
    )
    op.create_index(
        op.f("ix_assessment_questions_created_at_id"),
        "assessment_questions",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_assessment_questions_session_id"),
        "assessment_questions",
        ["session_id"],
        unique=False,
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column(
            "role", sa.Enum("user", "assistant", "system", name="chat_message_role"), nullable=False
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("message_metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("sequence_number", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "jsonb_typeof(message_metadata) = 'object'",
            name=op.f("ck_chat_messages_message_metadata_is_object"),
        ),
        sa.CheckConstraint(
            "sequence_number >= 1", name=op.f("ck_chat_messages_sequence_number_positive")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_chat_messages_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint(
            "conversation_id",
            "sequence_number",
            name=op.f("uq_chat_messages_conversation_id_sequence_number"),
        ),
    )
    op.create_index(
        op.f("ix_chat_messages_created_at_id"), "chat_messages", ["created_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_messages_created_at_id"), table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index(op.f("ix_assessment_questions_session_id"), table_name="assessment_questions")
    op.drop_index(op.f("ix_assessment_questions_created_at_id"), table_name="assessment_questions")
    op.drop_table("assessment_questions")
    op.drop_index(op.f("ix_readiness_assessments_user_id"), table_name="readiness_assessments")
    op.drop_index(op.f("ix_readiness_assessments_framework_id"), table_name="readiness_assessments")
    op.drop_index(
        op.f("ix_readiness_assessments_created_at_id"), table_name="readiness_assessments"
    )
    op.drop_index(
        op.f("ix_readiness_assessments_business_profile_id"), table_name="readiness_assessments"
    )
    op.drop_table("readiness_assessments")
    op.drop_index(op.f("ix_integration_health_logs_status"), table_name="integration_health_logs")
    op.drop_index(
        "ix_integration_health_logs_integration_id_checked_at", table_name="integration_health_logs"
    )
    op.drop_index(
        op.f("ix_integration_health_logs_checked_at_id"), table_name="integration_health_logs"
    )
    op.drop_table("integration_health_logs")
    op.drop_index(op.f("ix_generated_policies_user_id"), table_name="generated_policies")
    op.drop_index(op.f("ix_generated_policies_framework_id"), table_name="generated_policies")
    op.drop_index(op.f("ix_generated_policies_created_at_id"), table_name="generated_policies")
    op.drop_index(
        op.f("ix_generated_policies_business_profile_id"), table_name="generated_policies"
    )
    op.drop_table("generated_policies")
    op.drop_index(op.f("ix_evidence_items_user_id_status"), table_name="evidence_items")
    op.drop_index(op.f("ix_evidence_items_framework_id"), table_name="evidence_items")
    op.drop_index(
        "ix_evidence_items_evidence_name_trgm",
        table_name="evidence_items",
        postgresql_using="gin",
        postgresql_ops={"evidence_name": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_evidence_items_description_trgm",
        table_name="evidence_items",
        postgresql_using="gin",
        postgresql_ops={"description": "gin_trgm_ops"},
    )
    op.drop_index(op.f("ix_evidence_items_created_at_id"), table_name="evidence_items")
    op.drop_index(op.f("ix_evidence_items_business_profile_id"), table_name="evidence_items")
    op.drop_table("evidence_items")
    op.drop_index(op.f("ix_evidence_collections_user_id"), table_name="evidence_collections")
    op.drop_index(op.f("ix_evidence_collections_status"), table_name="evidence_collections")
    op.drop_index(op.f("ix_evidence_collections_integration_id"), table_name="evidence_collections")
    op.drop_index(op.f("ix_evidence_collections_framework_code"), table_name="evidence_collections")
    op.drop_index(op.f("ix_evidence_collections_created_at_id"), table_name="evidence_collections")
    op.drop_table("evidence_collections")
    op.drop_index(op.f("ix_chat_conversations_user_id"), table_name="chat_conversations")
    op.drop_index(op.f("ix_chat_conversations_created_at_id"), table_name="chat_conversations")
    op.drop_index(
        op.f("ix_chat_conversations_business_profile_id"), table_name="chat_conversations"
    )
    op.drop_table("chat_conversations")
    op.drop_index(op.f("ix_assessment_sessions_user_id_status"), table_name="assessment_sessions")
    op.drop_index(op.f("ix_assessment_sessions_created_at_id"), table_name="assessment_sessions")
    op.drop_index(
        op.f("ix_assessment_sessions_business_profile_id"), table_name="assessment_sessions"
    )
    op.drop_table("assessment_sessions")
    op.drop_index(op.f("ix_integrations_user_id_is_active"), table_name="integrations")
    op.drop_index(op.f("ix_integrations_provider_is_active"), table_name="integrations")
    op.drop_index(op.f("ix_integrations_created_at_id"), table_name="integrations")
    op.drop_table("integrations")
    op.drop_index(op.f("ix_business_profiles_industry"), table_name="business_profiles")
    op.drop_index(op.f("ix_business_profiles_created_at_id"), table_name="business_profiles")
    op.drop_table("business_profiles")
    op.drop_index("uq_users_lower_email", table_name="users")
    op.drop_index(op.f("ix_users_is_active"), table_name="users")
    op.drop_index(op.f("ix_users_created_at_id"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_compliance_frameworks_is_active"), table_name="compliance_frameworks")
    op.drop_index(
        op.f("ix_compliance_frameworks_created_at_id"), table_name="compliance_frameworks"
    )
    op.drop_index(op.f("ix_compliance_frameworks_category"), table_name="compliance_frameworks")
    op.drop_table("compliance_frameworks")
    for name in ENUM_TYPES:
        op.execute(f"DROP TYPE IF EXISTS {name}")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
