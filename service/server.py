"""Server assembly in one place: servicers, health, reflection, interceptors, and
the graceful shutdown Kubernetes expects."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from ruleiq.data.v1 import database_pb2, database_pb2_grpc

from repositories.cluster import Cluster
from repositories.config import ConfigError
from repositories.database import PoolStats
from repositories.models import ChangeEvent
from repositories.replicas import BACKSTOP_SECONDS

from .admission import Admission
from .auth import AuthInterceptor
from .changes import CHANGE_SERVICE, ChangeServicer, add_change_service
from .commit import BatchMethods, CommitServicer, Executor
from .config import Access, Config, load_access
from .errors import ErrorInterceptor
from .metrics import Metrics
from .observe import CallObserver
from .resources import RESOURCES
from .servicer import ResourceServicer, statement_timeout
from .settings import ServiceSettings
from .tracing import CallTracer, provider_from_settings
from .unknown import UnknownMethods
from .watch import WatchHub, WatchServicer

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
PROBE_TIMEOUT_SECONDS = 2.0
LIVENESS = "liveness"
READINESS = "readiness"


class DatabaseServicer(database_pb2_grpc.DatabaseServiceServicer):
    """What the seed's health monitoring reported, on demand."""

    def __init__(self, cluster: Cluster, *, max_statement_timeout: float) -> None:
        self.cluster = cluster
        self.max_statement_timeout = max_statement_timeout

    async def GetDatabaseInfo(
        self,
        request: database_pb2.GetDatabaseInfoRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> database_pb2.DatabaseInfo:
        # Bounded like every data call: a locked table ends it, not the caller's patience.
        info = await self.cluster.primary.engine_info(
            statement_timeout(context, self.max_statement_timeout)
        )
        pool = info.pop("pool")
        replicas = [
            database_pb2.ReplicaInfo(
                name=replica.name,
                host=replica.database.urls.host_port,
                in_rotation=replica.in_rotation,
                lag_seconds=replica.lag_seconds,
                problem=replica.problem,
                pool=_pool_stats(replica.database.pool_stats()),
            )
            for replica in self.cluster.replicas
        ]
        return database_pb2.DatabaseInfo(pool=_pool_stats(pool), replicas=replicas, **info)


def connection_options(settings: ServiceSettings) -> list[tuple[str, int]]:
    """Bounds on a connection's life. grpc holds a response until the caller's
    flow-control window lets it out, so a caller that never reads pins it, with no
    end for a call without a deadline. A connection is told to go away (GOAWAY) at
    its maximum age (grpc adds +-10% jitter) and closed, with whatever it still
    holds, after the grace. (Keepalive pings do not end it: grpc keeps resetting
    their timer on such a connection.)"""

    def ms(seconds: float) -> int:
        return max(1, round(seconds * 1000))

    return [
        ("grpc.max_connection_age_ms", ms(settings.grpc_max_connection_age_seconds)),
        ("grpc.max_connection_age_grace_ms", ms(settings.grpc_max_connection_age_grace_seconds)),
    ]


def _pool_stats(pool: PoolStats) -> database_pb2.PoolStats:
    return database_pb2.PoolStats(
        size=pool.size,
        checked_in=pool.checked_in,
        checked_out=pool.checked_out,
        overflow=pool.overflow,
        max_overflow=pool.max_overflow,
        timeout_seconds=pool.timeout_seconds,
    )


class App:
    """A started server and what it needs to stop cleanly."""

    def __init__(
        self,
        settings: ServiceSettings,
        cluster: Cluster,
        *,
        access: Access | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        """`access`: the TLS credentials and policy read at start-up (see
        service/config.py); without it they are read from the files `settings`
        names, now. `tracer_provider` replaces the one the OTEL_* settings describe."""
        self.settings = settings
        self.cluster = cluster
        # The primary: readiness, the pool metrics and GetDatabaseInfo describe it.
        self.database = cluster.primary
        self.access = access or load_access(settings)
        self.admission = Admission(settings.grpc_max_concurrent_calls)
        self.metrics = (
            Metrics(self.database, lambda: self.admission.in_flight)
            if settings.metrics_port is not None
            else None
        )
        self.tracer_provider = tracer_provider or provider_from_settings(settings)
        self.observer = CallObserver(
            self.metrics, CallTracer(self.tracer_provider) if self.tracer_provider else None
        )
        # Outermost first: what the call leaves behind (logs, metrics, span), so
        # every refusal below it is counted and logged once, like any other call;
        # then who is calling, then admission, then the error mapping.
        policy = self.access.policy
        interceptors: list[grpc.aio.ServerInterceptor] = [  # type: ignore[type-arg]
            self.observer,
            *([AuthInterceptor(policy)] if policy is not None else []),
            self.admission,
            # Innermost: refusals by auth and admission are already statuses.
            ErrorInterceptor(),
        ]
        # Several workers share the port; the kernel spreads connections over them.
        # A single server owns it: grpc's default (on) would let a second one in.
        reuse_port = 1 if settings.grpc_workers > 1 else 0
        self.server = grpc.aio.server(
            interceptors=interceptors,
            options=[("grpc.so_reuseport", reuse_port), *connection_options(settings)],
        )
        self.health = HealthServicer()
        self.port = 0
        self.metrics_port: int | None = None
        self.readiness_services: list[str] = [READINESS]
        self._readiness_task: asyncio.Task[None] | None = None
        self._ready: bool | None = None
        self._read_only: bool | None = None
        self.watch: WatchHub | None = None

    def _add_services(self) -> list[str]:
        names = []
        servicers = []
        for resource in RESOURCES:
            servicer = ResourceServicer(
                resource,
                self.cluster,
                max_statement_timeout=self.settings.max_statement_timeout_seconds,
                max_response_bytes=self.settings.grpc_max_response_bytes,
                tell_history=not self.settings.change_history_bench_off,
            )
            servicers.append(servicer)
        executor = Executor(
            self.database,
            max_statement_timeout=self.settings.max_statement_timeout_seconds,
            tell_history=not self.settings.change_history_bench_off,
        )
        committer = CommitServicer(
            servicers, executor, max_response_bytes=self.settings.grpc_max_response_bytes
        )
        response_bytes = self.settings.grpc_max_response_bytes
        handlers = [
            (
                servicer.full_name,
                servicer.method_handlers(
                    BatchMethods(servicer, executor, max_response_bytes=response_bytes).behaviours()
                ),
            )
            for servicer in servicers
        ]
        handlers.append((committer.full_name, committer.method_handlers()))
        for name, methods in handlers:
            self.server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(name, methods),)
            )
            names.append(name)
        database_pb2_grpc.add_DatabaseServiceServicer_to_server(
            DatabaseServicer(
                self.cluster, max_statement_timeout=self.settings.max_statement_timeout_seconds
            ),
            self.server,
        )
        names.append(database_pb2.DESCRIPTOR.services_by_name["DatabaseService"].full_name)
        changes = ChangeServicer(
            self.database,
            max_statement_timeout=self.settings.max_statement_timeout_seconds,
            max_response_bytes=self.settings.grpc_max_response_bytes,
        )
        self.watch = WatchHub(self.database, self.settings, self.metrics, changes.converter)
        add_change_service(self.server, changes, WatchServicer(self.watch, ChangeEvent.__table__))
        names.append(CHANGE_SERVICE)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)  # type: ignore[no-untyped-call]
        return names

    async def start(self) -> int:
        if self.metrics is not None and self.settings.metrics_port is not None:
            # First: a port in use is a ConfigError before anything else is bound.
            self.metrics_port = self.metrics.start(
                self.settings.metrics_host, self.settings.metrics_port
            )
            log.info("metrics on port %d", self.metrics_port)
        names = self._add_services()
        self.readiness_services.extend(names)
        health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        served = [*names, health_name]
        if self.settings.grpc_reflection:
            served.append(reflection.SERVICE_NAME)
            reflection.enable_server_reflection(served, self.server)
        # Last, so it answers only what no service above has.
        self.server.add_generic_rpc_handlers((UnknownMethods(served),))
        address = f"{self.settings.grpc_host}:{self.settings.grpc_port}"
        try:
            credentials = self.access.credentials
            if credentials is None:
                self.port = self.server.add_insecure_port(address)
            else:
                self.port = self.server.add_secure_port(address, credentials)
        except RuntimeError:
            # grpc says only "Failed to bind"; its own log line has the reason.
            raise ConfigError(
                f"GRPC_PORT {self.settings.grpc_port}: cannot listen on {address} "
                "(is it already in use?)"
            ) from None
        if self.access.policy is None:
            log.warning(
                "auth is off: every caller may read and write everything "
                "(set AUTH_TOKENS_FILE or AUTH_TOKENS)"
            )
        elif self.access.credentials is None:
            log.warning("auth is on without TLS: bearer tokens cross the network in plaintext")
        for name in ("", LIVENESS):
            await self.health.set(name, SERVING)
        await self._check_readiness()
        await self.server.start()
        self._readiness_task = asyncio.create_task(self._watch_readiness())
        log.info("serving on port %d (%s)", self.port, self.access.transport)
        return self.port

    async def _check_readiness(self) -> None:
        started = time.perf_counter()
        # Replicas are checked alongside; none of them decides readiness (the
        # primary serves reads when no replica is in rotation), each has its own
        # health name.
        replicas = asyncio.create_task(self._check_replicas())
        read_only: bool | None = None
        try:
            # asyncpg's own timeout ends the query on the server; the wait_for is a
            # backstop for a connect that hangs.
            read_only = await asyncio.wait_for(
                self.database.probe(PROBE_TIMEOUT_SECONDS),
                timeout=PROBE_TIMEOUT_SECONDS + BACKSTOP_SECONDS,
            )
            ready = True
        except Exception as error:  # any failure means not ready; the reason is logged
            ready = False
            if self._ready is not False:
                log.warning("database check failed: %s", error)
        await replicas
        if read_only is not None and read_only != self._read_only:
            if read_only:
                log.warning("the database is read-only: writes fail with UNAVAILABLE")
            elif self._read_only:
                log.info("the database takes writes again")
            self._read_only = read_only
        if self.metrics is not None:
            self.metrics.database_checked(
                time.perf_counter() - started, up=ready, read_only=read_only
            )
        if ready != self._ready:
            self._ready = ready
            status = SERVING if ready else NOT_SERVING
            for name in self.readiness_services:
                await self.health.set(name, status)
            log.info("readiness: %s", "SERVING" if ready else "NOT_SERVING")

    async def _check_replicas(self) -> None:
        replicas = self.cluster.replicas
        if not replicas:
            return
        await replicas.check()
        for replica in replicas:
            await self.health.set(replica.name, SERVING if replica.in_rotation else NOT_SERVING)
        if self.metrics is not None:
            self.metrics.replicas_checked(replicas)

    async def _watch_readiness(self) -> None:
        while True:
            await asyncio.sleep(self.settings.readiness_interval_seconds)
            await self._check_readiness()

    async def stop(self, grace: float | None = None) -> None:
        """Readiness NOT_SERVING at once; new data calls refused with UNAVAILABLE
        (retryable elsewhere) while those in flight finish within the grace period;
        then the server stops and every database connection is closed."""
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        started = time.monotonic()
        await self.health.enter_graceful_shutdown()
        if self._readiness_task is not None:
            self._readiness_task.cancel()
            await _bounded("the readiness check", asyncio.wait({self._readiness_task}))
        # Streams do not end by themselves: each gets its last token, then
        # UNAVAILABLE, so its caller resumes on another instance; meanwhile new
        # calls are refused and those in flight finish.
        streams = self.watch.shutdown(min(grace, STOP_STEP_SECONDS)) if self.watch else None
        drained, _ = await asyncio.gather(self.admission.drain(grace), streams or asyncio.sleep(0))
        if not drained:
            log.warning("grace period over with %d calls in flight", self.admission.in_flight)
        # What is left (health watchers, a call past the grace) gets a short moment.
        await self.server.stop(max(0.2, grace - (time.monotonic() - started)))
        await _bounded("closing the database connections", self.cluster.dispose())
        if self.metrics is not None:
            await asyncio.to_thread(self.metrics.stop)
        if self.tracer_provider is not None:
            # Spans still batched are sent now (the exporter's own timeout bounds it).
            await asyncio.to_thread(self.tracer_provider.shutdown)


