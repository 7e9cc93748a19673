"""How database failures reach callers, each injected for real through the real
server: backends killed under load, a read-only database, a locked table under an
admin call, and connection errors that must name their cause."""

from __future__ import annotations

import asyncio
import collections
import uuid

import grpc
from ruleiq.data.v1 import user_pb2, user_pb2_grpc

from repositories.database import Database

from .apps import running
from .postgres import fetch_all

# Codes a caller may see while its connection is killed: retryable ones, and the
# deadline of a call that was waiting. Never INTERNAL or UNKNOWN.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def terminate_backends(database_url: str, application_name: str) -> int:
    """pg_terminate_backend on every connection `application_name` holds, from an
    admin connection of its own; how many were ended."""
    rows = fetch_all(
        database_url,
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = %s AND pid <> pg_backend_pid()",
        (application_name,),
    )
    return int(rows[0][0])


async def test_killed_backends_under_load_answer_unavailable_and_lose_no_acknowledged_write(
    database_url: str, database: Database
) -> None:
    name = f"killed_{uuid.uuid4().hex[:8]}"
    domain = f"{name}.io"
    acknowledged: list[str] = []
    failures: collections.Counter[tuple[grpc.StatusCode, str]] = collections.Counter()
    stop = asyncio.Event()
    written = asyncio.Condition()
    async with (
        running(database_url, database_options={"db_application_name": name}) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        users = user_pb2_grpc.UserServiceStub(channel)

        async def attempt(call: object) -> object | None:
            try:
                return await call  # type: ignore[misc]
            except grpc.aio.AioRpcError as error:
                failures[error.code(), error.details() or ""] += 1
                await asyncio.sleep(0.02)
                return None

        async def writer(index: int) -> None:
            while not stop.is_set():
                user = user_pb2.User(email=f"{uuid.uuid4().hex}@{domain}")
                # Half the creates are idempotent ones: a transaction, not one INSERT.
                request_id = str(uuid.uuid4()) if index % 2 else ""
                request = user_pb2.CreateUserRequest(user=user, request_id=request_id)
                reply = await attempt(users.CreateUser(request, timeout=5))
                if isinstance(reply, user_pb2.User):
                    acknowledged.append(reply.id)
                    async with written:
                        written.notify_all()
                    update = user_pb2.UpdateUserRequest(
                        user=user_pb2.User(id=reply.id, full_name="updated"),
                        etag=reply.etag,
                    )
                    await attempt(users.UpdateUser(update, timeout=5))

        async def reader() -> None:
            while not stop.is_set():
                page = user_pb2.ListUsersRequest(page_size=20)
                await attempt(users.ListUsers(page, timeout=5))
                if acknowledged:
                    get = user_pb2.GetUserRequest(id=acknowledged[-1])
                    await attempt(users.GetUser(get, timeout=5))

        async def progressed(by: int) -> None:
            target = len(acknowledged) + by
            async with written:
                await written.wait_for(lambda: len(acknowledged) >= target)

        tasks = [asyncio.create_task(writer(i)) for i in range(6)]
        tasks += [asyncio.create_task(reader()) for _ in range(2)]
        try:
            await asyncio.wait_for(progressed(30), timeout=60)
            killed = 0
            for _ in range(5):
                killed += await asyncio.to_thread(terminate_backends, database_url, name)
                await asyncio.wait_for(progressed(30), timeout=60)
        finally:
            stop.set()
            await asyncio.gather(*tasks)

    assert killed > 0
    unexpected = {key: n for key, n in failures.items() if key[0] not in RETRYABLE}
    assert not unexpected, unexpected
    stored = {
        str(row[0])
        for row in fetch_all(
            database_url, "SELECT id FROM users WHERE email LIKE %s", (f"%@{domain}",)
        )
    }
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged writes lost"
