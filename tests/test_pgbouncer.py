"""The service behind a real PgBouncer in transaction pooling mode (DB_PGBOUNCER).

A few server connections are shared by many more client connections, so a
statement prepared in one transaction is usually gone (or another client's) in the
next. The end-to-end calls below run many at a time to make exactly that happen;
the last tests show that without the setting the same workload breaks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2
from ruleiq.data.v1 import data_service_pb2, data_service_pb2_grpc
from sqlalchemy import text

from repositories.database import Database
from repositories.errors import DeadlineExceededError, UnavailableError
from repositories.models import User
from repositories.repository import Repository
from service.resources import RESOURCES, Resource
from service.server import App

from .api import Api, call, expect_error, items, resource_field, shape
from .apps import db_settings
from .driver import async_connect_arguments
from .listing import list_rows
from .pgbouncer import SERVER_POOL, Bouncer
from .probes import HANG_SECONDS, blocked_statements, now, wait_for
from .service_process import run_service

CONCURRENCY = 12


@pytest.fixture(scope="session")
async def bounced_api(bounced_app: App) -> AsyncIterator[Api]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{bounced_app.port}") as channel:
        yield Api(channel)


# ---------------------------------------------------------------------------
# What the setting changes in the driver's arguments (no database needed)


async def test_setting_turns_statement_caches_off_and_keeps_startup_parameters_acceptable() -> None:
    url = "postgresql://app@pgbouncer.example.com:6432/ruleiq"
    plain = await async_connect_arguments(Database(db_settings(), url).async_engine)
    assert "statement_cache_size" not in plain
    assert plain["server_settings"]["client_connection_check_interval"] == "1000"

    bounced = Database(db_settings(db_pgbouncer=True), url)
    arguments = await async_connect_arguments(bounced.async_engine)
    assert arguments["statement_cache_size"] == 0
    assert arguments["prepared_statement_cache_size"] == 0
    names = {arguments["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3
    assert all(name.startswith("__asyncpg_") for name in names)
    # application_name is a startup parameter PgBouncer accepts; the other is not.
    assert arguments["server_settings"] == {"application_name": "ruleIQ_backend"}


# ---------------------------------------------------------------------------
# Every resource, many calls at a time


async def _round_trip(api: Api, r: Resource) -> None:
    """Create (with parents), Get, BatchGet, List, Update, Delete of one row."""
    m = r.message
    created = await api.make(m)
    assert (await call(api, m, "Get", id=created.id)).id == created.id
    assert [x.id for x in items(m, await call(api, m, "BatchGet", ids=[created.id]))] == [
        created.id
    ]
    assert items(m, await call(api, m, "List", page_size=5))
    current = created
    update = shape(m).update
    if not r.append_only and update is not None:
        name, value = update
        change = type(created)(id=created.id)
        if hasattr(value, "CopyFrom"):
            getattr(change, name).CopyFrom(value)
        else:
            setattr(change, name, value)
        current = await call(
            api,
            m,
            "Update",
            **{resource_field(m): change},
            update_mask=field_mask_pb2.FieldMask(paths=[name]),
            etag=created.etag,
        )
        assert getattr(current, name) == value
        assert current.etag != created.etag
    await call(api, m, "Delete", id=created.id, etag=current.etag)
    await expect_error(call(api, m, "Get", id=created.id), grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("r", [pytest.param(r, id=r.message) for r in RESOURCES])
async def test_every_method_of_every_resource_works_through_pgbouncer_under_concurrency(
    bounced_api: Api, r: Resource
) -> None:
    await asyncio.gather(*(_round_trip(bounced_api, r) for _ in range(CONCURRENCY)))


async def test_chat_messages_are_numbered_without_gaps_through_pgbouncer(
    bounced_api: Api,
) -> None:
    conversation = await bounced_api.make("ChatConversation")
    pb = bounced_api.pb("ChatMessage")
    created = await asyncio.gather(
        *(
            bounced_api.create(
                "ChatMessage",
                conversation_id=conversation.id,
                role=pb.CHAT_MESSAGE_ROLE_USER,
                content=f"m{i}",
            )
            for i in range(30)
        )
    )
    assert sorted(m.sequence_number for m in created) == list(range(1, 31))
    page = await call(
        bounced_api,
        "ChatMessage",
        "List",
        filter=f'conversation_id = "{conversation.id}"',
        page_size=100,
    )
    assert sorted(m.sequence_number for m in items("ChatMessage", page)) == list(range(1, 31))


async def test_commits_run_whole_or_not_at_all_through_pgbouncer(bounced_api: Api) -> None:
    conversation = await bounced_api.make("ChatConversation")
    commits = data_service_pb2_grpc.DataServiceStub(bounced_api.channel)
    pb = bounced_api.pb("ChatMessage")

    def append(n: int) -> data_service_pb2.Mutation:
        message = pb.ChatMessage(
            conversation_id=conversation.id, role=pb.CHAT_MESSAGE_ROLE_USER, content=f"m{n}"
        )
        return data_service_pb2.Mutation(
            create_chat_message=pb.CreateChatMessageRequest(chat_message=message)
        )

    async def commit(n: int, request_id: str = "") -> data_service_pb2.CommitResponse:
        request = data_service_pb2.CommitRequest(
            mutations=[append(n), append(n)], request_id=request_id
        )
        response: data_service_pb2.CommitResponse = await commits.Commit(request, timeout=10)
        return response

    request_id = str(uuid.uuid4())
    first = await commit(0, request_id)
    responses = await asyncio.gather(*(commit(n) for n in range(1, 11)))
    assert await commit(0, request_id) == first
    numbers = [r.chat_message.sequence_number for c in (first, *responses) for r in c.results]
    assert sorted(numbers) == list(range(1, 23))
    nowhere = pb.ChatMessage(
        conversation_id=str(uuid.uuid4()), role=pb.CHAT_MESSAGE_ROLE_USER, content="lost"
    )
    orphan = data_service_pb2.Mutation(
        create_chat_message=pb.CreateChatMessageRequest(chat_message=nowhere)
    )
    broken = data_service_pb2.CommitRequest(mutations=[append(99), orphan])
    await expect_error(
        commits.Commit(broken, timeout=10), grpc.StatusCode.FAILED_PRECONDITION, "PARENT_NOT_FOUND"
    )
    page = await call(
        bounced_api,
        "ChatMessage",
        "List",
        filter=f'conversation_id = "{conversation.id}"',
        page_size=100,
    )
    assert len(items("ChatMessage", page)) == 22


async def test_update_with_stale_etag_is_aborted_through_pgbouncer(bounced_api: Api) -> None:
    pb = bounced_api.pb("User")
    user = await bounced_api.make("User", full_name="One")
    await call(bounced_api, "User", "Update", user=pb.User(id=user.id, full_name="Two"))
    await expect_error(
        call(
            bounced_api,
            "User",
            "Update",
            user=pb.User(id=user.id, full_name="Three"),
            etag=user.etag,
        ),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert (await call(bounced_api, "User", "Get", id=user.id)).full_name == "Two"


# ---------------------------------------------------------------------------
# Deadlines: SET LOCAL inside every unit, read-only ones included


async def test_units_set_their_timeouts_locally_behind_pgbouncer(bounced_app: App) -> None:
    database = bounced_app.database
    for single_statement in (True, False):
        async with database.unit_of_work(0.25, single_statement=single_statement) as uow:
            shown = await uow.transaction.fetchrow(
                "SELECT current_setting('statement_timeout') AS timeout,"
                " current_setting('client_connection_check_interval') AS check_interval,"
                " now() = statement_timestamp() AS in_transaction"
            )
            assert shown["timeout"] == "250ms"
            assert shown["check_interval"] == "1s"
        with pytest.raises(DeadlineExceededError) as raised:
            await _sleep_in_unit(database, single_statement=single_statement)
        # The unit's 0.25 s timeout ended the 5 s sleep: without it nothing is raised.
        assert raised.value.reason == "STATEMENT_TIMEOUT"
    # Nothing leaked into the shared server connections' sessions.
    async with database.unit_of_work() as uow:
        shown = await uow.transaction.fetchrow(
            "SELECT current_setting('statement_timeout') AS timeout"
        )
        assert shown["timeout"] == "0"
        await uow.commit()


async def _sleep_in_unit(database: Database, *, single_statement: bool) -> None:
    async with database.unit_of_work(0.25, single_statement=single_statement) as uow:
        await uow.transaction.fetchval("SELECT pg_sleep(5)")


async def test_update_blocked_past_its_deadline_is_deadline_exceeded_through_pgbouncer(
    bounced_api: Api, bounced_app: App, database: Database
) -> None:
    user = await bounced_api.make("User", full_name="Before")
    pb = bounced_api.pb("User")
    async with database.async_engine.connect() as holder:
        await holder.execute(
            text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": uuid.UUID(user.id)}
        )
        await expect_error(
            bounced_api.User.UpdateUser(
                pb.UpdateUserRequest(user=pb.User(id=user.id, full_name="Blocked")), timeout=0.5
            ),
            grpc.StatusCode.DEADLINE_EXCEEDED,
            rich=False,
        )
        # PostgreSQL itself ended the UPDATE (SET LOCAL statement_timeout), while the
        # lock is still held.
        await blocked_statements(database.async_engine, 0)
        await holder.rollback()
    assert (await call(bounced_api, "User", "Get", id=user.id)).full_name == "Before"
    # The server's handler may still be handing its connection back.
    await wait_for(
        lambda: now(bounced_app.database.pool_stats().checked_out == 0), within=HANG_SECONDS
    )


# ---------------------------------------------------------------------------
# Nothing outlives its transaction on the shared server connections


async def test_no_prepared_statement_is_left_on_the_server_connections(
    bounced_api: Api, pgbouncer: Bouncer
) -> None:
    await asyncio.gather(*(_round_trip(bounced_api, RESOURCES[0]) for _ in range(CONCURRENCY)))
    await asyncio.gather(*(call(bounced_api, "User", "List", page_size=3) for _ in range(40)))
    # SERVER_POOL transactions held at once occupy every server connection there is.
    dsn = pgbouncer.url
    clients = [await asyncpg.connect(dsn, statement_cache_size=0) for _ in range(SERVER_POOL)]
    try:
        for client in clients:
            await client.execute("BEGIN")
        counts = [
            await client.fetchval("SELECT count(*) FROM pg_prepared_statements")
            for client in clients
        ]
        pids = {await client.fetchval("SELECT pg_backend_pid()") for client in clients}
        assert len(pids) == SERVER_POOL
        # Connection set-up (SQLAlchemy's first-connect queries, outside any unit of
        # work) may leave one or two; the 100 calls above leave none. Without the
        # unit of work closing SQLAlchemy's statements before COMMIT, this workload
        # left 38 here.
        assert sum(counts) <= 3, counts
    finally:
        for client in clients:
            await client.close()


# ---------------------------------------------------------------------------
# Without DB_PGBOUNCER the same setup breaks (what makes these tests worth having)


async def test_without_the_setting_pgbouncer_refuses_the_connection(pgbouncer: Bouncer) -> None:
    database = Database(db_settings(), pgbouncer.url)
    try:
        with pytest.raises(UnavailableError):
            await database.ping()
        with pytest.raises(Exception, match="unsupported startup parameter"):
            await asyncpg.connect(
                pgbouncer.url, server_settings={"client_connection_check_interval": "1000"}
            )
    finally:
        await database.dispose()


async def test_without_the_setting_concurrent_calls_fail_on_prepared_statements(
    pgbouncer: Bouncer,
) -> None:
    # Only the startup parameter PgBouncer refuses is left out: the statement caches
    # stay on, as they were before DB_PGBOUNCER existed.
    database = Database(db_settings(db_client_connection_check_interval=0), pgbouncer.url)
    users = Repository(User)
    errors: list[BaseException] = []

    async def reads() -> None:
        for _ in range(10):
            try:
                async with database.unit_of_work(5, single_statement=True) as uow:
                    await list_rows(users, uow.transaction, page_size=2)
                    await uow.transaction.fetchrow(
                        "SELECT 1 FROM users WHERE id = $1", uuid.uuid4()
                    )
            except Exception as error:
                errors.append(error)

    try:
        await asyncio.gather(*(reads() for _ in range(CONCURRENCY)))
    finally:
        await database.dispose()
    described = [_chain(error) for error in errors]
    prepared = [d for d in described if "prepared statement" in d]
    assert prepared, f"expected prepared statement errors, got {described[:3]}"


def _chain(error: BaseException | None) -> str:
    parts: list[str] = []
    while error is not None:
        parts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return " <- ".join(parts)


# ---------------------------------------------------------------------------
# Migrations need a session of their own: never through transaction pooling


def test_migrate_through_pgbouncer_is_refused_asking_for_a_direct_url(
    pgbouncer: Bouncer,
) -> None:
    result = run_service(pgbouncer.url, "migrate", DB_PGBOUNCER="true")
    assert result.returncode == 1, result.stderr
    assert "PgBouncer" in result.stderr
    assert "set DATABASE_MIGRATION_URL to a direct connection" in result.stderr


def test_migrate_with_pgbouncer_serving_goes_direct_through_the_migration_url(
    pgbouncer: Bouncer, database_url: str
) -> None:
    result = run_service(
        pgbouncer.url, "migrate", DB_PGBOUNCER="true", DATABASE_MIGRATION_URL=database_url
    )
    assert result.returncode == 0, result.stderr
    assert "no migration to run" in result.stderr
