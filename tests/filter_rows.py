"""Evidence rows the filter tests write through the API, kept as Python values so a
filter's answer can be checked against the same filter evaluated here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2
from ruleiq.data.v1 import evidence_pb2

from .api import Api, call, items

UTC = dt.UTC


T0 = dt.datetime(2026, 3, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    """One evidence row as the test wrote it, to evaluate filters in Python."""

    name: str
    description: str
    status: str
    collected_at: dt.datetime | None
    ai_metadata: Mapping[str, Any] | None


ITEMS = [
    Item("Firewall review", "Quarterly review of rules", "collected", T0, {"content_hash": "abc1"}),
    Item("firewall rules 50%", "Half the rules", "approved", None, {"content_hash": "abd2"}),
    Item("Access_control policy", "Who may enter", "approved", T0 + dt.timedelta(days=1), None),
    Item("Access control matrix", "Roles, plain", "rejected", T0 - dt.timedelta(days=1), {}),
    Item("Zürich office access", "Badge log for the office", "collected", None, {"other": "x"}),
    Item("ÉTÉ audit", "Summer audit", "not_started", T0, {"content_hash": None}),
]


def timestamp(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


@dataclass(frozen=True)
class Owner:
    user_id: str
    ids: dict[str, str]
    """evidence id -> name"""


async def make_owner(api: Api) -> Owner:
    """A new user owning one evidence row per ITEMS entry."""
    first = await api.make("Evidence")
    user_id = first.user_id
    await call(api, "Evidence", "Delete", id=first.id)
    ids: dict[str, str] = {}
    for item in ITEMS:
        fields: dict[str, Any] = {
            "user_id": user_id,
            "business_profile_id": first.business_profile_id,
            "framework_id": first.framework_id,
            "evidence_name": item.name,
            "evidence_type": "document",
            "control_reference": "A.5.1",
            "description": item.description,
            "status": evidence_pb2.EvidenceStatus.Value(f"EVIDENCE_STATUS_{item.status.upper()}"),
        }
        if item.collected_at is not None:
            fields["collected_at"] = timestamp(item.collected_at)
        if item.ai_metadata is not None:
            metadata = struct_pb2.Struct()
            metadata.update(dict(item.ai_metadata))
            fields["ai_metadata"] = metadata
        created = await api.create("Evidence", **fields)
        ids[created.id] = item.name
    return Owner(user_id, ids)


async def names(api: Api, owner: Owner, expression: str) -> set[str]:
    """Names of the owner's rows matching `expression`, over every page."""
    found: set[str] = set()
    token = ""
    while True:
        response = await call(
            api,
            "Evidence",
            "List",
            filter=f'user_id = "{owner.user_id}" AND ({expression})',
            page_size=2,
            page_token=token,
        )
        found |= {row.evidence_name for row in items("Evidence", response)}
        token = response.next_page_token
        if not token:
            return found


def hash_of(item: Item) -> Any:
    return None if item.ai_metadata is None else item.ai_metadata.get("content_hash")
