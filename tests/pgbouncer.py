"""A real PgBouncer in transaction pooling mode in front of a test database."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from .ports import free_port

# Server connections PgBouncer keeps per database: far fewer than the App's pool,
# so client connections take turns on them.
SERVER_POOL = 3


@dataclass(frozen=True)
class Bouncer:
    url: str
    """The test database, reached through PgBouncer."""
    log: Path


def _binary() -> str:
    """pgbouncer's path, installing Debian's package first when it is missing and
    this is root; never a skip: CI must run these tests."""

    def found() -> str | None:
        return shutil.which("pgbouncer") or next(
            (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(p, os.X_OK)),
            None,
        )

    binary = found()
    if binary is None and os.geteuid() == 0 and shutil.which("apt-get"):
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "pgbouncer"]):
            subprocess.run(command, check=False, env=environment, timeout=600, capture_output=True)
        binary = found()
    if binary is None:
        pytest.fail("pgbouncer is not installed and could not be (apt-get install -y pgbouncer)")
    return binary


def _run_as(host: str) -> str | None:
    """PgBouncer refuses to run as root. A unix socket directory (the embedded
    server's) is reachable by its owner; a TCP server by anyone."""
    if os.geteuid() != 0:
        return None
    if host.startswith("/"):
        return pwd.getpwuid(os.stat(host).st_uid).pw_name
    return "nobody"


@contextlib.contextmanager
def started(database_url: str) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of `database_url`, stopped afterwards."""
    binary = _binary()
    target = make_url(database_url)
    host = target.host or str(target.query.get("host") or "127.0.0.1")
    user = target.username or "postgres"
    server = f"host={host} port={target.port or 5432} dbname={target.database} user={user}"
    if target.password:
        server += f" password={target.password}"
    directory = Path(tempfile.mkdtemp(prefix="ruleiq-pgbouncer-"))
    port = free_port()
    (directory / "userlist.txt").write_text(f'"{user}" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"""[databases]
{target.database} = {server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = {SERVER_POOL}
min_pool_size = 0
reserve_pool_size = 0
logfile = {directory}/pgbouncer.log
"""
    )
    run_as = _run_as(host)
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        for path in (directory, *directory.iterdir()):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    command = [binary, *(["-u", run_as] if run_as else []), str(directory / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    log = directory / "pgbouncer.log"
    try:
        _wait_until_serving(process, port, target.database or "", user, log)
        yield Bouncer(f"postgresql://{user}@127.0.0.1:{port}/{target.database}", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)


def _wait_until_serving(
    process: subprocess.Popen[bytes], port: int, database: str, user: str, log: Path
) -> None:
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            shown = log.read_text() if log.exists() else ""
            pytest.fail(f"pgbouncer exited with {process.returncode}:\n{shown}")
        try:
            connection = psycopg2.connect(
                host="127.0.0.1", port=port, dbname=database, user=user, connect_timeout=2
            )
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        connection.close()
        return
