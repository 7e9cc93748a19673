"""Typed exceptions for the service's failures, decoded from the rich status it sends
(`google.rpc.Status` in the `grpc-status-details-bin` trailer: ErrorInfo, BadRequest,
RetryInfo) and the `x-request-id` trailer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

DETAILS_KEY = "grpc-status-details-bin"
REQUEST_ID_KEY = "x-request-id"
ETAG_MISMATCH = "ETAG_MISMATCH"
_ERROR_INFO = error_details_pb2.ErrorInfo.DESCRIPTOR.full_name
_BAD_REQUEST = error_details_pb2.BadRequest.DESCRIPTOR.full_name
_RETRY_INFO = error_details_pb2.RetryInfo.DESCRIPTOR.full_name

Metadata = tuple[tuple[str, str | bytes], ...]


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of an INVALID_ARGUMENT: its path in the request, and why."""

    field: str
    description: str


class DataError(grpc.RpcError):
    """A failed call to ruleiq-data. Still a `grpc.RpcError` (with `code()`,
    `details()` and `trailing_metadata()`), so code catching that keeps working."""

    status_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        request_id: str | None = None,
        trailing_metadata: Sequence[tuple[str, str | bytes]] = (),
        status: status_pb2.Status | None = None,
    ) -> None:
        super().__init__(f"{code.name}: {message}" + (f" [{reason}]" if reason else ""))
        self.status_code = code
        self.message = message
        self.reason = reason
        """ErrorInfo.reason, UPPER_SNAKE (`NOT_FOUND`, `HAS_DEPENDENTS`, ...); "" if none."""
        self.domain = domain
        self.metadata: Mapping[str, str] = dict(metadata or {})
        """ErrorInfo.metadata: `resource`, `id`, `fields`, `constraint`, ..."""
        self.request_id = request_id
        """The server's id for this call (its logs and traces carry it too)."""
        self.status = status
        self._trailing_metadata = tuple(trailing_metadata)

    def code(self) -> grpc.StatusCode:
        """The status code, as on a `grpc.Call`."""
        return self.status_code

    def details(self) -> str:
        """The status message, as on a `grpc.Call`."""
        return self.message

    # grpc-stubs says _Metadatum objects; grpcio really returns (key, value) pairs.
    def trailing_metadata(self) -> Metadata:  # type: ignore[override]
        """The trailers the call ended with, as on a `grpc.Call`."""
        return self._trailing_metadata


class NotFound(DataError):
    """No such row."""


class AlreadyExists(DataError):
    """A unique value is taken; `metadata["fields"]` names it."""


class InvalidArgument(DataError):
    """Malformed or out-of-range input; `violations` names each bad field."""

    def __init__(self, *args: Any, violations: Sequence[FieldViolation] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.violations = tuple(violations)


class FailedPrecondition(DataError):
    """Other rows forbid it: a missing parent (`PARENT_NOT_FOUND`), dependents
    (`HAS_DEPENDENTS`), ...; `reason` says which."""


class Aborted(DataError):
    """A conflict with a concurrent change: re-read, then retry."""


class EtagMismatch(Aborted):
    """The etag sent is not the row's current one: someone changed it since it was read."""


class DeadlineExceeded(DataError):
    """The call's deadline ran out (in the client or in the database)."""


class Unavailable(DataError):
    """The server or its database cannot serve now: retry with backoff, after
    `retry_delay` seconds when the server said so."""

    def __init__(self, *args: Any, retry_delay: float | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.retry_delay = retry_delay


class PermissionDenied(DataError):
    """The caller is known but may not do this."""


class Unauthenticated(DataError):
    """No credentials, or credentials the server does not know."""


_CLASSES: Mapping[grpc.StatusCode, type[DataError]] = {
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def _status_of(trailers: Sequence[tuple[str, str | bytes]]) -> status_pb2.Status | None:
    for key, value in trailers:
        if key == DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:  # a garbled trailer must not hide the error itself
                return None
    return None


def _request_id(trailers: Sequence[tuple[str, str | bytes]]) -> str | None:
    for key, value in trailers:
        if key == REQUEST_ID_KEY:
            return value if isinstance(value, str) else value.decode(errors="replace")
    return None


def from_rpc_error(error: grpc.RpcError) -> DataError:
    """The typed exception for a failed call (`grpc.RpcError` of the sync API or
    `grpc.aio.AioRpcError`); a `DataError` is returned as it is."""
    if isinstance(error, DataError):
        return error
    code_of = getattr(error, "code", None)
    code = code_of() if callable(code_of) else grpc.StatusCode.UNKNOWN
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    details_of = getattr(error, "details", None)
    message = (details_of() if callable(details_of) else None) or ""
    trailers_of = getattr(error, "trailing_metadata", None)
    trailers: Metadata = tuple((trailers_of() if callable(trailers_of) else None) or ())
    return from_status(code, message, trailers)


def from_status(
    code: grpc.StatusCode, message: str, trailers: Sequence[tuple[str, str | bytes]]
) -> DataError:
    """The typed exception for a status code, message and trailing metadata."""
    status = _status_of(trailers)
    info = error_details_pb2.ErrorInfo()
    violations: list[FieldViolation] = []
    retry_delay: float | None = None
    for detail in status.details if status is not None else ():
        if detail.TypeName() == _ERROR_INFO:
            detail.Unpack(info)
        elif detail.TypeName() == _BAD_REQUEST:
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations.extend(FieldViolation(v.field, v.description) for v in bad.field_violations)
        elif detail.TypeName() == _RETRY_INFO:
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_delay = retry.retry_delay.ToTimedelta().total_seconds()
    cls = _CLASSES.get(code, DataError)
    if cls is Aborted and info.reason == ETAG_MISMATCH:
        cls = EtagMismatch
    extra: dict[str, Any] = {}
    if cls is InvalidArgument:
        extra["violations"] = violations
    elif cls is Unavailable:
        extra["retry_delay"] = retry_delay
    return cls(
        code,
        message,
        reason=info.reason,
        domain=info.domain,
        metadata=dict(info.metadata),
        request_id=_request_id(trailers),
        trailing_metadata=trailers,
        status=status,
        **extra,
    )
