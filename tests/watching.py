"""A WatchChanges caller for tests: the stream read in a task of its own, every
response kept, and writes to watch."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import field_mask_pb2
from ruleiq.data.v1 import (
    change_pb2,
    change_pb2_grpc,
    data_service_pb2,
    data_service_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from sqlalchemy import text

from repositories.database import Database
from service.errors import reason_of
from service.server import App

from .api import TIMEOUT
from .apps import running


class Watcher:
    """One stream: its responses as they come, its end (code and reason)."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        filter_text: str = "",
        resume_token: str = "",
        metadata: tuple[tuple[str, str], ...] = (),
    ) -> None:
        stub = change_pb2_grpc.ChangeServiceStub(channel)
        request = change_pb2.WatchChangesRequest(filter=filter_text, resume_token=resume_token)
        self.call: Any = stub.WatchChanges(request, metadata=metadata)
        self.responses: list[change_pb2.WatchChangesResponse] = []
        self.code: grpc.StatusCode | None = None
        self.reason: str | None = None
        self.details = ""
        self._arrived = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for response in self.call:
                self.responses.append(response)
                self._arrived.set()
            self.code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            self.code = error.code()
            self.reason = reason_of(error.trailing_metadata())
            self.details = error.details() or ""
        finally:
            self._arrived.set()

    @property
    def events(self) -> list[change_pb2.ChangeEvent]:
        return [event for response in self.responses for event in response.changes]

    @property
    def token(self) -> str:
        return self.responses[-1].resume_token if self.responses else ""

    async def until(self, done: Callable[[Watcher], bool], within: float = 30.0) -> None:
        """Wait until `done(self)` or the stream ended; AssertionError after `within`."""
        deadline = time.monotonic() + within
        while not done(self):
            if self.task.done():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"not done within {within}s: {len(self.responses)} responses")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, 1.0))

    async def ended(self, within: float = 30.0) -> None:
        await asyncio.wait_for(asyncio.shield(self.task), within)

    async def close(self) -> None:
        self.call.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


@contextlib.asynccontextmanager
async def watching(channel: grpc.aio.Channel, **options: Any) -> AsyncIterator[Watcher]:
    """A Watcher that has its first response (the start token) already."""
    watcher = Watcher(channel, **options)
    try:
        await watcher.until(lambda w: bool(w.responses))
        yield watcher
    finally:
        await watcher.close()


def new_user(tag: str = "w") -> user_pb2.User:
    return user_pb2.User(email=f"{tag}-{uuid.uuid4().hex[:12]}@example.com", full_name="W")


async def create_user(channel: grpc.aio.Channel, tag: str = "w") -> user_pb2.User:
    users = user_pb2_grpc.UserServiceStub(channel)
    created: user_pb2.User = await users.CreateUser(
        user_pb2.CreateUserRequest(user=new_user(tag)), timeout=TIMEOUT
    )
    return created


async def write_users(channel: grpc.aio.Channel, until: float, tag: str) -> set[str]:
    """Create, update and delete users through the service until `until`
    (monotonic), some of it in Commits; the ids written."""
    users = user_pb2_grpc.UserServiceStub(channel)
    commits = data_service_pb2_grpc.DataServiceStub(channel)
    written: set[str] = set()
    turn = 0
    while time.monotonic() < until:
        turn += 1
        if turn % 3 == 0:
            user_id = str(uuid.uuid4())
            create = data_service_pb2.Mutation(
                create_user=user_pb2.CreateUserRequest(user=new_user(tag), user_id=user_id)
            )
            rename = data_service_pb2.Mutation(
                update_user=user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=user_id, full_name=f"in commit {turn}"),
                    update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
                )
            )
            await commits.Commit(
                data_service_pb2.CommitRequest(mutations=[create, rename]), timeout=TIMEOUT
            )
            written.add(user_id)
            continue
        user = await users.CreateUser(
            user_pb2.CreateUserRequest(user=new_user(tag)), timeout=TIMEOUT
        )
        written.add(user.id)
        for step in range(turn % 3):
            user = await users.UpdateUser(
                user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=user.id, full_name=f"step {step}"),
                    update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
                ),
                timeout=TIMEOUT,
            )
        if turn % 4 == 1:
            await users.DeleteUser(user_pb2.DeleteUserRequest(id=user.id), timeout=TIMEOUT)
    return written


def revisions_in_order(events: list[change_pb2.ChangeEvent]) -> bool:
    """Whether each resource's revisions increase strictly in delivery order."""
    last: dict[str, int] = {}
    for event in events:
        if event.revision <= last.get(event.resource_id, 0):
            return False
        last[event.resource_id] = event.revision
    return True


@contextlib.asynccontextmanager
async def serving(
    database_url: str, **overrides: Any
) -> AsyncIterator[tuple[App, grpc.aio.Channel]]:
    """A server started with `overrides` (tests/apps.py `running`) and a channel to it."""
    async with (
        running(database_url, **overrides) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        yield app, channel


async def users_history(database: Database, ids: set[str]) -> set[int]:
    """The ids of the change events of the users with these ids."""
    async with database.async_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT id FROM change_events WHERE resource_type = 'User'"
                " AND resource_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": sorted(ids)},
        )
        return {row[0] for row in rows}
