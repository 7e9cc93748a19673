"""What tests read off a running server, and how they hold it in a state: health,
metrics, a row lock that keeps a call in flight, a condition awaited."""

from __future__ import annotations

import asyncio
import contextlib
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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.server import App

from .health import health_stub

# A bound that only keeps a broken test from hanging: far past anything a working
# server needs, even on a loaded machine. Never a claim about speed.
HANG_SECONDS = 60.0

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def new_user(users: user_pb2_grpc.UserServiceAsyncStub) -> user_pb2.User:
    request = user_pb2.CreateUserRequest(user=user_pb2.User(email=f"{uuid.uuid4().hex}@f.io"))
    return await users.CreateUser(request, timeout=5)


async def lock_user_row(lock: AsyncConnection, user_id: str) -> None:
    """Hold the row's lock in `lock`'s transaction: updates of it wait."""
    await lock.begin()
    await lock.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": user_id})


async def blocked_statements(engine: AsyncEngine, count: int) -> None:
    """Until exactly `count` statements of this database wait on a lock: a call is
    in flight at the lock, rather than after a sleep that guesses how long it takes
    to get there. (A second waiter on a row waits on the first one's tuple lock,
    not on the holder, so any blocker counts.) Read from an autocommit connection:
    a transaction sees pg_stat_activity as it was at its first read."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND state = 'active' AND cardinality(pg_blocking_pids(pid)) > 0"
    )
    async with engine.connect() as observer:
        await observer.execution_options(isolation_level="AUTOCOMMIT")

        async def reached() -> bool:
            return bool((await observer.execute(query)).scalar_one() == count)

        try:
            # Often: a statement may wait only until its call's short deadline.
            await wait_for(reached, within=HANG_SECONDS, poll=0.02)
        except AssertionError:
            found = (await observer.execute(query)).scalar_one()
            raise AssertionError(
                f"expected {count} statement(s) waiting on a lock, {found} are"
            ) from None


async def health_status(channel: grpc.aio.Channel, service: str) -> int:
    stub = health_stub(channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
    return int(reply.status)


async def wait_for(
    condition: Callable[[], Awaitable[bool]], within: float, poll: float = 0.05
) -> None:
    """Until `condition` holds; `within` only keeps a broken test from hanging."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(poll)
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


def moved(after: Samples, before: Samples, name: str, **labels: str) -> float:
    """How far one sample moved from `before` to `after`."""
    return value(after, name, **labels) - value(before, name, **labels)


async def scrape_once(app: App, settled: Callable[[Samples], bool]) -> Samples:
    """A scrape in which `settled` holds, or the last one tried. abort() sends a
    call's status before the server's observer counts the call, so on a busy
    machine a caller can hold its reply while the count has not moved yet."""
    samples: Samples = {}

    async def holds() -> bool:
        nonlocal samples
        samples = await scrape(app)
        return settled(samples)

    # Never settled: the caller's own assert then shows what was counted.
    with contextlib.suppress(AssertionError):
        await wait_for(holds, HANG_SECONDS)
    return samples


def memory_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter
