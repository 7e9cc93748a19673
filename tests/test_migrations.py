"""Migrations, each test on a fresh database of its own: up, down to nothing, up
again; every revision's downgrade on its own; no difference between the models and
the migrated schema; and the commands `make migrate` / `make migrate-down` wrap."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from repositories.config import DatabaseSettings
from repositories.database import Database
from repositories.migrations import (
    comparison_options,
    current_revision,
    downgrade,
    upgrade,
)
from repositories.models import Base

from .migration_scripts import HEAD, SCRIPTS
from .service_process import run_command, run_service

if TYPE_CHECKING:  # imported by name, pytest would try to collect the class
    from .postgres import TestServer

# Oldest first: a migration added later is walked without touching this file.
REVISIONS = list(reversed(list(SCRIPTS.walk_revisions())))

# Everything a migration can leave behind in the public schema, one query per kind.
SCHEMA_QUERIES = {
    "tables": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    "columns": """
        SELECT table_name || '.' || column_name || ' ' || data_type || ' '
               || is_nullable || ' ' || coalesce(column_default, '')
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "indexes": "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraints": """
        SELECT conrelid::regclass || '.' || conname || ' ' || pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        -- NOT NULL (a constraint row since PostgreSQL 18) is in "columns" already
        WHERE n.nspname = 'public' AND c.contype <> 'n'""",
    "types": """
        SELECT typname || ' ' || typtype::text FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm')""",
    "sequences": """
        SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S'""",
    "views": """
        SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')""",
    # With its body and settings: a migration may replace only those.
    "functions": """
        SELECT p.oid::regprocedure::text || ' ' || md5(p.prosrc)
               || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'""",
    "extensions": "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'",
}

# What `downgrade base` may leave: alembic's own bookkeeping table.
ALEMBIC_ONLY = {
    "tables": {"alembic_version"},
    "columns": {"alembic_version.version_num character varying NO "},
    "indexes": {
        "alembic_version_pkc CREATE UNIQUE INDEX alembic_version_pkc "
        "ON public.alembic_version USING btree (version_num)"
    },
    "constraints": {"alembic_version.alembic_version_pkc PRIMARY KEY (version_num)"},
}


async def schema(db: Database) -> dict[str, set[str]]:
    async with db.async_engine.connect() as connection:
        return {
            kind: set((await connection.execute(text(query))).scalars())
            for kind, query in SCHEMA_QUERIES.items()
        }


async def revision_of(db: Database) -> str | None:
    async with db.async_engine.connect() as connection:
        return await current_revision(connection)


@pytest.fixture
async def fresh(postgres: TestServer) -> AsyncIterator[Database]:
    """An empty database of this test's own."""
    with postgres.database("ruleiq_migrations") as url:
        db = Database(
            DatabaseSettings.model_validate({"db_application_name": f"t_{uuid.uuid4().hex[:16]}"}),
            url,
        )
        yield db
        await db.dispose()


def test_revisions_form_one_line_from_base_to_head() -> None:
    assert REVISIONS, "no migrations found"
    assert REVISIONS[0].down_revision is None
    assert REVISIONS[-1].revision == HEAD
    for older, newer in itertools.pairwise(REVISIONS):
        assert newer.down_revision == older.revision


async def test_upgrade_then_downgrade_base_leaves_nothing_then_upgrade_again(
    fresh: Database,
) -> None:
    before = await schema(fresh)
    assert before["tables"] == set()

    await upgrade(fresh.async_engine)
    migrated = await schema(fresh)
    assert await revision_of(fresh) == HEAD
    assert migrated["tables"] == {*Base.metadata.tables, "alembic_version"}
    assert migrated["types"], "the model's enum types were not created"
    assert "pg_trgm" in migrated["extensions"]

    await downgrade(fresh.async_engine, "base")
    assert await revision_of(fresh) is None
    leftovers = {
        kind: names - ALEMBIC_ONLY.get(kind, set()) for kind, names in (await schema(fresh)).items()
    }
    assert leftovers == {kind: set() for kind in SCHEMA_QUERIES}

    await upgrade(fresh.async_engine)
    assert await revision_of(fresh) == HEAD
    assert await schema(fresh) == migrated


async def test_each_revision_downgrades_to_exactly_what_came_before(fresh: Database) -> None:
    await upgrade(fresh.async_engine, "base")  # alembic_version exists, as after a downgrade
    for script in REVISIONS:
        before = await schema(fresh)
        await upgrade(fresh.async_engine, script.revision)
        after = await schema(fresh)
        assert after != before, f"{script.revision} changed nothing"

        await downgrade(fresh.async_engine, "-1")
        assert await revision_of(fresh) == script.down_revision
        assert await schema(fresh) == before, f"{script.revision}'s downgrade left something"

        await upgrade(fresh.async_engine, script.revision)
        assert await schema(fresh) == after
    assert await revision_of(fresh) == HEAD


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts=comparison_options())
    return list(compare_metadata(context, Base.metadata))


async def test_autogenerate_finds_no_difference_between_models_and_migrated_schema(
    fresh: Database,
) -> None:
    await upgrade(fresh.async_engine)
    async with fresh.async_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_autogenerate_would_notice_a_difference(fresh: Database) -> None:
    """The comparison above is live: a schema change shows up in it."""
    await upgrade(fresh.async_engine)
    async with fresh.async_engine.begin() as connection:
        await connection.execute(text("ALTER TABLE users ADD COLUMN nickname text"))
        await connection.execute(text("DROP INDEX uq_users_lower_email"))
        differences = await connection.run_sync(_differences)
    kinds = {(d[0], getattr(d[-1], "name", None)) for d in differences if isinstance(d, tuple)}
    assert ("remove_column", "nickname") in kinds
    assert ("add_index", "uq_users_lower_email") in kinds


async def test_service_migrate_and_downgrade_base_commands_exit_0(
    postgres: TestServer, fresh: Database
) -> None:
    url = fresh.urls.sync_url.set(drivername="postgresql").render_as_string(hide_password=False)

    migrated = run_service(url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert await revision_of(fresh) == HEAD
    assert (await schema(fresh))["tables"] == {*Base.metadata.tables, "alembic_version"}

    down = run_service(url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert await revision_of(fresh) is None
    assert (await schema(fresh))["tables"] == {"alembic_version"}


def test_service_migrate_against_unreachable_server_exits_1_without_password() -> None:
    password = "s3cr3t-Pa55word"
    result = run_service(f"postgresql://ruleiq:{password}@127.0.0.1:1/ruleiq_prod", "migrate")
    assert result.returncode == 1
    assert "127.0.0.1:1/ruleiq_prod" in result.stderr
    assert password not in result.stderr + result.stdout


def test_service_migrate_with_a_bad_setting_exits_2_naming_it() -> None:
    result = run_command(
        "migrate", env={**os.environ, "DB_POOL_SIZE": "abc", "DATABASE_URL": "postgresql://u@h/db"}
    )
    assert result.returncode == 2
    assert "DB_POOL_SIZE" in result.stderr
