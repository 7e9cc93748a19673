"""The orchestration: database, service and client processes, the rounds, and the
reports. Everything started here is stopped here, on error and Ctrl-C too."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from repositories.config import PROJECT_ROOT as ROOT
from tests.service_process import ServiceProcess

from .client import ClientSpec, client_main
from .config import UNRECORDED, WITHOUT_HISTORY, BenchConfig
from .cpu import postmaster_pid, process_cpu_seconds, resident_mb
from .database import SEEDED, BenchDatabase, SeedInfo
from .report import (
    RESULTS_DIR,
    Summary,
    error_report,
    goal_table,
    noise_warning,
    percentile,
    pool_table,
    ratios,
    save_chart,
    save_json,
    summarize,
    workers_table,
    workload_table,
)
from .watch import WatchStreams

# Beyond warm-up and duration, what one command to a client may take (set-up of the
# update workload, finishing the calls in flight).
COMMAND_SLACK_SECONDS = 90.0
# `--watch`: streams held open, and how long they stay idle for the CPU row.
WATCH_STREAMS = 1000
WATCH_IDLE_SECONDS = 20.0
POOL_ENV = (
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "DB_POOL_TIMEOUT",
    "DB_POOL_PRE_PING",
    "GRPC_WORKERS",
)


def say(text: str = "") -> None:
    print(text, flush=True)


class ClientProcess:
    """A client process (spawned, so it shares nothing with this one) and its pipe."""

    def __init__(self, spec: ClientSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=client_main, args=(child, spec), name=f"bench-{spec.kind}", daemon=True
        )
        self.process.start()
        child.close()

    def call(self, *command: Any, timeout: float) -> dict[str, Any]:
        self.connection.send(command)
        if not self.connection.poll(timeout):
            raise TimeoutError(f"client gave no answer to {command[0]!r} within {timeout:.0f}s")
        try:
            answer: dict[str, Any] = self.connection.recv()
        except EOFError:
            raise RuntimeError(f"client process died (exit code {self.process.exitcode})") from None
        if not answer.pop("ok"):
            raise RuntimeError(f"client failed on {command[0]!r}: {answer['error']}")
        return answer

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.connection.send(("close",))
        # A client in the middle of a run is not waited for: its result is not wanted.
        self.process.join(2)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.connection.close()


def _quietly(label: str, stop: Callable[[], object]) -> Callable[[], None]:
    """A clean-up step whose failure is reported but does not skip the others."""

    def run() -> None:
        try:
            stop()
        except Exception as error:
            say(f"warning: stopping {label} failed: {type(error).__name__}: {error}")

    return run


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so clean-up runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def environment(config: BenchConfig, seed: SeedInfo) -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=10
        )
        return result.stdout.strip()

    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_uncommitted_files": len(git("status", "--porcelain").splitlines()),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "load_average_at_end": os.getloadavg(),
        "service_pool_env": {name: os.environ.get(name) for name in POOL_ENV},
        "database": seed.details,
        "users_table_rows": seed.table_rows,
        "seed_seconds": round(seed.seconds, 2),
        "config": config.as_json(),
    }


class Bench:
    """One run: set-up, rounds of workloads, reports."""

    def __init__(self, config: BenchConfig, stack: contextlib.ExitStack) -> None:
        self.config = config
        self.stack = stack
        self.stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.database = BenchDatabase(config.database_url)
        stack.callback(_quietly("PostgreSQL", self.database.stop))

    def prepare_database(self) -> SeedInfo:
        config = self.config
        where = "BENCH_DATABASE_URL" if config.database_url else "embedded PostgreSQL"
        say(f"database: {where}, database {self.database.name}")
        started = time.perf_counter()
        self.database.create()
        self.database.migrate()
        say(f"migrated in {time.perf_counter() - started:.1f}s")
        say(
            f"seeding {config.users:,} users + {config.deletable_users:,} to delete "
            "(set-based INSERT ... SELECT FROM generate_series; not part of the results)"
        )
        # The seed is set-up, not a write to measure: its rows have no history.
        with self.database.history_off(SEEDED):
            seed = self.database.seed(config)
        say(f"seeded {seed.table_rows:,} rows in {seed.seconds:.1f}s ({seed.details})")
        self.ids_file = self.database.tmp_dir / "ids.json"
        self.ids_file.write_text(
            json.dumps(
                {
                    "read_ids": seed.read_ids,
                    "update_ids": seed.update_ids,
                    "delete_ids": seed.delete_ids,
                    "evidence_user": seed.evidence_user,
                }
            )
        )
        return seed

    def client(self, kind: str) -> ClientProcess:
        data_dir = self.database.data_dir
        spec = ClientSpec(
            kind=kind,
            concurrency=self.config.concurrency,
            channels=self.config.channels,
            call_timeout=self.config.call_timeout_seconds,
            ids_file=self.ids_file,
            db_pid=postmaster_pid(data_dir) if data_dir is not None else None,
            dsn=self.database.url if kind == "asyncpg" else None,
        )
        client = ClientProcess(spec)
        self.stack.callback(_quietly(f"{kind} client", client.close))
        return client

    def service(self, extra_env: dict[str, str] | None = None) -> ServiceProcess:
        log = self.database.tmp_dir / "service.log"
        env = {"MIGRATE_ON_START": "false", **(extra_env or {})}  # migrated before seeding
        service = ServiceProcess(self.database.url, log, env, new_session=True)
        self.stack.callback(_quietly("the service", lambda: self.stop_service(service)))
        seconds = service.wait_ready()
        say(f"service pid {service.pid} on {service.address} ready in {seconds:.1f}s")
        return service

    @staticmethod
    def stop_service(service: ServiceProcess) -> None:
        code = service.stop()
        if code not in (0, None):
            say(f"warning: the service exited with {code}:\n{service.output()}")

    def run(
        self, client: ClientProcess, workload: str, label: str, shown: str = ""
    ) -> dict[str, Any]:
        config = self.config
        result = client.call(
            "run",
            workload,
            config.warmup_seconds,
            config.duration_seconds,
            timeout=config.warmup_seconds + config.duration_seconds + COMMAND_SLACK_SECONDS,
        )
        ordered = sorted(result["latencies"])
        errors = (
            f"  ERRORS {result['errors']} {result['errors_by_kind']}" if result["errors"] else ""
        )
        say(
            f"  {label} {shown or workload:<19} {result['ops_per_second']:>9,.0f} ops/s"
            f"  p50 {percentile(ordered, 0.5) * 1000:6.2f} ms"
            f"  p99 {percentile(ordered, 0.99) * 1000:7.2f} ms"
            f"  other CPU {result['other_cpu_seconds'] / result['window_seconds']:4.0%}{errors}"
        )
        return result

    def main(self) -> int:
        config = self.config
        seed = self.prepare_database()
        service = self.service()
        grpc_client = self.client("grpc")
        raw_client = self.client("asyncpg")
        grpc_client.call("connect", service.address, service.pid, True, timeout=120)
        raw_client.call("connect", "", 0, False, timeout=60)
        # The same writes without the change history, in the same rounds: a server
        # that tells the history nothing, its runs made with the triggers disabled.
        unrecorded = self.service({"CHANGE_HISTORY_BENCH_OFF": "true"})
        plain_client = self.client("grpc")
        plain_client.call("connect", unrecorded.address, unrecorded.pid, True, timeout=120)
        say(
            f"{len(config.workloads)} workloads x {config.rounds} rounds, "
            f"{config.concurrency} calls in flight, {config.warmup_seconds:g}s warm-up + "
            f"{config.duration_seconds:g}s measured each"
        )
        without = [w for w in WITHOUT_HISTORY if w in config.workloads]
        names = [*config.workloads, *(f"{w}{UNRECORDED}" for w in without)]
        runs: dict[str, list[dict[str, Any]]] = {w: [] for w in names}
        started = time.perf_counter()
        for round_number in range(1, config.rounds + 1):
            for workload in config.workloads:
                client = raw_client if workload == "asyncpg_raw" else grpc_client
                label = f"round {round_number}/{config.rounds}"
                runs[workload].append(self.run(client, workload, label))
                if workload in without:
                    with self.database.history_off():
                        result = self.run(
                            plain_client, workload, label, shown=f"{workload}{UNRECORDED}"
                        )
                    runs[f"{workload}{UNRECORDED}"].append(result)
        say(f"measured in {time.perf_counter() - started:.0f}s")
        summaries = [summarize(w, runs[w]) for w in names]
        by_name = {s.workload: s for s in summaries}
        goals = ratios(by_name)
        goals.append(self.memory_growth(grpc_client, service))
        return self.report(seed, summaries, goals, runs)

    def memory_growth(self, client: ClientProcess, service: ServiceProcess) -> dict[str, Any]:
        """The server's resident memory after 200,000 calls (Get and List,
        2:1) is within 20 MB of what it was after the first 20,000 (2,000 and 20,000
        in quick mode), counted after the rounds, which have warmed every path up."""
        first, last = (2_000, 20_000) if self.config.quick else (20_000, 200_000)
        calls = 0
        marks: dict[int, float] = {}
        deadline = time.monotonic() + 600
        while calls < last and time.monotonic() < deadline:
            for workload in ("get", "get", "list_first_page"):
                result = client.call("run", workload, 0.0, 2.0, timeout=2.0 + COMMAND_SLACK_SECONDS)
                calls += len(result["latencies"])
            for mark in (first, last):
                if calls >= mark and mark not in marks:
                    marks[mark] = resident_mb(service.pid)
        if last not in marks:
            raise RuntimeError(f"memory check reached only {calls:,} calls in 10 minutes")
        growth = marks[last] - marks[first]
        say(
            f"memory: {marks[first]:.1f} MB after {first:,} calls, "
            f"{marks[last]:.1f} MB after {last:,} (+{growth:.1f} MB)"
        )
        return {
            "key": "memory_growth_mb",
            "label": f"RSS growth {first // 1000}k -> {last // 1000}k calls",
            "value": growth,
            "direction": "<=",
            "goal": 20.0,
            "unit": " MB",
            "passed": growth <= 20.0,
        }

    def report(
        self,
        seed: SeedInfo,
        summaries: list[Summary],
        goals: list[dict[str, Any]],
        runs: dict[str, list[dict[str, Any]]],
    ) -> int:
        json_path = RESULTS_DIR / f"bench-{self.stamp}.json"
        png_path = RESULTS_DIR / f"bench-{self.stamp}.png"
        say()
        say(workload_table(summaries))
        say()
        say(goal_table(goals))
        if warning := noise_warning(summaries):
            say(warning)
        errors = error_report(summaries)
        if errors:
            say(errors)
        rounds = {
            workload: [{k: v for k, v in run.items() if k != "latencies"} for run in results]
            for workload, results in runs.items()
        }
        save_json(
            json_path,
            {
                "kind": "bench",
                "timestamp": self.stamp,
                "environment": environment(self.config, seed),
                "workloads": summaries,
                "goals": goals,
                "rounds": rounds,
            },
        )
        save_chart(png_path, summaries, goals)
        say()
        say(f"saved {json_path.relative_to(ROOT)} and {png_path.relative_to(ROOT)}")
        return 1 if errors else 0

    def pool_main(self) -> int:
        """get and update at each DB_POOL_SIZE (overflow 0), the service restarted for
        each size and the sizes alternated round by round."""
        config = self.config
        seed = self.prepare_database()
        grpc_client = self.client("grpc")
        runs: dict[int, dict[str, list[dict[str, Any]]]] = {
            size: {w: [] for w in config.workloads} for size in config.pool_sizes
        }
        say(
            f"pool sizes {', '.join(map(str, config.pool_sizes))} x {config.rounds} rounds, "
            f"{config.concurrency} calls in flight, DB_MAX_OVERFLOW=0"
        )
        for round_number in range(1, config.rounds + 1):
            for size in config.pool_sizes:
                env = {"DB_POOL_SIZE": str(size), "DB_MAX_OVERFLOW": "0"}
                service = self.service(env)
                try:
                    grpc_client.call("connect", service.address, service.pid, False, timeout=60)
                    for workload in config.workloads:
                        label = f"round {round_number}/{config.rounds} pool {size:>3}"
                        runs[size][workload].append(self.run(grpc_client, workload, label))
                finally:
                    self.stop_service(service)
        rows: list[dict[str, Any]] = [
            {"pool_size": size, **{w: summarize(w, runs[size][w]) for w in config.workloads}}
            for size in config.pool_sizes
        ]
        say()
        say(pool_table(rows))
        summaries = [row[w] for row in rows for w in config.workloads]
        if warning := noise_warning(summaries):
            say(warning)
        errors = error_report(summaries)
        if errors:
            say(errors)
        json_path = RESULTS_DIR / f"bench-pool-{self.stamp}.json"
        save_json(
            json_path,
            {
                "kind": "bench-pool",
                "timestamp": self.stamp,
                "environment": environment(config, seed),
                "sizes": rows,
            },
        )
        say()
        say(f"saved {json_path.relative_to(ROOT)}")
        return 1 if errors else 0

    def workers_main(self) -> int:
        """get and create at each GRPC_WORKERS count, the service restarted for each
        count and the counts alternated round by round; the client's channels are
        spread evenly over the workers."""
        config = self.config
        seed = self.prepare_database()
        grpc_client = self.client("grpc")
        runs: dict[int, dict[str, list[dict[str, Any]]]] = {
            count: {w: [] for w in config.workloads} for count in config.worker_counts
        }
        spread: dict[int, list[dict[str, int]]] = {count: [] for count in config.worker_counts}
        say(
            f"GRPC_WORKERS {', '.join(map(str, config.worker_counts))} x {config.rounds} rounds, "
            f"{config.concurrency} calls in flight over {config.channels} channels"
        )
        for round_number in range(1, config.rounds + 1):
            for count in config.worker_counts:
                service = self.service({"GRPC_WORKERS": str(count)})
                try:
                    answer = grpc_client.call(
                        "connect", service.address, service.pid, False, count, timeout=180
                    )
                    spread[count].append(answer["channels_per_worker"])
                    say(f"  channels per worker: {answer['channels_per_worker']}")
                    for workload in config.workloads:
                        label = f"round {round_number}/{config.rounds} workers {count:>2}"
                        runs[count][workload].append(self.run(grpc_client, workload, label))
                finally:
                    self.stop_service(service)
        rows: list[dict[str, Any]] = [
            {"workers": count, **{w: summarize(w, runs[count][w]) for w in config.workloads}}
            for count in config.worker_counts
        ]
        say()
        say(workers_table(rows, config.workloads))
        summaries = [row[w] for row in rows for w in config.workloads]
        if warning := noise_warning(summaries):
            say(warning)
        errors = error_report(summaries)
        if errors:
            say(errors)
        json_path = RESULTS_DIR / f"bench-workers-{self.stamp}.json"
        save_json(
            json_path,
            {
                "kind": "bench-workers",
                "timestamp": self.stamp,
                "environment": environment(config, seed),
                "workers": rows,
                "channels_per_worker": spread,
                "rounds": {
                    count: {
                        w: [{k: v for k, v in run.items() if k != "latencies"} for run in results]
                        for w, results in by_workload.items()
                    }
                    for count, by_workload in runs.items()
                },
            },
        )
        say()
        say(f"saved {json_path.relative_to(ROOT)}")
        return 1 if errors else 0

    def watch_main(self) -> int:
        """WatchChanges: 1,000 idle streams (the server's CPU), then the create workload
        without streams and with 1,000 open, round by round, and the delivery lag of
        what the streams received."""
        config = self.config
        seed = self.prepare_database()
        service = self.service()
        grpc_client = self.client("grpc")
        grpc_client.call("connect", service.address, service.pid, False, timeout=120)
        streams = WatchStreams(service.address)
        self.stack.callback(_quietly("the watch streams", streams.stop))
        # Each stream pins its own owner, none of whom the creates write for (a
        # created user owns itself), and a few follow every User event: the lag.
        owners = [f'owner_user_id = "{uuid.uuid4()}"' for _ in range(WATCH_STREAMS - 10)]
        filters = [*owners, *['resource_type = "User"'] * 10]
        streams.open(filters)
        say(f"{len(filters)} streams open; idle for {WATCH_IDLE_SECONDS:g}s")
        before, started = process_cpu_seconds(service.pid), time.monotonic()
        time.sleep(WATCH_IDLE_SECONDS)
        cpu, window = process_cpu_seconds(service.pid) - before, time.monotonic() - started
        streams.close()
        say(f"  idle: server CPU {cpu / window:.1%} of one core")
        seconds = max(1, round(window))
        idle = {
            # One "call" per second of the window: server CPU per call is per second.
            "latencies": [0.0] * seconds,
            "calls": seconds,
            "ops_per_second": 0.0,
            "server_cpu_seconds": cpu * seconds / window,
            "db_cpu_seconds": None,
            "client_cpu_seconds": 0.0,
            "other_cpu_seconds": 0.0,
            "window_seconds": window,
            "errors": 0,
            "errors_by_kind": {},
            "error_samples": {},
            "exhausted": False,
        }
        runs: dict[str, list[dict[str, Any]]] = {"create": [], "create_watch_1000": []}
        lags: list[float] = []
        for round_number in range(1, config.rounds + 1):
            label = f"round {round_number}/{config.rounds}"
            runs["create"].append(self.run(grpc_client, "create", label))
            streams.open(filters)
            streams.take_lags()
            result = self.run(grpc_client, "create", label, shown="create_watch_1000")
            runs["create_watch_1000"].append(result)
            time.sleep(2.0)  # what was written last reaches the streams
            lags += streams.take_lags()
            streams.close()
        delivery = {**idle, "latencies": lags, "calls": len(lags), "server_cpu_seconds": 0.0}
        summaries = [summarize(w, r) for w, r in runs.items()]
        by_name = {s.workload: s for s in summaries}
        by_name["watch_idle_1000"] = summarize("watch_idle_1000", [idle])
        by_name["watch_delivery"] = summarize("watch_delivery", [delivery])
        goals = ratios(by_name)
        say()
        say(workload_table(summaries))
        say(
            f"delivery lag over {len(lags):,} events: p50 {by_name['watch_delivery'].p50_ms:.0f} ms"
            f", p99 {by_name['watch_delivery'].p99_ms:.0f} ms"
        )
        say()
        say(goal_table(goals))
        json_path = RESULTS_DIR / f"bench-watch-{self.stamp}.json"
        save_json(
            json_path,
            {
                "kind": "bench-watch",
                "timestamp": self.stamp,
                "environment": environment(config, seed),
                "workloads": list(by_name.values()),
                "goals": goals,
            },
        )
        say(f"saved {json_path.relative_to(ROOT)}")
        errors = error_report(summaries)
        if errors:
            say(errors)
        return 1 if errors else 0


def main(argv: list[str]) -> int:
    pool_mode = "--pool" in argv
    workers_mode = "--workers" in argv
    try:
        config = BenchConfig.from_env(pool_mode=pool_mode, workers_mode=workers_mode)
    except ValueError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    mode = "pool sizes" if pool_mode else ("quick" if config.quick else "full")
    if workers_mode:
        mode = "workers"
    load = os.getloadavg()[0]
    say(f"ruleiq-data bench ({mode}) on {os.cpu_count()} CPUs, load average {load:.1f}")
    started = time.perf_counter()
    try:
        with sigterm_as_interrupt(), contextlib.ExitStack() as stack:
            bench = Bench(config, stack)
            if "--watch" in argv:
                code = bench.watch_main()
            elif workers_mode:
                code = bench.workers_main()
            else:
                code = bench.pool_main() if pool_mode else bench.main()
    except KeyboardInterrupt:
        say("\ninterrupted: everything started was stopped")
        return 130
    except Exception:
        traceback.print_exc()
        say("bench failed: everything started was stopped")
        return 1
    say(f"total {time.perf_counter() - started:.0f}s")
    return code
