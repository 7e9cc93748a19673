"""Database settings, read from the environment once and validated at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where alembic.ini, alembic/ and the embedded server's .data/ live; the service
# itself is started from any working directory.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the variable."""


class DatabaseSettings(BaseSettings):
    """The seed's variable names and defaults."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    database_url: SecretStr | None = Field(
        default=None, description="Any of postgres://, postgresql://, +psycopg2, +psycopg, +asyncpg"
    )
    database_replica_urls: SecretStr | None = Field(
        default=None,
        description="Comma-separated URLs of streaming replicas for Get, BatchGet and List",
    )
    db_replica_max_lag_seconds: float = Field(
        default=5.0,
        gt=0,
        le=86_400,
        description="seconds; a replica further behind leaves the rotation until it catches up",
    )
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=20, ge=0, le=1000)
    db_pool_recycle: int = Field(default=1800, ge=1, description="seconds")
    db_pool_timeout: float = Field(default=30.0, gt=0, description="seconds")
    db_pool_overflow_keep: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="seconds an overflow connection stays open after the load last needed it",
    )
    # Off: a round trip per checkout cost more than the query. A dead connection is
    # found by the call that uses it (UNAVAILABLE), which also closes the pool's idle
    # connections, so a database restart costs one failed call, not one per connection.
    db_pool_pre_ping: bool = False
    db_client_connection_check_interval: int = Field(
        default=1000,
        ge=0,
        le=3_600_000,
        description="ms; PostgreSQL ends a query whose client has gone (0: off; PostgreSQL 14+)",
    )
    db_application_name: str = Field(default="ruleIQ_backend", min_length=1, max_length=63)
    # DATABASE_URL names a PgBouncer in transaction pooling mode: consecutive
    # transactions of one connection may run on different server connections, so
    # nothing may outlive a transaction (see Database and UnitOfWork).
    db_pgbouncer: bool = False
    sqlalchemy_echo: bool = False
    # The migration runner (repositories/migrations.py): a session of its own,
    # short lock waits retried, one migrator per database at a time.
    database_migration_url: SecretStr | None = Field(
        default=None,
        description="a direct (session) connection for migrations; unset: DATABASE_URL",
    )
    db_migration_lock_timeout: float = Field(
        default=5.0, gt=0, le=600, description="seconds a migration step waits for a table lock"
    )
    db_migration_statement_timeout: float = Field(
        default=3600.0, gt=0, le=86_400, description="seconds one migration statement may run"
    )
    db_migration_lock_retries: int = Field(
        default=5, ge=0, le=100, description="retries of a step that hit the lock timeout"
    )
    db_migration_retry_backoff: float = Field(
        default=2.0, gt=0, le=300, description="seconds before the first retry, doubled each time"
    )
    db_migration_wait: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="seconds a migrator waits for another one to finish (0: do not wait)",
    )

    @field_validator("database_migration_url")
    @classmethod
    def _migration_url_needs_database_url(
        cls, url: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if url is not None and info.data.get("database_url") is None:
            # The embedded server would be served while another database is migrated.
            raise ValueError("set without DATABASE_URL")
        return url


def replica_urls(settings: DatabaseSettings) -> list[str]:
    raw = settings.database_replica_urls
    if raw is None:
        return []
    return [url.strip() for url in raw.get_secret_value().split(",") if url.strip()]


def validation_problems(error: ValidationError) -> list[str]:
    """One line per bad variable, named as it is in the environment."""
    lines = []
    for problem in error.errors():
        variable = ".".join(str(part) for part in problem["loc"]).upper()
        given = problem.get("input")
        shown = "" if "URL" in variable or given is None else f" (got {given!r})"
        lines.append(f"{variable}: {problem['msg']}{shown}")
    return lines


def invalid_configuration(problems: list[str]) -> ConfigError:
    """The one start-up error: every problem found, one per line."""
    return ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def load_database_settings() -> DatabaseSettings:
    """The database settings alone (the migration environment needs no more)."""
    try:
        return DatabaseSettings()
    except ValidationError as error:
        raise invalid_configuration(validation_problems(error)) from None
