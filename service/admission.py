"""Admission of data calls: refused with UNAVAILABLE while the server drains (so
callers retry elsewhere), and with RESOURCE_EXHAUSTED past an optional cap on
calls in flight (instead of queueing for the pool). Health and reflection are
never refused here, so Kubernetes probes keep answering."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from .errors import refuse
from .handlers import Handler, PerMethodInterceptor, unary

DATA_PREFIX = "/ruleiq.data.v1."


class Admission(PerMethodInterceptor):
    """Counts data calls in flight; refuses new ones when draining or past `limit`."""

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self.limit = limit
        self.in_flight = 0
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def drain(self, within: float) -> bool:
        """Refuse new data calls; wait up to `within` seconds for those in flight.
        True when none is left."""
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    def wrap(self, path: str, handler: Handler) -> Handler | None:
        if handler.unary_unary is None or not path.startswith(DATA_PREFIX):
            return handler
        return unary(handler, self._admitted(handler.unary_unary))

    def _admitted(self, behaviour: Any) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            if self.draining:
                await refuse(
                    context,
                    grpc.StatusCode.UNAVAILABLE,
                    "the server is shutting down; retry on another instance",
                    "SHUTTING_DOWN",
                )
            if self.limit is not None and self.in_flight >= self.limit:
                await refuse(
                    context,
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"more than {self.limit} calls in flight; retry with backoff",
                    "TOO_MANY_CALLS",
                )
            self.in_flight += 1
            self._idle.clear()
            try:
                return await behaviour(request, context)
            finally:
                self.in_flight -= 1
                if self.in_flight == 0:
                    self._idle.set()

        return call
