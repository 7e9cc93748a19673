"""Calls to a method no service has. grpc would answer them UNIMPLEMENTED with no
details; this last generic handler answers them with ErrorInfo like every other
error: `UNKNOWN_METHOD` on a service the server has, `UNKNOWN_SERVICE` otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc

from .errors import MAX_DESCRIPTION_BYTES, clip, rich_status
from .handlers import Unserved

UNIMPLEMENTED = grpc.StatusCode.UNIMPLEMENTED


class UnknownMethod(Unserved):
    """Answers at once, whatever the call's shape: as a stream-stream handler it
    reads no request, so neither a unary nor a streaming caller waits."""

    request_streaming = True
    response_streaming = True
    request_deserializer = None
    response_serializer = None
    unary_unary = None
    unary_stream = None
    stream_unary = None

    def __init__(self, status: grpc.Status) -> None:
        self.status = status

    async def stream_stream(  # type: ignore[override]  # grpc.aio takes coroutines
        self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        await context.abort_with_status(self.status)  # type: ignore[attr-defined]


class UnknownMethods(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """Added after every service, so it sees only the methods none of them has."""

    def __init__(self, services: Iterable[str]) -> None:
        self.services = frozenset(services)

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> UnknownMethod:
        service, _, method = handler_call_details.method.lstrip("/").partition("/")
        # The names are the caller's: bounded, as everything an error echoes.
        service, method = clip(service, MAX_DESCRIPTION_BYTES), clip(method, MAX_DESCRIPTION_BYTES)
        if service in self.services:
            status = rich_status(
                UNIMPLEMENTED,
                f"{service} has no method {method!r}",
                "UNKNOWN_METHOD",
                {"service": service, "method": method},
            )
        else:
            status = rich_status(
                UNIMPLEMENTED,
                f"no service {service!r} here",
                "UNKNOWN_SERVICE",
                {"service": service},
            )
        return UnknownMethod(status)
