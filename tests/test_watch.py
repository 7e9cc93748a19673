"""WatchChanges: a resumable change stream without gaps, from a real server to the
generated client, on committed data (no outer test transaction)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import grpc
from sqlalchemy.engine import make_url

from repositories.database import Database

from .apps import running
from .watching import Watcher, create_user, watching

FAST = {"watch_poll_interval": 0.05, "watch_heartbeat_interval": 0.5}


def raw_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_stream_from_now_gets_the_first_response_at_once_then_new_events(
    database: Database, database_url: str
) -> None:
    async with running(database_url, **FAST) as app:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            async with watching(channel, filter_text='resource_type = "User"') as watcher:
                first = watcher.responses[0]
                assert not first.changes and first.resume_token
                user = await create_user(channel)
                await watcher.until(lambda w: any(e.resource_id == user.id for e in w.events))
                [event] = [e for e in watcher.events if e.resource_id == user.id]
                assert (event.operation, event.revision) == ("create", 1)
                assert event.watch_xid >= event.transaction_id
