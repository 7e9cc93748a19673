"""Every resource the service serves, one short declaration each. The generic
servicer (service/servicer.py) does the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ruleiq.data.v1 import (
    assessment_question_pb2,
    assessment_session_pb2,
    business_profile_pb2,
    chat_conversation_pb2,
    chat_message_pb2,
    compliance_framework_pb2,
    evidence_collection_pb2,
    evidence_pb2,
    integration_health_log_pb2,
    integration_pb2,
    policy_pb2,
    readiness_assessment_pb2,
    user_pb2,
)

from repositories import models, rules
from repositories.unit_of_work import Transaction

AfterCreate = Callable[[Transaction, Mapping[Any, Any]], Awaitable[None]]

_TIMES = ("created_at", "updated_at")


@dataclass(frozen=True)
class Resource:
    """What differs between resources: table, message, names and a few rules."""

    model: type[models.Base]
    module: ModuleType
    message: str
    plural: str
    filterable: tuple[str, ...]
    orderable: tuple[str, ...] = _TIMES
    default_order: str = "created_at desc"
    searchable: tuple[str, ...] = ()
    """Text fields `search("...")` matches, each served by a trigram index."""
    groupable: tuple[str, ...] = ()
    """Fields an Aggregate may group by: enums, booleans, parent ids, times."""
    measures: tuple[str, ...] = ()
    """Numeric fields an Aggregate may sum, average, or take the min or max of."""
    parents: tuple[str, ...] = ()
    """References that name the row's owner: set on create, never moved."""
    append_only: bool = False
    numbered: tuple[str, str] | None = None
    """(column, parent reference): the column numbers the rows of one parent 1, 2,
    3... with no gap and no duplicate. A create locks the parent row until its
    transaction ends and takes one more than the highest number there."""
    after_create: AfterCreate | None = None
    changes_parent: str | None = None
    """The parent reference whose row `after_create` changes. Like a numbered row's
    parent, that row is locked as the transaction opens, in the one order every
    transaction locks in: commits changing the same rows queue, never deadlock."""


