"""CPU time of processes, read from /proc: what a workload cost the server, the
database and the client, divided by the calls it made."""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _fields(pid: int | str) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces or parentheses: fields start after the last ')'.
    return text[text.rindex(")") + 2 :].split()


def process_cpu_seconds(pid: int | str) -> float:
    """utime + stime of one process (all its threads)."""
    fields = _fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def children(pid: int | str) -> list[int]:
    """The live direct children of `pid` (a supervisor's workers)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if _fields(entry.name)[1] == str(pid):
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def family_cpu_seconds(pid: int) -> float:
    """A server process and its live children: with GRPC_WORKERS > 1 the workers
    serve, the supervisor only waits. A child that exits is not counted."""
    total = process_cpu_seconds(pid)
    for child in children(pid):
        try:
            total += process_cpu_seconds(child)
        except (OSError, IndexError, ValueError):
            continue
    return total


def postmaster_pid(data_dir: Path) -> int | None:
    """The embedded server's postmaster, from its pid file."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def tree_cpu_seconds(root_pid: int) -> float:
    """The postmaster, its live children (backends, checkpointer, walwriter...) and,
    through the postmaster's cutime/cstime, the children that have exited: a pool
    that opens and closes connections under load does not hide their cost."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = _fields(entry.name)
            if int(entry.name) == root_pid:
                total += sum(int(value) for value in fields[11:15]) / TICKS_PER_SECOND
            elif int(fields[1]) == root_pid:
                total += (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND
        except (OSError, ValueError, IndexError):
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU time every process on the machine used (all cores), from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND


def resident_mb(pid: int | str) -> float:
    """Resident memory of one process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def family_resident_mb(pid: int) -> float:
    """Resident memory of a process and its live children, in MiB."""
    total = resident_mb(pid)
    for child in children(pid):
        try:
            total += resident_mb(child)
        except OSError:
            continue
    return total
