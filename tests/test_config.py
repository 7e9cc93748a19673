"""Settings from the environment and the forms DATABASE_URL may take: what reaches
the pools and the drivers, and what is refused at start-up. No server is needed:
the connect arguments are caught on their way to the driver."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from repositories.config import ConfigError, DatabaseSettings, load_database_settings
from repositories.database import Database
from repositories.migrations import migration_url
from repositories.pooling import BurstPool
from repositories.urls import parse_database_url
from service.config import load_config
from service.settings import ServiceSettings

from .driver import async_connect_arguments, sync_connect_arguments

PASSWORD = "s3cr3t-Pa55word"
URL = f"postgresql://ruleiq:{PASSWORD}@db.example.com:6543/ruleiq"
SCHEMES = [
    "postgres",
    "postgresql",
    "postgresql+psycopg2",
    "postgresql+psycopg",
    "postgresql+asyncpg",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment holding only DATABASE_URL (with a password) of our settings."""
    for name in {*DatabaseSettings.model_fields, *ServiceSettings.model_fields}:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("DATABASE_URL", URL)
    return monkeypatch


def database_from_env() -> Database:
    return Database(load_database_settings())


# -- settings from the environment -------------------------------------------------


def test_defaults_are_the_seeds_values(env: pytest.MonkeyPatch) -> None:
    settings = load_database_settings()
    assert settings.db_pool_size == 10
    assert settings.db_max_overflow == 20
    assert settings.db_pool_recycle == 1800
    assert settings.db_pool_timeout == 30
    # The seed pre-pinged; the service finds dead connections by their errors instead
    # (proven by tests/test_faults.py).
    assert settings.db_pool_pre_ping is False
    assert settings.sqlalchemy_echo is False
    assert settings.db_application_name == "ruleIQ_backend"


def max_overflow(pool: Any) -> int:
    """DB_MAX_OVERFLOW as a pool holds it (BurstPool's own queue has no overflow)."""
    return int(pool.max_overflow() if isinstance(pool, BurstPool) else pool._max_overflow)


def test_defaults_reach_both_pools(env: pytest.MonkeyPatch) -> None:
    database = database_from_env()
    assert isinstance(database.async_engine.pool, BurstPool)
    assert database.async_engine.pool.keep_overflow() == 60
    assert isinstance(database.sync_engine.pool, QueuePool)
    for engine in (database.async_engine, database.sync_engine):
        pool: Any = engine.pool
        assert pool.size() == 10
        assert max_overflow(pool) == 20
        assert pool._recycle == 1800
        assert pool._timeout == 30
        assert pool._pre_ping is False
        assert engine.echo is False
    assert database.application_name == "ruleIQ_backend"


# (variable, value, what to read from an engine, what it must be)
SET_VALUES: list[tuple[str, str, Callable[[Any], Any], Any]] = [
    ("DB_POOL_SIZE", "3", lambda e: e.pool.size(), 3),
    ("DB_POOL_SIZE", "1", lambda e: e.pool.size(), 1),
    ("DB_MAX_OVERFLOW", "7", lambda e: max_overflow(e.pool), 7),
    ("DB_MAX_OVERFLOW", "0", lambda e: max_overflow(e.pool), 0),
    ("DB_POOL_RECYCLE", "60", lambda e: e.pool._recycle, 60),
    ("DB_POOL_TIMEOUT", "2.5", lambda e: e.pool._timeout, 2.5),
    ("DB_POOL_PRE_PING", "true", lambda e: e.pool._pre_ping, True),
    ("SQLALCHEMY_ECHO", "true", lambda e: e.echo, True),
    ("SQLALCHEMY_ECHO", "1", lambda e: e.echo, True),
]


@pytest.mark.parametrize(
    ("variable", "value", "read", "expected"),
    SET_VALUES,
    ids=[f"{v}={value}" for v, value, _, _ in SET_VALUES],
)
def test_set_value_is_honoured_by_both_pools(
    env: pytest.MonkeyPatch,
    variable: str,
    value: str,
    read: Callable[[Any], Any],
    expected: Any,
) -> None:
    env.setenv(variable, value)
    database = database_from_env()
    assert read(database.async_engine) == expected
    assert read(database.sync_engine) == expected


def test_application_name_is_overridable(env: pytest.MonkeyPatch) -> None:
    env.setenv("DB_APPLICATION_NAME", "billing-worker")
    assert database_from_env().application_name == "billing-worker"


