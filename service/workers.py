"""Several server processes on one port (GRPC_WORKERS > 1).

The process `python -m service serve` starts becomes a supervisor: it checks that
the workers' pools fit in the database's connection budget, migrates once, then
starts GRPC_WORKERS copies of `python -m service serve` marked as workers. Each binds
GRPC_PORT with SO_REUSEPORT (the kernel spreads new connections over them) and has
its own engine and pool. The supervisor serves nothing itself and never forks a
gRPC process: workers are new interpreters (fork + exec), not forks.

SIGTERM or SIGINT to the supervisor is forwarded as SIGTERM to every worker; each
drains as a single process does. A worker that exits on its own is a failure: the
supervisor stops the others and exits non-zero, and the pod is restarted whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from repositories.config import PROJECT_ROOT, ConfigError
from repositories.database import Database
from repositories.migrations import run_migrations

from .settings import ServiceSettings

if TYPE_CHECKING:
    from .config import Config

log = logging.getLogger(__name__)

# Internal: set by the supervisor on each worker it starts, to the worker's number.
WORKER_ENV = "RULEIQ_DATA_WORKER"
# Per worker, beyond its pool: the readiness probe's own connection, and one spare
# (the sync engine's, opened by the start-up check).
CONNECTIONS_BESIDES_POOL = 2
# Beyond SHUTDOWN_GRACE_SECONDS, how long a worker may take to close its pool and
# exit before it is killed.
STOP_MARGIN_SECONDS = 5.0


def worker_number() -> int | None:
    """This process's worker number (1..N) when a supervisor started it, else None."""
    raw = os.environ.get(WORKER_ENV, "").strip()
    return int(raw) if raw.isdigit() else None


def worker_application_name(base: str, number: int) -> str:
    """`<base>-w<number>`, within PostgreSQL's 63 characters: which worker holds a
    connection shows in pg_stat_activity."""
    suffix = f"-w{number}"
    return base[: 63 - len(suffix)] + suffix


@dataclass(frozen=True)
class ConnectionBudget:
    """N x (DB_POOL_SIZE + DB_MAX_OVERFLOW + 2) must not exceed
    max_connections - superuser_reserved_connections."""

    workers: int
    pool_size: int
    max_overflow: int
    max_connections: int
    superuser_reserved: int

    @property
    def needed(self) -> int:
        per_worker = self.pool_size + self.max_overflow + CONNECTIONS_BESIDES_POOL
        return self.workers * per_worker

    @property
    def available(self) -> int:
        return self.max_connections - self.superuser_reserved

    def check(self) -> None:
        if self.needed <= self.available:
            return
        raise ConfigError(
            f"GRPC_WORKERS={self.workers} x (DB_POOL_SIZE={self.pool_size} + "
            f"DB_MAX_OVERFLOW={self.max_overflow} + {CONNECTIONS_BESIDES_POOL}) = "
            f"{self.needed} connections, but the database allows "
            f"{self.available} (max_connections {self.max_connections} - "
            f"superuser_reserved_connections {self.superuser_reserved}): "
            "lower GRPC_WORKERS, DB_POOL_SIZE or DB_MAX_OVERFLOW, or raise max_connections"
        )


async def prepare(config: Config, url: str) -> tuple[str, ConnectionBudget]:
    """Once, before any worker starts: the database answers, the pools fit in its
    connection budget, migrations are applied (MIGRATE_ON_START). Returns the
    application_name the workers' names are made from."""
    service, database_settings = config.service, config.database
    database = Database(database_settings, url)
    try:
        await database.ping()
        async with database.async_engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT current_setting('max_connections')::int, "
                        "current_setting('superuser_reserved_connections')::int"
                    )
                )
            ).one()
        budget = ConnectionBudget(
            workers=service.grpc_workers,
            pool_size=database_settings.db_pool_size,
            max_overflow=database_settings.db_max_overflow,
            max_connections=row[0],
            superuser_reserved=row[1],
        )
        if database_settings.db_pgbouncer:
            # Behind PgBouncer these are the server's numbers, not the pooler's:
            # its max_client_conn bounds our connections, and it is not readable here.
            log.info("DB_PGBOUNCER: connection budget not checked against max_connections")
        else:
            budget.check()
        if service.migrate_on_start:
            await run_migrations(database_settings, url)
        return database.application_name, budget
    finally:
        await database.dispose()


