"""Alembic, driven from code: the server and the tests migrate over an async
connection they already hold, so no second event loop is started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alembic import command

from .models import Base

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate's filter: pg_trgm's own objects are not ours to diff."""
    return not (type_ == "table" and name is not None and name.startswith("pg_"))


def comparison_options() -> dict[str, Any]:
    """How models and schema are compared, shared by env.py and the tests that
    prove autogenerate finds no difference."""
    return {
        "target_metadata": Base.metadata,
        "compare_type": True,
        "compare_server_default": True,
        "include_object": include_object,
    }


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(connection: AsyncConnection) -> str | None:
    try:
        async with connection.begin_nested():
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return result.scalar_one_or_none()
    except ProgrammingError:  # no alembic_version table: never migrated
        return None
