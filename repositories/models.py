"""ORM classes for every table the service owns.

Conventions enforced here rather than in each class:
- constraint and index names come from one naming convention, so errors can be
  mapped back to the rule that was broken;
- every JSONB column declares whether it holds an object or a list, and the database
  checks it;
- closed sets of values are native PostgreSQL enums storing the lowercase values.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .ids import uuid7
from .names import snake

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: DateTime(timezone=True),
        dt.date: Date(),
        uuid.UUID: UUID(as_uuid=True),
        float: Double(),
        str: Text(),
    }


class _StrEnum(enum.StrEnum):
    """A closed set whose database value is the member's value."""


class DataSensitivity(_StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"


class EvidenceStatus(_StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COLLECTED = "collected"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class EvidencePriority(_StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class PolicyStatus(_StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    IMPLEMENTED = "implemented"
    DEPRECATED = "deprecated"


class AssessmentSessionStatus(_StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class IntegrationProvider(_StrEnum):
    AWS = "aws"
    OKTA = "okta"
    GOOGLE_WORKSPACE = "google_workspace"
    MICROSOFT_365 = "microsoft_365"
    AZURE = "azure"
    GITHUB = "github"
    GITLAB = "gitlab"


class EvidenceCollectionStatus(_StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CollectionMode(_StrEnum):
    IMMEDIATE = "immediate"
    SCHEDULED = "scheduled"
    STREAMING = "streaming"


class IntegrationHealthStatus(_StrEnum):
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    DEGRADED = "degraded"
    UNKNOWN = "unknown"


class ScoreTrend(_StrEnum):
    IMPROVING = "improving"
    STABLE = "stable"
    DECLINING = "declining"
    UNKNOWN = "unknown"


class ChatConversationStatus(_StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    DELETED = "deleted"


class ChatMessageRole(_StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


def closed_set(enum_class: type[_StrEnum], default: _StrEnum | None = None) -> Any:
    """A native PostgreSQL enum column storing the members' values (the original
    stored names and checked values, so its CHECK could never pass)."""
    column_type = Enum(
        enum_class,
        name=snake(enum_class.__name__),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
    if default is None:
        return mapped_column(column_type)
    return mapped_column(column_type, server_default=default.value)


# None is SQL NULL: by default SQLAlchemy writes Python None as the JSON document
# `null`, which the shape CHECKs refuse and `IS NULL` does not find.
JSON = JSONB(none_as_null=True)


def json_list(*, default: str = "[]", nullable: bool = False) -> Any:
    """A JSONB column that must hold a list."""
    server_default = None if nullable else text(f"'{default}'::jsonb")
    return mapped_column(
        JSON, nullable=nullable, server_default=server_default, info={"json": "array"}
    )


def json_object(*, nullable: bool = True) -> Any:
    """A JSONB column that must hold an object."""
    server_default = None if nullable else text("'{}'::jsonb")
    return mapped_column(
        JSON, nullable=nullable, server_default=server_default, info={"json": "object"}
    )


def json_any() -> Any:
    """A JSONB column holding any JSON document the caller chose."""
    return mapped_column(JSON, nullable=True)


def parent(table: str, *, cascade: bool = False, nullable: bool = False, index: bool = True) -> Any:
    """A foreign key with an explicit ON DELETE and, unless another index leads with
    this column, an index of its own."""
    return mapped_column(
        ForeignKey(f"{table}.id", ondelete="CASCADE" if cascade else "RESTRICT"),
        nullable=nullable,
        index=index,
    )


def flag(default: bool) -> Any:
    return mapped_column(server_default=text("true" if default else "false"))


def default_text(value: str) -> Any:
    return mapped_column(server_default=value)


def default_int(value: int) -> Any:
    return mapped_column(server_default=str(value))


def now_default() -> Any:
    return mapped_column(server_default=func.now())


def trigram(table: str, column: str) -> Index:
    """A pg_trgm GIN index: it serves search()'s ILIKE '%text%' and wildcards."""
    return Index(
        f"ix_{table}_{column}_trgm",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    )


def json_has(table: str, column: str) -> Index:
    """A GIN index on a JSON list: it serves `column:value` (jsonb @>)."""
    return Index(
        f"ix_{table}_{column}_gin",
        column,
        postgresql_using="gin",
        postgresql_ops={column: "jsonb_path_ops"},
    )


class Timestamped(Base):
    """A time-ordered id and the created/updated times most tables share."""

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7, sort_order=-1)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), sort_order=1)
    updated_at: Mapped[dt.datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), sort_order=1
    )


class User(Timestamped):
    __tablename__ = "users"
    __table_args__ = (
        # Named by hand: the convention cannot name an expression index.
        Index("uq_users_lower_email", func.lower(text("email")), unique=True),
        trigram("users", "email"),
        trigram("users", "full_name"),
        CheckConstraint("position('@' in email) > 1", name="email_has_at"),
    )

    email: Mapped[str]
    hashed_password: Mapped[str | None]
    full_name: Mapped[str | None]
    google_id: Mapped[str | None] = mapped_column(unique=True)
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), index=True)


class BusinessProfile(Timestamped):
    __tablename__ = "business_profiles"
    __table_args__ = (
        CheckConstraint("employee_count BETWEEN 1 AND 1000000", name="employee_count_range"),
        trigram("business_profiles", "company_name"),
    )

    # The unique constraint's index serves the foreign key too.
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True
    )
    company_name: Mapped[str]
    industry: Mapped[str] = mapped_column(index=True)
    employee_count: Mapped[int]
    annual_revenue: Mapped[str | None]
    country: Mapped[str] = default_text("UK")
    data_sensitivity: Mapped[DataSensitivity] = closed_set(DataSensitivity, DataSensitivity.LOW)
    handles_personal_data: Mapped[bool] = flag(False)
    processes_payments: Mapped[bool] = flag(False)
    stores_health_data: Mapped[bool] = flag(False)
    provides_financial_services: Mapped[bool] = flag(False)
    operates_critical_infrastructure: Mapped[bool] = flag(False)
    has_international_operations: Mapped[bool] = flag(False)
    cloud_providers: Mapped[list[Any]] = json_list()
    saas_tools: Mapped[list[Any]] = json_list()
    development_tools: Mapped[list[Any]] = json_list()
    existing_frameworks: Mapped[list[Any]] = json_list()
    planned_frameworks: Mapped[list[Any]] = json_list()
    compliance_budget: Mapped[str | None]
    compliance_timeline: Mapped[str | None]
    assessment_completed: Mapped[bool] = flag(False)
    assessment_data: Mapped[dict[str, Any] | None] = json_object()


class ComplianceFramework(Timestamped):
    __tablename__ = "compliance_frameworks"
    __table_args__ = (
        CheckConstraint("complexity_score BETWEEN 1 AND 10", name="complexity_score_range"),
        CheckConstraint(
            "implementation_time_weeks >= 1", name="implementation_time_weeks_positive"
        ),
        CheckConstraint(r"version ~ '^[0-9]+\.[0-9]+(\.[0-9]+)?$'", name="version_format"),
        trigram("compliance_frameworks", "name"),
        trigram("compliance_frameworks", "display_name"),
        trigram("compliance_frameworks", "description"),
        json_has("compliance_frameworks", "geographic_scope"),
        json_has("compliance_frameworks", "applicable_industries"),
    )

    name: Mapped[str] = mapped_column(unique=True)
    display_name: Mapped[str]
    description: Mapped[str]
    category: Mapped[str] = mapped_column(index=True)
    applicable_industries: Mapped[list[Any]] = json_list()
    employee_thresholds: Mapped[Any] = json_any()
    revenue_thresholds: Mapped[Any] = json_any()
    geographic_scope: Mapped[list[Any]] = json_list(default='["UK"]')
    key_requirements: Mapped[list[Any]] = json_list()
    control_domains: Mapped[list[Any]] = json_list()
    evidence_types: Mapped[list[Any]] = json_list()
    relevance_factors: Mapped[Any] = json_any()
    policy_template: Mapped[Any] = json_any()
    control_templates: Mapped[Any] = json_any()
    evidence_templates: Mapped[Any] = json_any()
    complexity_score: Mapped[int] = default_int(1)
    implementation_time_weeks: Mapped[int] = default_int(12)
    estimated_cost_range: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(server_default=text("true"), index=True)
    version: Mapped[str] = default_text("1.0")


class Evidence(Timestamped):
    __tablename__ = "evidence_items"
    __table_args__ = (
        Index(None, "user_id", "status"),
        Index(
            "ix_evidence_items_evidence_name_trgm",
            "evidence_name",
            postgresql_using="gin",
            postgresql_ops={"evidence_name": "gin_trgm_ops"},
        ),
        Index(
            "ix_evidence_items_description_trgm",
            "description",
            postgresql_using="gin",
            postgresql_ops={"description": "gin_trgm_ops"},
        ),
        # Named by hand: the convention cannot name an expression index.
        Index(
            "ix_evidence_items_ai_metadata_content_hash",
            text("(ai_metadata ->> 'content_hash')"),
        ),
        CheckConstraint("file_size_bytes >= 0", name="file_size_bytes_not_negative"),
        CheckConstraint(
            "compliance_score_impact BETWEEN 0 AND 100", name="compliance_score_impact_range"
        ),
    )

    user_id: Mapped[uuid.UUID] = parent("users", index=False)  # (user_id, status) leads with it
    business_profile_id: Mapped[uuid.UUID] = parent("business_profiles")
    framework_id: Mapped[uuid.UUID] = parent("compliance_frameworks")
    evidence_name: Mapped[str]
    evidence_type: Mapped[str]
    control_reference: Mapped[str]
    description: Mapped[str]
    required_for_audit: Mapped[bool] = flag(True)
    collection_frequency: Mapped[str] = default_text("once")
    collection_method: Mapped[str] = default_text("manual")
    automation_source: Mapped[str | None]
    automation_guidance: Mapped[str | None]
    file_path: Mapped[str | None]
    file_type: Mapped[str | None]
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[EvidenceStatus] = closed_set(EvidenceStatus, EvidenceStatus.NOT_STARTED)
    collection_notes: Mapped[str | None]
    review_notes: Mapped[str | None]
    collected_by: Mapped[str | None]
    collected_at: Mapped[dt.datetime | None]
    reviewed_by: Mapped[str | None]
    reviewed_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None]
    approved_at: Mapped[dt.datetime | None]
    priority: Mapped[EvidencePriority] = closed_set(EvidencePriority, EvidencePriority.MEDIUM)
    effort_estimate: Mapped[str | None]
    audit_section: Mapped[str | None]
    compliance_score_impact: Mapped[float] = default_int(0)
    ai_metadata: Mapped[dict[str, Any] | None] = json_object()


class Policy(Timestamped):
    __tablename__ = "generated_policies"
    __table_args__ = (
        CheckConstraint("generation_time_seconds >= 0", name="generation_time_not_negative"),
        CheckConstraint("word_count >= 0", name="word_count_not_negative"),
        CheckConstraint("estimated_reading_time >= 0", name="reading_time_not_negative"),
        CheckConstraint("compliance_coverage BETWEEN 0 AND 1", name="compliance_coverage_range"),
        trigram("generated_policies", "policy_name"),
    )

    user_id: Mapped[uuid.UUID] = parent("users")
    business_profile_id: Mapped[uuid.UUID] = parent("business_profiles")
    framework_id: Mapped[uuid.UUID] = parent("compliance_frameworks")
    policy_name: Mapped[str]
    framework_name: Mapped[str]
    policy_type: Mapped[str] = default_text("comprehensive")
    generation_prompt: Mapped[str | None]
    generation_model: Mapped[str | None]
    generation_time_seconds: Mapped[float | None]
    policy_content: Mapped[str]
    procedures: Mapped[list[Any]] = json_list()
    tool_recommendations: Mapped[list[Any]] = json_list()
    sections: Mapped[list[Any]] = json_list()
    controls: Mapped[list[Any]] = json_list()
    responsibilities: Mapped[dict[str, Any]] = json_object(nullable=False)
    word_count: Mapped[int | None]
    estimated_reading_time: Mapped[int | None]
    compliance_coverage: Mapped[float | None]
    status: Mapped[PolicyStatus] = closed_set(PolicyStatus, PolicyStatus.DRAFT)
    review_notes: Mapped[str | None]
    version: Mapped[str] = default_text("1.0")
    generated_at: Mapped[dt.datetime] = now_default()
    reviewed_at: Mapped[dt.datetime | None]
    approved_at: Mapped[dt.datetime | None]


class AssessmentSession(Timestamped):
    __tablename__ = "assessment_sessions"
    __table_args__ = (
        Index(None, "user_id", "status"),
        CheckConstraint("current_stage >= 1", name="current_stage_positive"),
        CheckConstraint("total_stages >= 1", name="total_stages_positive"),
        CheckConstraint("questions_answered >= 0", name="questions_answered_not_negative"),
        CheckConstraint("total_questions >= 0", name="total_questions_not_negative"),
    )

    user_id: Mapped[uuid.UUID] = parent("users", index=False)  # (user_id, status) leads with it
    business_profile_id: Mapped[uuid.UUID | None] = parent("business_profiles", nullable=True)
    session_type: Mapped[str] = default_text("compliance_scoping")
    status: Mapped[AssessmentSessionStatus] = closed_set(
        AssessmentSessionStatus, AssessmentSessionStatus.IN_PROGRESS
    )
    current_stage: Mapped[int] = default_int(1)
    total_stages: Mapped[int] = default_int(5)
    questions_answered: Mapped[int] = default_int(0)
    total_questions: Mapped[int] = default_int(0)
    responses: Mapped[dict[str, Any]] = json_object(nullable=False)
    calculated_scores: Mapped[dict[str, Any]] = json_object(nullable=False)
    recommendations: Mapped[list[Any]] = json_list()
    recommended_frameworks: Mapped[list[Any]] = json_list()
    priority_order: Mapped[list[Any]] = json_list()
    next_steps: Mapped[list[Any]] = json_list()
    started_at: Mapped[dt.datetime] = now_default()
    last_activity: Mapped[dt.datetime] = now_default()
    completed_at: Mapped[dt.datetime | None]


class AssessmentQuestion(Timestamped):
    __tablename__ = "assessment_questions"
    __table_args__ = (CheckConstraint("position >= 0", name="position_not_negative"),)

    session_id: Mapped[uuid.UUID] = parent("assessment_sessions", cascade=True)
    question_text: Mapped[str]
    question_type: Mapped[str]
    answer_text: Mapped[str | None]
    options: Mapped[Any] = json_any()
    position: Mapped[int]


class Integration(Timestamped):
    __tablename__ = "integrations"
    __table_args__ = (
        UniqueConstraint("user_id", "provider"),
        Index(None, "user_id", "is_active"),
        Index(None, "provider", "is_active"),
    )

    user_id: Mapped[uuid.UUID] = parent(
        "users", index=False
    )  # the unique (user_id, provider) leads with it
    provider: Mapped[IntegrationProvider] = closed_set(IntegrationProvider)
    encrypted_credentials: Mapped[str]
    health_status: Mapped[dict[str, Any] | None] = json_object()
    is_active: Mapped[bool] = flag(True)
    last_health_check: Mapped[dt.datetime | None]
    configuration_metadata: Mapped[dict[str, Any] | None] = json_object()


class EvidenceCollection(Timestamped):
    __tablename__ = "evidence_collections"
    __table_args__ = (
        Index(None, "status"),
        Index(None, "framework_code"),
        CheckConstraint("progress_percentage BETWEEN 0 AND 100", name="progress_percentage_range"),
    )

    integration_id: Mapped[uuid.UUID] = parent("integrations", cascade=True)
    user_id: Mapped[uuid.UUID] = parent("users")
    framework_code: Mapped[str]
    status: Mapped[EvidenceCollectionStatus] = closed_set(
        EvidenceCollectionStatus, EvidenceCollectionStatus.PENDING
    )
    progress_percentage: Mapped[int] = default_int(0)
    evidence_types_requested: Mapped[list[Any]] = json_list()
    evidence_types_completed: Mapped[list[Any]] = json_list()
    quality_score: Mapped[dict[str, Any] | None] = json_object()
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    estimated_completion: Mapped[dt.datetime | None]
    current_activity: Mapped[str | None]
    errors: Mapped[list[Any]] = json_list()
    business_profile_snapshot: Mapped[dict[str, Any] | None] = json_object()
    collection_mode: Mapped[CollectionMode] = closed_set(CollectionMode, CollectionMode.IMMEDIATE)


class IntegrationHealthLog(Base):
    """Append-only: rows are created and read, never updated."""

    __tablename__ = "integration_health_logs"
    __table_args__ = (
        # Named by hand: the convention cannot name a DESC expression.
        Index(
            "ix_integration_health_logs_integration_id_checked_at",
            "integration_id",
            text("checked_at DESC"),
        ),
        Index(None, "status"),
        Index(None, "checked_at", "id"),
        CheckConstraint("response_time_ms >= 0", name="response_time_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    # (integration_id, checked_at) leads with it
    integration_id: Mapped[uuid.UUID] = parent("integrations", cascade=True, index=False)
    status: Mapped[IntegrationHealthStatus] = closed_set(IntegrationHealthStatus)
    response_time_ms: Mapped[float | None]
    error_details: Mapped[Any] = json_any()
    health_data: Mapped[Any] = json_any()
    checked_at: Mapped[dt.datetime] = now_default()


class ReadinessAssessment(Timestamped):
    __tablename__ = "readiness_assessments"
    __table_args__ = (
        CheckConstraint("overall_score BETWEEN 0 AND 100", name="overall_score_range"),
    )

    user_id: Mapped[uuid.UUID] = parent("users")
    business_profile_id: Mapped[uuid.UUID] = parent("business_profiles")
    framework_id: Mapped[uuid.UUID] = parent("compliance_frameworks")
    overall_score: Mapped[float]
    score_breakdown: Mapped[dict[str, Any]] = json_object(nullable=False)
    priority_actions: Mapped[list[Any]] = json_list()
    quick_wins: Mapped[list[Any]] = json_list()
    score_trend: Mapped[ScoreTrend] = closed_set(ScoreTrend, ScoreTrend.STABLE)
    estimated_readiness_date: Mapped[dt.date | None]


class ChatConversation(Timestamped):
    __tablename__ = "chat_conversations"
    __table_args__ = (
        CheckConstraint("char_length(title) BETWEEN 1 AND 255", name="title_length"),
        trigram("chat_conversations", "title"),
    )

    user_id: Mapped[uuid.UUID] = parent("users")
    business_profile_id: Mapped[uuid.UUID] = parent("business_profiles")
    title: Mapped[str]
    status: Mapped[ChatConversationStatus] = closed_set(
        ChatConversationStatus, ChatConversationStatus.ACTIVE
    )


class ChatMessage(Base):
    """Append-only, numbered 1, 2, 3 within its conversation."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "sequence_number"),
        CheckConstraint("sequence_number >= 1", name="sequence_number_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    # the unique (conversation_id, sequence_number) leads with it
    conversation_id: Mapped[uuid.UUID] = parent("chat_conversations", cascade=True, index=False)
    role: Mapped[ChatMessageRole] = closed_set(ChatMessageRole)
    content: Mapped[str]
    message_metadata: Mapped[dict[str, Any] | None] = json_object()
    sequence_number: Mapped[int]
    created_at: Mapped[dt.datetime] = now_default()


class IdempotencyKey(Base):
    """The first result of a create sent with a caller's request_id, so a retried
    create returns it instead of making a second row."""

    __tablename__ = "idempotency_keys"

    resource: Mapped[str] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    resource_id: Mapped[uuid.UUID]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)


CHANGE_OPERATIONS = ("create", "update", "delete")


class ChangeEvent(Base):
    """One write to one row, recorded by the database itself (a trigger on every
    resource table, in the write's own transaction) whoever made it. Append-only:
    only erasure (values scrubbed) and the retention purge touch recorded rows."""

    __tablename__ = "change_events"
    __table_args__ = (
        CheckConstraint("operation IN ('create', 'update', 'delete')", name="operation_is_known"),
        CheckConstraint("source IN ('service', 'database')", name="source_is_known"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        # A resource's history, newest first; also each write's next revision.
        Index(None, "resource_id", "id"),
        Index(None, "owner_user_id", "id"),
        Index(None, "changed_at"),
        # What a change stream reads: the events below a transaction horizon.
        Index(None, "watch_xid", "id", postgresql_where=text("watch_xid IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(
        BigInteger, Identity(always=True), primary_key=True, sort_order=-1
    )
    # The transaction's time, as the written row's own updated_at.
    changed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    resource_type: Mapped[str]
    resource_id: Mapped[uuid.UUID]
    owner_user_id: Mapped[uuid.UUID | None]
    operation: Mapped[str]
    revision: Mapped[int] = mapped_column(BigInteger)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(Text))
    before: Mapped[dict[str, Any] | None] = json_object()
    after: Mapped[dict[str, Any] | None] = json_object()
    actor: Mapped[str]
    source: Mapped[str]
    database_role: Mapped[str]
    on_behalf_of: Mapped[str | None]
    request_id: Mapped[str | None]
    trace_id: Mapped[str | None]
    commit_id: Mapped[str | None]
    transaction_id: Mapped[int] = mapped_column(BigInteger)
    # A stream hands the event out once every transaction below this one has ended:
    # the writer's transaction_id, or the previous revision's watch_xid if larger.
    watch_xid: Mapped[int | None] = mapped_column(BigInteger)
    erased_at: Mapped[dt.datetime | None]


class CommitResponse(Base):
    """The response of a Commit sent with a request_id, stored in its transaction,
    so a repeat gets the first response itself (not a re-read of rows changed since)."""

    __tablename__ = "commit_responses"

    request_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # NULL while the first call's transaction runs: it only claims the request_id.
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)


def _add_table_wide_rules() -> None:
    for table in Base.metadata.tables.values():
        if "created_at" in table.c and "id" in table.c:
            # Lists are newest first by default; (created_at, id) keeps every page
            # an index range scan, even among rows created in one transaction.
            Index(None, table.c.created_at, table.c.id)
        for column in table.columns:
            shape = column.info.get("json")
            if shape:
                # NULL passes a CHECK, so nullable columns stay nullable.
                table.append_constraint(
                    CheckConstraint(
                        f"jsonb_typeof({column.name}) = '{shape}'", name=f"{column.name}_is_{shape}"
                    )
                )


_add_table_wide_rules()
