"""WatchChanges streams for `make bench`'s watch rows: many streams on one channel,
held by a thread of the bench process with an event loop of its own, each event's
delivery lag (its changed_at to its receipt) recorded."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from concurrent.futures import Future
from typing import Any

import grpc
from ruleiq.data.v1 import change_pb2, change_pb2_grpc


class WatchStreams:
    """Open and close sets of streams to one server; lags of what they received."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lags: list[float] = []
        self.events = 0
        self._calls: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._channel: grpc.aio.Channel | None = None

    def _run(self, coroutine: Any, timeout: float = 120.0) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def open(self, filters: list[str]) -> None:
        """One stream per filter, returned once every stream has its first response."""
        self._run(self._open(filters))

    async def _open(self, filters: list[str]) -> None:
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self.address)
        stub = change_pb2_grpc.ChangeServiceStub(self._channel)
        started: list[asyncio.Future[None]] = []
        for text in filters:
            call = stub.WatchChanges(change_pb2.WatchChangesRequest(filter=text))
            first: asyncio.Future[None] = self.loop.create_future()
            started.append(first)
            self._calls.append(call)
            self._tasks.append(self.loop.create_task(self._read(call, first)))
        await asyncio.gather(*started)

    async def _read(self, call: Any, first: asyncio.Future[None]) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
            async for response in call:
                if not first.done():
                    first.set_result(None)
                now = time.time()
                for event in response.changes:
                    changed = event.changed_at.seconds + event.changed_at.nanos / 1e9
                    self.lags.append(max(0.0, now - changed))
                self.events += len(response.changes)
        if not first.done():
            first.set_exception(RuntimeError(f"stream ended: {await call.code()}"))

    def close(self) -> None:
        """Cancel every open stream."""
        self._run(self._close())

    async def _close(self) -> None:
        for call in self._calls:
            call.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._calls, self._tasks = [], []

    def take_lags(self) -> list[float]:
        taken, self.lags = self.lags, []
        return taken

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
            if self._channel is not None:
                self._run(self._channel.close(None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
