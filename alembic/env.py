"""Migrations over asyncpg, with the same settings the service reads.

Called from code (the server, the tests) a connection arrives in
`config.attributes["connection"]` and is used as is; from the alembic command line
an engine is built from DATABASE_URL and driven with asyncio.run.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import context
from repositories.config import ConfigError, load_database_settings
from repositories.migrations import comparison_options
from repositories.urls import parse_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = comparison_options()["target_metadata"]


def _configure(connection: Connection) -> None:
    context.configure(connection=connection, transaction_per_migration=True, **comparison_options())
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    settings = load_database_settings()
    if settings.database_url is None:
        raise ConfigError("DATABASE_URL: not set (use `make migrate` for the embedded server)")
    urls = parse_database_url(settings.database_url.get_secret_value())
    engine = create_async_engine(
        urls.async_url, connect_args=urls.async_connect_args, poolclass=pool.NullPool
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    """The SQL `alembic upgrade --sql` prints (and squawk lints), with the session
    settings the runner (repositories/migrations.py) sets before the first step."""
    settings = load_database_settings()
    context.configure(
        url="postgresql://",
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    context.execute(f"SET lock_timeout = '{int(settings.db_migration_lock_timeout * 1000)}ms'")
    timeout = int(settings.db_migration_statement_timeout * 1000)
    context.execute(f"SET statement_timeout = '{timeout}ms'")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    _configure(connection)
else:
    asyncio.run(_run_online())
