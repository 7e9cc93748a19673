"""The change stream's one read (docs/watch.md): the horizon and a window of change
events below it, from a single statement, so both come from the same snapshot.

`pg_snapshot_xmin(pg_current_snapshot())` is the oldest transaction id still running
anywhere in the cluster: every transaction below it has ended, so the events whose
`watch_xid` lies below it are all visible and no later commit adds one. A window
[lo, hi) of watch_xid read below that horizon is therefore complete and final."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .unit_of_work import Transaction

# The window is narrowed through the (watch_xid, id) index first and sorted by id
# after (MATERIALIZED): ordered by the primary key, the planner may walk the whole
# history to find the few rows of a recent window.
WINDOW_SQL = """
WITH s AS MATERIALIZED (SELECT pg_current_snapshot() AS snap),
h AS MATERIALIZED (
    SELECT pg_snapshot_xmin(snap)::text::bigint AS horizon,
        pg_snapshot_xmax(snap)::text::bigint AS xmax
    FROM s
),
w AS MATERIALIZED (
    SELECT e.* FROM change_events AS e, h
    WHERE e.watch_xid >= $1::bigint
        AND e.watch_xid < least(coalesce($2::bigint, h.horizon), h.horizon)
        AND e.id > $3::bigint
)
SELECT h.horizon, h.xmax, page.*
FROM h LEFT JOIN LATERAL (SELECT * FROM w ORDER BY w.id LIMIT $4::int) AS page ON true
ORDER BY page.id
"""

HORIZON_SQL = """
SELECT pg_snapshot_xmin(s.snap)::text::bigint, pg_snapshot_xmax(s.snap)::text::bigint
FROM (SELECT pg_current_snapshot() AS snap) AS s
"""


@dataclass(frozen=True)
class Window:
    """What one read found: the horizon and the next transaction id to be assigned
    (`xmax`) at its snapshot, the window's effective upper bound, and its events in
    id order (at most the limit asked for)."""

    horizon: int
    xmax: int
    upper: int
    rows: list[Any]


async def horizon(transaction: Transaction) -> tuple[int, int]:
    """(horizon, xmax) now."""
    row = await transaction.fetchrow(HORIZON_SQL)
    return int(row[0]), int(row[1])


async def read_window(
    transaction: Transaction, lower: int, upper: int | None, after_id: int, limit: int
) -> Window:
    """The events with lower <= watch_xid < min(upper, horizon) and id > after_id,
    the first `limit` by id. `transaction` must hold no transaction id of its own
    (a read), or its own id would hold the horizon back."""
    records = await transaction.fetch(WINDOW_SQL, lower, upper, after_id, limit)
    first = records[0]
    top = int(first["horizon"])
    effective = top if upper is None else min(upper, top)
    rows = [r for r in records if r["id"] is not None]
    return Window(top, int(first["xmax"]), effective, rows)
