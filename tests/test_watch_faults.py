"""WatchChanges when things go wrong: a server killed mid-stream, PgBouncer in
transaction mode (no LISTEN/NOTIFY), a caller that stops reading."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import psutil
from ruleiq.data.v1 import change_pb2, change_pb2_grpc
from sqlalchemy import text
from sqlalchemy.engine import make_url

from repositories.database import Database
from service.errors import reason_of

from .apps import running
from .pgbouncer import Bouncer
from .service_process import named_service
from .watching import (
    Watcher,
    create_user,
    revisions_in_order,
    users_history,
    watching,
    write_users,
)

MiB = 1024 * 1024
EOF: Any = grpc.aio.EOF  # type: ignore[attr-defined]  # not in grpc-stubs
FAST = {"WATCH_POLL_INTERVAL": "0.05", "WATCH_HEARTBEAT_INTERVAL": "0.5"}


async def test_after_a_kill_9_a_new_server_resumes_from_the_last_token_without_loss_or_repeat(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    where = 'resource_type = "User"'
    async with (
        running(database_url) as writer_app,
        grpc.aio.insecure_channel(f"127.0.0.1:{writer_app.port}") as writes,
    ):
        first = named_service(database_url, tmp_path / "first.log", grace=1.0, **FAST)
        try:
            await first.ready()
            async with grpc.aio.insecure_channel(first.address) as channel:
                watcher = Watcher(channel, filter_text=where)
                until = time.monotonic() + 6.0
                writers = asyncio.gather(
                    *(write_users(writes, until, f"kill{i}") for i in range(4))
                )
                await asyncio.sleep(2.0)
                first.kill()
                await watcher.ended()
                before = list(watcher.events)
                token = watcher.token
        finally:
            first.kill()
        second = named_service(database_url, tmp_path / "second.log", grace=1.0, **FAST)
        try:
            await second.ready()
            ids = set().union(*await writers)
            expected = await users_history(database, ids)
            async with (
                grpc.aio.insecure_channel(second.address) as channel,
                watching(channel, filter_text=where, resume_token=token) as after,
            ):

                def ours(w: Watcher) -> set[int]:
                    return {e.id for e in w.events if e.resource_id in ids}

                got = {e.id for e in before if e.resource_id in ids}
                await after.until(lambda w: got | ours(w) >= expected, within=60)
                again = [e.id for e in after.events]
                assert got
                assert ours(after)
                assert not {e.id for e in before} & set(again)
                assert len(again) == len(set(again))
                assert got | ours(after) == expected
                assert revisions_in_order([*before, *after.events])
        finally:
            second.stop()


async def test_behind_pgbouncer_in_transaction_mode_events_arrive_by_polling(
    database: Database, pgbouncer: Bouncer
) -> None:
    options: dict[str, Any] = {"watch_poll_interval": 0.05, "watch_heartbeat_interval": 0.5}
    async with (
        running(pgbouncer.url, database_options={"db_pgbouncer": True}, **options) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        async with watching(channel, filter_text='resource_type = "User"') as watcher:
            users = [await create_user(channel) for _ in range(3)]
            await watcher.until(
                lambda w: {u.id for u in users} <= {e.resource_id for e in w.events}
            )
        assert app.watch is not None
        assert not app.watch.listen


BIG = 20_000  # bytes of full_name per event, twice (before/after) for an update


def _email(event: change_pb2.ChangeEvent) -> str:
    return str(event.after["email"]) if "email" in event.after else ""


def _has(tag: str, count: int) -> Callable[[Watcher], bool]:
    return lambda w: sum(1 for e in w.events if _email(e).startswith(tag)) >= count


async def _backlog(database: Database, tag: str, count: int) -> None:
    async with database.async_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, email, full_name) SELECT gen_random_uuid(),"
                " :tag || i || '@example.com', repeat('x', :size)"
                " FROM generate_series(1, :count) AS i"
            ),
            {"tag": tag, "size": BIG, "count": count},
        )


async def test_a_caller_that_stops_reading_is_aborted_and_the_server_s_memory_stays_flat(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    service = named_service(
        database_url, tmp_path / "slow.log", grace=1.0, WATCH_BUFFER="200", **FAST
    )
    try:
        await service.ready()
        process = psutil.Process(service.pid)
        growth = []
        async with grpc.aio.insecure_channel(service.address) as channel:
            for round_, count in enumerate((500, 2000)):
                stream: Any = change_pb2_grpc.ChangeServiceStub(channel).WatchChanges(
                    change_pb2.WatchChangesRequest(filter='resource_type = "User"')
                )
                assert (await stream.read()).resume_token
                # From here on the caller reads nothing: grpc's flow control
                # stops the server's writes once the window is full.
                rss = process.memory_info().rss
                tag = f"slow{round_}-"
                async with (
                    grpc.aio.insecure_channel(service.address) as other,
                    watching(other, filter_text='resource_type = "User"') as reader,
                ):
                    await _backlog(database, tag, count)
                    # Once a caller that reads got the whole backlog, the reader
                    # has fanned it out to the one that does not, too.
                    await reader.until(_has(tag, count), within=120)
                growth.append((process.memory_info().rss - rss) / MiB)
                with contextlib.suppress(grpc.aio.AioRpcError):
                    while await stream.read() is not EOF:
                        pass
                assert await stream.code() == grpc.StatusCode.ABORTED
                assert reason_of(await stream.trailing_metadata()) == "WATCH_TOO_SLOW"
                assert "resume" in (await stream.details())
        # 4x the backlog (2000 events of 20 kB: 40 MB) leaves no trace in memory.
        assert growth[1] < 40, growth
    finally:
        service.stop()


class CuttableProxy:
    """TCP in front of PostgreSQL that can go away: every connection aborted and
    new ones refused, as when the database host dies."""

    def __init__(self, database_url: str) -> None:
        self.target = make_url(database_url)
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        url = self.target.set(host="127.0.0.1", port=port, query={})
        return url.render_as_string(hide_password=False)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found = self.target.host or self.target.query.get("host")
        host = found if isinstance(found, str) else None
        if host is not None and host.startswith("/"):
            up_reader, up_writer = await asyncio.open_unix_connection(
                f"{host}/.s.PGSQL.{self.target.port or 5432}"
            )
        else:
            up_reader, up_writer = await asyncio.open_connection(
                host or "127.0.0.1", self.target.port or 5432
            )
        self.writers += (writer, up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    def cut(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.transport.abort()


async def test_when_the_database_stays_away_streams_end_unavailable_after_a_last_token(
    database: Database,
) -> None:
    proxy = CuttableProxy(database.url)
    url = await proxy.start()
    options: dict[str, Any] = {
        "watch_poll_interval": 0.05,
        "watch_heartbeat_interval": 0.3,
        "watch_database_outage": 1.0,
        "readiness_interval_seconds": 60,
    }
    try:
        async with (
            running(url, database_options={"db_pool_timeout": 2}, **options) as app,
            grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
        ):
            watcher = Watcher(channel)
            await watcher.until(lambda w: bool(w.responses))
            proxy.cut()
            await watcher.ended(within=60)
            assert watcher.code == grpc.StatusCode.UNAVAILABLE
            assert watcher.reason == "DATABASE_UNAVAILABLE"
            assert watcher.token
            assert not watcher.responses[-1].changes
            # Nothing is left checked out of the pool by the failed reads.
            assert app.database.pool_stats().checked_out == 0
    finally:
        proxy.cut()


async def test_sigterm_ends_streams_unavailable_after_a_last_token_and_exits_zero(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    quiet = {**FAST, "WATCH_HEARTBEAT_INTERVAL": "60"}
    service = named_service(database_url, tmp_path / "term.log", grace=5.0, **quiet)
    try:
        await service.ready()
        async with grpc.aio.insecure_channel(service.address) as channel:
            watchers = [Watcher(channel) for _ in range(3)]
            for watcher in watchers:
                await watcher.until(lambda w: bool(w.responses))
            service.process.send_signal(signal.SIGTERM)
            for watcher in watchers:
                await watcher.ended()
                ended = (watcher.code, watcher.reason)
                assert ended == (grpc.StatusCode.UNAVAILABLE, "SHUTTING_DOWN"), watcher.details
                assert len(watcher.responses) == 2
                assert watcher.token
        assert await asyncio.to_thread(service.wait, 30) == 0
    finally:
        service.kill()
