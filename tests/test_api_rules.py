"""The business rules the original application had, idempotent creates, default
orders, and the operational services, through the real server."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health_pb2
from ruleiq.data.v1 import database_pb2, database_pb2_grpc, user_pb2, user_pb2_grpc
from sqlalchemy import URL, make_url, text

from repositories.database import Database
from service.resources import RESOURCES
from service.server import App

from .api import TIMEOUT, Api, call, expect_error, items, service_name, valid_fields
from .apps import running
from .health import health_stub
from .rows import unique
from .service_process import ServiceProcess


def _ts(moment: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def _message(api: Api, conversation_id: str, content: str, **extra: Any) -> Any:
    pb = api.pb("ChatMessage")
    return await api.create(
        "ChatMessage",
        conversation_id=conversation_id,
        role=pb.CHAT_MESSAGE_ROLE_USER,
        content=content,
        **extra,
    )


async def _sequence(api: Api, conversation_id: str) -> list[int]:
    page = await call(
        api,
        "ChatMessage",
        "List",
        filter=f'conversation_id = "{conversation_id}"',
        page_size=1000,
    )
    return [m.sequence_number for m in items("ChatMessage", page)]


# ---------------------------------------------------------------------------
# Chat messages are numbered 1, 2, 3... within their conversation


async def test_chat_messages_are_numbered_from_one_in_their_conversation(api: Api) -> None:
    conversation = await api.make("ChatConversation")
    numbers = [
        (await _message(api, conversation.id, f"m{i}", sequence_number=99)).sequence_number
        for i in range(3)
    ]
    assert numbers == [1, 2, 3]
    assert await _sequence(api, conversation.id) == [1, 2, 3]


async def test_thirty_concurrent_appends_get_sequence_numbers_one_to_thirty(api: Api) -> None:
    conversation = await api.make("ChatConversation")
    created = await asyncio.gather(*(_message(api, conversation.id, f"m{i}") for i in range(30)))
    assert sorted(m.sequence_number for m in created) == list(range(1, 31))
    assert await _sequence(api, conversation.id) == list(range(1, 31))
    by_number = {m.sequence_number: m.content for m in created}
    assert len(set(by_number.values())) == 30


async def test_two_conversations_number_independently(api: Api) -> None:
    first = await api.make("ChatConversation")
    second = await api.make("ChatConversation")
    await asyncio.gather(
        *(_message(api, c.id, f"m{i}") for i in range(10) for c in (first, second))
    )
    assert await _sequence(api, first.id) == list(range(1, 11))
    assert await _sequence(api, second.id) == list(range(1, 11))


async def test_a_message_for_a_missing_conversation_is_failed_precondition(api: Api) -> None:
    failure = await expect_error(
        _message(api, str(uuid.uuid4()), "orphan"),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PARENT_NOT_FOUND",
    )
    assert failure.info is not None
    assert failure.info.metadata["field"] == "conversation_id"


# ---------------------------------------------------------------------------
# A health log becomes its integration's current health


async def test_health_log_updates_its_integrations_health(api: Api) -> None:
    pb = api.pb("IntegrationHealthLog")
    integration = await api.make("Integration")
    assert not integration.HasField("last_health_check")
    checked = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)

    log = await api.create(
        "IntegrationHealthLog",
        integration_id=integration.id,
        status=pb.INTEGRATION_HEALTH_STATUS_DEGRADED,
        response_time_ms=40.5,
        checked_at=_ts(checked),
    )
    current = await call(api, "Integration", "Get", id=integration.id)
    assert current.last_health_check == _ts(checked)
    health = dict(current.health_status)
    assert health["status"] == "degraded"
    assert health["response_time_ms"] == 40.5
    assert dt.datetime.fromisoformat(health["checked_at"]) == checked
    assert health["log_id"] == log.id
    assert current.etag != integration.etag

    # A back-filled older check is recorded but does not replace the newer one.
    older = await api.create(
        "IntegrationHealthLog",
        integration_id=integration.id,
        status=pb.INTEGRATION_HEALTH_STATUS_HEALTHY,
        response_time_ms=3.0,
        checked_at=_ts(checked - dt.timedelta(hours=1)),
    )
    assert await call(api, "IntegrationHealthLog", "Get", id=older.id) == older
    assert await call(api, "Integration", "Get", id=integration.id) == current

    # A check without checked_at happened now, and is the newest.
    latest = await api.create(
        "IntegrationHealthLog",
        integration_id=integration.id,
        status=pb.INTEGRATION_HEALTH_STATUS_HEALTHY,
        response_time_ms=2.0,
    )
    now = await call(api, "Integration", "Get", id=integration.id)
    assert now.last_health_check == latest.checked_at
    assert dict(now.health_status)["status"] == "healthy"
    assert dict(now.health_status)["log_id"] == latest.id


async def test_health_log_for_a_missing_integration_records_nothing(api: Api) -> None:
    pb = api.pb("IntegrationHealthLog")
    missing = str(uuid.uuid4())
    await expect_error(
        api.create(
            "IntegrationHealthLog",
            integration_id=missing,
            status=pb.INTEGRATION_HEALTH_STATUS_HEALTHY,
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PARENT_NOT_FOUND",
    )
    page = await call(api, "IntegrationHealthLog", "List", filter=f'integration_id = "{missing}"')
    assert items("IntegrationHealthLog", page) == []


# ---------------------------------------------------------------------------
# One business profile per user


async def test_a_user_has_at_most_one_business_profile(api: Api) -> None:
    profile = await api.make("BusinessProfile")
    failure = await expect_error(
        api.make("BusinessProfile", user_id=profile.user_id),
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_EXISTS",
    )
    assert failure.info is not None
    assert failure.info.metadata["fields"] == "user_id"
    page = await call(
        api,
        "BusinessProfile",
        "List",
        filter=f'user_id = "{profile.user_id}"',
        show_total_size=True,
    )
    assert page.total_size == 1
    assert items("BusinessProfile", page) == [profile]


# ---------------------------------------------------------------------------
# Idempotent creates


async def _users_with_email(api: Api, email: str) -> list[Any]:
    page = await call(api, "User", "List", filter=f'email = "{email}"')
    return items("User", page)


async def test_create_with_a_repeated_request_id_returns_the_first_result(api: Api) -> None:
    request_id = str(uuid.uuid4())
    email = f"{unique('idem')}@example.com"
    create = api.User.CreateUser
    pb = api.pb("User")
    first = await create(
        pb.CreateUserRequest(user=pb.User(email=email), request_id=request_id), timeout=TIMEOUT
    )
    again = await create(
        pb.CreateUserRequest(user=pb.User(email=email), request_id=request_id), timeout=TIMEOUT
    )
    assert again == first
    assert await _users_with_email(api, email) == [first]

    # A new request_id is a new create: here, a duplicate e-mail.
    await expect_error(
        create(
            pb.CreateUserRequest(user=pb.User(email=email), request_id=str(uuid.uuid4())),
            timeout=TIMEOUT,
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )


async def test_parallel_creates_with_one_request_id_make_one_row(api: Api) -> None:
    request_id = str(uuid.uuid4())
    email = f"{unique('race')}@example.com"
    pb = api.pb("User")
    results = await asyncio.gather(
        *(
            api.User.CreateUser(
                pb.CreateUserRequest(user=pb.User(email=email), request_id=request_id),
                timeout=TIMEOUT,
            )
            for _ in range(10)
        )
    )
    assert len({r.id for r in results}) == 1
    assert await _users_with_email(api, email) == [results[0]]


async def test_a_failed_create_does_not_use_up_its_request_id(api: Api) -> None:
    request_id = str(uuid.uuid4())
    pb = api.pb("BusinessProfile")
    fields = await valid_fields(api, "BusinessProfile")

    def create(employee_count: int) -> Any:
        profile = pb.BusinessProfile(**{**fields, "employee_count": employee_count})
        request = pb.CreateBusinessProfileRequest(business_profile=profile, request_id=request_id)
        return api.BusinessProfile.CreateBusinessProfile(request, timeout=TIMEOUT)

    await expect_error(create(0), grpc.StatusCode.INVALID_ARGUMENT, "CHECK_VIOLATION")
    created = await create(10)
    assert created.employee_count == 10
    assert await create(10) == created


async def test_a_repeated_chat_message_create_does_not_take_a_number(api: Api) -> None:
    conversation = await api.make("ChatConversation")
    request_id = str(uuid.uuid4())
    pb = api.pb("ChatMessage")
    message = pb.ChatMessage(
        conversation_id=conversation.id, role=pb.CHAT_MESSAGE_ROLE_USER, content="once"
    )
    request = pb.CreateChatMessageRequest(chat_message=message, request_id=request_id)
    first = await api.ChatMessage.CreateChatMessage(request, timeout=TIMEOUT)
    assert await api.ChatMessage.CreateChatMessage(request, timeout=TIMEOUT) == first
    assert (await _message(api, conversation.id, "next")).sequence_number == 2


async def test_a_request_id_that_is_not_a_uuid_is_invalid_argument(api: Api) -> None:
    pb = api.pb("User")
    for bad in ("retry-1", "12345", "{not-a-uuid}"):
        request = pb.CreateUserRequest(
            user=pb.User(email=f"{unique('bad')}@example.com"), request_id=bad
        )
        await expect_error(
            api.User.CreateUser(request, timeout=TIMEOUT),
            grpc.StatusCode.INVALID_ARGUMENT,
            field_name="request_id",
        )


# ---------------------------------------------------------------------------
# Default orders


async def test_evidence_lists_newest_first_by_default(api: Api) -> None:
    fields = await valid_fields(api, "Evidence")
    made = [await api.create("Evidence", **fields) for _ in range(3)]
    scope = f'business_profile_id = "{fields["business_profile_id"]}"'
    newest_first = items("Evidence", await call(api, "Evidence", "List", filter=scope))
    assert [e.id for e in newest_first] == [e.id for e in reversed(made)]
    oldest_first = items(
        "Evidence", await call(api, "Evidence", "List", filter=scope, order_by="created_at")
    )
    assert [e.id for e in oldest_first] == [e.id for e in made]


async def test_chat_messages_list_in_sequence_order_by_default(api: Api) -> None:
    conversation = await api.make("ChatConversation")
    made = [await _message(api, conversation.id, f"m{i}") for i in range(4)]
    scope = f'conversation_id = "{conversation.id}"'
    listed = items("ChatMessage", await call(api, "ChatMessage", "List", filter=scope))
    assert [m.id for m in listed] == [m.id for m in made]
    assert [m.sequence_number for m in listed] == [1, 2, 3, 4]
    backwards = items(
        "ChatMessage",
        await call(api, "ChatMessage", "List", filter=scope, order_by="sequence_number desc"),
    )
    assert [m.sequence_number for m in backwards] == [4, 3, 2, 1]


# ---------------------------------------------------------------------------
# Operations


async def test_database_info_reports_server_revision_latency_and_pool(
    api: Api, database: Database, grpc_app: App
) -> None:
    stub = database_pb2_grpc.DatabaseServiceStub(api.channel)
    info = await stub.GetDatabaseInfo(database_pb2.GetDatabaseInfoRequest(), timeout=TIMEOUT)
    async with database.async_engine.connect() as connection:
        version = (await connection.execute(text("SHOW server_version"))).scalar_one()
        revision = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar_one()
    assert info.server_version == version
    assert info.migration_revision == revision
    assert info.round_trip_ms > 0
    settings = grpc_app.database.settings
    assert info.pool.size == settings.db_pool_size
    assert info.pool.max_overflow == settings.db_max_overflow
    assert info.pool.timeout_seconds == settings.db_pool_timeout
    assert info.pool.checked_out >= 0
    assert info.pool.checked_in >= 1
    assert info.application_name == grpc_app.database.application_name
    assert info.database
    assert "@" not in info.host


async def test_database_info_names_a_unix_socket_database_by_its_socket_file(
    database: Database, database_url: str
) -> None:
    # The test server reached over its unix socket, as the embedded one always is.
    async with database.async_engine.connect() as connection:
        socket_dir = (await connection.execute(text("SHOW unix_socket_directories"))).scalar_one()
        port = (await connection.execute(text("SHOW port"))).scalar_one()
    socket_dir = socket_dir.split(",")[0].strip()
    tcp = make_url(database_url)
    url = URL.create(
        tcp.drivername,
        username=tcp.username,
        password=tcp.password,
        port=int(port),
        database=tcp.database,
        query={"host": socket_dir},
    ).render_as_string(hide_password=False)
    async with (
        running(url) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        info = await database_pb2_grpc.DatabaseServiceStub(channel).GetDatabaseInfo(
            database_pb2.GetDatabaseInfoRequest(), timeout=TIMEOUT
        )
    assert info.host == f"unix socket {socket_dir}/.s.PGSQL.{port}"
    assert info.database == make_url(database_url).database


async def test_health_reports_serving_for_the_process_readiness_and_every_service(
    api: Api,
) -> None:
    health = health_stub(api.channel)
    names = ["", "liveness", "readiness"] + [service_name(r.message) for r in RESOURCES]
    names.append(database_pb2.DESCRIPTOR.services_by_name["DatabaseService"].full_name)
    for name in names:
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=TIMEOUT)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, name
    await expect_error(
        health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=TIMEOUT),
        grpc.StatusCode.NOT_FOUND,
        rich=False,
    )


async def test_a_create_with_a_request_id_purges_the_ones_past_retention(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """Kept 7 days, then purged by the creates that add new ones: the table does not
    grow for ever. A fresh process purges at its first such create."""
    old, recent = uuid.uuid4(), uuid.uuid4()
    async with database.async_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO idempotency_keys (resource, request_id, resource_id, created_at)"
                " VALUES ('User', :old, :old, now() - interval '8 days'),"
                " ('User', :recent, :recent, now() - interval '6 days')"
            ),
            {"old": old, "recent": recent},
        )
    server = ServiceProcess(database_url, tmp_path / "server.log")
    try:
        await server.ready()
        async with grpc.aio.insecure_channel(server.address) as channel:
            await user_pb2_grpc.UserServiceStub(channel).CreateUser(
                user_pb2.CreateUserRequest(
                    user=user_pb2.User(email=f"{unique('purge')}@example.com"),
                    request_id=str(uuid.uuid4()),
                ),
                timeout=TIMEOUT,
            )
    finally:
        server.stop()
    async with database.async_engine.connect() as connection:
        left = (
            await connection.execute(
                text("SELECT request_id FROM idempotency_keys WHERE request_id IN (:o, :r)"),
                {"o": old, "r": recent},
            )
        ).scalars()
        assert list(left) == [recent]
