"""What one benchmark run does, read from BENCH_* environment variables."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

# The order every round runs the workloads in; rounds repeat it so machine drift
# spreads over all of them.
WORKLOADS = (
    "health",
    "asyncpg_raw",
    "get",
    "batch_get_100",
    "list_first_page",
    "list_deep_page",
    "evidence_list_first",
    "evidence_search",
    "evidence_dashboard",
    "create",
    "commit_chat_send",
    "batch_create_100",
    "update",
    "delete",
)
# Also run, each round, on a server without the change history (`<name>_no_history`).
WITHOUT_HISTORY = ("create", "update")
UNRECORDED = "_no_history"
POOL_WORKLOADS = ("get", "update")
DEFAULT_POOL_SIZES = (5, 10, 20, 40)
WORKERS_WORKLOADS = ("get", "create")
DEFAULT_WORKER_COUNTS = (1, 2)
# Workers mode: client channels (connections), split evenly over the workers.
WORKERS_CHANNELS = 8

# Rows seeded beyond the workloads' own: users owned by the update workload's
# workers, and the deep page's depth.
UPDATE_USERS_PER_WORKER = 16
DEEP_PAGE_ROWS = 10_000
PAGE_SIZE = 50
BATCH_SIZE = 100
READ_SAMPLE = 100_000


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _sizes(
    raw: str, name: str = "BENCH_POOL_SIZES", example: str = "5,10,20,40"
) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in raw.replace(" ", "").split(",") if part)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"{name}: expected numbers like {example}, got {raw!r}")
    return sizes


@dataclass(frozen=True)
class BenchConfig:
    """Durations, sizes and where the database is; see `from_env` for the names."""

    quick: bool
    users: int
    deletable_users: int
    evidence: int
    concurrency: int
    channels: int
    rounds: int
    warmup_seconds: float
    duration_seconds: float
    call_timeout_seconds: float
    database_url: str | None
    pool_sizes: tuple[int, ...]
    workloads: tuple[str, ...] = field(default=WORKLOADS)
    worker_counts: tuple[int, ...] = DEFAULT_WORKER_COUNTS

    @classmethod
    def from_env(cls, *, pool_mode: bool = False, workers_mode: bool = False) -> BenchConfig:
        """BENCH_QUICK=1 for a smoke run; BENCH_DATABASE_URL for a server of your own
        (a database is created on it and dropped afterwards); BENCH_POOL_SIZES for
        the pool-size mode; BENCH_WORKERS (1,2) for the workers mode; BENCH_USERS,
        BENCH_DURATION, BENCH_WARMUP, BENCH_ROUNDS, BENCH_CONCURRENCY and
        BENCH_CHANNELS override the rest; BENCH_WORKLOADS (e.g. create,commit_chat_send)
        runs only those."""
        quick = os.environ.get("BENCH_QUICK", "").strip() not in ("", "0", "false", "no")
        duration = _float("BENCH_DURATION", 1.5 if quick else 5.0)
        warmup = _float("BENCH_WARMUP", 0.5 if quick else 1.0)
        rounds = _int("BENCH_ROUNDS", 3)
        # Enough rows that the delete workload cannot run out even at the raw
        # driver's rate (about 8,000 calls/s here) in every round.
        deletable = (
            0
            if pool_mode or workers_mode
            else max(20_000, int(10_000 * (duration + warmup) * rounds))
        )
        sizes_raw = os.environ.get("BENCH_POOL_SIZES", "").strip()
        workers_raw = os.environ.get("BENCH_WORKERS", "").strip()
        workloads: tuple[str, ...] = WORKLOADS
        chosen = os.environ.get("BENCH_WORKLOADS", "").replace(" ", "")
        if chosen:
            names = set(chosen.split(","))
            if not names <= set(WORKLOADS):
                raise ValueError(f"BENCH_WORKLOADS: unknown {sorted(names - set(WORKLOADS))}")
            workloads = tuple(w for w in WORKLOADS if w in names)
        if pool_mode:
            workloads = POOL_WORKLOADS
        elif workers_mode:
            workloads = WORKERS_WORKLOADS
        config = cls(
            quick=quick,
            users=_int("BENCH_USERS", 100_000 if quick else 1_000_000),
            deletable_users=_int("BENCH_DELETABLE_USERS", deletable),
            evidence=_int("BENCH_EVIDENCE", 100_000 if quick else 1_000_000),
            concurrency=_int("BENCH_CONCURRENCY", 64),
            channels=_int("BENCH_CHANNELS", WORKERS_CHANNELS if workers_mode else 2),
            rounds=rounds,
            warmup_seconds=warmup,
            duration_seconds=duration,
            call_timeout_seconds=_float("BENCH_CALL_TIMEOUT", 10.0),
            database_url=os.environ.get("BENCH_DATABASE_URL") or None,
            pool_sizes=_sizes(sizes_raw) if sizes_raw else DEFAULT_POOL_SIZES,
            workloads=workloads,
            worker_counts=(
                _sizes(workers_raw, "BENCH_WORKERS", "1,2")
                if workers_raw
                else DEFAULT_WORKER_COUNTS
            ),
        )
        config.check()
        return config

    def check(self) -> None:
        least = max(DEEP_PAGE_ROWS + PAGE_SIZE, READ_SAMPLE // 10)
        if self.users < least:
            raise ValueError(f"BENCH_USERS: at least {least:,} users are needed")
        if self.concurrency < 1 or self.channels < 1 or self.rounds < 1:
            raise ValueError("BENCH_CONCURRENCY, BENCH_CHANNELS and BENCH_ROUNDS must be >= 1")
        if max(self.worker_counts) > 64:
            raise ValueError("BENCH_WORKERS: at most 64 (GRPC_WORKERS' limit)")
        if self.duration_seconds <= 0 or self.warmup_seconds < 0:
            raise ValueError("BENCH_DURATION must be > 0 and BENCH_WARMUP >= 0")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["database_url"] = "(given)" if self.database_url else None
        return data
