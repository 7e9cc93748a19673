"""Stopping while the database's network is gone: the connections cannot be closed
politely (asyncpg waits for the server to hang up, with no limit), yet the stop
must end."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from ruleiq.data.v1 import user_pb2, user_pb2_grpc
from sqlalchemy.engine import make_url

from repositories.database import Database
from service import server

from .api import TIMEOUT
from .apps import running
from .probes import HANG_SECONDS


class PartitionProxy:
    """TCP in front of PostgreSQL that can stop carrying bytes, both ways, while
    every socket stays open: what a network partition looks like to both ends."""

    def __init__(self, database_url: str) -> None:
        self._target = make_url(database_url)
        self.frozen = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self) -> str:
        return self._target.set(host="127.0.0.1", port=self.port, query={}).render_as_string(
            hide_password=False
        )

    async def _open_target(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host = self._target.host or self._target.query.get("host")
        port = self._target.port or 5432
        assert isinstance(host, str), self._target
        if host.startswith("/"):
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target_reader, target_writer = await self._open_target()
        self._writers += [writer, target_writer]
        await asyncio.gather(self._pipe(reader, target_writer), self._pipe(target_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if self.frozen.is_set():
                await asyncio.Event().wait()  # hold the bytes and the socket, forever
            writer.write(data)
            await writer.drain()

    async def close(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def proxy(database: Database) -> AsyncIterator[PartitionProxy]:
    proxy = PartitionProxy(database.url)  # migrated
    await proxy.start()
    yield proxy
    await proxy.close()


async def test_a_stop_during_a_partition_ends_and_says_which_step_was_cut_short(
    proxy: PartitionProxy, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "STOP_STEP_SECONDS", 1.0)
    async with running(proxy.url(), readiness_interval_seconds=60, grace=0.2) as app:
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                users = user_pb2_grpc.UserServiceStub(channel)
                request = user_pb2.CreateUserRequest(
                    user=user_pb2.User(email=f"{uuid.uuid4().hex}@partition.io")
                )
                await users.CreateUser(request, timeout=TIMEOUT)  # a pooled connection now
            proxy.frozen.set()
            caplog.set_level(logging.WARNING, logger="service.server")
            # Without its own bound the stop waits for the partition to end, which it
            # never does; this one only keeps a broken stop from hanging the suite.
            try:
                await asyncio.wait_for(app.stop(grace=0.2), HANG_SECONDS)
            except TimeoutError:
                pytest.fail("the stop never ended: a step waited on the partitioned network")
        finally:
            # The context's own stop, the first one if this failed, meets a network again.
            proxy.frozen.clear()
    # It ended by cutting the step short, not because the network came back.
    assert any(
        "closing the database connections took over 1 s and was cut short" in r.getMessage()
        for r in caplog.records
    )
