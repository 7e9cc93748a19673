"""The benchmark's PostgreSQL: an embedded throwaway server (or BENCH_DATABASE_URL's),
one fresh database migrated by the service's own CLI, and a fast set-based seed."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy.engine import make_url

from repositories.config import PROJECT_ROOT as ROOT
from repositories.embedded import EmbeddedPostgres

from .config import READ_SAMPLE, UPDATE_USERS_PER_WORKER, BenchConfig

# Ids are UUIDv7-like, as the service's own uuid7(): 48 bits of the row's created_at
# in ms, version 7, then bits from md5(row number). Rows are 1 ms apart, so ids are
# unique and sort like created_at, as rows the service creates do.
_SEED_USERS = """
INSERT INTO users (id, email, hashed_password, full_name, is_active, created_at, updated_at)
SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0')
        || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
       %(prefix)s || lpad(i::text, 8, '0') || '@bench.example',
       '$2b$12$' || h || h,
       'Bench User ' || i,
       i %% 10 <> 0,
       ts,
       ts
FROM (
    SELECT i,
           %(newest)s::timestamptz - (%(offset)s + %(count)s - i) * interval '1 millisecond' AS ts,
           md5(%(prefix)s || i) AS h
    FROM generate_series(1, %(count)s) AS i
) AS rows
"""


# Every table the seed writes.
SEEDED = ("users", "business_profiles", "compliance_frameworks", "evidence_items")

# Evidence for the search and dashboard rows: 1,000 owners (the first listed users),
# 50 frameworks, 7 statuses; one name in 2,000 mentions a firewall.
_SEED_EVIDENCE = [
    """
    INSERT INTO business_profiles (id, user_id, company_name, industry, employee_count)
    SELECT gen_random_uuid(), id, 'bench evidence owner', 'software', 10
    FROM (SELECT id FROM users WHERE email LIKE 'user%%' ORDER BY email LIMIT 1000) owners
    """,
    """
    INSERT INTO compliance_frameworks (id, name, display_name, description, category)
    SELECT gen_random_uuid(), 'bench-framework-' || g, 'Framework ' || g, 'Bench', 'security'
    FROM generate_series(1, 50) g
    """,
    """
    WITH owners AS (
        SELECT array_agg(user_id ORDER BY user_id) AS users,
               array_agg(id ORDER BY user_id) AS profiles
        FROM business_profiles WHERE company_name = 'bench evidence owner'
    ), frameworks AS (
        SELECT array_agg(id ORDER BY name) AS ids FROM compliance_frameworks
        WHERE name LIKE 'bench-framework-%%'
    )
    INSERT INTO evidence_items (
        id, user_id, business_profile_id, framework_id, evidence_name, evidence_type,
        control_reference, description, status, compliance_score_impact, created_at, updated_at)
    SELECT gen_random_uuid(), o.users[1 + g %% 1000], o.profiles[1 + g %% 1000],
           f.ids[1 + g %% 50],
           CASE WHEN g %% 2000 = 0 THEN 'Firewall rule review ' || g
                ELSE 'Evidence item ' || g END,
           'document', 'A.' || g %% 100, 'Description ' || g %% 500,
           (enum_range(NULL::evidence_status))[1 + g %% 7], g %% 100,
           now() - g * interval '1 second', now() - g * interval '1 second'
    FROM generate_series(1, %(count)s) g, owners o, frameworks f
    """,
]


@dataclass
class SeedInfo:
    """What the client processes need to know about the seeded rows."""

    read_ids: list[str]
    update_ids: list[str]
    delete_ids: list[str]
    seconds: float
    table_rows: int
    details: dict[str, Any] = field(default_factory=dict)
    evidence_user: str = ""
    """The owner the dashboard workload aggregates."""


class BenchDatabase:
    """A server (embedded unless `url` is given) holding one database for this run."""

    def __init__(self, url: str | None) -> None:
        self.embedded: EmbeddedPostgres | None = None
        self.tmp_dir = Path(tempfile.mkdtemp(prefix="ruleiq-bench-"))
        if url:
            self.admin_url = url.replace("postgres://", "postgresql://", 1)
        else:
            self.embedded = EmbeddedPostgres(self.tmp_dir / "pg", temporary=True)
            self.admin_url = self.embedded.url("postgres")
        self.name = f"ruleiq_bench_{uuid.uuid4().hex[:10]}"
        self._created = False

    @property
    def data_dir(self) -> Path | None:
        return self.embedded.data_dir if self.embedded is not None else None

    @property
    def url(self) -> str:
        return make_url(self.admin_url).set(database=self.name).render_as_string(False)

    def connect(self, database: str | None = None) -> psycopg2.extensions.connection:
        dsn = make_url(self.admin_url)
        connection = psycopg2.connect(
            dbname=database or dsn.database,
            user=dsn.username,
            password=dsn.password,
            host=dsn.host or dsn.query.get("host"),
            port=dsn.port,
            application_name="ruleiq_bench_setup",
        )
        connection.autocommit = True
        return connection

    def create(self) -> None:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.name}"')
            self._created = True
        finally:
            connection.close()

    def migrate(self) -> None:
        """`python -m service migrate`, as an operator would run it."""
        env = {**os.environ, "DATABASE_URL": self.url}
        result = subprocess.run(
            [sys.executable, "-m", "service", "migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migration failed:\n{result.stdout}\n{result.stderr}")

    def seed(self, config: BenchConfig) -> SeedInfo:
        """`config.users` listed users plus rows the delete workload consumes, older than
        every listed one so deleting them never moves a list page."""
        started = time.perf_counter()
        connection = self.connect(self.name)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET statement_timeout = '15min'")
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET maintenance_work_mem = '256MB'")
                newest = self._value(cursor, "SELECT clock_timestamp() - interval '1 minute'")
                connection.autocommit = False
                cursor.execute(
                    _SEED_USERS,
                    {"prefix": "user", "count": config.users, "offset": 0, "newest": newest},
                )
                if config.deletable_users:
                    cursor.execute(
                        _SEED_USERS,
                        {
                            "prefix": "delete",
                            "count": config.deletable_users,
                            "offset": config.users,
                            "newest": newest,
                        },
                    )
                if config.evidence:
                    for statement in _SEED_EVIDENCE:
                        cursor.execute(statement, {"count": config.evidence})
                connection.commit()
                connection.autocommit = True
                for table in SEEDED:
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
                inserted = time.perf_counter() - started
                table_rows = int(self._value(cursor, "SELECT count(*) FROM users"))
                # Events of a seed would make every measured write's recording pay
                # for a history the workloads never wrote (and evidence rows are big).
                events = self._value(cursor, "SELECT count(*) FROM change_events")
                if events:
                    raise RuntimeError(f"the seed recorded {events:,} change events")
                read_ids = self._ids(
                    cursor,
                    "SELECT id::text FROM users WHERE email LIKE 'user%%' "
                    "ORDER BY md5(id::text) LIMIT %s",
                    min(READ_SAMPLE, config.users),
                )
                update_ids = self._ids(
                    cursor,
                    "SELECT id::text FROM users WHERE email LIKE 'user%%' "
                    "ORDER BY md5(email) LIMIT %s",
                    config.concurrency * UPDATE_USERS_PER_WORKER,
                )
                delete_ids = self._ids(
                    cursor,
                    "SELECT id::text FROM users WHERE email LIKE 'delete%%' LIMIT %s",
                    config.deletable_users,
                )
                evidence_user = self._ids(
                    cursor,
                    "SELECT user_id::text FROM business_profiles"
                    " WHERE company_name = 'bench evidence owner' ORDER BY user_id LIMIT %s",
                    1,
                )
                details = self._server_details(cursor)
        finally:
            connection.close()
        return SeedInfo(
            read_ids=read_ids,
            update_ids=update_ids,
            delete_ids=delete_ids,
            seconds=time.perf_counter() - started,
            table_rows=table_rows,
            details={**details, "insert_and_vacuum_seconds": round(inserted, 2)},
            evidence_user=evidence_user[0] if evidence_user else "",
        )

    @staticmethod
    def _value(cursor: Any, query: str) -> Any:
        """The one value `query` returns."""
        cursor.execute(query)
        row = cursor.fetchone()
        assert row is not None
        return row[0]

    @staticmethod
    def _ids(cursor: Any, query: str, limit: int) -> list[str]:
        cursor.execute(query, (limit,))
        return [row[0] for row in cursor.fetchall()]

    @staticmethod
    def _server_details(cursor: Any) -> dict[str, Any]:
        version = BenchDatabase._value(cursor, "SHOW server_version")
        cursor.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('shared_buffers', 'max_connections', 'work_mem', "
            "'fsync', 'jit')"
        )
        settings = {name: f"{value}{unit or ''}" for name, value, unit in cursor.fetchall()}
        size = BenchDatabase._value(
            cursor, "SELECT pg_size_pretty(pg_total_relation_size('users'))"
        )
        return {"server_version": version, "settings": settings, "users_table_size": size}

    @contextlib.contextmanager
    def history_off(self, tables: Sequence[str] = ("users",)) -> Iterator[None]:
        """The change history's triggers disabled on `tables` for the block: the
        writes made meanwhile are what they cost without it."""
        connection = self.connect(self.name)
        try:
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield
        finally:
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            connection.close()

    def stop(self) -> None:
        """Drop the database (on a server of your own) and stop the embedded server."""
        try:
            if self._created and self.embedded is None:
                connection = self.connect()
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                finally:
                    connection.close()
        finally:
            try:
                if self.embedded is not None:
                    self.embedded.stop()
            finally:
                shutil.rmtree(self.tmp_dir, ignore_errors=True)
