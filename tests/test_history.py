"""The change history: every write, through the service or in SQL, records exactly
its events in its own transaction; secrets never; the actor as the caller
authenticated (or the database role); ListChanges for auditors only; erasure;
the retention purge."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2
from ruleiq.data.v1 import (
    business_profile_pb2,
    change_pb2,
    change_pb2_grpc,
    chat_conversation_pb2,
    chat_message_pb2,
    data_service_pb2,
    data_service_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from repositories.database import Database
from repositories.history import ChangeContext, purge
from repositories.models import User
from repositories.repository import Repository
from service.resources import RESOURCES, Resource
from service.server import App

from .api import TIMEOUT, Api, call, failure_of, resource_field, shape, valid_fields
from .apps import db_settings, running
from .certs import Authority
from .pgbouncer import Bouncer
from .probes import memory_provider
from .rows import unique
from .service_process import run_service

SECRETS = {"User": "hashed_password", "Integration": "encrypted_credentials"}
# Writes whose rules change another row in the same transaction.
ALSO_WRITES = {"IntegrationHealthLog": ["Integration"]}
TOKENS = {name: secrets.token_urlsafe(24) for name in ("writer", "auditor", "reader")}


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


POLICY = {
    "writer": {"token_sha256": _sha(TOKENS["writer"]), "allow": ["write"]},
    "auditor": {"token_sha256": _sha(TOKENS["auditor"]), "allow": ["audit"]},
    "reader": {"token_sha256": _sha(TOKENS["reader"]), "allow": ["read"]},
}


def bearer(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[name]}"),)


async def events(
    database: Database, resource_id: str | uuid.UUID, *, since: int = 0
) -> list[dict[str, Any]]:
    """Every event of one resource, oldest first."""
    async with database.async_engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT * FROM change_events WHERE resource_id = :id AND id > :since ORDER BY id"),
            {"id": uuid.UUID(str(resource_id)), "since": since},
        )
        return [dict(row) for row in rows.mappings()]


async def in_transaction(database: Database, transaction_id: int) -> list[dict[str, Any]]:
    async with database.async_engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT * FROM change_events WHERE transaction_id = :t ORDER BY id"),
            {"t": transaction_id},
        )
        return [dict(row) for row in rows.mappings()]


async def last_event_id(database: Database) -> int:
    async with database.async_engine.connect() as connection:
        found = await connection.execute(text("SELECT coalesce(max(id), 0) FROM change_events"))
        return int(found.scalar_one())


def _params(resources: Sequence[Resource]) -> list[Any]:
    return [pytest.param(r, id=r.message) for r in resources]


def _types(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(event["resource_type"], event["operation"]) for event in found]


@pytest.mark.parametrize("r", _params(RESOURCES))
async def test_each_write_records_exactly_its_events(
    api: Api, database: Database, r: Resource
) -> None:
    row = await api.make(r.message)
    [created] = await events(database, row.id)
    assert (created["operation"], created["revision"], created["resource_type"]) == (
        "create",
        1,
        r.message,
    )
    assert created["before"] is None
    assert created["after"]["id"] == row.id
    assert "id" in created["changed_fields"]
    assert created["source"] == "service"
    assert created["actor"].startswith("anonymous (")
    assert created["request_id"]
    assert created["commit_id"] is None
    also = [(other, "update") for other in ALSO_WRITES.get(r.message, [])]
    assert _types(await in_transaction(database, created["transaction_id"])) == [
        (r.message, "create"),
        *also,
    ]
    expected = 2
    if not r.append_only:
        update = shape(r.message).update
        assert update is not None, r.message
        name, value = update
        changed = getattr(api.pb(r.message), r.message)(id=row.id)
        setattr(changed, name, value)
        mask = field_mask_pb2.FieldMask(paths=[name])
        await call(
            api, r.message, "Update", **{resource_field(r.message): changed}, update_mask=mask
        )
        [_, updated] = await events(database, row.id)
        assert (updated["operation"], updated["revision"]) == ("update", 2)
        assert name in updated["changed_fields"]
        assert updated["before"][name] != updated["after"][name]
        assert "id" not in updated["changed_fields"]
        # An update holds the values of what it changed, nothing else.
        recorded = set(updated["changed_fields"]) - set(SECRETS.values())
        assert set(updated["before"]) == set(updated["after"]) == recorded
        assert len(await in_transaction(database, updated["transaction_id"])) == 1
        expected = 3
    await call(api, r.message, "Delete", id=row.id)
    *_, deleted = await events(database, row.id)
    assert (deleted["operation"], deleted["revision"]) == ("delete", expected)
    assert deleted["after"] is None
    if r.message == "User":
        assert deleted["before"] is None  # erased: the person is gone
    else:
        assert deleted["before"]["id"] == row.id
    assert len(await in_transaction(database, deleted["transaction_id"])) == 1


async def test_a_refused_or_rolled_back_write_records_nothing(api: Api, database: Database) -> None:
    user = await api.make("User")
    before = await events(database, user.id)
    stale = user_pb2.User(id=user.id, full_name="Never")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await api.User.UpdateUser(
            user_pb2.UpdateUserRequest(
                user=stale, update_mask=field_mask_pb2.FieldMask(paths=["full_name"]), etag="1"
            ),
            timeout=TIMEOUT,
        )
    assert error.value.code() == grpc.StatusCode.ABORTED
    # A write that reached the table, in a transaction that then rolled back.
    async with database.unit_of_work(5.0, changes=ChangeContext(actor="rolled-back")) as uow:
        await uow.transaction.fetchval(
            "UPDATE users SET full_name = 'Rolled back' WHERE id = $1", uuid.UUID(user.id)
        )
    assert await events(database, user.id) == before


async def test_secrets_are_never_recorded_but_their_change_is(api: Api, database: Database) -> None:
    password = f"hash-{uuid.uuid4().hex}"
    user = await api.make("User", hashed_password=password)
    second = f"hash-{uuid.uuid4().hex}"
    await api.User.UpdateUser(
        user_pb2.UpdateUserRequest(
            user=user_pb2.User(id=user.id, hashed_password=second),
            update_mask=field_mask_pb2.FieldMask(paths=["hashed_password"]),
        ),
        timeout=TIMEOUT,
    )
    credentials = f"cipher-{uuid.uuid4().hex}"
    integration = await api.make("Integration", user_id=user.id, encrypted_credentials=credentials)
    await call(api, "Integration", "Delete", id=integration.id)
    recorded = await events(database, user.id) + await events(database, integration.id)
    assert recorded[1]["changed_fields"] == ["hashed_password", "updated_at"]
    assert set(recorded[1]["before"]) == set(recorded[1]["after"]) == {"updated_at"}
    text_of_all = json.dumps(recorded, default=str)
    for secret in (password, second, credentials):
        assert secret not in text_of_all
    for event in recorded:
        for values in (event["before"], event["after"]):
            assert values is None or not set(values) & set(SECRETS.values())


async def test_a_write_in_sql_by_another_role_is_recorded_with_that_role(
    api: Api, database: Database, database_url: str
) -> None:
    user = await api.make("User")
    role = f"dba_{uuid.uuid4().hex[:8]}"
    async with database.async_engine.begin() as connection:
        await connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        await connection.execute(text(f'GRANT SELECT, UPDATE ON users TO "{role}"'))
    try:
        url = make_url(database_url).set(drivername="postgresql", username=role, password=None)
        as_role = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            await as_role.execute(
                "UPDATE users SET full_name = 'Fixed by hand' WHERE id = $1", uuid.UUID(user.id)
            )
            # Nothing a previous transaction set carries over into this one.
            await as_role.execute("SELECT set_config('ruleiq.actor', 'forged', true)")
            await as_role.execute(
                "UPDATE users SET full_name = 'Again' WHERE id = $1", uuid.UUID(user.id)
            )
        finally:
            await as_role.close()
        [created, by_hand, again] = await events(database, user.id)
        for event in (by_hand, again):
            assert (event["actor"], event["source"], event["database_role"]) == (
                role,
                "database",
                role,
            )
        assert by_hand["changed_fields"] == ["full_name"]
        assert (by_hand["before"], by_hand["after"]) == (
            {"full_name": created["after"]["full_name"]},
            {"full_name": "Fixed by hand"},
        )
    finally:
        async with database.async_engine.begin() as connection:
            await connection.execute(text(f'REVOKE ALL ON users FROM "{role}"'))
            await connection.execute(text(f'DROP ROLE "{role}"'))


async def test_a_write_outside_a_transaction_sets_its_caller_for_itself_alone(
    database: Database, database_url: str
) -> None:
    # One pooled connection: the next unit surely gets the one the write used.
    single = Database(db_settings(db_pool_size=1, db_max_overflow=0), database_url)
    users = Repository(User)
    try:
        email = f"alone-{uuid.uuid4().hex[:10]}@example.com"
        async with single.unit_of_work(
            5.0, single_statement=True, changes=ChangeContext(actor="alone", request_id="r-1")
        ) as uow:
            row = await users.create(uow.transaction, {"email": email, "full_name": "A"})
            await uow.commit()
        async with single.unit_of_work(5.0, single_statement=True) as uow:
            left = await uow.transaction.fetchval("SELECT current_setting('ruleiq.actor', true)")
            await users.update(uow.transaction, row["id"], {"full_name": "Unnamed"})
            await uow.commit()
    finally:
        await single.dispose()
    assert left in ("", None)
    reader = Database(db_settings(), database_url)
    try:
        [created, updated] = await events(reader, row["id"])
    finally:
        await reader.dispose()
    assert (created["actor"], created["source"], created["request_id"]) == (
        "alone",
        "service",
        "r-1",
    )
    assert (updated["source"], updated["request_id"]) == ("database", None)


@pytest.fixture
async def guarded(database: Database, database_url: str) -> AsyncIterator[App]:
    async with running(database_url, auth_tokens=json.dumps(POLICY)) as app:
        yield app


async def test_the_actor_is_the_token_s_caller_and_on_behalf_of_is_recorded(
    guarded: App, database: Database
) -> None:
    end_user = uuid.uuid4()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{guarded.port}") as channel:
        users = user_pb2_grpc.UserServiceStub(channel)
        request = user_pb2.CreateUserRequest(
            user=user_pb2.User(email=f"h-{uuid.uuid4().hex[:10]}@example.com", full_name="H")
        )
        metadata = (*bearer("writer"), ("x-on-behalf-of", str(end_user).upper()))
        user = await users.CreateUser(request, metadata=metadata, timeout=TIMEOUT)
    [event] = await events(database, user.id)
    assert (event["actor"], event["on_behalf_of"]) == ("writer", str(end_user))


async def test_the_call_s_request_and_trace_ids_are_recorded_when_tracing_is_on(
    database: Database, database_url: str
) -> None:
    provider, _ = memory_provider()
    parent_trace = uuid.uuid4().hex
    metadata = (
        ("traceparent", f"00-{parent_trace}-{uuid.uuid4().hex[:16]}-01"),
        ("x-request-id", "traced-write"),
    )
    async with (
        running(database_url, {"tracer_provider": provider}) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        request = user_pb2.CreateUserRequest(
            user=user_pb2.User(email=f"t-{uuid.uuid4().hex[:10]}@example.com", full_name="T")
        )
        user = await user_pb2_grpc.UserServiceStub(channel).CreateUser(
            request, metadata=metadata, timeout=TIMEOUT
        )
    [event] = await events(database, user.id)
    assert (event["trace_id"], event["request_id"]) == (parent_trace, "traced-write")


@pytest.mark.parametrize("value", ["x" * 129, "two words", "<b>", ""])
async def test_a_bad_on_behalf_of_is_invalid_and_writes_nothing(
    api: Api, database: Database, value: str
) -> None:
    email = f"bad-{uuid.uuid4().hex[:10]}@example.com"
    request = user_pb2.CreateUserRequest(user=user_pb2.User(email=email, full_name="B"))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await api.User.CreateUser(request, metadata=(("x-on-behalf-of", value),), timeout=TIMEOUT)
    failure = failure_of(error.value)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == ["x-on-behalf-of"]
    reply = await api.User.ListUsers(
        user_pb2.ListUsersRequest(filter=f'email = "{email}"'), timeout=TIMEOUT
    )
    assert list(reply.users) == []


async def test_on_behalf_of_is_recorded_as_sent_unless_it_is_a_uuid(
    api: Api, database: Database
) -> None:
    for sent, recorded in (
        ("--0192c6a412347abc8def0123456789ab--", "--0192c6a412347abc8def0123456789ab--"),
        ("0192C6A4-1234-7ABC-8DEF-0123456789AB", "0192c6a4-1234-7abc-8def-0123456789ab"),
    ):
        user = await api.User.CreateUser(
            user_pb2.CreateUserRequest(user=user_pb2.User(email=f"{unique('obo')}@example.com")),
            metadata=(("x-on-behalf-of", sent),),
            timeout=TIMEOUT,
        )
        [event] = await events(database, user.id)
        assert event["on_behalf_of"] == recorded


async def test_on_behalf_of_sent_twice_is_invalid_and_writes_nothing(api: Api) -> None:
    email = f"{unique('twice')}@example.com"
    request = user_pb2.CreateUserRequest(user=user_pb2.User(email=email))
    metadata = (("x-on-behalf-of", "alice"), ("x-on-behalf-of", "bob"))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await api.User.CreateUser(request, metadata=metadata, timeout=TIMEOUT)
    failure = failure_of(error.value)
    assert (failure.code, failure.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["x-on-behalf-of"])
    reply = await api.User.ListUsers(
        user_pb2.ListUsersRequest(filter=f'email = "{email}"'), timeout=TIMEOUT
    )
    assert list(reply.users) == []


async def test_the_actor_is_the_certificate_s_caller_under_mutual_tls(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    ca = Authority(tmp_path)
    server = ca.issue("ruleiq-data", server=True)
    client = ca.issue("onboarding", server=False)
    policy = {"onboarding-service": {"certificate_cn": "onboarding", "allow": ["write"]}}
    async with running(
        database_url,
        auth_tokens=json.dumps(policy),
        grpc_tls_cert_file=server.cert_file,
        grpc_tls_key_file=server.key_file,
        grpc_tls_client_ca_file=ca.cert_file,
    ) as app:
        credentials = grpc.ssl_channel_credentials(ca.cert, client.key, client.cert)
        async with grpc.aio.secure_channel(f"127.0.0.1:{app.port}", credentials) as channel:
            request = user_pb2.CreateUserRequest(
                user=user_pb2.User(email=f"m-{uuid.uuid4().hex[:10]}@example.com", full_name="M")
            )
            user = await user_pb2_grpc.UserServiceStub(channel).CreateUser(request, timeout=TIMEOUT)
    [event] = await events(database, user.id)
    assert event["actor"] == "onboarding-service"


async def test_list_changes_needs_the_audit_permission_and_pages_newest_first(
    guarded: App, caplog: pytest.LogCaptureFixture
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{guarded.port}") as channel:
        users = user_pb2_grpc.UserServiceStub(channel)
        request = user_pb2.CreateUserRequest(
            user=user_pb2.User(email=f"l-{uuid.uuid4().hex[:10]}@example.com", full_name="L")
        )
        user = await users.CreateUser(request, metadata=bearer("writer"), timeout=TIMEOUT)
        for name in ("Two", "Three"):
            await users.UpdateUser(
                user_pb2.UpdateUserRequest(
                    user=user_pb2.User(id=user.id, full_name=name),
                    update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
                ),
                metadata=bearer("writer"),
                timeout=TIMEOUT,
            )
        changes = change_pb2_grpc.ChangeServiceStub(channel)
        query = change_pb2.ListChangesRequest(filter=f'resource_id = "{user.id}"', page_size=2)
        for caller in ("writer", "reader"):
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await changes.ListChanges(query, metadata=bearer(caller), timeout=TIMEOUT)
            assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with caplog.at_level(logging.INFO, logger="ruleiq_data.changes"):
            first = await changes.ListChanges(query, metadata=bearer("auditor"), timeout=TIMEOUT)
        query.page_token = first.next_page_token
        second = await changes.ListChanges(query, metadata=bearer("auditor"), timeout=TIMEOUT)
        narrowed = change_pb2.ListChangesRequest(
            filter=f'owner_user_id = "{user.id}" AND operation = "update" AND actor = "writer"'
            ' AND changed_at >= "2000-01-01T00:00:00Z"'
        )
        updates = await changes.ListChanges(narrowed, metadata=bearer("auditor"), timeout=TIMEOUT)
    assert [c.revision for c in first.changes] == [3, 2]
    assert [(c.revision, c.operation) for c in second.changes] == [(1, "create")]
    assert second.next_page_token == ""
    assert [c.after["full_name"] for c in updates.changes] == ["Three", "Two"]
    assert first.changes[0].after["full_name"] == "Three"
    assert first.changes[0].actor == "writer"
    assert not first.changes[0].HasField("commit_id")
    [line] = [r for r in caplog.records if r.getMessage() == "change history read"]
    assert (line.__dict__["caller"], line.__dict__["events"]) == ("auditor", 2)


async def test_deleting_a_user_erases_the_values_of_all_it_owned_and_keeps_the_skeleton(
    api: Api, database: Database
) -> None:
    message = await api.make("ChatMessage")
    conversation = await api.ChatConversation.GetChatConversation(
        api.pb("ChatConversation").GetChatConversationRequest(id=message.conversation_id),
        timeout=TIMEOUT,
    )
    user_id = conversation.user_id
    bystander = await api.make("User")
    await call(api, "User", "Delete", id=user_id, force=True)
    owned = [
        *await events(database, user_id),
        *await events(database, conversation.id),
        *await events(database, conversation.business_profile_id),
        *await events(database, message.id),
    ]
    assert {e["operation"] for e in owned} == {"create", "delete"}
    for event in owned:
        assert (event["before"], event["after"]) == (None, None)
        assert event["erased_at"] is not None
        assert event["changed_fields"]
        assert event["actor"]
        assert event["owner_user_id"] == uuid.UUID(user_id)
    [untouched] = await events(database, bystander.id)
    assert untouched["after"]["email"] == bystander.email
    assert untouched["erased_at"] is None


async def test_erasure_spares_other_users_rows_and_unowned_rows_that_share_an_id(
    api: Api, database: Database
) -> None:
    erased, other = await api.make("User"), await api.make("User")
    stub = data_service_pb2_grpc.DataServiceStub(api.channel)
    framework = api.pb("ComplianceFramework")
    unowned = framework.CreateComplianceFrameworkRequest(
        compliance_framework=framework.ComplianceFramework(
            **await valid_fields(api, "ComplianceFramework")
        ),
        compliance_framework_id=erased.id,
    )
    # Ids are the callers' to choose: another user's profile and a framework take
    # the erased user's.
    await stub.Commit(
        data_service_pb2.CommitRequest(
            mutations=[
                create_profile(erased.id, other.id),
                data_service_pb2.Mutation(create_compliance_framework=unowned),
            ]
        ),
        timeout=TIMEOUT,
    )
    await call(api, "User", "Delete", id=erased.id, force=True)
    found = await events(database, erased.id)
    kept = {e["resource_type"]: e for e in found if e["resource_type"] != "User"}
    assert set(kept) == {"BusinessProfile", "ComplianceFramework"}
    for event in kept.values():
        assert event["after"] is not None
        assert event["erased_at"] is None
    assert all(e["erased_at"] is not None for e in found if e["resource_type"] == "User")


# 100,000 events of 20 owners: the deleted user owns 5,000 of them, over 1,000 resources.
_OWNED_EVENTS = """
INSERT INTO change_events (
    resource_type, resource_id, owner_user_id, operation, revision, changed_fields,
    after, actor, source, database_role, transaction_id
)
SELECT 'Evidence', md5('resource' || (g % 20) || '-' || (g / 20 % 1000))::uuid,
    CASE WHEN g % 20 = 0 THEN :user ELSE md5('owner' || g % 20)::uuid END,
    'create', 1, '{evidence_name}', '{"evidence_name": "personal"}', 'test', 'database',
    current_user, 1
