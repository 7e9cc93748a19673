"""Read replicas (DATABASE_REPLICA_URLS) against a real streaming replica: a second
PostgreSQL made with pg_basebackup from a primary, both started here.

Where a call ran is shown two ways: by the data (with the replica's replay paused,
a row just written is on the primary only), and by `pg_stat_activity` on each
server, where the service's connections show the last statement they ran."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from ruleiq.data.v1 import database_pb2, database_pb2_grpc, user_pb2, user_pb2_grpc

from repositories.cluster import Cluster
from repositories.config import ConfigError
from repositories.database import Database
from repositories.migrations import upgrade
from service.server import App

from .api import expect_error
from .apps import db_settings, running
from .postgres import fetch_all
from .probes import (
    NOT_SERVING,
    SERVING,
    health_status,
    wait_for,
)
from .replication import ReplicatedPair, replication_binaries

pytestmark = pytest.mark.db

APPLICATION = "ruleiq-replica-test"
PRIMARY_ONLY = (("x-read-your-writes", "true"),)


@pytest.fixture(scope="module")
def pair() -> Iterator[ReplicatedPair]:
    pair = ReplicatedPair(replication_binaries(), Path(tempfile.mkdtemp(prefix="ruleiq-repl-")))
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="module")
async def migrated(pair: ReplicatedPair) -> ReplicatedPair:
    database = Database(db_settings(), pair.primary_url)
    try:
        await upgrade(database.async_engine)
    finally:
        await database.dispose()
    pair.wait_caught_up()
    return pair


@contextlib.asynccontextmanager
async def replicated_app(
    pair: ReplicatedPair, *, max_lag: float = 300.0, replicas: list[str] | None = None
) -> AsyncIterator[tuple[App, grpc.aio.Channel]]:
    async with (
        running(
            pair.primary_url,
            database_options={
                "db_application_name": APPLICATION,
                "db_replica_max_lag_seconds": max_lag,
            },
            replicas=[pair.replica_url] if replicas is None else replicas,
            readiness_interval_seconds=0.2,
        ) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        yield app, channel


async def create_user(channel: grpc.aio.Channel) -> user_pb2.User:
    users = user_pb2_grpc.UserServiceStub(channel)
    request = user_pb2.CreateUserRequest(user=user_pb2.User(email=f"{uuid.uuid4().hex}@r.io"))
    reply: user_pb2.User = await users.CreateUser(request, timeout=5)
    return reply


async def get_user(
    channel: grpc.aio.Channel, user_id: str, metadata: Any = None
) -> user_pb2.User | None:
    """The user, or None for NOT_FOUND."""
    users = user_pb2_grpc.UserServiceStub(channel)
    try:
        reply: user_pb2.User = await users.GetUser(
            user_pb2.GetUserRequest(id=user_id), timeout=5, metadata=metadata
        )
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        return None
    return reply


async def listed_emails(channel: grpc.aio.Channel, email: str, metadata: Any = None) -> list[str]:
    users = user_pb2_grpc.UserServiceStub(channel)
    request = user_pb2.ListUsersRequest(filter=f'email = "{email}"')
    reply = await users.ListUsers(request, timeout=5, metadata=metadata)
    return [user.email for user in reply.users]


def statements_seen(url: str, marker: str) -> int:
    """How many of the service's connections on the server at `url` last ran a
    statement containing `marker` (pg_stat_activity keeps an idle backend's last one)."""
    ((count,),) = fetch_all(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND query LIKE %s",
        (APPLICATION, f"%{marker}%"),
    )
    return int(count)


async def database_info(channel: grpc.aio.Channel) -> database_pb2.DatabaseInfo:
    stub = database_pb2_grpc.DatabaseServiceStub(channel)
    reply: database_pb2.DatabaseInfo = await stub.GetDatabaseInfo(
        database_pb2.GetDatabaseInfoRequest(), timeout=5
    )
    return reply


async def test_reads_run_on_the_replica_and_writes_on_the_primary(
    migrated: ReplicatedPair,
) -> None:
    pair = migrated
    async with replicated_app(pair) as (_, channel):
        assert await health_status(channel, "replica-0") == SERVING
        seen = await create_user(channel)
        pair.wait_caught_up()
        pair.pause_replay()
        try:
            user = await create_user(channel)
            # The replica has not replayed it: the plain read is served there...
            assert await get_user(channel, user.id) is None
            assert await listed_emails(channel, user.email) == []
            # ...while read-your-writes goes to the primary.
            found = await get_user(channel, user.id, PRIMARY_ONLY)
            assert found is not None
            assert found.email == user.email
            assert await listed_emails(channel, user.email, PRIMARY_ONLY) == [user.email]
            # BatchGet follows the same rule (and fails whole when an id is missing).
            users = user_pb2_grpc.UserServiceStub(channel)
            batch = user_pb2.BatchGetUsersRequest(ids=[seen.id, user.id])
            await expect_error(users.BatchGetUsers(batch, timeout=5), grpc.StatusCode.NOT_FOUND)
            on_primary = await users.BatchGetUsers(batch, timeout=5, metadata=PRIMARY_ONLY)
            assert [u.id for u in on_primary.users] == [seen.id, user.id]
        finally:
            pair.resume_replay()
        pair.wait_caught_up()
        found = await get_user(channel, user.id)
        assert found is not None
        assert found.etag == user.etag
        # The replica's own account: the service's connections there ran the reads.
        assert statements_seen(pair.replica_url, "FROM users") >= 1


async def test_read_your_writes_must_be_true_or_false(migrated: ReplicatedPair) -> None:
    async with replicated_app(migrated) as (_, channel):
        user = await create_user(channel)
        for value in ("false", "0", "FALSE"):
            migrated.wait_caught_up()
            assert await get_user(channel, user.id, (("x-read-your-writes", value),))
        users = user_pb2_grpc.UserServiceStub(channel)
        await expect_error(
            users.GetUser(
                user_pb2.GetUserRequest(id=user.id),
                timeout=5,
                metadata=(("x-read-your-writes", "sometimes"),),
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            field_name="x-read-your-writes",
        )


async def test_a_lagging_replica_leaves_the_rotation_until_it_catches_up(
    migrated: ReplicatedPair,
) -> None:
    pair = migrated
    async with replicated_app(pair, max_lag=1.0) as (_, channel):
        assert await health_status(channel, "replica-0") == SERVING
        pair.pause_replay()
        try:
            user = await create_user(channel)

            async def replica_out() -> bool:
                return await health_status(channel, "replica-0") == NOT_SERVING

            await wait_for(replica_out, within=15)
            # Out of rotation: plain reads go to the primary, which has the row.
            found = await get_user(channel, user.id)
            assert found is not None
            assert found.email == user.email
            assert await health_status(channel, "readiness") == SERVING
            (replica,) = (await database_info(channel)).replicas
            assert replica.name == "replica-0"
            assert not replica.in_rotation
            assert replica.HasField("lag_seconds")
            assert replica.lag_seconds > 1.0
            assert "behind the primary" in replica.problem
        finally:
            pair.resume_replay()

        async def replica_back() -> bool:
            return await health_status(channel, "replica-0") == SERVING

        await wait_for(replica_back, within=15)
        (replica,) = (await database_info(channel)).replicas
        assert replica.in_rotation
        assert replica.problem == ""
        assert replica.lag_seconds <= 1.0
        assert await get_user(channel, user.id) is not None


async def test_a_replica_that_fails_is_dropped_and_reads_fail_over(
    migrated: ReplicatedPair,
) -> None:
    pair = migrated
    async with replicated_app(pair) as (_, channel):
        user = await create_user(channel)
        pair.wait_caught_up()
        for _ in range(5):  # open some pooled connections to the replica
            assert await get_user(channel, user.id) is not None
        assert statements_seen(pair.replica_url, "FROM users") >= 1
        pair.stop_replica()
        try:
            # Its pooled connections are dead now: every read still succeeds, the
            # first one by retrying on the primary, the rest on the primary directly.
            for _ in range(20):
                found = await get_user(channel, user.id)
                assert found is not None
                assert found.id == user.id
            assert await listed_emails(channel, user.email) == [user.email]

            async def replica_out() -> bool:
                return await health_status(channel, "replica-0") == NOT_SERVING

            await wait_for(replica_out, within=10)
            assert await health_status(channel, "readiness") == SERVING
            (replica,) = (await database_info(channel)).replicas
            assert not replica.in_rotation
            assert replica.problem
            assert not replica.HasField("lag_seconds")
        finally:
            pair.start_replica()

        async def replica_back() -> bool:
            return await health_status(channel, "replica-0") == SERVING

        await wait_for(replica_back, within=20)
        assert await get_user(channel, user.id) is not None
        assert statements_seen(pair.replica_url, "FROM users") >= 1


async def test_a_url_that_names_a_primary_is_never_in_rotation(migrated: ReplicatedPair) -> None:
    async with replicated_app(migrated, replicas=[migrated.primary_url]) as (_, channel):
        assert await health_status(channel, "replica-0") == NOT_SERVING
        assert await health_status(channel, "readiness") == SERVING
        (replica,) = (await database_info(channel)).replicas
        assert "not a standby" in replica.problem
        user = await create_user(channel)
        assert await get_user(channel, user.id) is not None


def test_replica_urls_are_validated_and_named_by_position() -> None:
    good = "postgresql://u@replica-a:5432/db"
    with pytest.raises(ConfigError, match=r"DATABASE_REPLICA_URLS\[1\]: must start with"):
        Cluster.from_settings(
            db_settings(database_replica_urls=f"{good}, mysql://u:secret@b/db"),
            "postgresql://u@primary/db",
        )
    cluster = Cluster.from_settings(
        db_settings(database_replica_urls=f" {good} ,postgresql://u@replica-b/db,"),
        "postgresql://u@primary/db",
    )
    assert [r.name for r in cluster.replicas] == ["replica-0", "replica-1"]
    assert [r.database.urls.host_port for r in cluster.replicas] == [
        "replica-a:5432",
        "replica-b:5432",
    ]
    assert cluster.replicas.choose() is None  # nothing checked yet: reads go to the primary