# asyncpg closes a connection by waiting for the server to hang up, with no time
# limit: behind a network partition that wait never ends, and neither would
# SIGTERM's. A step still waiting after this is cancelled (asyncpg then aborts
# the socket) and named in the log.
STOP_STEP_SECONDS = 5.0


async def _bounded(step: str, awaitable: Awaitable[Any]) -> None:
    try:
        await asyncio.wait_for(awaitable, STOP_STEP_SECONDS)
    except TimeoutError:
        log.warning("shutdown: %s took over %.0f s and was cut short", step, STOP_STEP_SECONDS)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the stop itself was cancelled


async def serve(
    config: Config,
    url: str,
    *,
    worker: int | None = None,
    early_stops: Sequence[int] = (),
) -> int:
    """Serve until SIGTERM or SIGINT, then drain. `worker`: this process is one of
    GRPC_WORKERS started by a supervisor (service/workers.py); `early_stops`, the
    signals it received before this loop could handle them."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    watcher: asyncio.Task[None] | None = None
    if worker is not None:
        from .workers import tag_logs, watch_parent

        tag_logs(worker)
        # A worker told to stop while it starts stops as soon as it has started,
        # and exits 0: the supervisor forwards SIGTERM whenever it gets one.
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        if early_stops:
            stopping.set()
        watcher = asyncio.create_task(watch_parent(stopping))
    cluster = Cluster.from_settings(config.database, url)
    await cluster.primary.init_db()
    if config.service.migrate_on_start:
        from repositories.migrations import run_migrations

        await run_migrations(config.database, url)
    app = App(config.service, cluster, access=config.access)
    await app.start()
    if worker is None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down (grace %.1fs)", config.service.shutdown_grace_seconds)
    await app.stop()
    if watcher is not None:
        watcher.cancel()
    log.info("stopped")
    return 0
