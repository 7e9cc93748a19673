"""What each call leaves behind: a request id (taken from `x-request-id` metadata or
made, and sent back in the trailing metadata), a log line, metrics and a span.

Log lines: calls that end in an error at INFO (with the ErrorInfo reason), successful
ones at DEBUG, so a busy server formats no line per successful call at the default
level. Calls refused by auth or admission are observed like any other. Only
unary-unary methods are observed; health Watch and reflection streams pass through."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import grpc

from repositories.ids import random_hex

from .errors import reason_of
from .handlers import Handler, PerMethodInterceptor, unary
from .logs import CALLER, REQUEST_ID
from .metrics import Metrics
from .tracing import CallTracer

log = logging.getLogger("service.calls")

REQUEST_ID_KEY = "x-request-id"
MAX_REQUEST_ID = 128
OK = grpc.StatusCode.OK


def request_id(metadata: Any) -> str:
    """The caller's `x-request-id` when it is sane, else a new one."""
    for key, value in metadata or ():
        if key == REQUEST_ID_KEY and isinstance(value, str) and 0 < len(value) <= MAX_REQUEST_ID:
            return value
    return random_hex()


class CallObserver(PerMethodInterceptor):
    """Wraps every unary-unary handler once per method, with its label children bound."""

    def __init__(self, metrics: Metrics | None, tracer: CallTracer | None) -> None:
        super().__init__()
        self.metrics = metrics
        self.tracer = tracer

    def on_unknown(self, path: str) -> None:
        if self.metrics is not None:
            self.metrics.unknown_method()
        log.info("unknown method %.100s", path, extra={"code": "UNIMPLEMENTED"})

    def wrap(self, path: str, handler: Handler) -> Handler | None:
        if handler.unary_unary is None:
            return handler
        return unary(handler, self._observed(handler.unary_unary, path))

    def _observed(self, behaviour: Any, path: str) -> Any:
        service, _, method = path.lstrip("/").partition("/")
        record = self.metrics.method(service, method).observe if self.metrics else None
        tracer = self.tracer

        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            metadata = context.invocation_metadata()
            rid = request_id(metadata)
            context.set_trailing_metadata(((REQUEST_ID_KEY, rid),))
            rid_token = REQUEST_ID.set(rid)
            span = None
            if tracer is not None:
                span, span_token = tracer.start(path, service, method, metadata, rid)
            code = OK
            reason = None
            started = time.perf_counter()
            try:
                return await behaviour(request, context)
            except grpc.aio.AbortError:
                # The status (with the request id: errors._abort keeps it) is sent.
                code = _code(context.code())
                reason = reason_of(context.trailing_metadata())
                raise
            except asyncio.CancelledError:
                code = _cut_short(context, grpc.StatusCode.CANCELLED)
                raise
            except BaseException:
                code = _cut_short(context, grpc.StatusCode.UNKNOWN)
                raise
            finally:
                seconds = time.perf_counter() - started
                if record is not None:
                    record(code, seconds)
                if code is not OK or log.isEnabledFor(logging.DEBUG):
                    fields = {
                        "method": path,
                        "code": code.name,
                        "duration_ms": round(seconds * 1000, 3),
                        "request_id": rid,
                        "peer": context.peer(),
                    }
                    if reason is not None:
                        fields["reason"] = reason
                    if (caller := CALLER.get()) is not None:
                        fields["caller"] = caller
                    if span is not None:
                        fields["trace_id"] = CallTracer.trace_id(span)
                    log.log(
                        logging.DEBUG if code is OK else logging.INFO,
                        "%s %s %.1fms",
                        path,
                        code.name,
                        seconds * 1000,
                        extra=fields,
                    )
                if span is not None:
                    CallTracer.finish(span, span_token, code)
                REQUEST_ID.reset(rid_token)

        return call


# A cancel this close to the deadline is the deadline's: on a loaded machine a
# request can wait this long before the server reads it, and the server's copy of
# the deadline starts only then.
_DEADLINE_SLACK_SECONDS = 0.2


def _cut_short(
    context: grpc.aio.ServicerContext[Any, Any], otherwise: grpc.StatusCode
) -> grpc.StatusCode:
    """The code of a call that ended without a status of ours: DEADLINE_EXCEEDED,
    as the caller saw it, when its deadline had passed (grpc cancels the handler
    then, or refuses the status it was about to send), else `otherwise`. The
    caller's clock runs out first: its cancel can arrive while the server's copy
    of the deadline, set as the call arrived, still shows a little time left."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= _DEADLINE_SLACK_SECONDS:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return otherwise


def _code(value: Any) -> grpc.StatusCode:
    if isinstance(value, grpc.StatusCode):
        return value
    for code in grpc.StatusCode:  # some grpcio versions report the number
        if code.value[0] == value:
            return code
    return grpc.StatusCode.UNKNOWN