FROM generate_series(1, 100000) AS g
"""


async def test_erasing_a_user_who_owned_much_finds_the_events_by_index_without_jit(
    connection: AsyncConnection,
) -> None:
    """The erasure's plan, as auto_explain reports each statement the trigger runs,
    with JIT made as eager as it can be: the events are found through
    (resource_id, id), not by a scan of the whole history, and no trigger
    statement is JIT-compiled (on a server built without JIT there is nothing to
    compile, and the plan is still checked)."""
    user = uuid.uuid4()
    await connection.execute(
        text("INSERT INTO users (id, email) VALUES (:user, :email)"),
        {"user": user, "email": f"{user.hex}@example.com"},
    )
    await connection.execute(text(_OWNED_EVENTS), {"user": user})
    await connection.execute(text("ANALYZE change_events"))
    driver: Any = (await connection.get_raw_connection()).driver_connection
    plans: list[str] = []

    def reported(_: object, message: Any) -> None:
        plans.append(message.message)

    driver.add_log_listener(reported)
    for statement in (
        "LOAD 'auto_explain'",
        "SET LOCAL auto_explain.log_min_duration = 0",
        "SET LOCAL auto_explain.log_nested_statements = on",
        "SET LOCAL auto_explain.log_level = notice",
        "SET LOCAL jit_above_cost = 0",
    ):
        await connection.execute(text(statement))
    await connection.execute(text("DELETE FROM users WHERE id = :user"), {"user": user})
    driver.remove_log_listener(reported)
    [erasure] = [plan for plan in plans if "UPDATE change_events SET before = NULL" in plan]
    assert "Seq Scan on change_events" not in erasure, erasure
    assert "ix_change_events_resource_id_id" in erasure, erasure
    # The foreign keys' own checks are PostgreSQL's, under the session's settings.
    by_triggers = [plan for plan in plans if "change_events" in plan]
    assert len(by_triggers) >= 3  # the revision's read, the erasure, the delete's event
    assert not [plan for plan in by_triggers if "JIT:" in plan]
    kept = await connection.execute(
        text(
            "SELECT count(*), count(*) FILTER (WHERE before IS NOT NULL OR after IS NOT NULL)"
            " FROM change_events WHERE owner_user_id = :user"
        ),
        {"user": user},
    )
    # The 5,000, the user's own create and its delete, every one without values.
    assert tuple(kept.one()) == (5002, 0)


async def test_the_purge_removes_old_events_in_batches_while_writers_write(
    api: Api, database: Database
) -> None:
    old = [await api.make("ComplianceFramework") for _ in range(5)]
    ids = [uuid.UUID(row.id) for row in old]
    async with database.async_engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE change_events SET changed_at = now() - interval '400 days'"
                " WHERE resource_id = ANY(:ids)"
            ),
            {"ids": ids},
        )
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)

    writes = [asyncio.create_task(api.make("ComplianceFramework")) for _ in range(6)]
    result = await purge(database.async_engine, cutoff, batch_size=2)
    new = await asyncio.gather(*writes)
    assert result.deleted >= 5
    assert result.batches >= 3
    for row in old:
        assert await events(database, row.id) == []
    for row in new:
        assert len(await events(database, row.id)) == 1


async def test_writers_never_wait_on_a_purge_batch_in_progress(
    api: Api, database: Database
) -> None:
    row = await api.make("ComplianceFramework")
    async with database.async_engine.connect() as purger:
        held = await purger.begin()
        # A purge batch that has deleted its rows and not yet committed.
        await purger.execute(
            text("DELETE FROM change_events WHERE resource_id = :id"), {"id": uuid.UUID(row.id)}
        )
        # Written while the purge's locks are held: a write that waited would never
        # return before the rollback below.
        written = await api.make("ComplianceFramework")
        await call(api, "ComplianceFramework", "Delete", id=written.id)
        await held.rollback()
    assert len(await events(database, written.id)) == 2


async def test_the_purge_command_deletes_what_retention_no_longer_keeps(
    api: Api, database: Database, database_url: str
) -> None:
    kept, expired = await api.make("ComplianceFramework"), await api.make("ComplianceFramework")
    async with database.async_engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE change_events SET changed_at = now() - interval '31 days'"
                " WHERE resource_id = :id"
            ),
            {"id": uuid.UUID(expired.id)},
        )
    url = database.urls.sync_url.set(drivername="postgresql")
    done = run_service(
        url.render_as_string(hide_password=False),
        "purge-changes",
        "--batch-size",
        "10",
        CHANGE_LOG_RETENTION_DAYS="30",
    )
    assert done.returncode == 0, done.stderr
    assert "purged" in done.stderr
    assert await events(database, expired.id) == []
    assert len(await events(database, kept.id)) == 1


@pytest.mark.parametrize("days", ["0", "-1", "36501", "3000000"])
async def test_the_purge_command_refuses_retention_outside_its_range(
    database: Database, days: str
) -> None:
    url = database.urls.sync_url.set(drivername="postgresql")
    done = run_service(
        url.render_as_string(hide_password=False), "purge-changes", "--retention-days", days
    )
    assert done.returncode == 2, done.stderr
    assert "retention days" in done.stderr
    assert "Traceback" not in done.stderr


async def test_interleaved_callers_behind_pgbouncer_never_get_each_other_s_actor(
    bounced_app: App, pgbouncer: Bouncer, database: Database
) -> None:
    since = await last_event_id(database)
    # A subchannel pool of its own each: two connections, so two peers.
    channels = [
        grpc.aio.insecure_channel(
            f"127.0.0.1:{bounced_app.port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        for _ in range(2)
    ]
    try:
        apis = [Api(channel) for channel in channels]

        async def writes(index: int) -> list[str]:
            made = []
            for _ in range(10):
                request = user_pb2.CreateUserRequest(
                    user=user_pb2.User(
                        email=f"pgb{index}-{uuid.uuid4().hex[:10]}@example.com", full_name="P"
                    )
                )
                user = await apis[index].User.CreateUser(
                    request, metadata=(("x-on-behalf-of", f"end-user-{index}"),), timeout=TIMEOUT
                )
                made.append(user.id)
            return made

        made = await asyncio.gather(*(writes(i) for i in range(2)))
        # A raw write through the same PgBouncer after them carries no one's name.
        raw = await asyncpg.connect(pgbouncer.url, statement_cache_size=0)
        try:
            await raw.execute(
                "UPDATE users SET full_name = 'raw' WHERE id = $1", uuid.UUID(made[0][0])
            )
        finally:
            await raw.close()
    finally:
        for channel in channels:
            await channel.close(None)
    actors: dict[int, set[str]] = {0: set(), 1: set()}
    for index, ids in enumerate(made):
        for user_id in ids:
            [created, *rest] = await events(database, user_id, since=since)
            assert created["on_behalf_of"] == f"end-user-{index}"
            actors[index].add(created["actor"])
            if rest:
                [raw_event] = rest
                assert (raw_event["source"], raw_event["on_behalf_of"]) == ("database", None)
    # One peer per channel, each the only actor of its own writes.
    assert all(len(names) == 1 for names in actors.values())
    assert actors[0] != actors[1]


def create_user(user_id: str) -> data_service_pb2.Mutation:
    user = user_pb2.User(email=f"{user_id}@example.com", full_name="A User")
    request = user_pb2.CreateUserRequest(user=user, user_id=user_id)
    return data_service_pb2.Mutation(create_user=request)


def create_profile(profile_id: str, user_id: str) -> data_service_pb2.Mutation:
    profile = business_profile_pb2.BusinessProfile(
        user_id=user_id, company_name=f"co-{profile_id}", industry="fintech", employee_count=1
    )
    request = business_profile_pb2.CreateBusinessProfileRequest(
        business_profile=profile, business_profile_id=profile_id
    )
    return data_service_pb2.Mutation(create_business_profile=request)


async def test_a_commit_s_events_share_its_id_and_its_caller(api: Api, database: Database) -> None:
    stub = data_service_pb2_grpc.DataServiceStub(api.channel)
    user_id, profile_id, request_id = (str(uuid.uuid4()) for _ in range(3))
    await stub.Commit(
        data_service_pb2.CommitRequest(
            request_id=request_id,
            mutations=[create_user(user_id), create_profile(profile_id, user_id)],
        ),
        timeout=TIMEOUT,
    )
    found = [*await events(database, user_id), *await events(database, profile_id)]
    assert _types(found) == [("User", "create"), ("BusinessProfile", "create")]
    assert {event["commit_id"] for event in found} == {request_id}
    assert len({event["transaction_id"] for event in found}) == 1
    assert all(event["actor"].startswith("anonymous (") for event in found)

    # Without a request_id the commit still gets one id, its own.
    other_user, other_profile = str(uuid.uuid4()), str(uuid.uuid4())
    await stub.Commit(
        data_service_pb2.CommitRequest(
            mutations=[create_user(other_user), create_profile(other_profile, other_user)]
        ),
        timeout=TIMEOUT,
    )
    found = [*await events(database, other_user), *await events(database, other_profile)]
    (commit_id,) = {event["commit_id"] for event in found}
    assert commit_id is not None
    assert commit_id != request_id

    # A commit that fails records nothing, not even its first mutations.
    before = await last_event_id(database)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.Commit(
            data_service_pb2.CommitRequest(
                mutations=[create_user(str(uuid.uuid4())), create_profile(profile_id, user_id)]
            ),
            timeout=TIMEOUT,
        )
    assert await last_event_id(database) == before


async def test_revisions_count_per_resource_when_rows_of_two_types_share_an_id(
    api: Api, database: Database
) -> None:
    shared = str(uuid.uuid4())
    stub = data_service_pb2_grpc.DataServiceStub(api.channel)
    await stub.Commit(
        data_service_pb2.CommitRequest(
            mutations=[create_user(shared), create_profile(shared, shared)]
        ),
        timeout=TIMEOUT,
    )
    # Each write's newest event of that id is the other type's.
    async with database.async_engine.begin() as connection:
        for statement in (
            "UPDATE users SET full_name = 'Two' WHERE id = :id",
            "UPDATE business_profiles SET company_name = 'Two' WHERE id = :id",
            "UPDATE users SET full_name = 'Three' WHERE id = :id",
            "DELETE FROM business_profiles WHERE id = :id",
        ):
            await connection.execute(text(statement), {"id": uuid.UUID(shared)})
    found = await events(database, shared)
    revisions = {
        kind: [(e["operation"], e["revision"]) for e in found if e["resource_type"] == kind]
        for kind in ("User", "BusinessProfile")
    }
    assert revisions == {
        "User": [("create", 1), ("update", 2), ("update", 3)],
        "BusinessProfile": [("create", 1), ("update", 2), ("delete", 3)],
    }


async def test_a_chat_send_s_events_come_in_mutation_order(api: Api, database: Database) -> None:
    chat = await api.make("ChatConversation")
    messages = [
        data_service_pb2.Mutation(
            create_chat_message=chat_message_pb2.CreateChatMessageRequest(
                chat_message=chat_message_pb2.ChatMessage(
                    conversation_id=chat.id,
                    role=chat_message_pb2.CHAT_MESSAGE_ROLE_USER,
                    content=content,
                )
            )
        )
        for content in ("question", "answer")
    ]
    touch = data_service_pb2.Mutation(
        update_chat_conversation=chat_conversation_pb2.UpdateChatConversationRequest(
            chat_conversation=chat_conversation_pb2.ChatConversation(id=chat.id, title="asked"),
            update_mask=field_mask_pb2.FieldMask(paths=["title"]),
        )
    )
    stub = data_service_pb2_grpc.DataServiceStub(api.channel)
    response = await stub.Commit(
        data_service_pb2.CommitRequest(mutations=[*messages, touch]), timeout=TIMEOUT
    )
    written = [r.chat_message.id for r in response.results[:2]] + [chat.id]
    (commit_id,) = {event["commit_id"] for event in await events(database, written[0])}
    async with database.async_engine.connect() as connection:
        found = await connection.execute(
            text("SELECT resource_id FROM change_events WHERE commit_id = :c ORDER BY id"),
            {"c": commit_id},
        )
        assert [str(row[0]) for row in found] == written


async def test_an_id_created_again_goes_on_from_its_history_s_revision(
    api: Api, database: Database
) -> None:
    """Its stream position (watch_xid) never falls below the writer's transaction,
    nor below the id's previous event's."""
    user_id = str(uuid.uuid4())
    users = user_pb2_grpc.UserServiceStub(api.channel)
    for _ in range(2):
        await users.CreateUser(
            user_pb2.CreateUserRequest(
                user=user_pb2.User(email=f"again-{uuid.uuid4().hex[:10]}@example.com"),
                user_id=user_id,
            ),
            timeout=TIMEOUT,
        )
        await users.DeleteUser(user_pb2.DeleteUserRequest(id=user_id), timeout=TIMEOUT)
    found = await events(database, user_id)
    assert [(e["operation"], e["revision"]) for e in found] == [
        ("create", 1),
        ("delete", 2),
        ("create", 3),
        ("delete", 4),
    ]
    assert all(e["watch_xid"] >= e["transaction_id"] for e in found)
    positions = [e["watch_xid"] for e in found]
    assert positions == sorted(positions)


async def test_a_multi_row_insert_in_sql_records_each_row_as_a_single_create_would(
    api: Api, database: Database
) -> None:
    chat = await api.make("ChatConversation")
    again = await api.make("ChatMessage", conversation_id=chat.id)
    first, last = uuid.uuid4(), uuid.uuid4()
    rows = [first, uuid.UUID(again.id), last]
    async with database.async_engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM chat_messages WHERE id = :id"), {"id": uuid.UUID(again.id)}
        )
        await connection.execute(
            text(
                "INSERT INTO chat_messages (id, conversation_id, role, content, sequence_number) "
                "SELECT r.id, :chat, 'user', 'by hand', r.n + 10 "
                "FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS r(id, n)"
            ),
            {"chat": uuid.UUID(chat.id), "ids": rows},
        )
    async with database.async_engine.connect() as connection:
        owner = (
            await connection.execute(
                text("SELECT user_id FROM chat_conversations WHERE id = :id"),
                {"id": uuid.UUID(chat.id)},
            )
        ).scalar_one()
        found = (
            await connection.execute(
                text(
                    "SELECT * FROM change_events WHERE resource_id = ANY(:ids) "
                    "AND operation = 'create' AND source = 'database' ORDER BY id"
                ),
                {"ids": rows},
            )
        ).mappings()
        created = [dict(event) for event in found]
    # One event per row, in the statement's order, in one transaction, each with
    # the parent's owner, every field, and the revision its id's history reached.
    assert [event["resource_id"] for event in created] == rows
    assert len({event["transaction_id"] for event in created}) == 1
    assert {event["owner_user_id"] for event in created} == {owner}
    assert [event["revision"] for event in created] == [1, 3, 1]
    for event in created:
        assert event["resource_type"] == "ChatMessage"
        assert event["changed_fields"] == sorted(event["after"])
        assert event["after"]["content"] == "by hand"
        assert event["watch_xid"] >= event["transaction_id"]
