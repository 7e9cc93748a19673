"""Logs: one JSON object per line (or plain text on a terminal), and what a call
adds to every line logged while it runs (its request id and caller)."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

# Set for the duration of a call, so any line logged inside it carries them.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
CALLER: ContextVar[str | None] = ContextVar("caller", default=None)

# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's `extra=` fields plus the call's request id and caller."""
    fields = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
    if "request_id" not in fields and (request_id := REQUEST_ID.get()) is not None:
        fields["request_id"] = request_id
    if "caller" not in fields and (caller := CALLER.get()) is not None:
        fields["caller"] = caller
    return fields


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ...extra fields, "exception"}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value ...`, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        return f"{head} {extra}{newline}{rest}"


def configure(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """Send every logger's lines to `stream` (stderr) in the chosen format; `auto`
    is JSON unless the stream is a terminal."""
    stream = stream or sys.stderr
    as_json = log_format == "json" or (log_format == "auto" and not stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
