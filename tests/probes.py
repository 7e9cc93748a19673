"""What tests read off a running server, and how they hold it in a state: health,
metrics, a row lock that keeps a call in flight, a condition awaited."""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from ruleiq.data.v1 import user_pb2, user_pb2_grpc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.server import App

from .health import health_stub

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def new_user(users: user_pb2_grpc.UserServiceAsyncStub) -> user_pb2.User:
    request = user_pb2.CreateUserRequest(user=user_pb2.User(email=f"{uuid.uuid4().hex}@f.io"))
    return await users.CreateUser(request, timeout=5)


async def lock_user_row(lock: AsyncConnection, user_id: str) -> None:
    """Hold the row's lock in `lock`'s transaction: updates of it wait."""
    await lock.begin()
    await lock.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": user_id})


async def health_status(channel: grpc.aio.Channel, service: str) -> int:
    stub = health_stub(channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
    return int(reply.status)


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {within}s")


async def now(value: bool) -> bool:
    """A condition for wait_for that needs nothing awaited."""
    return value


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(app: App) -> Samples:
    def get() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{app.metrics_port}/metrics", timeout=5) as r:
            return str(r.read().decode())

    body = await asyncio.to_thread(get)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def memory_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter
