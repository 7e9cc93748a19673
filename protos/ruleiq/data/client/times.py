"""Timestamps as timezone-aware datetimes, both ways."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp


def to_datetime(timestamp: Timestamp) -> datetime:
    """The instant as an aware datetime in UTC (protobuf's own ToDatetime() is naive)."""
    return timestamp.ToDatetime(tzinfo=UTC)


def from_datetime(value: datetime) -> Timestamp:
    """A Timestamp for an aware datetime; a naive one is refused, not guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a naive datetime has no instant: give it a tzinfo")
    timestamp = Timestamp()
    timestamp.FromDatetime(value)
    return timestamp


def timestamp_of(message: Message, field: str) -> datetime | None:
    """`message.<field>` as an aware datetime, or None when it is not set."""
    if not message.HasField(field):
        return None
    value = getattr(message, field)
    assert isinstance(value, Timestamp)
    return to_datetime(value)
