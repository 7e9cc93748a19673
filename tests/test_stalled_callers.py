"""A caller that never reads its responses pins them in the server's memory, and a
call without a deadline would hold them for ever: the server's maximum connection
age and its grace bound that. Proven on a real service process, with raw HTTP/2
connections whose flow-control window never opens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import psutil
import pytest
from ruleiq.data.v1 import chat_message_pb2

from .api import Api
from .probes import HANG_SECONDS
from .service_process import ServiceProcess, named_service
from .stalled import StalledCaller

AGE, GRACE = 1.0, 1.0
# The server closes a stalled connection at its age (grpc adds up to 10% jitter)
# plus the grace; without them it never does. The bound only keeps that failure
# from hanging the test.
BOUND = HANG_SECONDS
CALLERS = 20
MiB = 1024 * 1024
GET = "/ruleiq.data.v1.ChatMessageService/GetChatMessage"


@pytest.fixture
def aging_service(database_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    service = named_service(
        database_url,
        tmp_path / "service.log",
        grace=5.0,
        GRPC_MAX_CONNECTION_AGE_SECONDS=str(AGE),
        GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS=str(GRACE),
    )
    yield service
    service.kill()


def rss_mib(service: ServiceProcess) -> float:
    return float(psutil.Process(service.process.pid).memory_info().rss) / MiB


async def peak_rss(service: ServiceProcess, until: asyncio.Future[list[bool]]) -> float:
    """The highest RSS of the server seen until `until` is done."""
    peak = rss_mib(service)
    while not until.done():
        peak = max(peak, rss_mib(service))
        await asyncio.sleep(0.05)
    return peak


async def stall_and_wait_for_close(service: ServiceProcess, request: bytes) -> float:
    """CALLERS stalled Gets, each on its own connection; asserts the server closes
    every one within BOUND; the server's peak RSS meanwhile."""
    host, port = service.address.split(":")
    callers = [StalledCaller(host, int(port)) for _ in range(CALLERS)]
    try:
        for caller in callers:
            caller.call(GET, request)
        # Each reply is held: the window is 0, so no byte of it can leave.
        closing = asyncio.gather(
            *(asyncio.to_thread(caller.closed_by_server, BOUND) for caller in callers)
        )
        peak = await peak_rss(service, closing)
        closed = await closing
    finally:
        for caller in callers:
            caller.close()
    assert all(closed), f"{closed.count(False)} of {CALLERS} connections still open"
    return peak


async def rss_below(service: ServiceProcess, limit: float, within: float) -> float:
    """The server's RSS once it is below `limit`, or what it is after `within` s."""
    deadline = time.monotonic() + within
    rss = rss_mib(service)
    while rss >= limit and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        rss = rss_mib(service)
    return rss


async def test_responses_a_caller_never_reads_are_released_when_its_connection_ages_out(
    aging_service: ServiceProcess,
) -> None:
    await aging_service.ready()
    async with grpc.aio.insecure_channel(aging_service.address) as channel:
        message = await Api(channel).make("ChatMessage", content="x" * (2900 * 1024))
    request = chat_message_pb2.GetChatMessageRequest(id=message.id).SerializeToString()
    before = rss_mib(aging_service)

    first = await stall_and_wait_for_close(aging_service, request)
    assert first >= before + 40, (before, first)  # 20 replies of 2.9 MB, held
    # Had the replies stayed pinned, a second round would add as much again; freed,
    # their memory serves it (malloc need not hand all of it back to the system).
    second = await stall_and_wait_for_close(aging_service, request)
    assert second < first + (first - before) / 2, (before, first, second)
    assert await rss_below(aging_service, second, within=HANG_SECONDS) < second
    assert aging_service.process.poll() is None  # still serving
