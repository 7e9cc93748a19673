"""The generated client as the tests' caller, plus valid payloads for every
resource (parents created through the API too)."""

from __future__ import annotations

import importlib
import uuid
from typing import Any

import grpc
from google.protobuf import struct_pb2
from google.type import date_pb2

from service.resources import RESOURCES, Resource
from service.servicer import snake

TIMEOUT = 10.0


class Api:
    """`api.User` is a UserServiceStub; `api.pb("User")` its *_pb2 module."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        for resource in RESOURCES:
            grpc_module = importlib.import_module(resource.module.__name__ + "_grpc")
            stub = getattr(grpc_module, f"{resource.message}ServiceStub")(channel)
            setattr(self, resource.message, stub)

    @staticmethod
    def pb(message: str) -> Any:
        return next(r.module for r in RESOURCES if r.message == message)

    async def create(self, message: str, **fields: Any) -> Any:
        """Create one `message` resource with `fields` over the wire."""
        module = self.pb(message)
        request = getattr(module, f"Create{message}Request")(
            **{snake(message): getattr(module, message)(**fields)}
        )
        return await getattr(getattr(self, message), f"Create{message}")(request, timeout=TIMEOUT)

    async def make(self, message: str, **overrides: Any) -> Any:
        """A valid `message` resource with any parents it needs."""
        fields = await valid_fields(self, message)
        fields.update(overrides)
        return await self.create(message, **fields)


def _list(*items: Any) -> struct_pb2.ListValue:
    values = struct_pb2.ListValue()
    values.extend(items)
    return values


def _struct(**items: Any) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(items)
    return struct


def unique(prefix: str = "x") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def valid_fields(api: Api, message: str) -> dict[str, Any]:
    """The fewest fields a create of `message` needs, parents made on the way."""
    pb = api.pb
    if message == "User":
        return {"email": f"{unique('user')}@example.com", "full_name": "Test User"}
    if message == "BusinessProfile":
        user = await api.make("User")
        return {
            "user_id": user.id,
            "company_name": unique("co"),
            "industry": "fintech",
            "employee_count": 50,
        }
    if message == "ComplianceFramework":
        return {
            "name": unique("ISO"),
            "display_name": "ISO 27001",
            "description": "Information security",
            "category": "security",
        }
    if message in ("Evidence", "Policy", "ReadinessAssessment"):
        profile = await api.make("BusinessProfile")
        framework = await api.make("ComplianceFramework")
        owner = {
            "user_id": profile.user_id,
            "business_profile_id": profile.id,
            "framework_id": framework.id,
        }
        if message == "Evidence":
            return {
                **owner,
                "evidence_name": unique("ev"),
                "evidence_type": "document",
                "control_reference": "A.5.1",
                "description": "Access policy",
            }
        if message == "Policy":
            return {
                **owner,
                "policy_name": unique("policy"),
                "framework_name": "ISO27001",
                "policy_content": "# Policy\n" * 10,
                "sections": _list("intro", "scope"),
            }
        return {
            **owner,
            "overall_score": 72.5,
            "score_breakdown": _struct(policies=80, evidence=65),
            "estimated_readiness_date": date_pb2.Date(year=2027, month=3, day=1),
        }
    if message == "AssessmentSession":
        user = await api.make("User")
        return {"user_id": user.id}
    if message == "AssessmentQuestion":
        session = await api.make("AssessmentSession")
        return {
            "session_id": session.id,
            "question_text": "Do you store personal data?",
            "question_type": "yes_no",
            "position": 1,
        }
    if message == "Integration":
        user = await api.make("User")
        return {
            "user_id": user.id,
            "provider": pb("Integration").INTEGRATION_PROVIDER_GITHUB,
            "encrypted_credentials": "ciphertext",
        }
    if message in ("EvidenceCollection", "IntegrationHealthLog"):
        integration = await api.make("Integration")
        if message == "IntegrationHealthLog":
            return {
                "integration_id": integration.id,
                "status": pb(message).INTEGRATION_HEALTH_STATUS_HEALTHY,
                "response_time_ms": 12.5,
            }
        return {
            "integration_id": integration.id,
            "user_id": integration.user_id,
            "framework_code": "soc2_type2",
        }
    if message == "ChatConversation":
        profile = await api.make("BusinessProfile")
        return {"user_id": profile.user_id, "business_profile_id": profile.id, "title": "Help"}
    if message == "ChatMessage":
        conversation = await api.make("ChatConversation")
        return {
            "conversation_id": conversation.id,
            "role": pb(message).CHAT_MESSAGE_ROLE_USER,
            "content": "Hello",
        }
    raise KeyError(message)


def resource(message: str) -> Resource:
    return next(r for r in RESOURCES if r.message == message)
