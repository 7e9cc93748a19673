"""The service's settings: environment variables only (service/config.py reads
them, with the files they name, once at start-up)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from repositories.config import PROJECT_ROOT

MAX_RETENTION_DAYS = 36_500
"""The longest CHANGE_LOG_RETENTION_DAYS (or `purge-changes --retention-days`)."""


class ServiceSettings(BaseSettings):
    """Everything but the database (see DatabaseSettings for that)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    grpc_port: int = Field(default=50051, ge=0, le=65535)
    grpc_host: str = "[::]"
    shutdown_grace_seconds: float = Field(default=10.0, gt=0, le=3600)
    # A caller that stops reading its responses pins them in memory until its
    # connection closes (service/server.py: connection_options).
    grpc_max_connection_age_seconds: float = Field(default=300.0, ge=0.1, le=86400)
    grpc_max_connection_age_grace_seconds: float = Field(default=60.0, ge=0.1, le=3600)
    readiness_interval_seconds: float = Field(default=5.0, gt=0, le=300)
    max_statement_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    migrate_on_start: bool = True
    grpc_reflection: bool = True
    grpc_max_concurrent_calls: int | None = Field(default=None, ge=1, le=100_000)
    # No reply is larger (List pages are cut short, service/encoding.py): 3 MiB
    # leaves a clear margin under grpc's default client receive limit of 4 MiB.
    grpc_max_response_bytes: int = Field(default=3 * 1024 * 1024, ge=256 * 1024, le=1 << 30)
    # Server processes on GRPC_PORT (service/workers.py); 1: this process serves.
    grpc_workers: int = Field(default=1, ge=1, le=64)
    embedded_data_dir: Path = PROJECT_ROOT / ".data" / "postgres"
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    # auto: JSON lines when stderr is not a terminal (containers), text on a terminal.
    log_format: Literal["auto", "json", "text"] = "auto"
    # Transport security (service/security.py): TLS when both files are set,
    # mutual TLS when the client CA is set too.
    grpc_tls_cert_file: Path | None = None
    grpc_tls_key_file: Path | None = None
    grpc_tls_client_ca_file: Path | None = None
    # Callers and what they may do (service/auth.py); neither set: auth is off.
    auth_tokens_file: Path | None = None
    auth_tokens: SecretStr | None = None
    # Prometheus endpoint (service/metrics.py); unset: no metrics.
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"  # noqa: S104  # scraped from other pods
    # OpenTelemetry tracing (service/tracing.py), off unless an exporter is named.
    otel_traces_exporter: Literal["otlp", "console", "none"] | None = None
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = Field(default="ruleiq-data", min_length=1)
    # How long change events are kept (docs/history.md); `purge-changes` deletes older.
    change_log_retention_days: int = Field(default=400, ge=1, le=MAX_RETENTION_DAYS)
    # WatchChanges (docs/watch.md): how often the reader looks for committed events
    # when nothing woke it, open streams per process, events a stream may hold
    # unsent before it ends as too slow, a stream's life before it is recycled, the
    # silence after which an idle stream gets a heartbeat, and how long the database
    # may stay away before streams end with UNAVAILABLE.
    watch_poll_interval: float = Field(default=0.5, ge=0.01, le=60)
    watch_max_streams: int = Field(default=2000, ge=1, le=100_000)
    watch_buffer: int = Field(default=1000, ge=1, le=1_000_000)
    watch_max_stream_age: float = Field(default=900.0, ge=1, le=86400)
    watch_heartbeat_interval: float = Field(default=10.0, ge=0.1, le=3600)
    watch_database_outage: float = Field(default=30.0, ge=0.1, le=3600)
    # Only for `make bench`'s measure of what the history costs (it also disables the
    # triggers): writes skip telling the history who wrote. Never in production.
    change_history_bench_off: bool = False

    @field_validator("grpc_workers")
    @classmethod
    def _workers_need_a_fixed_port(cls, workers: int, info: ValidationInfo) -> int:
        if workers > 1 and info.data.get("grpc_port") == 0:
            # Each worker would bind a different free port, unknown to clients.
            raise ValueError("more than 1 worker needs a fixed GRPC_PORT, not 0")
        return workers

    @property
    def tracing_exporter(self) -> Literal["otlp", "console"] | None:
        """Which exporter spans go to, or None when tracing is off: an explicit
        OTEL_TRACES_EXPORTER wins; an OTLP endpoint alone means otlp."""
        if self.otel_traces_exporter == "none":
            return None
        if self.otel_traces_exporter is not None:
            return self.otel_traces_exporter
        return "otlp" if self.otel_exporter_otlp_endpoint else None
