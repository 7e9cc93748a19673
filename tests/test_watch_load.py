"""WatchChanges under concurrent writers: what a stream from "now" delivers is
exactly what the change history holds in the same range."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from repositories.database import Database
from service.watch import decode_token

from .watching import (
    Watcher,
    revisions_in_order,
    serving,
    users_history,
    watching,
    write_users,
)

WRITERS = 8
SECONDS = 30.0


async def test_eight_writers_for_thirty_seconds_lose_nothing_and_keep_revision_order(
    database: Database, database_url: str
) -> None:
    options = {"watch_poll_interval": 0.1, "watch_heartbeat_interval": 0.5}
    async with serving(database_url, **options) as (_app, channel):
        where = 'resource_type = "User"'
        async with watching(channel, filter_text=where) as watcher:
            start, _ = decode_token(watcher.token)
            until = time.monotonic() + SECONDS
            written = await asyncio.gather(
                *(write_users(channel, until, f"load{i}") for i in range(WRITERS))
            )
            ids = set().union(*written)
            expected = len(await users_history(database, ids))

            assert expected > 100

            def ours(w: Watcher) -> int:
                return sum(1 for e in w.events if e.resource_id in ids)

            await watcher.until(lambda w: ours(w) >= expected, within=60)
            # A heartbeat after the last event: a position past a whole window.
            seen = len(watcher.responses)
            await watcher.until(lambda w: len(w.responses) > seen and not w.responses[-1].changes)
            end, _ = decode_token(watcher.token)
            assert end.upper == 0
            async with database.async_engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT id FROM change_events WHERE resource_type = 'User'"
                        " AND watch_xid >= :lower AND watch_xid < :upper"
                    ),
                    {"lower": start.lower, "upper": end.lower},
                )
                history = {row[0] for row in rows}
            delivered = [e.id for e in watcher.events]
            assert len(delivered) == len(set(delivered))
            assert set(delivered) == history
            assert ours(watcher) == expected
            assert revisions_in_order(watcher.events)