RESOURCES: tuple[Resource, ...] = (
    Resource(
        models.User,
        user_pb2,
        "User",
        "Users",
        filterable=("email", "google_id", "is_active", *_TIMES),
        orderable=("email", *_TIMES),
        searchable=("email", "full_name"),
        groupable=("is_active", "created_at"),
    ),
    Resource(
        models.BusinessProfile,
        business_profile_pb2,
        "BusinessProfile",
        "BusinessProfiles",
        filterable=(
            "user_id",
            "industry",
            "country",
            "data_sensitivity",
            "employee_count",
            "assessment_completed",
            *_TIMES,
        ),
        orderable=("company_name", "employee_count", *_TIMES),
        searchable=("company_name",),
        groupable=("data_sensitivity", "assessment_completed", "created_at"),
        measures=("employee_count",),
        parents=("user_id",),
    ),
    Resource(
        models.ComplianceFramework,
        compliance_framework_pb2,
        "ComplianceFramework",
        "ComplianceFrameworks",
        filterable=(
            "name",
            "category",
            "is_active",
            "complexity_score",
            "geographic_scope",
            "applicable_industries",
            *_TIMES,
        ),
        orderable=("name", "category", "complexity_score", *_TIMES),
        searchable=("name", "display_name", "description"),
        groupable=("is_active", "created_at"),
        measures=("complexity_score", "implementation_time_weeks"),
    ),
    Resource(
        models.Evidence,
        evidence_pb2,
        "Evidence",
        "Evidence",
        filterable=(
            "user_id",
            "business_profile_id",
            "framework_id",
            "status",
            "priority",
            "evidence_type",
            "control_reference",
            "evidence_name",
            "collected_at",
            "ai_metadata.content_hash",
            *_TIMES,
        ),
        orderable=("evidence_name", "status", "priority", *_TIMES),
        searchable=("evidence_name", "description"),
        groupable=(
            "status",
            "priority",
            "framework_id",
            "business_profile_id",
            "user_id",
            "required_for_audit",
            "created_at",
            "collected_at",
        ),
        measures=("compliance_score_impact", "file_size_bytes"),
        parents=("user_id", "business_profile_id"),
    ),
    Resource(
        models.Policy,
        policy_pb2,
        "Policy",
        "Policies",
        filterable=(
            "user_id",
            "business_profile_id",
            "framework_id",
            "status",
            "policy_type",
            *_TIMES,
        ),
        orderable=("policy_name", "generated_at", *_TIMES),
        searchable=("policy_name",),
        groupable=("status", "framework_id", "business_profile_id", "user_id", "created_at"),
        measures=("word_count", "compliance_coverage"),
        parents=("user_id", "business_profile_id"),
    ),
    Resource(
        models.AssessmentSession,
        assessment_session_pb2,
        "AssessmentSession",
        "AssessmentSessions",
        filterable=("user_id", "business_profile_id", "status", "session_type", *_TIMES),
        groupable=("status", "user_id", "created_at"),
        measures=("questions_answered", "total_questions"),
        orderable=("last_activity", "started_at", *_TIMES),
        parents=("user_id",),
    ),
    Resource(
        models.AssessmentQuestion,
        assessment_question_pb2,
        "AssessmentQuestion",
        "AssessmentQuestions",
        filterable=("session_id", "question_type", *_TIMES),
        orderable=("position", *_TIMES),
        default_order="position",
        parents=("session_id",),
    ),
    Resource(
        models.Integration,
        integration_pb2,
        "Integration",
        "Integrations",
        filterable=("user_id", "provider", "is_active", *_TIMES),
        groupable=("provider", "is_active", "user_id"),
        orderable=("provider", *_TIMES),
        parents=("user_id",),
    ),
    Resource(
        models.EvidenceCollection,
        evidence_collection_pb2,
        "EvidenceCollection",
        "EvidenceCollections",
        filterable=("integration_id", "user_id", "framework_code", "status", *_TIMES),
        groupable=("status", "collection_mode", "integration_id", "user_id", "created_at"),
        measures=("progress_percentage",),
        orderable=("status", *_TIMES),
        parents=("integration_id", "user_id"),
    ),
    Resource(
        models.IntegrationHealthLog,
        integration_health_log_pb2,
        "IntegrationHealthLog",
        "IntegrationHealthLogs",
        filterable=("integration_id", "status", "checked_at"),
        groupable=("status", "integration_id", "checked_at"),
        measures=("response_time_ms",),
        orderable=("checked_at",),
        default_order="checked_at desc",
        parents=("integration_id",),
        append_only=True,
        after_create=rules.record_health_check,
        changes_parent="integration_id",
    ),
    Resource(
        models.ReadinessAssessment,
        readiness_assessment_pb2,
        "ReadinessAssessment",
        "ReadinessAssessments",
        filterable=(
            "user_id",
            "business_profile_id",
            "framework_id",
            "score_trend",
            "overall_score",
            *_TIMES,
        ),
        groupable=("score_trend", "framework_id", "business_profile_id", "user_id", "created_at"),
        measures=("overall_score",),
        orderable=("overall_score", *_TIMES),
        parents=("user_id", "business_profile_id"),
    ),
    Resource(
        models.ChatConversation,
        chat_conversation_pb2,
        "ChatConversation",
        "ChatConversations",
        filterable=("user_id", "business_profile_id", "status", "title", *_TIMES),
        orderable=("title", *_TIMES),
        searchable=("title",),
        groupable=("status", "user_id", "business_profile_id", "created_at"),
        parents=("user_id", "business_profile_id"),
    ),
    Resource(
        models.ChatMessage,
        chat_message_pb2,
        "ChatMessage",
        "ChatMessages",
        filterable=("conversation_id", "role", "sequence_number", "created_at"),
        groupable=("role", "conversation_id", "created_at"),
        measures=("sequence_number",),
        orderable=("sequence_number", "created_at"),
        default_order="sequence_number",
        parents=("conversation_id",),
        append_only=True,
        numbered=("sequence_number", "conversation_id"),
    ),
)