class Supervisor:
    """Starts the workers, forwards the stop signal, and reports how they ended."""

    def __init__(self, service: ServiceSettings, url: str, application_name: str) -> None:
        self.service = service
        self.url = url
        self.application_name = application_name
        self.workers: dict[int, asyncio.subprocess.Process] = {}

    def _environment(self, number: int) -> dict[str, str]:
        path = os.environ.get("PYTHONPATH")
        env = {
            **os.environ,
            WORKER_ENV: str(number),
            "DATABASE_URL": self.url,
            "MIGRATE_ON_START": "false",
            "DB_APPLICATION_NAME": worker_application_name(self.application_name, number),
            # `-m service` finds this package from any working directory.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), path])),
        }
        if self.service.metrics_port:
            # One metrics endpoint per worker, on consecutive ports.
            env["METRICS_PORT"] = str(self.service.metrics_port + number - 1)
        return env

    async def _start(self, number: int) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "service", "serve", env=self._environment(number)
        )
        self.workers[number] = process
        log.info("worker %d started (pid %d)", number, process.pid)

    async def run(self) -> int:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        log.info(
            "starting %d workers on port %d", self.service.grpc_workers, self.service.grpc_port
        )
        for number in range(1, self.service.grpc_workers + 1):
            if stopping.is_set():
                break
            await self._start(number)
        exits = {asyncio.ensure_future(p.wait()): n for n, p in self.workers.items()}
        stop = asyncio.ensure_future(stopping.wait())
        done, _ = await asyncio.wait([stop, *exits], return_when=asyncio.FIRST_COMPLETED)
        requested = stop in done
        if requested:
            log.info("shutting down %d workers", len(self.workers))
        else:
            for task in done:
                number = exits[task]
                log.error(
                    "worker %d (pid %d) exited unexpectedly with %s: stopping the others",
                    number,
                    self.workers[number].pid,
                    task.result(),
                )
        stop.cancel()
        codes = await self._stop_all(list(exits))
        clean = requested and all(code == 0 for code in codes.values())
        log.info("stopped (%s)", ", ".join(f"worker {n}: {c}" for n, c in sorted(codes.items())))
        return 0 if clean else 1

    async def _stop_all(self, exits: list[asyncio.Future[int]]) -> dict[int, int]:
        """SIGTERM to every live worker; SIGKILL to any still running after the grace
        period and a margin. Each worker's exit code (negative: killed by a signal)."""
        for process in self.workers.values():
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        within = self.service.shutdown_grace_seconds + STOP_MARGIN_SECONDS
        _, pending = await asyncio.wait(exits, timeout=within)
        if pending:
            for number, process in self.workers.items():
                if process.returncode is None:
                    log.error("worker %d (pid %d) still running: killed", number, process.pid)
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
            await asyncio.wait(pending)
        return {
            n: p.returncode if p.returncode is not None else -1 for n, p in self.workers.items()
        }


async def supervise(config: Config, url: str) -> int:
    """The supervisor's whole life: prepare once, run the workers, their verdict."""
    application_name, budget = await prepare(config, url)
    log.info(
        "%d workers x (pool %d + overflow %d + %d) = %d of %d connections",
        budget.workers,
        budget.pool_size,
        budget.max_overflow,
        CONNECTIONS_BESIDES_POOL,
        budget.needed,
        budget.available,
    )
    return await Supervisor(config.service, url, application_name).run()


async def watch_parent(stopping: asyncio.Event, interval: float = 1.0) -> None:
    """In a worker: stop (gracefully) if the supervisor is gone, so that a killed
    supervisor leaves no worker holding the port and its connections."""
    parent = os.getppid()
    while not stopping.is_set():
        await asyncio.sleep(interval)
        if os.getppid() != parent:
            log.warning("the supervisor (pid %d) is gone: stopping", parent)
            stopping.set()


class WorkerTag(logging.Filter):
    """Adds `worker` to every log line of a worker process."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.number
        return True


def tag_logs(number: int) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(WorkerTag(number))
