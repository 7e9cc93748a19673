"""Structured logs, request ids and OpenTelemetry spans."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from ruleiq.data.v1 import user_pb2, user_pb2_grpc

from repositories.database import Database
from service import logs
from service.logs import JsonFormatter, TextFormatter
from service.server import App
from service.tracing import provider_from_settings

from .apps import running, settings
from .probes import memory_provider
from .service_process import ServiceProcess

TIMEOUT = 5
USERS = "ruleiq.data.v1.UserService"
CALLS = "service.calls"


@pytest.fixture
def url(database: Database, database_url: str) -> str:
    return database_url


@pytest.fixture
async def app(url: str) -> AsyncIterator[App]:
    async with running(url) as app:
        yield app


@pytest.fixture
async def stub(app: App) -> AsyncIterator[user_pb2_grpc.UserServiceAsyncStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield user_pb2_grpc.UserServiceStub(channel)


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(
        "ruleiq.test", logging.INFO, __file__, 1, message, args or ("world",), None
    )
    made.__dict__.update(extra)
    return made


def test_json_lines_carry_time_level_logger_message_and_fields() -> None:
    line = JsonFormatter().format(record(method="/a.B/C", code="OK", duration_ms=1.5))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "ruleiq.test"
    assert entry["message"] == "hello world"
    assert entry["time"].endswith("Z")
    assert (entry["method"], entry["code"], entry["duration_ms"]) == ("/a.B/C", "OK", 1.5)


def test_an_exception_stays_inside_its_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        made = record()
        made.exc_info = __import__("sys").exc_info()
    line = JsonFormatter().format(made)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_lines_logged_inside_a_call_carry_its_request_id() -> None:
    token = logs.REQUEST_ID.set("abc123")
    try:
        assert json.loads(JsonFormatter().format(record()))["request_id"] == "abc123"
        assert "request_id=abc123" in TextFormatter().format(record())
    finally:
        logs.REQUEST_ID.reset(token)
    assert "request_id" not in json.loads(JsonFormatter().format(record()))


def test_auto_format_is_json_when_not_a_terminal() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        logs.configure("INFO", "auto", stream)
        logging.getLogger("ruleiq.test").info("started", extra={"port": 1})
        logs.configure("INFO", "text", stream)
        logging.getLogger("ruleiq.test").info("plain")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    first, second = stream.getvalue().splitlines()
    assert json.loads(first)["port"] == 1
    assert second.endswith("INFO ruleiq.test plain")


async def test_a_request_id_is_taken_from_metadata_and_sent_back(
    stub: user_pb2_grpc.UserServiceAsyncStub,
) -> None:
    call = stub.ListUsers(
        user_pb2.ListUsersRequest(page_size=1),
        metadata=(("x-request-id", "req-42"),),
        timeout=TIMEOUT,
    )
    await call
    assert ("x-request-id", "req-42") in list(await call.trailing_metadata())


async def test_a_request_id_is_made_when_none_is_sent_and_errors_keep_their_details(
    stub: user_pb2_grpc.UserServiceAsyncStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetUser(user_pb2.GetUserRequest(id=str(uuid.uuid4())), timeout=TIMEOUT)
    # aio yields (key, value) pairs, whatever the stub's _Metadatum says.
    metadata: Any = error.value.trailing_metadata() or ()
    trailers = dict(metadata)
    assert len(trailers["x-request-id"]) == 32
    status = rpc_status.from_call(error.value)  # type: ignore[arg-type]
    assert status is not None
    assert status.code == grpc.StatusCode.NOT_FOUND.value[0]


async def test_errors_are_logged_at_info_and_successes_only_at_debug(
    stub: user_pb2_grpc.UserServiceAsyncStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=CALLS)
    await stub.ListUsers(user_pb2.ListUsersRequest(page_size=1), timeout=TIMEOUT)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.GetUser(
            user_pb2.GetUserRequest(id=str(uuid.uuid4())),
            metadata=(("x-request-id", "find-me"),),
            timeout=TIMEOUT,
        )
    lines = [r for r in caplog.records if r.name == CALLS]
    assert len(lines) == 1
    entry = json.loads(JsonFormatter().format(lines[0]))
    assert entry["level"] == "INFO"
    assert entry["method"] == f"/{USERS}/GetUser"
    assert entry["code"] == "NOT_FOUND"
    assert entry["request_id"] == "find-me"
    assert entry["duration_ms"] > 0
    assert entry["peer"].startswith("ipv4:127.0.0.1:")

    caplog.clear()
    caplog.set_level(logging.DEBUG, logger=CALLS)
    await stub.ListUsers(user_pb2.ListUsersRequest(page_size=1), timeout=TIMEOUT)
    (ok,) = [r for r in caplog.records if r.name == CALLS]
    assert ok.levelno == logging.DEBUG
    assert ok.__dict__["code"] == "OK"
    assert len(ok.__dict__["request_id"]) == 32


async def test_spans_are_made_per_call_when_tracing_is_on(url: str) -> None:
    provider, exporter = memory_provider()
    parent_trace = uuid.uuid4().hex
    traceparent = f"00-{parent_trace}-{uuid.uuid4().hex[:16]}-01"
    async with (
        running(url, {"tracer_provider": provider}) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        stub = user_pb2_grpc.UserServiceStub(channel)
        await stub.ListUsers(
            user_pb2.ListUsersRequest(page_size=1),
            metadata=(("traceparent", traceparent), ("x-request-id", "traced")),
            timeout=TIMEOUT,
        )
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.GetUser(user_pb2.GetUserRequest(id="not-a-uuid"), timeout=TIMEOUT)
    spans = {s.name: s for s in exporter.get_finished_spans() if s.name.startswith(USERS)}
    listed, got = spans[f"{USERS}/ListUsers"], spans[f"{USERS}/GetUser"]
    assert listed.kind == SpanKind.SERVER
    assert dict(listed.attributes or {}) == {
        "rpc.system": "grpc",
        "rpc.service": USERS,
        "rpc.method": "ListUsers",
        "rpc.grpc.status_code": 0,
        "ruleiq.request_id": "traced",
    }
    assert format(listed.context.trace_id, "032x") == parent_trace
    assert listed.parent is not None
    assert (got.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[
        0
    ]
    assert got.status.status_code == StatusCode.UNSET  # the caller's mistake, not the server's


def test_tracing_follows_the_otel_settings() -> None:
    assert provider_from_settings(settings()) is None
    assert provider_from_settings(settings(otel_traces_exporter="none")) is None
    exporter = InMemorySpanExporter()
    on = provider_from_settings(
        settings(otel_exporter_otlp_endpoint="http://127.0.0.1:4317"), exporter
    )
    assert on is not None
    on.get_tracer("t").start_span("x").end()
    on.force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["x"]
    assert on.resource.attributes["service.name"] == "ruleiq-data"
    on.shutdown()
    otlp = provider_from_settings(settings(otel_traces_exporter="otlp"))
    assert otlp is not None
    otlp.shutdown()


async def test_nothing_is_traced_when_tracing_is_off(app: App) -> None:
    assert app.tracer_provider is None
    assert app.observer.tracer is None
    # Nothing was installed process-wide either.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def test_a_start_logs_no_alembic_plugin_lines(url: str, tmp_path: Path) -> None:
    service = ServiceProcess(url, tmp_path / "start.log", {"MIGRATE_ON_START": "true"})
    try:
        service.wait_ready()
    finally:
        assert service.stop() == 0
    lines = [json.loads(line) for line in service.log_path.read_text().splitlines()]
    assert any(line["message"].startswith("serving on port") for line in lines)
    assert [line for line in lines if line["logger"] == "alembic.runtime.plugins"] == []
