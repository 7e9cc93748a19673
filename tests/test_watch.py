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


def _ids(watcher: Watcher) -> list[str]:
    return [e.resource_id for e in watcher.events]


async def test_a_transaction_open_across_a_later_commit_holds_both_back_until_it_ends(
    database: Database, database_url: str
) -> None:
    """No gap: the younger commit's event waits for the older transaction, which may
    still commit an event below it."""
    async with running(database_url, **FAST) as app:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            async with watching(channel, filter_text='resource_type = "User"') as watcher:
                old = await asyncpg.connect(raw_dsn(database_url))
                try:
                    tx = old.transaction()
                    await tx.start()
                    early = uuid.uuid4()
                    await old.execute(
                        "INSERT INTO users (id, email) VALUES ($1, $2)",
                        early,
                        f"early-{early.hex[:12]}@example.com",
                    )
                    late = await create_user(channel)
                    seen = len(watcher.responses)
                    # Several heartbeats later (each one after reads that found
                    # nothing deliverable), neither event has been sent.
                    await watcher.until(lambda w: len(w.responses) >= seen + 3)
                    assert str(early) not in _ids(watcher)
                    assert late.id not in _ids(watcher)
                    await tx.commit()
                finally:
                    await old.close()
                await watcher.until(lambda w: {str(early), late.id} <= set(_ids(w)))
                delivered = [i for i in _ids(watcher) if i in (str(early), late.id)]
                assert delivered == [str(early), late.id]


async def test_a_resource_s_revisions_arrive_in_order_when_an_old_transaction_writes_last(
    database: Database, database_url: str
) -> None:
    dsn = raw_dsn(database_url)
    async with running(database_url, **FAST) as app:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            user = await create_user(channel)
            async with watching(channel, filter_text=f'resource_id = "{user.id}"') as watcher:
                oldest, old, young = [await asyncpg.connect(dsn) for _ in range(3)]
                try:
                    holder = oldest.transaction()
                    await holder.start()
                    await oldest.fetchval("SELECT pg_current_xact_id()")
                    early = old.transaction()
                    await early.start()
                    await old.fetchval("SELECT pg_current_xact_id()")
                    async with young.transaction():
                        await young.execute(
                            "UPDATE users SET full_name = 'young' WHERE id = $1",
                            uuid.UUID(user.id),
                        )
                    await old.execute(
                        "UPDATE users SET full_name = 'old' WHERE id = $1", uuid.UUID(user.id)
                    )
                    await early.commit()
                    await holder.commit()
                finally:
                    for connection in (oldest, old, young):
                        await connection.close()
                await watcher.until(lambda w: len(w.events) >= 2)
                revisions = [(e.revision, e.after["full_name"]) for e in watcher.events]
                assert revisions == [(2, "young"), (3, "old")]


async def test_resuming_from_the_last_token_gets_every_later_event_and_none_before(
    database: Database, database_url: str
) -> None:
    async with running(database_url, **FAST) as app:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            where = 'resource_type = "User" AND operation = "create"'
            async with watching(channel, filter_text=where) as first:
                before = await create_user(channel)
                await first.until(lambda w: before.id in _ids(w))
                token = first.token
            after = [await create_user(channel) for _ in range(3)]
            async with watching(channel, filter_text=where, resume_token=token) as second:
                await second.until(lambda w: {u.id for u in after} <= set(_ids(w)))
                assert before.id not in _ids(second)
                assert len(_ids(second)) == len(set(_ids(second)))
