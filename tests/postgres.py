"""The PostgreSQL the tests run on: an embedded server of their own, or the one
TEST_DATABASE_URL names. Each test run works in databases it creates and drops."""

from __future__ import annotations

import os
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy.engine import make_url

from repositories.embedded import EmbeddedPostgres


class CrashableEmbeddedPostgres(EmbeddedPostgres):
    """An embedded server the fault tests may crash and start again."""

    def crash(self) -> None:
        """Stop the way a crash does: no checkpoint, every connection cut; `start()`
        brings it back with crash recovery."""
        # SIGQUIT is PostgreSQL's immediate shutdown (what `pg_ctl -m immediate`
        # sends); pg_ctl itself is avoided here because it crashes when forked from
        # a process with gRPC threads.
        pid = self._server.get_pid()
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise TimeoutError(f"PostgreSQL (pid {pid}) did not stop")

    def start(self) -> None:
        """Start the server again in the same data directory (after `crash`)."""
        self._server.ensure_postgres_running()


def connect(url: str) -> psycopg2.extensions.connection:
    """A plain autocommit psycopg2 connection to `url` (TCP or a unix socket dir)."""
    dsn = make_url(url)
    connection = psycopg2.connect(
        dbname=dsn.database,
        user=dsn.username,
        password=dsn.password,
        host=dsn.host or dsn.query.get("host"),
        port=dsn.port,
    )
    connection.autocommit = True
    return connection


def fetch_all(url: str, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of one query on its own connection to `url`."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())
    finally:
        connection.close()


def lock_waiters(url: str, application_prefix: str) -> int:
    """Statements of connections named `application_prefix`... that wait on a lock:
    how a test knows its call is held, instead of sleeping and hoping."""
    ((count,),) = fetch_all(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, %s)"
        " AND state = 'active' AND cardinality(pg_blocking_pids(pid)) > 0",
        (application_prefix,),
    )
    return int(count)


class TestServer:
    """Creates and drops databases on one PostgreSQL server."""

    __test__ = False  # a helper, not a test class

    def __init__(self) -> None:
        self.embedded: EmbeddedPostgres | None = None
        given = os.environ.get("TEST_DATABASE_URL")
        if given:
            self.admin_url = given.replace("postgres://", "postgresql://", 1)
        else:
            data_dir = Path(tempfile.mkdtemp(prefix="ruleiq-test-")) / "pg"
            self.embedded = EmbeddedPostgres(data_dir, temporary=True)
            self.admin_url = self.embedded.url("postgres")

    def url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def _admin(self) -> psycopg2.extensions.connection:
        return connect(self.admin_url)

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        connection = self._admin()
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def create_database(self, prefix: str = "ruleiq_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def database(self, prefix: str = "ruleiq_test") -> Iterator[str]:
        """A new empty database for the block; its URL."""
        name = self.create_database(prefix)
        try:
            yield self.url(name)
        finally:
            self.drop_database(name)

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
