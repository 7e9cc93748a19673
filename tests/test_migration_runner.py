"""The migration runner on a database that is serving: short lock waits retried and
the blocker named, while other tables keep being served; one migrator at a time
(two real processes); index builds that clear an INVALID leftover. Each test has a
fresh database and, where it needs one, a migration script directory of its own
(the real env.py and initial revision, plus the test's revision)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest

from repositories.config import PROJECT_ROOT
from repositories.migrations import MIGRATION_LOCK_KEY, MigrationError, run_migrations
from repositories.models import Base

from .api import Api, call
from .apps import db_settings, running
from .migration_scripts import ADD_NICKNAME, HEAD, TRIAL, UNIQUE_FULL_NAME_INDEX, script_directory
from .postgres import connect, fetch_all
from .probes import HANG_SECONDS
from .service_process import service_environment

if TYPE_CHECKING:
    from .postgres import TestServer


@pytest.fixture
def url(postgres: TestServer) -> Iterator[str]:
    """An empty database of this test's own."""
    with postgres.database("ruleiq_runner") as database_url:
        yield database_url


def revision_in(url: str) -> str | None:
    rows = fetch_all(url, "SELECT version_num FROM alembic_version")
    return rows[0][0] if rows else None


def columns_of(url: str, table: str) -> set[str]:
    query = "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
    return {row[0] for row in fetch_all(url, query, (table,))}


