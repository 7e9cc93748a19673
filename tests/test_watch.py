"""WatchChanges: a resumable change stream without gaps, from a real server to the
generated client, on committed data (no outer test transaction)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import field_mask_pb2, json_format
from ruleiq.data.v1 import (
    change_pb2,
    change_pb2_grpc,
    compliance_framework_pb2,
    compliance_framework_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from sqlalchemy.engine import make_url

from repositories.database import MAX_JSON_DEPTH, Database

from .probes import now, wait_for
from .watching import Watcher, create_user, serving, watching

FAST = {"watch_poll_interval": 0.05, "watch_heartbeat_interval": 0.5}


def raw_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_stream_from_now_gets_the_first_response_at_once_then_new_events(
    database: Database, database_url: str
) -> None:
    async with (
        serving(database_url, **FAST) as (_app, channel),
        watching(channel, filter_text='resource_type = "User"') as watcher,
    ):
        first = watcher.responses[0]
        assert not first.changes
        assert first.resume_token
        user = await create_user(channel)
        await watcher.until(lambda w: any(e.resource_id == user.id for e in w.events))
        [event] = [e for e in watcher.events if e.resource_id == user.id]
        assert (event.operation, event.revision) == ("create", 1)
        assert event.watch_xid >= event.transaction_id


def _ids(watcher: Watcher) -> list[str]:
    return [e.resource_id for e in watcher.events]


def _has_id(resource_id: str) -> Callable[[Watcher], bool]:
    return lambda w: resource_id in _ids(w)


async def test_a_transaction_open_across_a_later_commit_holds_both_back_until_it_ends(
    database: Database, database_url: str
) -> None:
    """No gap: the younger commit's event waits for the older transaction, which may
    still commit an event below it."""
    async with (
        serving(database_url, **FAST) as (_app, channel),
        watching(channel, filter_text='resource_type = "User"') as watcher,
    ):
        old = await asyncpg.connect(raw_dsn(database_url))
        try:
            tx = old.transaction()
            await tx.start()
            early = uuid.uuid4()
            await old.execute(
                "INSERT INTO users (id, email) VALUES ($1, $2)",
                early,
                f"early-{early.hex[:12]}@example.com",
            )
            late = await create_user(channel)
            seen = len(watcher.responses)
            # Several heartbeats later (each one after reads that found
            # nothing deliverable), neither event has been sent.
            await watcher.until(lambda w: len(w.responses) >= seen + 3)
            assert str(early) not in _ids(watcher)
            assert late.id not in _ids(watcher)
            await tx.commit()
        finally:
            await old.close()
        await watcher.until(lambda w: {str(early), late.id} <= set(_ids(w)))
        delivered = [i for i in _ids(watcher) if i in (str(early), late.id)]
        assert delivered == [str(early), late.id]


async def test_a_resource_s_revisions_arrive_in_order_when_an_old_transaction_writes_last(
    database: Database, database_url: str
) -> None:
    dsn = raw_dsn(database_url)
    async with serving(database_url, **FAST) as (_app, channel):
        user = await create_user(channel)
        async with watching(channel, filter_text=f'resource_id = "{user.id}"') as watcher:
            oldest, old, young = [await asyncpg.connect(dsn) for _ in range(3)]
            try:
                holder = oldest.transaction()
                await holder.start()
                await oldest.fetchval("SELECT pg_current_xact_id()")
                early = old.transaction()
                await early.start()
                await old.fetchval("SELECT pg_current_xact_id()")
                async with young.transaction():
                    await young.execute(
                        "UPDATE users SET full_name = 'young' WHERE id = $1",
                        uuid.UUID(user.id),
                    )
                await old.execute(
                    "UPDATE users SET full_name = 'old' WHERE id = $1", uuid.UUID(user.id)
                )
                await early.commit()
                await holder.commit()
            finally:
                for connection in (oldest, old, young):
                    await connection.close()
            await watcher.until(lambda w: len(w.events) >= 2)
            revisions = [(e.revision, e.after["full_name"]) for e in watcher.events]
            assert revisions == [(2, "young"), (3, "old")]


async def test_resuming_from_the_last_token_gets_every_later_event_and_none_before(
    database: Database, database_url: str
) -> None:
    async with serving(database_url, **FAST) as (_app, channel):
        where = 'resource_type = "User" AND operation = "create"'
        async with watching(channel, filter_text=where) as first:
            before = await create_user(channel)
            await first.until(lambda w: before.id in _ids(w))
            token = first.token
        after = [await create_user(channel) for _ in range(3)]
        async with watching(channel, filter_text=where, resume_token=token) as second:
            await second.until(lambda w: {u.id for u in after} <= set(_ids(w)))
            assert before.id not in _ids(second)
            assert len(_ids(second)) == len(set(_ids(second)))


def _crafted(version: int = 1, lower: int = 1, made_ms: int | None = None) -> str:
    made = int(time.time() * 1000) if made_ms is None else made_ms
    raw = struct.pack(">Bqqqq", version, lower, 0, 0, made)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def _refusal(channel: grpc.aio.Channel, **options: Any) -> Watcher:
    watcher = Watcher(channel, **options)
    await watcher.ended()
    return watcher


async def test_bad_tokens_and_filters_are_refused_and_an_old_token_has_expired(
    database: Database, database_url: str
) -> None:
    async with serving(database_url, **FAST) as (_app, channel):
        for token in ("not a token", _crafted(version=9), _crafted(lower=1 << 50)):
            refused = await _refusal(channel, resume_token=token)
            assert refused.code == grpc.StatusCode.INVALID_ARGUMENT, token
            assert "resume_token" in refused.details
        expired = await _refusal(channel, resume_token=_crafted(made_ms=1000))
        assert (expired.code, expired.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "WATCH_TOKEN_EXPIRED",
        )
        for where in ('actor = "x"', 'resource_type > "User"', "operation =", "nope = 1"):
            refused = await _refusal(channel, filter_text=where)
            assert refused.code == grpc.StatusCode.INVALID_ARGUMENT, where
            assert "filter" in refused.details


async def test_watching_needs_the_audit_permission(database: Database, database_url: str) -> None:
    tokens = {name: secrets.token_urlsafe(16) for name in ("auditor", "reader")}
    policy = {
        name: {"token_sha256": hashlib.sha256(token.encode()).hexdigest(), "allow": [name[:5]]}
        for name, token in tokens.items()
    }
    policy["reader"]["allow"] = ["read", "write"]
    async with serving(database_url, auth_tokens=json.dumps(policy), **FAST) as (_app, channel):
        denied = await _refusal(
            channel, metadata=(("authorization", f"Bearer {tokens['reader']}"),)
        )
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED
        anonymous = await _refusal(channel)
        assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED
        allowed = (("authorization", f"Bearer {tokens['auditor']}"),)
        async with watching(channel, metadata=allowed) as watcher:
            assert watcher.token


async def test_a_stream_from_now_starts_at_now_after_the_last_stream_closed(
    database: Database, database_url: str
) -> None:
    async with serving(database_url, **FAST) as (app, channel):
        async with watching(channel):
            pass
        assert app.watch is not None
        hub = app.watch
        await wait_for(lambda: now(not hub.following), 10)
        # Written while nothing reads: before the next stream's "now".
        before = await create_user(channel)
        async with watching(channel, filter_text='resource_type = "User"') as watcher:
            after = await create_user(channel)
            await watcher.until(_has_id(after.id))
            assert before.id not in _ids(watcher)


async def test_an_event_too_large_for_a_response_comes_without_its_values(
    database: Database, database_url: str
) -> None:
    """An update of a row that nearly fills a response records it twice (before and
    after): listed and watched, that event comes without them, and what follows it
    comes too."""
    limit = 256 * 1024
    async with serving(database_url, grpc_max_response_bytes=limit, **FAST) as (_app, channel):
        users = user_pb2_grpc.UserServiceStub(channel)
        user = await create_user(channel)
        pinned = f'resource_id = "{user.id}"'
        async with watching(channel, filter_text=pinned) as watcher:
            mask = field_mask_pb2.FieldMask(paths=["full_name"])
            for name in (secrets.token_hex(66_000), secrets.token_hex(66_000), "Small"):
                await users.UpdateUser(
                    user_pb2.UpdateUserRequest(
                        user=user_pb2.User(id=user.id, full_name=name), update_mask=mask
                    ),
                    timeout=10,
                )
            await watcher.until(lambda w: len(w.events) == 3)
            listed: list[change_pb2.ChangeEvent] = []
            token = None
            while token != "":
                page = await change_pb2_grpc.ChangeServiceStub(channel).ListChanges(
                    change_pb2.ListChangesRequest(filter=pinned, page_token=token or ""),
                    timeout=10,
                )
                listed += page.changes
                token = page.next_page_token
    # The stream started after the create.
    for events in (list(watcher.events), list(reversed(listed))[1:]):
        assert [e.revision for e in events] == [2, 3, 4]
        assert [e.values_omitted for e in events] == [False, True, False]
        omitted = events[1]
        assert not omitted.HasField("before")
        assert not omitted.HasField("after")
        assert "full_name" in omitted.changed_fields
        assert events[2].after["full_name"] == "Small"


async def test_json_written_in_sql_beyond_what_python_holds_breaks_no_read_or_stream(
    database: Database, database_url: str
) -> None:
    """A number of 5,000 digits, an array 1,500 deep: PostgreSQL stores them, the API
    refuses them, Python cannot hold them. Reading the row says so; the history and
    every stream go on, the events without their values."""
    async with serving(database_url, **FAST) as (_app, channel):
        frameworks = compliance_framework_pb2_grpc.ComplianceFrameworkServiceStub(channel)
        made = await frameworks.CreateComplianceFramework(
            compliance_framework_pb2.CreateComplianceFrameworkRequest(
                compliance_framework=compliance_framework_pb2.ComplianceFramework(
                    name=f"deep-{uuid.uuid4().hex[:8]}",
                    display_name="Deep",
                    category="test",
                    description="Deep values",
                )
            ),
            timeout=10,
        )
        async with watching(channel, filter_text='resource_type = "User"') as watcher:
            connection = await asyncpg.connect(raw_dsn(database_url))
            try:
                for value in ("1" + "0" * 5000, "[" * 1500 + "]" * 1500):
                    await connection.execute(
                        "UPDATE compliance_frameworks SET employee_thresholds = $1::text::jsonb"
                        " WHERE id = $2",
                        value,
                        uuid.UUID(made.id),
                    )
            finally:
                await connection.close()
            user = await create_user(channel)
            await watcher.until(_has_id(user.id))
            assert watcher.code is None
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await frameworks.GetComplianceFramework(
                compliance_framework_pb2.GetComplianceFrameworkRequest(id=made.id), timeout=10
            )
        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        listed = await change_pb2_grpc.ChangeServiceStub(channel).ListChanges(
            change_pb2.ListChangesRequest(filter=f'resource_id = "{made.id}"'), timeout=10
        )
    assert [(e.revision, e.values_omitted) for e in listed.changes] == [
        (3, True),
        (2, True),
        (1, False),
    ]


def _objects(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


async def test_json_as_deep_as_the_api_takes_reaches_every_reader_and_deeper_is_refused(
    database: Database, database_url: str
) -> None:
    """Each level of a JSON object is three levels of protobuf message, and a parser
    takes 100: values deeper than MAX_JSON_DEPTH would leave some response no client
    can read. Written through the API they are refused; written in SQL (deep enough to
    overflow the server's own conversion, or only the client's parser) the row reads
    as unreadable, never as INTERNAL, and the streams and history go on without them."""
    deepest = _objects(MAX_JSON_DEPTH)
    async with serving(database_url, **FAST) as (_app, channel):
        frameworks = compliance_framework_pb2_grpc.ComplianceFrameworkServiceStub(channel)
        framework = compliance_framework_pb2.ComplianceFramework(
            name=f"deep-{uuid.uuid4().hex[:8]}",
            display_name="Deep",
            category="test",
            description="Deep values",
        )
        json_format.ParseDict(deepest, framework.employee_thresholds)
        async with watching(channel, filter_text='resource_type = "ComplianceFramework"') as w:
            made = await frameworks.CreateComplianceFramework(
                compliance_framework_pb2.CreateComplianceFrameworkRequest(
                    compliance_framework=framework
                ),
                timeout=10,
            )
            await w.until(_has_id(made.id))
            assert w.code is None
            streamed = next(e for e in w.events if e.resource_id == made.id)
        assert (
            json.loads(json_format.MessageToJson(streamed.after))["employee_thresholds"] == deepest
        )
        got = await frameworks.GetComplianceFramework(
            compliance_framework_pb2.GetComplianceFrameworkRequest(id=made.id), timeout=10
        )
        assert json_format.MessageToDict(got.employee_thresholds) == deepest
        listed = await change_pb2_grpc.ChangeServiceStub(channel).ListChanges(
            change_pb2.ListChangesRequest(filter=f'resource_id = "{made.id}"'), timeout=10
        )
        assert not listed.changes[0].values_omitted

        framework.name += "-2"
        json_format.ParseDict({"k": deepest}, framework.employee_thresholds)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await frameworks.CreateComplianceFramework(
                compliance_framework_pb2.CreateComplianceFrameworkRequest(
                    compliance_framework=framework
                ),
                timeout=10,
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "compliance_framework.employee_thresholds" in (refused.value.details() or "")

        connection = await asyncpg.connect(raw_dsn(database_url))
        try:
            for value in (json.dumps({"k": {"k": deepest}}), "[" * 600 + "]" * 600):
                await connection.execute(
                    "UPDATE compliance_frameworks SET employee_thresholds = $1::text::jsonb"
                    " WHERE id = $2",
                    value,
                    uuid.UUID(made.id),
                )
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await frameworks.GetComplianceFramework(
                        compliance_framework_pb2.GetComplianceFrameworkRequest(id=made.id),
                        timeout=10,
                    )
                assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION, value[:5]
        finally:
            await connection.close()
        listed = await change_pb2_grpc.ChangeServiceStub(channel).ListChanges(
            change_pb2.ListChangesRequest(filter=f'resource_id = "{made.id}"'), timeout=10
        )
    assert [(e.revision, e.values_omitted) for e in listed.changes] == [
        (3, True),
        (2, True),
        (1, False),
    ]


async def test_streams_past_the_limit_are_refused(database: Database, database_url: str) -> None:
    async with serving(database_url, watch_max_streams=2, **FAST) as (_app, channel):
        async with watching(channel), watching(channel):
            refused = await _refusal(channel)
            assert (refused.code, refused.reason) == (
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "WATCH_TOO_MANY_STREAMS",
            )
        async with watching(channel) as again:  # the two closed: room again
            assert again.token


async def test_streams_opened_at_once_never_pass_the_limit(
    database: Database, database_url: str
) -> None:
    async with serving(database_url, watch_max_streams=2, **FAST) as (_app, channel):
        watchers = [Watcher(channel) for _ in range(12)]
        try:
            for watcher in watchers:
                await watcher.until(lambda w: bool(w.responses))
            opened = [w for w in watchers if w.responses]
            assert len(opened) == 2
            assert {(w.code, w.reason) for w in watchers if not w.responses} == {
                (grpc.StatusCode.RESOURCE_EXHAUSTED, "WATCH_TOO_MANY_STREAMS")
            }
        finally:
            for watcher in watchers:
                await watcher.close()


async def test_an_idle_stream_gets_heartbeats_that_carry_a_token(
    database: Database, database_url: str
) -> None:
    async with serving(database_url, **FAST) as (_app, channel):
        where = f'resource_id = "{uuid.uuid4()}"'
        async with watching(channel, filter_text=where) as watcher:
            await watcher.until(lambda w: len(w.responses) >= 3)
            assert all(not r.changes and r.resume_token for r in watcher.responses)


async def test_a_stream_at_its_maximum_age_ends_unavailable_after_a_last_token(
    database: Database, database_url: str
) -> None:
    options = {**FAST, "watch_heartbeat_interval": 30.0}
    async with serving(database_url, watch_max_stream_age=1.0, **options) as (_app, channel):
        watcher = Watcher(channel)
        await watcher.ended()
        assert (watcher.code, watcher.reason) == (
            grpc.StatusCode.UNAVAILABLE,
            "WATCH_STREAM_RECYCLED",
        )
        assert len(watcher.responses) == 2
        assert watcher.token


async def test_stopping_the_server_ends_streams_unavailable_after_a_last_token(
    database: Database, database_url: str
) -> None:
    options = {**FAST, "watch_heartbeat_interval": 30.0}
    async with serving(database_url, **options) as (app, channel):
        watchers = [Watcher(channel) for _ in range(3)]
        for watcher in watchers:
            await watcher.until(lambda w: bool(w.responses))
        await app.stop(grace=5.0)
        for watcher in watchers:
            await watcher.ended()
            assert (watcher.code, watcher.reason) == (
                grpc.StatusCode.UNAVAILABLE,
                "SHUTTING_DOWN",
            )
            assert len(watcher.responses) == 2
        assert watcher.token


async def test_a_stream_far_behind_catches_up_over_many_windows_then_joins(
    database: Database, database_url: str
) -> None:
    """A token 25,000 transactions back: the stream reads the history window by
    window on its own, then gets what the shared reader reads next."""
    async with serving(database_url, **FAST) as (_app, channel):
        async with watching(channel, filter_text='resource_type = "User"') as first:
            token = first.token
        tag = f"far-{uuid.uuid4().hex[:8]}"
        connection = await asyncpg.connect(raw_dsn(database_url))
        try:
            # Each iteration its own transaction (COMMIT in a DO block), a user every
            # 5,000 of them.
            await connection.execute(
                "DO $$ BEGIN FOR i IN 1..25000 LOOP"
                " IF i % 5000 = 0 THEN INSERT INTO users (id, email)"
                f" VALUES (gen_random_uuid(), '{tag}-' || i || '@example.com');"
                " ELSE PERFORM pg_current_xact_id(); END IF; COMMIT; END LOOP; END $$"
            )
        finally:
            await connection.close()
        async with watching(channel, filter_text='resource_type = "User"', resume_token=token) as w:
            await w.until(lambda w: len(_tagged(w, tag)) >= 5)
            later = await create_user(channel)
            await w.until(lambda w: later.id in _ids(w))
            assert _tagged(w, tag) == [f"{tag}-{i}@example.com" for i in range(5000, 25001, 5000)]


def _tagged(watcher: Watcher, tag: str) -> list[str]:
    return [
        str(e.after["email"])
        for e in watcher.events
        if "email" in e.after and str(e.after["email"]).startswith(tag)
    ]


async def test_a_write_in_another_process_wakes_this_reader_through_notify(
    database: Database, database_url: str
) -> None:
    """The watching server polls only once a minute: what reaches it sooner came by
    the writer's NOTIFY (the LISTEN starts with the stream, so the writer retries)."""
    async with (
        serving(database_url) as (_writer, writes),
        serving(database_url, watch_poll_interval=60.0, watch_heartbeat_interval=0.3) as (
            _reader,
            channel,
        ),
        watching(channel, filter_text='resource_type = "User"') as watcher,
    ):
        # Past its first read (heartbeats follow it): from here on, only a wake-up
        # makes the reader read again.
        await watcher.until(lambda w: len(w.responses) >= 3)
        delivered = False
        for _ in range(10):
            user = await create_user(writes)
            with contextlib.suppress(AssertionError):
                await watcher.until(_has_id(user.id), within=2.0)
            if user.id in _ids(watcher):
                delivered = True
                break
        assert delivered
