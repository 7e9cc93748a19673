"""A cap on concurrent data calls: past it a call is refused at once with
RESOURCE_EXHAUSTED instead of queueing for the pool. Health and reflection are
never capped, so Kubernetes probes keep answering under load."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from .errors import rich_status

DATA_PREFIX = "/ruleiq.data.v1."


class ConcurrencyLimit(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """At most `limit` data calls in flight in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

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
            self._limited(handler.unary_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        self._wrapped[method] = wrapped
        return wrapped

    def _limited(self, behaviour: Any) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            if self.in_flight >= self.limit:
                status = rich_status(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"more than {self.limit} calls in flight; retry with backoff",
                    "TOO_MANY_CALLS",
                    {"limit": str(self.limit)},
                )
                await context.abort_with_status(status)  # type: ignore[attr-defined]
            self.in_flight += 1
            try:
                return await behaviour(request, context)
            finally:
                self.in_flight -= 1

        return call
