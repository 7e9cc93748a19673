"""A change stream that keeps going: `watch`/`awatch` iterate over the change events
of `ChangeService.WatchChanges`, resume from the last token when the stream breaks
(the server restarts, shuts down, recycles the stream, or cuts a reader that fell
behind), hand no event out twice, and relist through a callback when the token has
expired.

    changes = change_pb2_grpc.ChangeServiceStub(channel)
    stream = client.watch(changes.WatchChanges, filter='resource_type = "Evidence"')
    for event in stream:
        handle(event)
        save(stream.resume_token)   # resume here after this process restarts
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Sequence,
)
from typing import Any

import grpc

from ruleiq.data.v1 import change_pb2

from .errors import Aborted, DataError, FailedPrecondition, Unavailable, from_rpc_error
from .retry import Backoff

Metadata = Sequence[tuple[str, str | bytes]]

TOKEN_EXPIRED = "WATCH_TOKEN_EXPIRED"  # noqa: S105  # an ErrorInfo reason
TOO_SLOW = "WATCH_TOO_SLOW"


class _Position:
    """Where a watch stands: the token to resume from, what to do on the next
    stream, and the newest revision handed out per resource (the most recent
    `remember` of them), which drops what a resumed stream sends again."""

    def __init__(
        self,
        filter: str,
        resume_token: str,
        metadata: Metadata | None,
        *,
        backoff: Backoff,
        give_up_after: float,
        remember: int,
    ) -> None:
        if remember < 1:
            raise ValueError("remember must be at least 1")
        self.filter = filter
        self.metadata = metadata
        self.resume_token = resume_token
        self.backoff = backoff
        self.give_up_after = give_up_after
        self.remember = remember
        self.handed_out: OrderedDict[tuple[str, str], int] = OrderedDict()
        self.relist = False
        self.retries = 0
        self.broken_since: float | None = None

    def open(self, method: Callable[..., Any]) -> Any:
        """A new stream from where the watch stands."""
        request = change_pb2.WatchChangesRequest(filter=self.filter, resume_token=self.resume_token)
        return method(request, metadata=self.metadata)

    def received(self) -> None:
        """A response arrived: the stream works again."""
        self.retries = 0
        self.broken_since = None

    def new(self, response: change_pb2.WatchChangesResponse) -> Iterator[change_pb2.ChangeEvent]:
        """The events of `response` not handed out before; the token moves past
        them once the last one has been handed out."""
        for event in response.changes:
            key = (event.resource_type, event.resource_id)
            seen = self.handed_out.get(key)
            if seen is not None and event.revision <= seen:
                continue
            self.handed_out[key] = event.revision
            self.handed_out.move_to_end(key)
            if len(self.handed_out) > self.remember:
                self.handed_out.popitem(last=False)
            yield event
        self.resume_token = response.resume_token

    def broke(self, error: DataError | None, *, can_relist: bool) -> float:
        """Seconds to wait before the next stream, after the current one ended
        with `error` (None: ended without one). Raises `error` when it is final."""
        if isinstance(error, FailedPrecondition) and error.reason == TOKEN_EXPIRED:
            if not can_relist:
                raise error
            # From now on; the caller relists once the new stream has a token, so
            # nothing written in between is missed.
            self.resume_token = ""
            self.relist = True
            self.handed_out.clear()
            return 0.0
        resumable = (
            error is None
            or isinstance(error, Unavailable)
            or (isinstance(error, Aborted) and error.reason == TOO_SLOW)
        )
        if not resumable:
            assert error is not None
            raise error
        now = time.monotonic()
        if self.broken_since is None:
            self.broken_since = now
        elif now - self.broken_since > self.give_up_after and error is not None:
            raise error
        delay = error.retry_delay if isinstance(error, Unavailable) else None
        if delay is None:
            delay = self.backoff.delay(self.retries)
        self.retries += 1
        return delay


class _Watching:
    def __init__(self, method: Callable[..., Any], position: _Position) -> None:
        self._method = method
        self._position = position

    @property
    def resume_token(self) -> str:
        """Where a later watch should start to get every event after those handed
        out so far."""
        return self._position.resume_token


class Watch(_Watching, Iterable[change_pb2.ChangeEvent]):
    """The change events of a WatchChanges stream, resumed and relisted as needed;
    made by `watch`."""

    def __init__(
        self,
        method: Callable[..., Iterable[change_pb2.WatchChangesResponse]],
        position: _Position,
        relist: Callable[[], object] | None,
    ) -> None:
        super().__init__(method, position)
        self._relist = relist

    def __iter__(self) -> Iterator[change_pb2.ChangeEvent]:
        position = self._position
        while True:
            call = position.open(self._method)
            error: DataError | None = None
            try:
                for response in call:
                    position.received()
                    if position.relist and self._relist is not None:
                        position.relist = False
                        self._relist()
                    yield from position.new(response)
            except grpc.RpcError as raw:
                error = from_rpc_error(raw)
            finally:
                call.cancel()
            time.sleep(position.broke(error, can_relist=self._relist is not None))


class AsyncWatch(_Watching, AsyncIterator[change_pb2.ChangeEvent]):
    """The asyncio twin of `Watch`, made by `awatch`."""

    def __init__(
        self,
        method: Callable[..., Any],
        position: _Position,
        relist: Callable[[], Awaitable[object]] | None,
    ) -> None:
        super().__init__(method, position)
        self._relist = relist
        self._events = self._run()

    def __aiter__(self) -> AsyncWatch:
        return self

    async def __anext__(self) -> change_pb2.ChangeEvent:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Ends the watch and its stream."""
        await self._events.aclose()

    async def _run(self) -> AsyncGenerator[change_pb2.ChangeEvent]:
        position = self._position
        while True:
            call = position.open(self._method)
            error: DataError | None = None
            try:
                async for response in call:
                    position.received()
                    if position.relist and self._relist is not None:
                        position.relist = False
                        await self._relist()
                    for event in position.new(response):
                        yield event
            except grpc.RpcError as raw:
                error = from_rpc_error(raw)
            finally:
                call.cancel()
            await asyncio.sleep(position.broke(error, can_relist=self._relist is not None))


