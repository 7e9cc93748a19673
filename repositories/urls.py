"""One DATABASE_URL in, the async (asyncpg) and sync (psycopg2) forms out.

asyncpg takes `ssl=` rather than libpq's `sslmode=` and refuses libpq-only
parameters, so they are translated here instead of being dropped.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from .config import ConfigError

_ACCEPTED_SCHEMES = {
    "postgres",
    "postgresql",
    "postgresql+psycopg2",
    "postgresql+psycopg",
    "postgresql+asyncpg",
}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_SSL_FILES = ("sslrootcert", "sslcert", "sslkey")
# Parameters both drivers understand under the same name (host/port: unix sockets
# and multi-host URLs; SQLAlchemy's asyncpg dialect reads them itself).
_SHARED_PARAMETERS = {"host", "port"}


@dataclass(frozen=True)
class DatabaseUrls:
    """The two driver URLs plus the connect arguments asyncpg needs for TLS."""

    async_url: URL
    sync_url: URL
    async_connect_args: dict[str, Any] = field(default_factory=dict)
    sslmode: str | None = None
    # `?application_name=` in the URL; Database applies it to both engines.
    application_name: str | None = None

    @property
    def socket_dir(self) -> str | None:
        """The directory of the unix socket the URL names (libpq: a host that is a
        path), or None for TCP."""
        host = self.async_url.host or self.async_url.query.get("host")
        return host if isinstance(host, str) and host.startswith("/") else None

    @property
    def host_port(self) -> str:
        """`host:port`; for a unix socket (the embedded server has nothing else)
        `unix socket <dir>/.s.PGSQL.<port>`, the socket file as PostgreSQL names it."""
        port = self.async_url.port or 5432
        if (socket_dir := self.socket_dir) is not None:
            return f"unix socket {socket_dir.rstrip('/')}/.s.PGSQL.{port}"
        host = self.async_url.host or self.async_url.query.get("host") or "localhost"
        return f"{host}:{port}"

    @property
    def safe_description(self) -> str:
        """Host and database for messages and logs; never the password."""
        database = self.async_url.database or ""
        if self.socket_dir is not None:  # `<socket path>/<database>` reads as one path
            return f"{self.host_port} (database {database})"
        return f"{self.host_port}/{database}"


def parse_database_url(raw: str) -> DatabaseUrls:
    scheme, sep, _ = raw.partition("://")
    if not sep or scheme not in _ACCEPTED_SCHEMES:
        raise ConfigError(
            "DATABASE_URL: must start with one of "
            + ", ".join(f"{s}://" for s in sorted(_ACCEPTED_SCHEMES))
        )
    if scheme == "postgres":
        raw = "postgresql" + raw[len("postgres") :]
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError("DATABASE_URL: not a valid URL") from None

    query = {key: _single(key, value) for key, value in url.query.items()}
    sslmode = query.pop("sslmode", None)
    # `?ssl=require` is how SQLAlchemy's asyncpg documentation spells it.
    ssl_alias = query.pop("ssl", None)
    if ssl_alias is not None:
        if sslmode is not None and sslmode != ssl_alias:
            raise ConfigError("DATABASE_URL: ssl and sslmode disagree; give only sslmode")
        sslmode = ssl_alias
    if sslmode is not None and sslmode not in _SSL_MODES:
        raise ConfigError(f"DATABASE_URL: sslmode must be one of {', '.join(sorted(_SSL_MODES))}")
    application_name = query.pop("application_name", None)
    ssl_files = {name: query.pop(name) for name in _SSL_FILES if name in query}
    connect_timeout = query.pop("connect_timeout", None)
    unknown = sorted(set(query) - _SHARED_PARAMETERS)
    if unknown:
        raise ConfigError(f"DATABASE_URL: unsupported parameter(s) {', '.join(unknown)}")
    if not query.get("port", "0").isdigit():
        # Otherwise SQLAlchemy's ArgumentError escapes engine creation as a traceback.
        raise ConfigError("DATABASE_URL: port must be a number")

    async_args: dict[str, Any] = {}
    if sslmode is not None:
        async_args["ssl"] = asyncpg_ssl(sslmode, **ssl_files)
    if connect_timeout is not None:
        async_args["timeout"] = _positive_number("connect_timeout", connect_timeout)

    sync_query = dict(query)
    if sslmode is not None:
        sync_query["sslmode"] = sslmode
    sync_query.update(ssl_files)
    if connect_timeout is not None:
        sync_query["connect_timeout"] = connect_timeout

    return DatabaseUrls(
        async_url=url.set(drivername="postgresql+asyncpg", query=query),
        sync_url=url.set(drivername="postgresql+psycopg2", query=sync_query),
        async_connect_args=async_args,
        sslmode=sslmode,
        application_name=application_name,
    )


def asyncpg_ssl(
    sslmode: str,
    sslrootcert: str | None = None,
    sslcert: str | None = None,
    sslkey: str | None = None,
) -> ssl.SSLContext | str | bool:
    """libpq's sslmode as asyncpg's `ssl` argument, with libpq's meaning."""
    if sslmode == "disable":
        return False
    if sslmode in ("allow", "prefer"):
        # asyncpg implements these two itself, falling back to plaintext like libpq.
        return sslmode
    # libpq: with a root CA file given, "require" verifies the CA like "verify-ca".
    verify = sslmode in ("verify-ca", "verify-full") or (
        sslmode == "require" and sslrootcert is not None
    )
    try:
        if verify:
            context = ssl.create_default_context(cafile=sslrootcert)
            context.check_hostname = sslmode == "verify-full"
        else:
            # libpq's "require": encrypted, but the certificate is not checked.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if sslcert:
            context.load_cert_chain(sslcert, keyfile=sslkey)
    except (OSError, ssl.SSLError) as error:
        # A missing or malformed certificate file is a configuration mistake, found
        # at start-up rather than on the first connection.
        files = ", ".join(
            f"{name}={path}"
            for name, path in (("sslrootcert", sslrootcert), ("sslcert", sslcert))
            if path
        )
        raise ConfigError(
            f"DATABASE_URL: cannot load the TLS files ({files or 'system CAs'}): "
            f"{type(error).__name__}"
        ) from None
    return context


def _single(key: str, value: str | tuple[str, ...]) -> str:
    if isinstance(value, tuple):
        raise ConfigError(f"DATABASE_URL: parameter {key} given more than once")
    return value


def _positive_number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1
    if number <= 0:
        raise ConfigError(f"DATABASE_URL: {name} must be a positive number of seconds")
    return number