class Holder:
    """A session of another application that keeps a transaction open on users."""

    def __init__(self, url: str, application_name: str) -> None:
        self.connection = connect(url)
        with self.connection.cursor() as cursor:
            cursor.execute("SET application_name = %s", (application_name,))
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
            assert row is not None
            self.pid = row[0]
            cursor.execute("BEGIN")
            cursor.execute("SELECT count(*) FROM users")  # ACCESS SHARE until the end

    def release(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
        self.connection.close()


LOCK_TIMEOUT = 1.0
RETRIES = 2


async def test_migration_blocked_on_users_gives_up_naming_the_blocker_while_calls_go_on(
    url: str, tmp_path: Path
) -> None:
    await run_migrations(db_settings(), url)
    scripts = script_directory(tmp_path / "scripts", ADD_NICKNAME)
    settings = db_settings(
        db_migration_lock_timeout=LOCK_TIMEOUT,
        db_migration_lock_retries=RETRIES,
        db_migration_retry_backoff=0.2,
    )
    async with running(url) as app, grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as ch:
        api = Api(ch)
        user = await api.make("User")
        holder = Holder(url, "long_report")
        try:
            migration = asyncio.create_task(run_migrations(settings, url, script_location=scripts))
            served = {"ComplianceFramework": 0, "User": 0}
            while not migration.done():
                framework = await api.make("ComplianceFramework")
                got = await call(api, "ComplianceFramework", "Get", id=framework.id)
                assert got.id == framework.id
                served["ComplianceFramework"] += 1
                # users itself: behind the migrator's lock request, for one lock
                # timeout at most, never for as long as the holder holds on. The
                # holder holds until the migration gives up, so a reply before
                # then is one that did not wait for it.
                got_user = await api.User.GetUser(
                    api.pb("User").GetUserRequest(id=user.id), timeout=HANG_SECONDS
                )
                assert got_user.id == user.id
                if not migration.done():
                    served["User"] += 1
            with pytest.raises(MigrationError) as raised:
                await migration
        finally:
            holder.release()
    message = str(raised.value)
    assert f"gave up after {RETRIES + 1} tries" in message
    assert f"pid {holder.pid} (application_name 'long_report', idle in transaction" in message
    assert "DB_MIGRATION_LOCK_TIMEOUT" in message
    # Calls went on during the tries (each round waits one lock timeout at most),
    # on the other table and on users.
    assert served["ComplianceFramework"] >= RETRIES
    assert served["User"] >= RETRIES
    assert revision_in(url) == HEAD
    assert "nickname" not in columns_of(url, "users")


async def test_migration_blocked_for_a_while_succeeds_on_a_retry(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await run_migrations(db_settings(), url)
    scripts = script_directory(tmp_path / "scripts", ADD_NICKNAME)
    settings = db_settings(
        db_migration_lock_timeout=0.5, db_migration_lock_retries=5, db_migration_retry_backoff=0.2
    )
    holder = Holder(url, "short_report")
    caplog.set_level(logging.WARNING, logger="repositories.migrations")
    migration = asyncio.create_task(run_migrations(settings, url, script_location=scripts))
    while "lock timeout" not in caplog.text:
        assert not migration.done()
        await asyncio.sleep(0.05)
    holder.release()
    assert await migration == [TRIAL]
    assert f"held by pid {holder.pid} (application_name 'short_report'" in caplog.text
    assert revision_in(url) == TRIAL
    assert "nickname" in columns_of(url, "users")


def test_two_migrators_at_once_one_migrates_and_the_other_finds_nothing_to_do(
    url: str, tmp_path: Path
) -> None:
    # The test holds the lock first, so both processes are surely waiting at once.
    gate = connect(url)
    with gate.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    environment = service_environment(url, LOG_FORMAT="text")
    logs = [tmp_path / f"migrator-{i}.log" for i in range(2)]
    migrators = []
    for log in logs:
        with log.open("w") as stderr:
            migrators.append(
                subprocess.Popen(
                    [sys.executable, "-m", "service", "migrate"],
                    cwd=PROJECT_ROOT,
                    env=environment,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    text=True,
                )
            )
    try:
        deadline = time.monotonic() + 120
        while not all("waiting up to" in log.read_text() for log in logs):
            assert all(m.poll() is None for m in migrators), [log.read_text() for log in logs]
            assert time.monotonic() < deadline, "the migrators never both waited for the lock"
            time.sleep(0.1)
    finally:
        gate.close()
    codes = [m.wait(timeout=120) for m in migrators]
    texts = sorted((log.read_text() for log in logs), key=lambda text: "no migration" in text)
    assert codes == [0, 0], texts
    assert f"upgrade to {HEAD} done" in texts[0]
    assert "no migration to run" in texts[1]
    assert f"upgrade to {HEAD} done" not in texts[1]
    assert revision_in(url) == HEAD
    tables = {row[0] for row in fetch_all(url, "SELECT tablename FROM pg_tables")}
    assert set(Base.metadata.tables) <= tables


async def test_second_migrator_gives_up_after_its_wait_naming_the_first(url: str) -> None:
    other = connect(url)
    try:
        with other.cursor() as cursor:
            cursor.execute("SET application_name = 'migrate-job-7'")
            cursor.execute("SELECT pg_backend_pid(), pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            row = cursor.fetchone()
            assert row is not None
            pid = row[0]
        with pytest.raises(MigrationError) as raised:
            await run_migrations(db_settings(db_migration_wait=0.3), url)
    finally:
        other.close()
    assert "gave up after 0.3s (DB_MIGRATION_WAIT)" in str(raised.value)
    assert f"pid {pid} (application_name 'migrate-job-7'" in str(raised.value)
    assert fetch_all(url, "SELECT to_regclass('alembic_version')") == [(None,)]


def index_validity(url: str, name: str) -> list[bool]:
    query = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)"
    return [row[0] for row in fetch_all(url, query, (name,))]


async def test_concurrent_index_build_clears_the_invalid_leftover_of_a_failed_try(
    url: str, tmp_path: Path
) -> None:
    await run_migrations(db_settings(), url)
    scripts = script_directory(tmp_path / "scripts", UNIQUE_FULL_NAME_INDEX)
    insert = "INSERT INTO users (id, email, full_name) VALUES (gen_random_uuid(), %s, 'Same')"
    fetch_all(url, insert + " RETURNING id", ("a@example.com",))
    fetch_all(url, insert + " RETURNING id", ("b@example.com",))

    # CONCURRENTLY fails on the duplicate after it has created the index: INVALID.
    with pytest.raises(MigrationError, match="could not create unique index"):
        await run_migrations(db_settings(), url, script_location=scripts)
    assert index_validity(url, "uq_users_full_name") == [False]
    assert revision_in(url) == HEAD

    fetch_all(url, "DELETE FROM users WHERE email = 'b@example.com' RETURNING id")
    assert await run_migrations(db_settings(), url, script_location=scripts) == [TRIAL]
    assert index_validity(url, "uq_users_full_name") == [True]

    assert await run_migrations(db_settings(), url, "-1", down=True, script_location=scripts) == [
        HEAD
    ]
    assert index_validity(url, "uq_users_full_name") == []
