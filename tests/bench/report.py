"""Summaries, the printed tables, the performance goals, and the JSON and PNG files
a run leaves in bench-results/."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from repositories.config import PROJECT_ROOT as ROOT

from .config import BATCH_SIZE

RESULTS_DIR = ROOT / "bench-results"


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Summary:
    """One workload over all its rounds."""

    workload: str
    ops_per_second: float  # median of the rounds
    ops_per_round: list[float]
    calls: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    server_cpu_ms_per_call: float
    db_cpu_ms_per_call: float | None
    client_cpu_percent: float
    other_cpu_percent: float
    errors: int
    errors_by_kind: dict[str, int]
    error_samples: dict[str, str]
    exhausted: bool


def summarize(workload: str, runs: list[dict[str, Any]]) -> Summary:
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    calls = sum(run["calls"] for run in runs)
    db = [run["db_cpu_seconds"] for run in runs]
    kinds: dict[str, int] = {}
    samples: dict[str, str] = {}
    for run in runs:
        for kind, count in run["errors_by_kind"].items():
            kinds[kind] = kinds.get(kind, 0) + count
        samples.update(run["error_samples"])

    def ms(fraction: float) -> float:
        return percentile(latencies, fraction) * 1000

    return Summary(
        workload=workload,
        ops_per_second=statistics.median(run["ops_per_second"] for run in runs),
        ops_per_round=[round(run["ops_per_second"], 1) for run in runs],
        calls=calls,
        p50_ms=ms(0.50),
        p90_ms=ms(0.90),
        p99_ms=ms(0.99),
        p999_ms=ms(0.999),
        max_ms=latencies[-1] * 1000 if latencies else float("nan"),
        server_cpu_ms_per_call=sum(r["server_cpu_seconds"] for r in runs) / max(calls, 1) * 1000,
        db_cpu_ms_per_call=None if None in db else sum(db) / max(calls, 1) * 1000,
        client_cpu_percent=sum(r["client_cpu_seconds"] for r in runs)
        / sum(r["window_seconds"] for r in runs)
        * 100,
        other_cpu_percent=sum(r["other_cpu_seconds"] for r in runs)
        / sum(r["window_seconds"] for r in runs)
        * 100,
        errors=sum(run["errors"] for run in runs),
        errors_by_kind=kinds,
        error_samples=samples,
        exhausted=any(run["exhausted"] for run in runs),
    )


@dataclass(frozen=True)
class Goal:
    """One ratio with a goal."""

    key: str
    label: str
    compute: Callable[[dict[str, Summary]], float]
    direction: str  # ">=" or "<="
    goal: float
    unit: str = ""

    def passed(self, value: float) -> bool:
        return value >= self.goal if self.direction == ">=" else value <= self.goal


GOALS = (
    Goal(
        "get_over_health",
        "Get / health Check (ops/s)",
        lambda s: s["get"].ops_per_second / s["health"].ops_per_second,
        ">=",
        0.60,
    ),
    Goal(
        "create_over_health",
        "Create / health Check (ops/s)",
        lambda s: s["create"].ops_per_second / s["health"].ops_per_second,
        ">=",
        0.40,
    ),
    Goal(
        "create_with_over_without_history",
        "Create with / without change history (ops/s)",
        lambda s: s["create"].ops_per_second / s["create_no_history"].ops_per_second,
        ">=",
        0.85,
    ),
    Goal(
        "update_with_over_without_history",
        "Update with / without change history (ops/s)",
        lambda s: s["update"].ops_per_second / s["update_no_history"].ops_per_second,
        ">=",
        0.85,
    ),
    Goal(
        "commit3_over_create",
        "Commit of 3 (chat send) / Create (ops/s)",
        lambda s: s["commit_chat_send"].ops_per_second / s["create"].ops_per_second,
        ">=",
        0.60,
    ),
    Goal(
        "batch_create_rows_over_create",
        "BatchCreate 100 / Create (rows/s)",
        lambda s: s["batch_create_100"].ops_per_second * BATCH_SIZE / s["create"].ops_per_second,
        ">=",
        10.0,
    ),
    Goal(
        "get_over_asyncpg_raw",
        "Get / raw asyncpg loop (ops/s)",
        lambda s: s["get"].ops_per_second / s["asyncpg_raw"].ops_per_second,
        ">=",
        0.25,
    ),
    Goal(
        "list_deep_over_first_p50",
        "List 10,000 deep / first page (p50)",
        lambda s: s["list_deep_page"].p50_ms / s["list_first_page"].p50_ms,
        "<=",
        1.5,
    ),
    Goal(
        "search_over_list_first_p50",
        "search() List / List first page (p50)",
        lambda s: s["evidence_search"].p50_ms / s["evidence_list_first"].p50_ms,
        "<=",
        3.0,
    ),
    Goal(
        "dashboard_over_list_first_p50",
        "dashboard Aggregate / List first (p50)",
        lambda s: s["evidence_dashboard"].p50_ms / s["evidence_list_first"].p50_ms,
        "<=",
        2.0,
    ),
    Goal(
        "list_page_over_get_server_cpu",
        "List of 50 / Get (server CPU)",
        lambda s: s["list_first_page"].server_cpu_ms_per_call / s["get"].server_cpu_ms_per_call,
        "<=",
        2.0,
    ),
    Goal(
        "batch_get_over_get_server_cpu",
        "BatchGet of 100 / Get (server CPU)",
        lambda s: s["batch_get_100"].server_cpu_ms_per_call / s["get"].server_cpu_ms_per_call,
        "<=",
        2.5,
    ),
    Goal(
        "watch_idle_1000",
        "server CPU, 1,000 idle WatchChanges streams (% of a core)",
        lambda s: s["watch_idle_1000"].server_cpu_ms_per_call / 10,
        "<=",
        5.0,
        " %",
    ),
    Goal(
        "create_with_over_without_1000_streams",
        "Create with / without 1,000 streams open (ops/s)",
        lambda s: s["create_watch_1000"].ops_per_second / s["create"].ops_per_second,
        ">=",
        0.9,
    ),
    Goal(
        "watch_delivery_p99",
        "commit-to-delivery lag p99 (changed_at to receipt)",
        lambda s: s["watch_delivery"].p99_ms,
        "<=",
        1000.0,
        " ms",
    ),
    Goal(
        "server_cpu_ms_per_get",
        "server CPU per Get",
        lambda s: s["get"].server_cpu_ms_per_call,
        "<=",
        0.4,
        " ms",
    ),
)


def ratios(summaries: dict[str, Summary]) -> list[dict[str, Any]]:
    """Each goal whose workloads ran, with its value and PASS/MISS."""
    rows = []
    for goal in GOALS:
        try:
            value = goal.compute(summaries)
        except (KeyError, ZeroDivisionError):
            continue
        rows.append(
            {
                "key": goal.key,
                "label": goal.label,
                "value": value,
                "direction": goal.direction,
                "goal": goal.goal,
                "unit": goal.unit,
                "passed": goal.passed(value),
            }
        )
    return rows


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def workload_table(summaries: Sequence[Summary]) -> str:
    header = (
        f"{'workload':<19} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'srv CPU ms/call':>15} {'db CPU ms/call':>14} {'client CPU':>10} {'other CPU':>9} "
        f"{'errors':>6}"
    )
    lines = [header, "-" * len(header)]
    for s in summaries:
        cpu = _number(s.server_cpu_ms_per_call, 3) + ("*" if s.workload == "asyncpg_raw" else "")
        lines.append(
            f"{s.workload:<19} {s.ops_per_second:>9,.0f} {s.p50_ms:>8.2f} {s.p99_ms:>8.2f} "
            f"{cpu:>15} {_number(s.db_cpu_ms_per_call, 3):>14} "
            f"{s.client_cpu_percent:>9.0f}% {s.other_cpu_percent:>8.0f}% {s.errors:>6}"
        )
    lines.append(
        "* asyncpg_raw: CPU of the asyncpg process itself (it is client and server).\n"
        "  ops/s: median of the rounds; p50/p99: over every call of every round;\n"
        "  db CPU: all PostgreSQL processes; client CPU: the driving process, % of one core;\n"
        "  other CPU: the rest of the machine, % of one core (other load: noise; it\n"
        "  includes the database where db CPU is '-', a server not started by the bench)."
    )
    return "\n".join(lines)


def goal_table(rows: Sequence[dict[str, Any]]) -> str:
    header = f"{'ratio':<38} {'value':>8} {'goal':>9}  result"
    lines = [header, "-" * len(header)]
    for row in rows:
        goal = f"{row['direction']} {row['goal']:g}{row['unit']}"
        verdict = "PASS" if row["passed"] else "MISS"
        lines.append(f"{row['label']:<38} {row['value']:>8.3f} {goal:>9}  {verdict}")
    return "\n".join(lines)


def noise_warning(summaries: Sequence[Summary], threshold: float = 25.0) -> str:
    """A line when other processes were busy during the runs, else empty."""
    busiest = max(summaries, key=lambda s: s.other_cpu_percent, default=None)
    if busiest is None or busiest.other_cpu_percent < threshold:
        return ""
    return (
        f"warning: other processes on this machine used up to "
        f"{busiest.other_cpu_percent:.0f}% of a core during the runs ({busiest.workload}); "
        "alternating the rounds cancels some of it, but rerun on a quiet machine before "
        "trusting small differences"
    )


def error_report(summaries: Sequence[Summary]) -> str:
    """Empty when every call succeeded; otherwise loud."""
    bad = [s for s in summaries if s.errors]
    if not bad:
        return ""
    lines = ["", "!" * 78, "!!! ERRORS: the numbers below are not valid until these are fixed"]
    for s in bad:
        lines.append(f"!!! {s.workload}: {s.errors} errors {s.errors_by_kind}")
        if s.exhausted:
            lines.append(f"!!! {s.workload}: ran out of seeded rows (raise BENCH_DELETABLE_USERS)")
        for kind, text in s.error_samples.items():
            lines.append(f"!!!   {kind}: {text}")
    lines.append("!" * 78)
    return "\n".join(lines)


def save_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def save_chart(path: Path, summaries: Sequence[Summary], rows: Sequence[dict[str, Any]]) -> None:
    """Each ratio beside its goal (green passes, red misses), and ops/s per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = max(len(rows), 1)
    figure = plt.figure(figsize=(3.0 * count, 8.5), layout="constrained")
    grid = figure.add_gridspec(2, count, height_ratios=[1.15, 1.0])
    for index, row in enumerate(rows):
        axes = figure.add_subplot(grid[0, index])
        colour = "#2e9d4f" if row["passed"] else "#d23c3c"
        axes.bar([0], [row["value"]], width=0.6, color=colour)
        axes.axhline(row["goal"], color="black", linestyle="--", linewidth=1.5)
        top = max(row["value"], row["goal"]) * 1.3
        axes.set_ylim(0, top)
        axes.set_xlim(-0.7, 0.7)
        axes.set_xticks([])
        axes.text(
            0,
            row["value"] + top * 0.02,
            f"{row['value']:.2f}{row['unit']}",
            ha="center",
            va="bottom",
            fontsize=12,
            fontweight="bold",
        )
        axes.text(
            -0.65,
            row["goal"] + top * 0.01,
            f"goal {row['direction']} {row['goal']:g}",
            ha="left",
            va="bottom",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
        verdict = "PASS" if row["passed"] else "MISS"
        axes.set_title(f"{row['label']}\n{verdict}", fontsize=10, color=colour)
    axes = figure.add_subplot(grid[1, :])
    names = [s.workload for s in summaries]
    values = [s.ops_per_second for s in summaries]
    bars = axes.bar(names, values, color="#4a78b5")
    for bar, s in zip(bars, summaries, strict=True):
        label = f"{s.ops_per_second:,.0f}/s\np50 {s.p50_ms:.1f} ms\np99 {s.p99_ms:.1f} ms"
        axes.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height(),
            label,
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_ylim(0, max(values, default=1) * 1.35)
    axes.set_ylabel("ops/s (median of rounds)")
    axes.set_title("throughput at 64 calls in flight")
    axes.tick_params(axis="x", labelrotation=20)
    figure.suptitle(f"ruleiq-data bench: {path.stem}", fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def pool_table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'DB_POOL_SIZE':>12} {'get ops/s':>10} {'get p99 ms':>10} {'update ops/s':>12} "
        f"{'update p99 ms':>13} {'srv CPU ms/get':>14} {'other CPU':>9} {'errors':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        get, update = row["get"], row["update"]
        other = (get.other_cpu_percent + update.other_cpu_percent) / 2
        lines.append(
            f"{row['pool_size']:>12} {get.ops_per_second:>10,.0f} {get.p99_ms:>10.2f} "
            f"{update.ops_per_second:>12,.0f} {update.p99_ms:>13.2f} "
            f"{get.server_cpu_ms_per_call:>14.3f} {other:>8.0f}% {get.errors + update.errors:>6}"
        )
    return "\n".join(lines)


def workers_table(rows: Sequence[dict[str, Any]], workloads: Sequence[str]) -> str:
    """ops/s, p50 and p99 per GRPC_WORKERS and workload, then each count's ops/s over
    one worker's (the first row is the base when 1 is not measured)."""
    header = (
        f"{'workers':>7} {'workload':<8} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs first':>8} {'srv CPU ms/call':>15} {'db CPU ms/call':>14} {'client CPU':>10} "
        f"{'other CPU':>9} {'errors':>6}"
    )
    lines = [header, "-" * len(header)]
    base = {w: rows[0][w].ops_per_second for w in workloads} if rows else {}
    for row in rows:
        for workload in workloads:
            s = row[workload]
            ratio = s.ops_per_second / base[workload] if base.get(workload) else float("nan")
            lines.append(
                f"{row['workers']:>7} {workload:<8} {s.ops_per_second:>9,.0f} {s.p50_ms:>8.2f} "
                f"{s.p99_ms:>8.2f} {ratio:>7.2f}x {s.server_cpu_ms_per_call:>15.3f} "
                f"{_number(s.db_cpu_ms_per_call, 3):>14} "
                f"{s.client_cpu_percent:>9.0f}% {s.other_cpu_percent:>8.0f}% {s.errors:>6}"
            )
    first = rows[0]["workers"] if rows else 1
    for row in rows[1:]:
        ratios = ", ".join(
            f"{w} {row[w].ops_per_second / base[w]:.2f}x" for w in workloads if base.get(w)
        )
        lines.append(f"{row['workers']} workers / {first} (ops/s): {ratios}")
    lines.append(
        f"  vs first: ops/s over {first} worker(s)'s, medians of the rounds;\n"
        "  srv CPU: all workers together (the supervisor serves nothing);\n"
        "  db CPU: all PostgreSQL processes; client CPU: the one driving process,\n"
        "  % of one core; other CPU: the rest of the machine, % of one core."
    )
    return "\n".join(lines)