DEFAULT_BACKOFF = Backoff(initial=0.2, maximum=10.0)


def watch(
    method: Callable[..., Iterable[change_pb2.WatchChangesResponse]],
    *,
    filter: str = "",
    resume_token: str = "",
    relist: Callable[[], object] | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    give_up_after: float = 60.0,
    remember: int = 10_000,
    metadata: Metadata | None = None,
) -> Watch:
    """Iterate over the change events of `method` (`stub.WatchChanges`) matching
    `filter`, from `resume_token` (empty: from now).

    A stream that ends with UNAVAILABLE, or ABORTED because this reader fell behind,
    is opened again from the last token, waiting by `backoff` (or the server's
    RetryInfo); a break that lasts over `give_up_after` seconds is raised. Events
    are handed out once: what a resumed stream sends again is dropped by revision
    (for the `remember` most recent resources). When the token has expired
    (FAILED_PRECONDITION `WATCH_TOKEN_EXPIRED`), the watch starts again from now
    and calls `relist()` as soon as that new stream is open, so the caller reads
    the current state and misses nothing written since; without `relist` the error
    is raised. Any other error is raised as its `DataError`."""
    position = _Position(
        filter,
        resume_token,
        metadata,
        backoff=backoff,
        give_up_after=give_up_after,
        remember=remember,
    )
    return Watch(method, position, relist)


def awatch(
    method: Callable[..., Any],
    *,
    filter: str = "",
    resume_token: str = "",
    relist: Callable[[], Awaitable[object]] | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    give_up_after: float = 60.0,
    remember: int = 10_000,
    metadata: Metadata | None = None,
) -> AsyncWatch:
    """The asyncio twin of `watch` (`async for event in client.awatch(...)`);
    `relist` is a coroutine function."""
    position = _Position(
        filter,
        resume_token,
        metadata,
        backoff=backoff,
        give_up_after=give_up_after,
        remember=remember,
    )
    return AsyncWatch(method, position, relist)
