"""Method handlers, and the one way our interceptors change them: a method's
handler is wrapped once and reused. grpc asks the interceptors on every call, so
the wrapped handler is cached per method; unknown methods (no handler, or the
`Unserved` one that answers them) are not cached, so garbage method names cannot
grow the cache."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from google.protobuf.message import Message

from repositories.errors import InvalidArgumentError

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:  # generic only in the type stubs
    Handler = grpc.RpcMethodHandler
Behaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]
T = TypeVar("T")


class Unserved(grpc.RpcMethodHandler):  # type: ignore[type-arg]
    """The handler of a method no service has (service/unknown.py): interceptors
    pass it through untouched and uncached."""


class PerMethodInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Subclasses say, once per method, what its handler becomes (`wrap`)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler | None] = {}

    def wrap(self, path: str, handler: Handler) -> Handler | None:
        """The handler to use for `path` (None refuses the method)."""
        raise NotImplementedError

    def on_unknown(self, path: str) -> None:
        """Called for a method no service has."""

    async def intercept_service(  # type: ignore[override]  # None: no such method
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        path = handler_call_details.method
        if path in self._handlers:
            return self._handlers[path]
        handler = await continuation(handler_call_details)
        if handler is None or isinstance(handler, Unserved):
            self.on_unknown(path)
            return handler
        wrapped = self.wrap(path, handler)
        self._handlers[path] = wrapped
        return wrapped


def unary(handler: Handler, behaviour: Behaviour, *, parses_request: bool = False) -> Handler:
    """`handler` with `behaviour` in place of its unary-unary one (or its
    unary-stream one, a coroutine that writes its responses itself). With
    `parses_request`, `behaviour` receives the raw bytes and parses them itself."""
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            behaviour,
            request_deserializer=None if parses_request else handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=None if parses_request else handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def parse_request(parse: Callable[[bytes], T], data: bytes, what: str = "request message") -> T:
    """`data` parsed by `parse`. Requests are parsed by us rather than by grpc, so a
    malformed one is an INVALID_ARGUMENT naming the request (`what`), not grpc's
    UNKNOWN with the parser's text."""
    try:
        return parse(data)
    except Exception:  # whatever the parser raises, the bytes were not a request
        raise InvalidArgumentError.single("request", f"is not a valid {what}") from None


def parse_message(message_class: type[Message], data: bytes) -> Any:
    """`data` as a `message_class` request, by parse_request. Servicers take bytes
    (their size bounds the reply) and parse them here."""
    return parse_request(message_class.FromString, data, message_class.DESCRIPTOR.name)