BAD_VALUES = [
    ("DB_POOL_SIZE", "abc"),
    ("DB_POOL_SIZE", "-1"),
    ("DB_POOL_SIZE", "0"),
    ("DB_POOL_SIZE", ""),
    ("DB_POOL_SIZE", "2.5"),
    ("DB_MAX_OVERFLOW", "abc"),
    ("DB_MAX_OVERFLOW", "-1"),
    ("DB_MAX_OVERFLOW", ""),
    ("DB_POOL_RECYCLE", "abc"),
    ("DB_POOL_RECYCLE", "-1"),
    ("DB_POOL_RECYCLE", "0"),
    ("DB_POOL_RECYCLE", ""),
    ("DB_POOL_TIMEOUT", "abc"),
    ("DB_POOL_TIMEOUT", "-1"),
    ("DB_POOL_TIMEOUT", "0"),
    ("DB_POOL_TIMEOUT", ""),
    ("DB_POOL_PRE_PING", "maybe"),
    ("DB_POOL_PRE_PING", ""),
    ("SQLALCHEMY_ECHO", "loud"),
    ("SQLALCHEMY_ECHO", ""),
    ("DB_APPLICATION_NAME", ""),
    ("DB_APPLICATION_NAME", "x" * 64),
]


@pytest.mark.parametrize(
    ("variable", "value"), BAD_VALUES, ids=[f"{v}={value!r}" for v, value in BAD_VALUES]
)
def test_bad_value_is_refused_naming_the_variable(
    env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    env.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_database_settings()
    message = str(info.value)
    assert variable in message
    assert PASSWORD not in message


def test_every_bad_variable_is_named_at_once(env: pytest.MonkeyPatch) -> None:
    env.setenv("DB_POOL_SIZE", "abc")
    env.setenv("DB_POOL_TIMEOUT", "-1")
    with pytest.raises(ConfigError) as info:
        load_database_settings()
    assert "DB_POOL_SIZE" in str(info.value)
    assert "DB_POOL_TIMEOUT" in str(info.value)


@pytest.mark.parametrize("value", ["abc", "-1", "65536", ""])
def test_bad_grpc_port_is_refused_naming_the_variable(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("GRPC_PORT", value)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "GRPC_PORT" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_bad_service_and_database_values_are_reported_together(env: pytest.MonkeyPatch) -> None:
    env.setenv("GRPC_PORT", "abc")
    env.setenv("DB_MAX_OVERFLOW", "-1")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "GRPC_PORT" in str(info.value)
    assert "DB_MAX_OVERFLOW" in str(info.value)


def test_good_grpc_port_is_honoured(env: pytest.MonkeyPatch) -> None:
    env.setenv("GRPC_PORT", "6000")
    config = load_config()
    assert config.service.grpc_port == 6000
    assert config.database.db_pool_size == 10


def test_database_without_a_url_is_refused_naming_database_url(env: pytest.MonkeyPatch) -> None:
    env.delenv("DATABASE_URL")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        database_from_env()


# -- DATABASE_URL forms ---------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_accepted_scheme_yields_asyncpg_and_psycopg2_urls(
    env: pytest.MonkeyPatch, scheme: str
) -> None:
    env.setenv("DATABASE_URL", f"{scheme}://ruleiq:{PASSWORD}@db.example.com:6543/ruleiq")
    database = database_from_env()
    async_url, sync_url = database.async_engine.url, database.sync_engine.url
    assert async_url.drivername == "postgresql+asyncpg"
    assert sync_url.drivername == "postgresql+psycopg2"
    for url in (async_url, sync_url):
        assert (url.host, url.port, url.database) == ("db.example.com", 6543, "ruleiq")
        assert (url.username, url.password) == ("ruleiq", PASSWORD)


BAD_URLS = [
    f"mysql://ruleiq:{PASSWORD}@db.example.com/ruleiq",
    f"postgresql+pg8000://ruleiq:{PASSWORD}@db.example.com/ruleiq",
    "sqlite:///ruleiq.db",
    "garbage",
    f"ruleiq:{PASSWORD}@db.example.com/ruleiq",
    "",
    f"postgresql://ruleiq:{PASSWORD}@db.example.com:notaport/ruleiq",
    f"postgresql://ruleiq:{PASSWORD}@db.example.com/ruleiq?sslmode=maybe",
    f"postgresql://ruleiq:{PASSWORD}@db.example.com/ruleiq?sslmode=SSL",
    f"postgresql://ruleiq:{PASSWORD}@db.example.com/ruleiq?ssl=require&sslmode=disable",
    f"postgresql://ruleiq:{PASSWORD}@db.example.com/ruleiq?sslmode=require&sslmode=disable",
    f"postgresql://ruleiq:{PASSWORD}@db.example.com/ruleiq?target_session_attrs=any",
    f"postgresql://ruleiq:{PASSWORD}@db.example.com/ruleiq?connect_timeout=soon",
]


@pytest.mark.parametrize("raw", BAD_URLS)
def test_unusable_database_url_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_database_url(raw)
    assert "DATABASE_URL" in str(info.value)
    assert PASSWORD not in str(info.value)


def _is_false(value: Any) -> None:
    assert value is False


def _is_string(mode: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        assert value == mode

    return check


def _context(verify_mode: ssl.VerifyMode, check_hostname: bool) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        assert isinstance(value, ssl.SSLContext)
        assert value.verify_mode == verify_mode
        assert value.check_hostname is check_hostname

    return check


SSL_MODES: list[tuple[str, Callable[[Any], None]]] = [
    ("disable", _is_false),
    ("allow", _is_string("allow")),
    ("prefer", _is_string("prefer")),
    ("require", _context(ssl.CERT_NONE, check_hostname=False)),
    ("verify-ca", _context(ssl.CERT_REQUIRED, check_hostname=False)),
    ("verify-full", _context(ssl.CERT_REQUIRED, check_hostname=True)),
]


@pytest.mark.parametrize(("sslmode", "check"), SSL_MODES, ids=[m for m, _ in SSL_MODES])
async def test_sslmode_becomes_asyncpg_ssl_and_stays_sslmode_for_psycopg2(
    sslmode: str, check: Callable[[Any], None]
) -> None:
    database = Database(DatabaseSettings(), f"{URL}?sslmode={sslmode}")
    assert "sslmode" not in database.urls.async_url.query
    assert database.urls.sync_url.query["sslmode"] == sslmode
    check((await async_connect_arguments(database.async_engine))["ssl"])
    assert sync_connect_arguments(database.sync_engine)["sslmode"] == sslmode


@pytest.mark.parametrize("sslmode", [m for m, _ in SSL_MODES])
def test_asyncpg_style_ssl_parameter_means_the_same_as_sslmode(sslmode: str) -> None:
    urls = parse_database_url(f"postgresql+asyncpg://ruleiq:{PASSWORD}@db/ruleiq?ssl={sslmode}")
    assert urls.sslmode == sslmode
    assert urls.sync_url.query["sslmode"] == sslmode
    assert "ssl" not in urls.async_url.query


async def test_without_sslmode_asyncpg_gets_no_ssl_argument() -> None:
    database = Database(DatabaseSettings(), URL)
    assert "ssl" not in await async_connect_arguments(database.async_engine)
    assert "sslmode" not in sync_connect_arguments(database.sync_engine)


@pytest.fixture(scope="module")
def ca_certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway self-signed CA certificate (cryptography is not in .venv)."""
    directory = tmp_path_factory.mktemp("ca")
    certificate = directory / "root.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=ruleiq-test-ca",
            "-keyout",
            str(directory / "root.key"),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return certificate


def subject(cert: Mapping[str, object]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """A certificate's subject as ssl reports it: relative names of (key, value) pairs."""
    names = cert["subject"]
    assert isinstance(names, tuple), names
    return names


@pytest.mark.parametrize("sslmode", ["verify-ca", "verify-full"])
async def test_sslrootcert_is_the_ca_asyncpg_trusts(ca_certificate: Path, sslmode: str) -> None:
    database = Database(DatabaseSettings(), f"{URL}?sslmode={sslmode}&sslrootcert={ca_certificate}")
    context = (await async_connect_arguments(database.async_engine))["ssl"]
    assert isinstance(context, ssl.SSLContext)
    subjects = [dict(rdn[0] for rdn in subject(cert)) for cert in context.get_ca_certs()]
    assert subjects == [{"commonName": "ruleiq-test-ca"}]
    assert context.verify_mode == ssl.CERT_REQUIRED
    sync_arguments = sync_connect_arguments(database.sync_engine)
    assert sync_arguments["sslrootcert"] == str(ca_certificate)
    assert sync_arguments["sslmode"] == sslmode


def test_missing_sslrootcert_is_refused_at_start_up(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.crt"
    with pytest.raises(ConfigError) as info:
        parse_database_url(f"{URL}?sslmode=verify-full&sslrootcert={missing}")
    assert "DATABASE_URL" in str(info.value)
    assert "sslrootcert" in str(info.value)
    assert PASSWORD not in str(info.value)


async def test_unix_socket_url_reaches_both_drivers() -> None:
    database = Database(DatabaseSettings(), "postgresql://ruleiq@/ruleiq?host=/run/postgresql")
    assert database.urls.async_url.query["host"] == "/run/postgresql"
    assert database.urls.sync_url.query["host"] == "/run/postgresql"
    assert "/run/postgresql" in database.urls.safe_description
    assert (await async_connect_arguments(database.async_engine))["host"] == "/run/postgresql"
    sync_arguments = sync_connect_arguments(database.sync_engine)
    assert sync_arguments["host"] == "/run/postgresql"
    assert sync_arguments["dbname"] == "ruleiq"


async def test_connect_timeout_reaches_both_drivers() -> None:
    database = Database(DatabaseSettings(), f"{URL}?connect_timeout=5")
    assert (await async_connect_arguments(database.async_engine))["timeout"] == 5.0
    assert sync_connect_arguments(database.sync_engine)["connect_timeout"] == "5"


def test_sync_engine_asks_psycopg2_for_tcp_keepalives() -> None:
    arguments = sync_connect_arguments(Database(DatabaseSettings(), URL).sync_engine)
    assert arguments["keepalives"] == 1
    assert arguments["keepalives_idle"] > 0
    assert arguments["keepalives_interval"] > 0
    assert arguments["keepalives_count"] > 0


APPLICATION_NAMES = [
    # (DB_APPLICATION_NAME, ?application_name= in the URL, the name both engines use)
    (None, None, "ruleIQ_backend"),
    ("from-env", None, "from-env"),
    (None, "from-url", "from-url"),
    ("from-env", "from-url", "from-env"),
]


@pytest.mark.parametrize(("from_env", "from_url", "expected"), APPLICATION_NAMES)
async def test_application_name_reaches_both_drivers(
    env: pytest.MonkeyPatch, from_env: str | None, from_url: str | None, expected: str
) -> None:
    if from_env is not None:
        env.setenv("DB_APPLICATION_NAME", from_env)
    if from_url is not None:
        env.setenv("DATABASE_URL", f"{URL}?application_name={from_url}")
    database = database_from_env()
    async_arguments = await async_connect_arguments(database.async_engine)
    assert async_arguments["server_settings"]["application_name"] == expected
    assert sync_connect_arguments(database.sync_engine)["application_name"] == expected


def test_safe_description_names_host_and_database_without_password() -> None:
    urls = parse_database_url(URL)
    assert urls.safe_description == "db.example.com:6543/ruleiq"
    assert make_url(URL).password == PASSWORD  # the URL did carry one


def test_a_unix_socket_is_described_as_its_socket_file_not_as_a_host() -> None:
    urls = parse_database_url("postgresql://postgres@/ruleiq?host=/srv/ruleiq/.data/postgres")
    assert urls.host_port == "unix socket /srv/ruleiq/.data/postgres/.s.PGSQL.5432"
    assert urls.safe_description == (
        "unix socket /srv/ruleiq/.data/postgres/.s.PGSQL.5432 (database ruleiq)"
    )
    on_port = parse_database_url("postgresql://postgres@:6432/ruleiq?host=/run/postgresql/")
    assert on_port.host_port == "unix socket /run/postgresql/.s.PGSQL.6432"
    assert parse_database_url(URL).host_port == "db.example.com:6543"


# -- the migration runner's settings ---------------------------------------------------

MIGRATION_BAD_VALUES = [
    ("DB_MIGRATION_LOCK_TIMEOUT", "0"),
    ("DB_MIGRATION_LOCK_TIMEOUT", "soon"),
    ("DB_MIGRATION_STATEMENT_TIMEOUT", "-1"),
    ("DB_MIGRATION_LOCK_RETRIES", "-1"),
    ("DB_MIGRATION_RETRY_BACKOFF", "0"),
    ("DB_MIGRATION_WAIT", "-5"),
    ("DATABASE_MIGRATION_URL", ""),
]


@pytest.mark.parametrize(
    ("variable", "value"),
    MIGRATION_BAD_VALUES,
    ids=[f"{v}={value!r}" for v, value in MIGRATION_BAD_VALUES],
)
def test_bad_migration_setting_is_refused_naming_the_variable(
    env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    if variable == "DATABASE_MIGRATION_URL":
        env.delenv("DATABASE_URL")  # a migration URL alone would migrate another database
        value = URL
    env.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_database_settings()
    assert variable in str(info.value)
    assert PASSWORD not in str(info.value)


def test_migrations_through_pgbouncer_are_refused_without_a_direct_url(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("DB_PGBOUNCER", "true")
    with pytest.raises(ConfigError, match="set DATABASE_MIGRATION_URL to a direct connection"):
        migration_url(load_database_settings(), URL)
    direct = "postgresql://ruleiq@db-direct.example.com:5432/ruleiq"
    env.setenv("DATABASE_MIGRATION_URL", direct)
    assert migration_url(load_database_settings(), URL) == direct
    env.delenv("DB_PGBOUNCER")
    env.delenv("DATABASE_MIGRATION_URL")
    assert migration_url(load_database_settings(), URL) == URL
