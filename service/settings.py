"""The service's settings: environment variables only, validated once at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from repositories.config import ConfigError, DatabaseSettings, describe_validation_error

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ServiceSettings(BaseSettings):
    """Everything but the database (see DatabaseSettings for that)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    grpc_port: int = Field(default=50051, ge=0, le=65535)
    grpc_host: str = "[::]"
    shutdown_grace_seconds: float = Field(default=10.0, gt=0, le=3600)
    readiness_interval_seconds: float = Field(default=5.0, gt=0, le=300)
    max_statement_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    migrate_on_start: bool = True
    grpc_reflection: bool = True
    grpc_max_concurrent_calls: int | None = Field(default=None, ge=1, le=100_000)
    embedded_data_dir: Path = PROJECT_ROOT / ".data" / "postgres"
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")


def load_settings() -> tuple[ServiceSettings, DatabaseSettings]:
    errors = []
    service = database = None
    for cls in (ServiceSettings, DatabaseSettings):
        try:
            loaded = cls()
        except ValidationError as error:
            errors.append(describe_validation_error(error).split("\n", 1)[1])
            continue
        if isinstance(loaded, ServiceSettings):
            service = loaded
        else:
            database = loaded
    if errors or service is None or database is None:
        raise ConfigError("invalid configuration:\n" + "\n".join(errors))
    return service, database
