"""Retries that are safe: a create repeated with the same request_id (the server
returns the first result instead of a second row), and read-modify-write loops
that re-read when the etag went stale."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from .errors import Aborted, DataError, Unavailable, from_rpc_error

Request = TypeVar("Request", bound=Message)
Response = TypeVar("Response")
Resource = TypeVar("Resource")
Result = TypeVar("Result")
Metadata = Sequence[tuple[str, str | bytes]]

REQUEST_ID = "request_id"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: the n-th wait is uniform in
    [0, min(maximum, initial * multiplier**n)], so many callers spread out."""

    initial: float = 0.1
    maximum: float = 5.0
    multiplier: float = 2.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0 for the first)."""
        return random.uniform(0, min(self.maximum, self.initial * self.multiplier**retry))


def with_request_id(request: Request) -> Request:
    """A copy of a create request that carries a request_id: the caller's, else a new
    UUID. Every retry must send this same copy."""
    if REQUEST_ID not in request.DESCRIPTOR.fields_by_name:
        raise TypeError(f"{request.DESCRIPTOR.full_name} has no request_id: not safe to retry")
    copy = type(request)()
    copy.CopyFrom(request)
    if not getattr(copy, REQUEST_ID):
        setattr(copy, REQUEST_ID, str(uuid.uuid4()))
    return copy


@dataclass(frozen=True)
class Retry:
    """How `create` retries UNAVAILABLE: at most `attempts` calls, all within
    `deadline` seconds, waiting by `backoff` (or the server's RetryInfo) between them."""

    attempts: int = 5
    deadline: float = 30.0
    backoff: Backoff = Backoff()


class _Attempts:
    """The bookkeeping of one retried create: attempts, overall deadline, waits."""

    def __init__(self, retry: Retry) -> None:
        if retry.attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.left = retry.attempts
        self.end = time.monotonic() + retry.deadline
        self.backoff = retry.backoff
        self.retries = 0

    def timeout(self, per_call: float | None) -> float:
        remaining = max(self.end - time.monotonic(), 0.0)
        return remaining if per_call is None else min(per_call, remaining)

    def wait_after(self, error: DataError) -> float:
        """Seconds to wait before trying again; raises `error` when it is final."""
        self.left -= 1
        if not isinstance(error, Unavailable) or self.left <= 0:
            raise error
        delay = error.retry_delay
        if delay is None:
            delay = self.backoff.delay(self.retries)
        self.retries += 1
        if time.monotonic() + delay >= self.end:
            raise error
        return delay


def create(
    method: Callable[..., Response],
    request: Message,
    *,
    timeout: float | None = None,
    retry: Retry = Retry(),
    metadata: Metadata | None = None,
) -> Response:
    """Call a Create method (e.g. `stub.CreateUser`), retrying UNAVAILABLE with the
    same request_id as `retry` says, each call within `timeout`. Other failures are
    raised at once, typed."""
    request = with_request_id(request)
    state = _Attempts(retry)
    while True:
        try:
            return method(request, timeout=state.timeout(timeout), metadata=metadata)
        except grpc.RpcError as raw:
            time.sleep(state.wait_after(from_rpc_error(raw)))


async def acreate(
    method: Callable[..., Awaitable[Response]],
    request: Message,
    *,
    timeout: float | None = None,
    retry: Retry = Retry(),
    metadata: Metadata | None = None,
) -> Response:
    """The asyncio twin of `create`."""
    request = with_request_id(request)
    state = _Attempts(retry)
    while True:
        try:
            return await method(request, timeout=state.timeout(timeout), metadata=metadata)
        except grpc.RpcError as raw:
            await asyncio.sleep(state.wait_after(from_rpc_error(raw)))


def _conflict(raw: grpc.RpcError, attempt: int, attempts: int) -> None:
    """Raises the typed error unless it is a conflict worth another read."""
    error = from_rpc_error(raw)
    if not isinstance(error, Aborted) or attempt + 1 >= attempts:
        raise error from None


def read_modify_write(
    get: Callable[[], Resource],
    change: Callable[[Resource], Result],
    *,
    attempts: int = 10,
    backoff: Backoff = Backoff(initial=0.01, maximum=0.5),
) -> Result:
    """`change(get())`, again from a fresh read while `change` fails with ABORTED
    (`EtagMismatch`: someone wrote in between), at most `attempts` times. `change`
    must send the etag of the resource it is given."""
    for attempt in range(attempts):
        current = get()
        try:
            return change(current)
        except grpc.RpcError as raw:
            _conflict(raw, attempt, attempts)
        time.sleep(backoff.delay(attempt))
    raise AssertionError("unreachable: the last attempt raises")


async def aread_modify_write(
    get: Callable[[], Awaitable[Resource]],
    change: Callable[[Resource], Awaitable[Result]],
    *,
    attempts: int = 10,
    backoff: Backoff = Backoff(initial=0.01, maximum=0.5),
) -> Result:
    """The asyncio twin of `read_modify_write`."""
    for attempt in range(attempts):
        current = await get()
        try:
            return await change(current)
        except grpc.RpcError as raw:
            _conflict(raw, attempt, attempts)
        await asyncio.sleep(backoff.delay(attempt))
    raise AssertionError("unreachable: the last attempt raises")
