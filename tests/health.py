"""grpc.health.v1.Health as tests call it, typed: grpcio-health-checking ships its
generated stub without annotations."""

from __future__ import annotations

from typing import Protocol

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

Request = health_pb2.HealthCheckRequest
Response = health_pb2.HealthCheckResponse


class Health(Protocol):
    """The Health stub on an asyncio channel."""

    Check: grpc.aio.UnaryUnaryMultiCallable[Request, Response]
    Watch: grpc.aio.UnaryStreamMultiCallable[Request, Response]


class SyncHealth(Protocol):
    """The Health stub on a blocking channel."""

    Check: grpc.UnaryUnaryMultiCallable[Request, Response]
    Watch: grpc.UnaryStreamMultiCallable[Request, Response]


def health_stub(channel: grpc.aio.Channel) -> Health:
    stub: Health = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
    return stub


def sync_health_stub(channel: grpc.Channel) -> SyncHealth:
    stub: SyncHealth = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
    return stub


async def next_status(watch: grpc.aio.UnaryStreamCall[Request, Response]) -> int:
    """The next status a Watch sends; the stream must not have ended."""
    reply = await watch.read()
    assert isinstance(reply, Response), "the Watch ended"
    return int(reply.status)
