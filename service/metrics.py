"""Prometheus metrics on METRICS_PORT: calls by service, method and code, their
latency, the connection pool (read at scrape time), and the database check behind
readiness. Each server has a registry of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from threading import Thread
from typing import Any

import grpc
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from repositories.config import ConfigError
from repositories.database import Database
from repositories.replicas import ReplicaSet

UNKNOWN = "unknown"
# From a primary-key read on a warm pool to a call near its statement timeout.
CALL_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CHECK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class PoolCollector(Collector):
    """The pool as it is when Prometheus scrapes: no bookkeeping on the call path."""

    def __init__(self, database: Database, in_flight: Callable[[], int]) -> None:
        self.database = database
        self.in_flight = in_flight

    def collect(self) -> Iterator[Metric]:
        stats = self.database.pool_stats()
        for name, value, text in (
            ("ruleiq_db_pool_size", stats.size, "connections the pool keeps (DB_POOL_SIZE)"),
            ("ruleiq_db_pool_checked_out", stats.checked_out, "connections in use by calls"),
            ("ruleiq_db_pool_checked_in", stats.checked_in, "idle connections in the pool"),
            ("ruleiq_db_pool_overflow", stats.overflow, "connections open beyond the pool size"),
            ("ruleiq_db_pool_max_overflow", stats.max_overflow, "DB_MAX_OVERFLOW"),
            (
                "ruleiq_grpc_calls_in_flight",
                self.in_flight(),
                "data calls being served (minus checked_out: about those waiting for a connection)",
            ),
        ):
            yield GaugeMetricFamily(name, text, value=value)
        yield CounterMetricFamily(
            "ruleiq_db_connections_opened",
            "connections the pool opened (steady growth under steady load: connections churn)",
            value=stats.opened_total,
        )


class MethodMetrics:
    """One method's label children, bound once so a call only increments."""

    def __init__(self, metrics: Metrics, service: str, method: str) -> None:
        self._calls = metrics.calls
        self._labels = (service, method)
        self._duration = metrics.duration.labels(service, method)
        self._by_code: dict[grpc.StatusCode, Any] = {}

    def observe(self, code: grpc.StatusCode, seconds: float) -> None:
        counter = self._by_code.get(code)
        if counter is None:
            counter = self._by_code[code] = self._calls.labels(*self._labels, code.name)
        counter.inc()
        self._duration.observe(seconds)


class Metrics:
    """The server's metrics and the HTTP endpoint that serves them."""

    def __init__(self, database: Database, in_flight: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter(
            "ruleiq_grpc_calls",
            "gRPC calls finished, by service, method and status code",
            ("service", "method", "code"),
            registry=r,
        )
        self.duration = Histogram(
            "ruleiq_grpc_call_duration_seconds",
            "time from the call reaching the handler to its reply or error",
            ("service", "method"),
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.db_check = Histogram(
            "ruleiq_db_check_duration_seconds",
            "round trip of the database check behind readiness",
            buckets=CHECK_BUCKETS,
            registry=r,
        )
        self.db_up = Gauge("ruleiq_db_up", "1 while the database answers its check", registry=r)
        self.db_read_only = Gauge(
            "ruleiq_db_read_only",
            "1 while the database takes reads only (a standby, or set read-only): writes fail",
            registry=r,
        )
        self.replica_in_rotation = Gauge(
            "ruleiq_db_replica_in_rotation",
            "1 while reads go to the replica (DATABASE_REPLICA_URLS)",
            ("replica",),
            registry=r,
        )
        self.replica_lag = Gauge(
            "ruleiq_db_replica_lag_seconds",
            "how far the replica's replay was behind at its last check (NaN: not known)",
            ("replica",),
            registry=r,
        )
        self.watch_streams = Gauge(
            "ruleiq_watch_streams", "WatchChanges streams open in this process", registry=r
        )
        self.watch_events = Counter(
            "ruleiq_watch_events_sent", "change events sent on WatchChanges streams", registry=r
        )
        self.watch_lag = Histogram(
            "ruleiq_watch_delivery_lag_seconds",
            "from an event's changed_at to its send on a stream",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.watch_ticks = Counter(
            "ruleiq_watch_reader_ticks", "reads of the change stream's reader", registry=r
        )
        self.watch_tick_errors = Counter(
            "ruleiq_watch_reader_errors",
            "reads of the change stream's reader that failed",
            registry=r,
        )
        r.register(PoolCollector(database, in_flight))
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            r.register(collector)
        self._unknown = self.calls.labels(UNKNOWN, UNKNOWN, grpc.StatusCode.UNIMPLEMENTED.name)
        self._server: Any = None
        self._thread: Thread | None = None

    def method(self, service: str, method: str) -> MethodMetrics:
        return MethodMetrics(self, service, method)

    def unknown_method(self) -> None:
        """A call to a method nobody serves: labelled `unknown`, never by its raw name."""
        self._unknown.inc()

    def database_checked(self, seconds: float, *, up: bool, read_only: bool | None) -> None:
        """`read_only` None: not known (the check failed); the gauge keeps its value."""
        self.db_check.observe(seconds)
        self.db_up.set(1 if up else 0)
        if read_only is not None:
            self.db_read_only.set(1 if read_only else 0)

    def replicas_checked(self, replicas: ReplicaSet) -> None:
        for replica in replicas:
            self.replica_in_rotation.labels(replica.name).set(1 if replica.in_rotation else 0)
            lag = replica.lag_seconds
            self.replica_lag.labels(replica.name).set(float("nan") if lag is None else lag)

    def start(self, host: str, port: int) -> int:
        """Serve /metrics over HTTP in a thread; the port (useful when `port` is 0)."""
        try:
            self._server, self._thread = start_http_server(port, host, registry=self.registry)
        except OSError as error:
            raise ConfigError(
                f"METRICS_PORT: cannot listen on {host}:{port} ({error.strerror})"
            ) from None
        return int(self._server.server_port)

    def stop(self) -> None:
        # Taken before shutting down: a second stop under way meanwhile finds None.
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
