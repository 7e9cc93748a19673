"""Calls cancelled by their callers in the middle of a query leave nothing behind:
no checked-out connection, no open transaction, no query still running."""

from __future__ import annotations

import contextlib
import uuid

import grpc
from ruleiq.data.v1 import user_pb2, user_pb2_grpc
from sqlalchemy import text

from repositories.database import Database

from .apps import running
from .probes import HANG_SECONDS, lock_user_row, new_user, wait_for


async def server_sessions(database: Database, application_name: str) -> list[tuple[str, str]]:
    async with database.async_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT state, coalesce(wait_event_type, '') FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"
            ),
            {"name": application_name},
        )
        return [(str(state), str(wait)) for state, wait in rows]


async def test_hundreds_of_calls_cancelled_mid_query_leak_nothing(
    database_url: str, database: Database
) -> None:
    application_name = f"cancel_{uuid.uuid4().hex[:8]}"
    pool = {"db_pool_size": 5, "db_max_overflow": 5, "db_application_name": application_name}
    async with running(database_url, database_options=pool, readiness_interval_seconds=0.2) as app:
        lock = await database.async_engine.connect()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                users = user_pb2_grpc.UserServiceStub(channel)
                user = await new_user(users)
                await lock_user_row(lock, user.id)
                update = user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=user.id, full_name="never written")
                )

                async def all_lent() -> bool:
                    stats = app.database.pool_stats()
                    return stats.checked_out == stats.size + stats.max_overflow

                for _ in range(10):
                    # 20 at a time: each waits on the row lock (or for a connection),
                    # then its caller gives up.
                    calls = [users.UpdateUser(update, timeout=30) for _ in range(20)]
                    # Cancelled once every pooled connection is lent to one of them:
                    # mid-query, whatever the machine's speed.
                    await wait_for(all_lent, within=HANG_SECONDS)
                    for call in calls:
                        call.cancel()
                    for call in calls:
                        assert await call.code() == grpc.StatusCode.CANCELLED

                async def settled() -> bool:
                    sessions = await server_sessions(database, application_name)
                    busy = [s for s in sessions if s[0] != "idle"]
                    return app.database.pool_stats().checked_out == 0 and not busy

                with contextlib.suppress(AssertionError):  # the checks below say what is left
                    await wait_for(settled, within=HANG_SECONDS)
                assert app.database.pool_stats().checked_out == 0
                sessions = await server_sessions(database, application_name)
                assert all(state == "idle" for state, _ in sessions), sessions
                assert not [s for s in sessions if s[1] == "Lock"], "a cancelled UPDATE still waits"

                await lock.rollback()
                fetched = await users.GetUser(user_pb2.GetUserRequest(id=user.id), timeout=5)
                assert fetched.full_name != "never written"
                renamed = await users.UpdateUser(
                    user_pb2.UpdateUserRequest(user=user_pb2.User(id=user.id, full_name="after")),
                    timeout=5,
                )
                assert renamed.full_name == "after"
        finally:
            await lock.close()
