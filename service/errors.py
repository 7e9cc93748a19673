"""The one place data-layer errors become gRPC statuses (AIP-193): each with
google.rpc.ErrorInfo, and BadRequest field violations for invalid input."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from repositories.errors import (
    AbortedError,
    AlreadyExistsError,
    DataError,
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    UnavailableError,
)
from repositories.ids import random_hex

from .handlers import Handler, PerMethodInterceptor, parse_request, unary

log = logging.getLogger(__name__)

DOMAIN = "data.ruleiq"
DETAILS_KEY = "grpc-status-details-bin"

STATUS_OF: dict[type[DataError], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    AlreadyExistsError: grpc.StatusCode.ALREADY_EXISTS,
    FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    AbortedError: grpc.StatusCode.ABORTED,
    DeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
    UnavailableError: grpc.StatusCode.UNAVAILABLE,
}


def _pack(detail: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed


def rich_status(
    code: grpc.StatusCode,
    message: str,
    reason: str,
    metadata: dict[str, str] | None = None,
    violations: list[tuple[str, str]] | None = None,
) -> grpc.Status:
    details = [_pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata))]
    if violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                        for f, d in violations
                    ]
                )
            )
        )
    status = status_pb2.Status(code=code.value[0], message=message, details=details)
    result: grpc.Status = rpc_status.to_status(status)
    return result


async def refuse(
    context: grpc.aio.ServicerContext[Any, Any],
    code: grpc.StatusCode,
    message: str,
    reason: str,
    metadata: dict[str, str] | None = None,
) -> None:
    """End the call with `code` and ErrorInfo; raises, as every abort does."""
    await context.abort_with_status(rich_status(code, message, reason, metadata))  # type: ignore[attr-defined]


# The status travels in trailers (grpc-message, grpc-status-details-bin), which
# clients refuse past 8 KiB of metadata: a longer one reaches the caller as
# RESOURCE_EXHAUSTED "Stream removed", its real code and details lost. Errors echo
# the caller's input (mask paths, JSON keys), so what they show is bounded. A field
# path holds the schema's longest whole (a Commit's
# `mutations[99].update_readiness_assessment.readiness_assessment.<field>`).
MAX_VIOLATIONS = 10
MAX_FIELD_BYTES = 128
MAX_DESCRIPTION_BYTES = 160
MAX_MESSAGE_BYTES = 600


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, on a character boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "..."


def status_for(error: DataError) -> grpc.Status:
    code = next(
        (status for cls, status in STATUS_OF.items() if isinstance(error, cls)),
        grpc.StatusCode.INTERNAL,
    )
    violations = None
    message = error.message
    if isinstance(error, InvalidArgumentError):
        violations = [
            (clip(v.field, MAX_FIELD_BYTES), clip(v.description, MAX_DESCRIPTION_BYTES))
            for v in error.violations[:MAX_VIOLATIONS]
        ]
        message = "; ".join(f"{f}: {d}" for f, d in violations)
        if len(error.violations) > MAX_VIOLATIONS:
            message += f"; and {len(error.violations) - MAX_VIOLATIONS} more"
    metadata = {k: clip(v, MAX_DESCRIPTION_BYTES) for k, v in error.metadata.items()}
    return rich_status(code, clip(message, MAX_MESSAGE_BYTES), error.reason, metadata, violations)


def reason_of(trailing_metadata: Any) -> str | None:
    """The ErrorInfo reason in the status details a call's trailers carry, if any."""
    for key, value in trailing_metadata or ():
        if key == DETAILS_KEY:
            for detail in status_pb2.Status.FromString(value).details:
                if detail.TypeName() == error_details_pb2.ErrorInfo.DESCRIPTOR.full_name:
                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    return str(info.reason)
    return None


def internal_status(reference: str) -> grpc.Status:
    return rich_status(
        grpc.StatusCode.INTERNAL,
        f"internal error (reference {reference})",
        "INTERNAL",
        {"reference": reference},
    )


UnaryBehaviour = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def guarded(
    behaviour: UnaryBehaviour, deserializer: Callable[[bytes], Any] | None = None
) -> UnaryBehaviour:
    """`behaviour` with every exception turned into a status; a bug is logged with
    its trace and a reference, and the caller sees only the reference.

    With `deserializer`, the request arrives as bytes and is parsed here: grpc's own
    parsing would answer a malformed request with UNKNOWN and the parser's text."""

    async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            if deserializer is not None:
                request = parse_request(deserializer, request)
            return await behaviour(request, context)
        except grpc.aio.AbortError:
            raise
        except DataError as error:
            await _abort(context, status_for(error))
        except Exception:
            reference = random_hex(12)
            log.exception("unhandled error in a call (reference %s)", reference)
            await _abort(context, internal_status(reference))

    return call


async def _abort(context: grpc.aio.ServicerContext[Any, Any], status: grpc.Status) -> None:
    # An abort sends its own trailing metadata at once: keep what an outer
    # interceptor set before (the x-request-id).
    already = context.trailing_metadata()
    if already:
        status = status._replace(trailing_metadata=(*status.trailing_metadata, *already))  # type: ignore[attr-defined]
    # grpc-stubs predates aio's abort_with_status; grpcio has had it since 1.38.
    await context.abort_with_status(status)  # type: ignore[attr-defined]


class ErrorInterceptor(PerMethodInterceptor):
    """Turns every exception of a unary call into a status (see `guarded`)."""

    def wrap(self, path: str, handler: Handler) -> Handler | None:
        inner = handler.unary_unary
        if inner is None and path.startswith("/ruleiq.data.v1."):
            inner = handler.unary_stream  # WatchChanges: a coroutine like the others
        if inner is None:
            return handler
        behaviour = guarded(inner, handler.request_deserializer)  # type: ignore[arg-type]
        return unary(handler, behaviour, parses_request=True)
