"""Admission of data calls: refused with UNAVAILABLE while the server drains (so
callers retry elsewhere), and with RESOURCE_EXHAUSTED past an optional cap on
calls in flight (instead of queueing for the pool). Health and reflection are
never refused here, so Kubernetes probes keep answering."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from .errors import rich_status

DATA_PREFIX = "/ruleiq.data.v1."


class Admission(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts data calls in flight; refuses new ones when draining or past `limit`."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.in_flight = 0
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    async def drain(self, within: float) -> bool:
        """Refuse new data calls; wait up to `within` seconds for those in flight.
        True when none is left."""
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    async def intercept_service(  # type: ignore[override]  # None: no such method
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or not method.startswith(DATA_PREFIX):
            return handler
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._admitted(handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = wrapped
        return wrapped

    def _admitted(self, behaviour: Any) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            if self.draining:
                await _refuse(
                    context,
                    grpc.StatusCode.UNAVAILABLE,
                    "the server is shutting down; retry on another instance",
                    "SHUTTING_DOWN",
                )
            if self.limit is not None and self.in_flight >= self.limit:
                await _refuse(
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


async def _refuse(
    context: grpc.aio.ServicerContext[Any, Any], code: grpc.StatusCode, message: str, reason: str
) -> None:
    await context.abort_with_status(rich_status(code, message, reason))  # type: ignore[attr-defined]
