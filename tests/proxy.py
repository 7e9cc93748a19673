"""A TCP proxy in front of a gRPC server that loses the first reply: on its first
connection it reads the server's HTTP/2 frames and, when the first response HEADERS
frame of a call arrives (the server has finished the call and committed its work),
closes both sides instead of passing it on. The caller sees UNAVAILABLE for a call
that did happen; later connections pass through untouched."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

FRAME_HEADER = 9
HEADERS = 0x1


class LosesFirstReply:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.connections = 0
        self.replies_lost = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        first = self.connections == 1
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up = asyncio.create_task(self._pipe(client_r, server_w))
        down = asyncio.create_task(
            self._frames(server_r, client_w) if first else self._pipe(server_r, client_w)
        )
        self._tasks |= {up, down}
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            self._tasks -= {up, down}
            for writer in (client_w, server_w):
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _frames(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Server to client, frame by frame, until the first reply starts."""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                header = await reader.readexactly(FRAME_HEADER)
                length = int.from_bytes(header[:3], "big")
                stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
                payload = await reader.readexactly(length)
                if header[3] == HEADERS and stream != 0:
                    self.replies_lost += 1
                    return
                writer.write(header + payload)
                await writer.drain()


@contextlib.asynccontextmanager
async def losing_first_reply(upstream_port: int) -> AsyncIterator[LosesFirstReply]:
    proxy = LosesFirstReply(upstream_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@contextlib.asynccontextmanager
async def silent_peer() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word, as a hung server does:
    a call to it ends only by its deadline. Yields the port."""

    held: set[asyncio.StreamWriter] = set()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.add(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()
