"""OpenTelemetry tracing, off unless configured: a server span per call, a child of
the caller's span when its metadata carries W3C `traceparent`.

The spans are made here rather than by opentelemetry-instrumentation-grpc: its
grpc.aio server interceptor hands handlers a proxy of the servicer context, and
that proxy has lagged grpc.aio's own (abort arity, `code()`), while our handlers
rely on `abort_with_status`, `time_remaining` and `auth_context`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode

from .settings import ServiceSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

# Codes that mean the server failed (OpenTelemetry's gRPC conventions); the rest
# are the caller's mistakes and leave the span's status unset.
SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def provider_from_settings(
    settings: ServiceSettings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider exporting to what OTEL_TRACES_EXPORTER or
    OTEL_EXPORTER_OTLP_ENDPOINT name, or None (and nothing set up) when neither does.
    `exporter` replaces the configured one (tests)."""
    kind = settings.tracing_exporter
    if kind is None:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if exporter is None:
        if kind == "console":
            exporter = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            # Headers, certificates and timeouts: the exporter reads OTEL_EXPORTER_OTLP_*.
            exporter = OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class CallTracer:
    """Starts and ends the span of one call."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        self.tracer = provider.get_tracer("ruleiq-data")

    def start(
        self, path: str, service: str, method: str, metadata: Any, request_id: str
    ) -> tuple[trace.Span, object]:
        parent = extract(dict(metadata or ()))
        span = self.tracer.start_span(
            path.lstrip("/"),
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": service,
                "rpc.method": method,
                "ruleiq.request_id": request_id,
            },
        )
        # Current while the call runs, so anything it traces becomes a child.
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return span, token

    @staticmethod
    def finish(span: trace.Span, token: object, code: grpc.StatusCode) -> None:
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in SERVER_ERRORS:
            span.set_status(Status(StatusCode.ERROR, code.name))
        span.end()
        otel_context.detach(token)  # type: ignore[arg-type]

    @staticmethod
    def trace_id(span: trace.Span) -> str:
        return format(span.get_span_context().trace_id, "032x")
