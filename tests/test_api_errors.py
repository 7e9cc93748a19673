"""Every code of DESIGN.md's error table, as a caller of the real server sees it:
status code, google.rpc.ErrorInfo (domain data.ruleiq) and BadRequest field
violations, parsed from the grpc-status-details-bin trailer. `expect_error` also
checks that no message shows SQL, a stack trace or a file path."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2, timestamp_pb2
from grpc_health.v1 import health_pb2
from ruleiq.data.v1 import database_pb2, database_pb2_grpc
from sqlalchemy import CheckConstraint, Table, select, text, update

from repositories import models
from repositories.database import Database
from service.errors import ErrorInterceptor
from service.resources import RESOURCES, Resource
from service.server import App

from .api import (
    TIMEOUT,
    Api,
    call,
    expect_error,
    resource_field,
    service_name,
    unindexable,
    valid_fields,
)
from .apps import running
from .checks import SERVICE_RULES, SHAPE_RULES, WRITABLE_RULES, Rule, breaks, violating_value
from .health import health_stub
from .probes import blocked_statements
from .rows import unique

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
ALL = [pytest.param(r, id=r.message) for r in RESOURCES]
WITH_PARENTS = [pytest.param(r, id=r.message) for r in RESOURCES if r.parents]


def _enum_fields(r: Resource) -> list[str]:
    descriptor: Any = getattr(r.module, r.message).DESCRIPTOR
    return [f.name for f in descriptor.fields if f.enum_type is not None]


_YEAR_ONE = -62_135_596_800
_YEAR_TEN_THOUSAND = 253_402_300_800

WITH_ENUMS = [pytest.param(r, id=r.message) for r in RESOURCES if _enum_fields(r)]


def raw_method(channel: grpc.aio.Channel, service: str, method: str) -> Any:
    """A method called with bytes as they are, not a serialized message."""
    return channel.unary_unary(
        f"/{service}/{method}", request_serializer=None, response_deserializer=None
    )


async def _create(api: Api, message: str, **fields: Any) -> Any:
    return await api.create(message, **fields)


# ---------------------------------------------------------------------------
# INVALID_ARGUMENT


@pytest.mark.parametrize("r", ALL)
async def test_malformed_id_is_invalid_argument_naming_the_field(api: Api, r: Resource) -> None:
    for method in ("Get", "Delete"):
        failure = await expect_error(
            call(api, r.message, method, id="not-a-uuid"), INVALID, field_name="id"
        )
        assert failure.fields == ["id"]
    await expect_error(call(api, r.message, "Get", id=""), INVALID, field_name="id")
    if not r.append_only:
        bad = getattr(r.module, r.message)(id="42")
        await expect_error(
            call(api, r.message, "Update", **{resource_field(r.message): bad}),
            INVALID,
            field_name=f"{resource_field(r.message)}.id",
        )


@pytest.mark.parametrize("r", ALL)
async def test_raw_garbage_bytes_as_the_request_are_invalid_argument(
    channel: grpc.aio.Channel, r: Resource
) -> None:
    service = service_name(r.message)
    for method in (f"Get{r.message}", f"Create{r.message}", f"List{r.plural}"):
        failure = await expect_error(
            raw_method(channel, service, method)(b"\xff\xff\xff\xff\x0f", timeout=TIMEOUT),
            INVALID,
            field_name="request",
        )
        assert failure.info is not None


async def test_raw_garbage_to_the_operational_services_is_invalid_argument(
    channel: grpc.aio.Channel,
) -> None:
    database = database_pb2.DESCRIPTOR.services_by_name["DatabaseService"].full_name
    health = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    for service, method in ((database, "GetDatabaseInfo"), (health, "Check")):
        await expect_error(
            raw_method(channel, service, method)(b"\xff\xff\xff\xff\x0f", timeout=TIMEOUT),
            INVALID,
            "INVALID_ARGUMENT",
            field_name="request",
        )


@pytest.mark.parametrize(
    "expression",
    [
        "nope = 1",
        'email = "a" OR',
        "email =",
        "is_active = maybe",
        'created_at > "yesterday"',
        'created_at > "2026-01-01T00:00:00"',
        'email = "unterminated',
        'hashed_password = "guess"',
        'full_name = "Ada"',
        "is_active < true",
        "AND",
        'email = "a" AND',
        'email = "nul\u0000"',
    ],
)
async def test_bad_filter_is_invalid_argument_naming_filter(api: Api, expression: str) -> None:
    failure = await expect_error(
        call(api, "User", "List", filter=expression), INVALID, field_name="filter"
    )
    assert failure.fields == ["filter"]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("email = (", "`email =` has no value: found '(' at character 9"),
        ('(email = "a@b.c"', "the parenthesis '(' at character 1 is not closed"),
        ('email = "a@b.c")', "unbalanced parenthesis ')' at character 16"),
        ("email = x)", "unbalanced parenthesis ')' at character 10"),
        ("email = ;", "cannot read ';' at character 9"),
        ("email = 'single'", "cannot read \"'single'\" at character 9"),
        ("email = a;b", "cannot read ';b' at character 10"),
        ("email = x = y", "expected AND or OR between conditions, found '=' at character 11"),
        ('email = "a" "b"', "expected AND or OR between conditions, found '\"b\"' at character 13"),
        ("email = = x", "`email =` has no value: found '=' at character 9"),
    ],
)
async def test_malformed_filter_is_invalid_argument_saying_what_is_wrong_where(
    api: Api, expression: str, says: str
) -> None:
    failure = await expect_error(
        call(api, "User", "List", filter=expression), INVALID, field_name="filter"
    )
    assert failure.fields == ["filter"]
    assert says in failure.message


async def test_bad_order_by_is_invalid_argument_naming_order_by(api: Api) -> None:
    for order_by in ("nope", "email sideways", "hashed_password", "email, email desc"):
        await expect_error(
            call(api, "User", "List", order_by=order_by), INVALID, field_name="order_by"
        )


async def test_negative_page_size_is_invalid_and_a_large_one_is_capped(api: Api) -> None:
    await expect_error(call(api, "User", "List", page_size=-1), INVALID, field_name="page_size")
    page = await call(api, "User", "List", page_size=5000)
    assert len(page.users) <= 1000


async def test_bad_or_tampered_page_token_is_invalid_argument(api: Api) -> None:
    for _ in range(3):
        await api.make("User")
    first = await call(api, "User", "List", page_size=1)
    token = first.next_page_token
    assert token
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in ("garbage", "", tampered, token[: len(token) // 2]):
        if not bad:
            continue
        await expect_error(
            call(api, "User", "List", page_size=1, page_token=bad),
            INVALID,
            field_name="page_token",
        )
    # The untouched token still works.
    await call(api, "User", "List", page_size=1, page_token=token)


async def test_page_token_reused_with_another_filter_or_order_is_invalid(api: Api) -> None:
    for _ in range(3):
        await api.make("User")
    first = await call(api, "User", "List", page_size=1, filter="is_active = true")
    token = first.next_page_token
    assert token
    for other in ({"filter": "is_active = false"}, {"filter": ""}, {"order_by": "email"}):
        fields = {"filter": "is_active = true", **other}
        failure = await expect_error(
            call(api, "User", "List", page_size=1, page_token=token, **fields),
            INVALID,
            field_name="page_token",
        )
        assert "different" in failure.message


def _required(r: Resource) -> list[str]:
    """Fields a create cannot do without: NOT NULL, no default, written by the caller."""
    table = r.model.__table__
    assert isinstance(table, Table)
    descriptor: Any = getattr(r.module, r.message).DESCRIPTOR
    output_only = {"id", "created_at", "updated_at", "sequence_number"}
    return sorted(
        c.name
        for c in table.c
        if not c.nullable
        and c.server_default is None
        and c.default is None
        and c.name not in output_only
        and c.name in descriptor.fields_by_name
    )


@pytest.mark.parametrize("r", ALL)
async def test_create_without_required_fields_names_each_one(api: Api, r: Resource) -> None:
    path = resource_field(r.message)
    required = _required(r)
    assert required
    failure = await expect_error(
        _create(api, r.message), INVALID, field_name=f"{path}.{required[0]}"
    )
    assert sorted(failure.fields) == sorted(f"{path}.{name}" for name in required)
    # No resource at all names the resource.
    create = getattr(getattr(api, r.message), f"Create{r.message}")
    request = getattr(r.module, f"Create{r.message}Request")()
    await expect_error(create(request, timeout=TIMEOUT), INVALID, field_name=path)


async def test_not_a_number_is_invalid_argument_naming_the_field(api: Api) -> None:
    fields = await valid_fields(api, "ReadinessAssessment")
    for bad in (math.nan, math.inf):
        await expect_error(
            _create(api, "ReadinessAssessment", **{**fields, "overall_score": bad}),
            INVALID,
            field_name="readiness_assessment.overall_score",
        )
    breakdown = struct_pb2.Struct()
    breakdown.update({"policies": math.nan})
    await expect_error(
        _create(api, "ReadinessAssessment", **{**fields, "score_breakdown": breakdown}),
        INVALID,
        field_name="readiness_assessment.score_breakdown.policies",
    )


def _kindless_in_a_list() -> struct_pb2.Struct:
    # A Node caller building ListValue by hand can send Values with nothing set.
    metadata = struct_pb2.Struct()
    tags = metadata.fields["tags"].list_value
    tags.extend(["a", "b"])
    tags.values.add()
    return metadata


def _kindless_in_a_struct() -> struct_pb2.Struct:
    metadata = struct_pb2.Struct()
    metadata.fields["outer"].struct_value.fields["inner"].CopyFrom(struct_pb2.Value())
    return metadata


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        (_kindless_in_a_list(), "evidence.ai_metadata.tags[2]"),
        (_kindless_in_a_struct(), "evidence.ai_metadata.outer.inner"),
    ],
    ids=["in a list", "in a struct"],
)
async def test_a_value_with_no_kind_inside_json_is_invalid_argument_naming_its_path(
    api: Api, metadata: struct_pb2.Struct, path: str
) -> None:
    failure = await expect_error(
        api.make("Evidence", ai_metadata=metadata), INVALID, field_name=path
    )
    assert failure.fields == [path]
    evidence = await api.make("Evidence")
    update = call(
        api,
        "Evidence",
        "Update",
        evidence=api.pb("Evidence").Evidence(id=evidence.id, ai_metadata=metadata),
        update_mask=field_mask_pb2.FieldMask(paths=["ai_metadata"]),
    )
    await expect_error(update, INVALID, field_name=path)
    stored = await call(api, "Evidence", "Get", id=evidence.id)
    assert not stored.HasField("ai_metadata")


async def test_a_top_level_value_with_no_kind_is_invalid_argument(api: Api) -> None:
    fields = await valid_fields(api, "ComplianceFramework")
    await expect_error(
        _create(api, "ComplianceFramework", **fields, employee_thresholds=struct_pb2.Value()),
        INVALID,
        field_name="compliance_framework.employee_thresholds",
    )
    listed = struct_pb2.ListValue()
    listed.values.add().list_value.values.add()
    await expect_error(
        _create(
            api,
            "AssessmentQuestion",
            **await valid_fields(api, "AssessmentQuestion"),
            options=struct_pb2.Value(list_value=listed),
        ),
        INVALID,
        field_name="assessment_question.options[0][0]",
    )


@pytest.mark.parametrize("r", WITH_ENUMS)
async def test_out_of_range_enum_number_is_invalid_argument(api: Api, r: Resource) -> None:
    path = resource_field(r.message)
    for name in _enum_fields(r):
        failure = await expect_error(
            _create(api, r.message, **{name: 99}), INVALID, field_name=f"{path}.{name}"
        )
        assert "99" in failure.message


async def test_timestamps_the_database_would_store_as_infinity_are_invalid(api: Api) -> None:
    fields = await valid_fields(api, "IntegrationHealthLog")
    edges = (
        timestamp_pb2.Timestamp(seconds=_YEAR_ONE),  # 0001-01-01T00:00:00Z
        timestamp_pb2.Timestamp(seconds=_YEAR_TEN_THOUSAND - 1, nanos=999_999_999),
        timestamp_pb2.Timestamp(seconds=_YEAR_TEN_THOUSAND),
        timestamp_pb2.Timestamp(seconds=1, nanos=-1),
    )
    for edge in edges:
        await expect_error(
            _create(api, "IntegrationHealthLog", **{**fields, "checked_at": edge}),
            INVALID,
            field_name="integration_health_log.checked_at",
        )
    just_inside = timestamp_pb2.Timestamp(seconds=_YEAR_ONE, nanos=1000)
    created = await _create(api, "IntegrationHealthLog", **{**fields, "checked_at": just_inside})
    assert created.checked_at == just_inside


async def test_infinite_timestamps_written_outside_the_api_still_read(
    api: Api, database: Database
) -> None:
    log = await api.make("IntegrationHealthLog")
    table = models.IntegrationHealthLog.__table__
    assert isinstance(table, Table)
    for infinity, seconds in (("-infinity", _YEAR_ONE), ("infinity", _YEAR_TEN_THOUSAND - 1)):
        async with database.async_engine.begin() as connection:
            await connection.execute(
                update(table)
                .where(table.c.id == uuid.UUID(log.id))
                .values(checked_at=text(f"'{infinity}'::timestamptz"))
            )
        fetched = await call(api, "IntegrationHealthLog", "Get", id=log.id)
        assert fetched.checked_at.seconds == seconds


async def test_nul_in_a_string_is_invalid_argument(api: Api) -> None:
    email = f"{unique('nul')}@example.com"
    await expect_error(
        _create(api, "User", email=email, full_name="Ada\x00Lovelace"),
        INVALID,
        field_name="user.full_name",
    )
    metadata = struct_pb2.Struct()
    metadata.update({"note": "a\x00b"})
    fields = await valid_fields(api, "ChatMessage")
    await expect_error(
        _create(api, "ChatMessage", **{**fields, "message_metadata": metadata}),
        INVALID,
        field_name="chat_message.message_metadata.note",
    )


async def test_a_value_too_long_for_its_index_is_invalid_argument_naming_the_field(
    api: Api,
) -> None:
    email = f"{unique('long')}@example.com"
    failure = await expect_error(
        _create(api, "User", email=email, google_id=unindexable()),
        INVALID,
        "VALUE_TOO_LARGE",
        field_name="user.google_id",
    )
    assert failure.fields == ["user.google_id"]
    user = await api.make("User")
    changed = api.pb("User").User(id=user.id, email=f"{unindexable()}@example.com")
    failure = await expect_error(
        call(
            api,
            "User",
            "Update",
            user=changed,
            update_mask=field_mask_pb2.FieldMask(paths=["email"]),
        ),
        INVALID,
        "VALUE_TOO_LARGE",
    )
    # The index is on lower(email): the field it indexes is still named.
    assert failure.fields == ["user.email"]
    assert await call(api, "User", "Get", id=user.id) == user


async def test_masked_required_field_cannot_be_cleared(api: Api) -> None:
    user = await api.make("User")
    bare = api.pb("User").User(id=user.id)
    for paths in (["email"], ["*"]):
        failure = await expect_error(
            call(
                api, "User", "Update", user=bare, update_mask=field_mask_pb2.FieldMask(paths=paths)
            ),
            INVALID,
            field_name="user.email",
        )
        assert "cleared" in failure.message
    assert await call(api, "User", "Get", id=user.id) == user


async def test_update_naming_no_field_is_invalid(api: Api) -> None:
    user = await api.make("User")
    await expect_error(
        call(api, "User", "Update", user=api.pb("User").User(id=user.id)),
        INVALID,
        field_name="update_mask",
    )


@pytest.mark.parametrize("rule", WRITABLE_RULES, ids=str)
async def test_a_value_breaking_its_fields_check_rule_is_invalid_argument_naming_the_field(
    api: Api, database: Database, rule: Rule
) -> None:
    async with database.async_engine.connect() as connection:
        value = await violating_value(connection, rule)
    name = rule.column.name
    on_create = await expect_error(
        api.make(rule.message, **{name: value}), INVALID, "CHECK_VIOLATION", field_name=rule.path
    )
    failures = [on_create]
    if not rule.resource.append_only:
        row = await api.make(rule.message)
        message = getattr(api.pb(rule.message), rule.message)
        changing = call(
            api,
            rule.message,
            "Update",
            **{resource_field(rule.message): message(id=row.id, **{name: value})},
            update_mask=field_mask_pb2.FieldMask(paths=[name]),
        )
        failures.append(
            await expect_error(changing, INVALID, "CHECK_VIOLATION", field_name=rule.path)
        )
    for failure in failures:
        assert failure.fields == [rule.path]
        assert failure.info is not None
        assert failure.info.metadata["constraint"] == rule.name


async def test_every_check_rule_of_the_schema_is_covered_through_the_api(
    database: Database,
) -> None:
    # The change history's own CHECKs guard what only its trigger writes
    # (tests/test_schema.py covers them).
    served = {r.model.__table__ for r in RESOURCES}
    assert {r.name for r in WRITABLE_RULES + SHAPE_RULES + SERVICE_RULES} == {
        str(c.name)
        for table in models.Base.metadata.tables.values()
        if table in served
        for c in table.constraints
        if isinstance(c, CheckConstraint)
    }
    async with database.async_engine.connect() as connection:
        for rule in SHAPE_RULES:
            # The only shape the wire type can hold passes; the other one does not.
            assert not await breaks(connection, rule, rule.wire_shape), rule
            assert await breaks(connection, rule, [] if rule.wire_shape == {} else {}), rule
    assert [r.path for r in SERVICE_RULES] == ["chat_message.sequence_number"]


# ---------------------------------------------------------------------------
# NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED


async def test_missing_row_is_not_found(api: Api) -> None:
    missing = str(uuid.uuid4())
    failure = await expect_error(
        call(api, "Evidence", "Get", id=missing), grpc.StatusCode.NOT_FOUND, "NOT_FOUND"
    )
    assert failure.info is not None
    assert failure.info.metadata["id"] == missing
    assert failure.info.metadata["resource"] == "evidence_items"


async def test_email_is_unique_case_insensitively(api: Api) -> None:
    local = unique("Ada")
    await api.make("User", email=f"{local}@Example.com")
    failure = await expect_error(
        api.make("User", email=f"{local.lower()}@example.COM"),
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_EXISTS",
    )
    assert "email" in failure.message


async def test_unique_values_are_already_exists(api: Api) -> None:
    google_id = unique("google")
    await api.make("User", google_id=google_id)
    await expect_error(
        api.make("User", google_id=google_id), grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS"
    )
    framework = await api.make("ComplianceFramework")
    await expect_error(
        api.make("ComplianceFramework", name=framework.name),
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_EXISTS",
    )
    integration = await api.make("Integration")
    failure = await expect_error(
        api.make("Integration", user_id=integration.user_id),
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_EXISTS",
    )
    assert failure.info is not None
    assert failure.info.metadata["fields"] == "user_id,provider"


@pytest.mark.parametrize("r", WITH_PARENTS)
async def test_create_under_a_missing_parent_is_failed_precondition(api: Api, r: Resource) -> None:
    fields = await valid_fields(api, r.message)
    parent = r.parents[0]
    fields[parent] = str(uuid.uuid4())
    failure = await expect_error(
        _create(api, r.message, **fields), PRECONDITION, "PARENT_NOT_FOUND"
    )
    assert failure.info is not None
    assert failure.info.metadata["field"] == parent
    assert parent in failure.message


async def test_delete_of_a_user_with_a_profile_is_failed_precondition(api: Api) -> None:
    profile = await api.make("BusinessProfile")
    failure = await expect_error(
        call(api, "User", "Delete", id=profile.user_id), PRECONDITION, "HAS_DEPENDENTS"
    )
    assert "business_profiles" in failure.message


async def test_update_with_stale_etag_is_aborted(api: Api) -> None:
    user = await api.make("User")
    pb = api.pb("User")
    await call(api, "User", "Update", user=pb.User(id=user.id, full_name="One"), etag=user.etag)
    failure = await expect_error(
        call(api, "User", "Update", user=pb.User(id=user.id, full_name="Two"), etag=user.etag),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert "etag" in failure.message
    assert (await call(api, "User", "Get", id=user.id)).full_name == "One"


# ---------------------------------------------------------------------------
# DEADLINE_EXCEEDED, UNAVAILABLE, INTERNAL


async def test_update_blocked_past_its_deadline_is_deadline_exceeded_and_ends_in_the_database(
    api: Api, database: Database, grpc_app: App
) -> None:
    user = await api.make("User", full_name="Before")
    async with database.async_engine.connect() as holder:
        users = models.User.__table__.c
        locked = await holder.execute(
            select(users.id).where(users.id == uuid.UUID(user.id)).with_for_update()
        )
        assert locked.one()

        update = asyncio.ensure_future(
            expect_error(
                api.User.UpdateUser(
                    api.pb("User").UpdateUserRequest(
                        user=api.pb("User").User(id=user.id, full_name="Blocked")
                    ),
                    timeout=0.5,
                ),
                grpc.StatusCode.DEADLINE_EXCEEDED,
                rich=False,
            )
        )
        # The server's UPDATE waits for our row lock...
        await blocked_statements(database.async_engine, 1)
        await update
        # ...and ends in PostgreSQL (statement_timeout, or the cancel its cancelled
        # task sends) at the deadline, while the lock is still held: not when it is
        # released.
        await blocked_statements(database.async_engine, 0)
        await holder.rollback()

    # Nothing was acknowledged, and nothing was written; the pool still serves.
    assert (await call(api, "User", "Get", id=user.id)).full_name == "Before"
    info = await database_pb2_grpc.DatabaseServiceStub(api.channel).GetDatabaseInfo(
        database_pb2.GetDatabaseInfoRequest(), timeout=TIMEOUT
    )
    assert info.pool.checked_out <= 1


async def test_server_whose_database_is_unreachable_answers_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="service.calls")
    async with (
        running(
            "postgresql://postgres@127.0.0.1:1/ruleiq",
            database_options={"db_pool_timeout": 2},
            readiness_interval_seconds=60,
            grace=0,
        ) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        other = Api(channel)
        # Each call is ended by the server (a reason of its own, and its log line),
        # not by its deadline: TIMEOUT is far longer than the connect attempt needs.
        for message in ("User", "Evidence"):
            await expect_error(
                call(other, message, "Get", id=str(uuid.uuid4())),
                grpc.StatusCode.UNAVAILABLE,
                "DATABASE_UNAVAILABLE",
            )
        await expect_error(
            other.create("User", email=f"{unique('down')}@example.com"),
            grpc.StatusCode.UNAVAILABLE,
            "DATABASE_UNAVAILABLE",
        )
        await expect_error(
            database_pb2_grpc.DatabaseServiceStub(channel).GetDatabaseInfo(
                database_pb2.GetDatabaseInfoRequest(), timeout=TIMEOUT
            ),
            grpc.StatusCode.UNAVAILABLE,
            "DATABASE_UNAVAILABLE",
        )
        database_service = database_pb2.DESCRIPTOR.services_by_name["DatabaseService"].full_name
        refused = {
            (getattr(r, "method", ""), getattr(r, "reason", None))
            for r in caplog.records
            if r.name == "service.calls" and getattr(r, "code", None) == "UNAVAILABLE"
        }
        expected = {
            (f"/{service_name('User')}/GetUser", "DATABASE_UNAVAILABLE"),
            (f"/{service_name('Evidence')}/GetEvidence", "DATABASE_UNAVAILABLE"),
            (f"/{service_name('User')}/CreateUser", "DATABASE_UNAVAILABLE"),
            (f"/{database_service}/GetDatabaseInfo", "DATABASE_UNAVAILABLE"),
        }
        assert expected <= refused, refused

        health = health_stub(channel)
        statuses = {}
        for name in ("", "liveness", "readiness", service_name("User")):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=TIMEOUT)
            statuses[name] = reply.status
        serving = health_pb2.HealthCheckResponse.SERVING
        not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
        assert statuses == {
            "": serving,
            "liveness": serving,
            "readiness": not_serving,
            service_name("User"): not_serving,
        }


async def test_a_bug_is_internal_with_a_reference_and_nothing_else(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        raise RuntimeError(
            'SELECT hashed_password FROM users\nTraceback: File "/srv/app/service.py"'
        )

    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.Broken", {"Explode": grpc.unary_unary_rpc_method_handler(broken)}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with caplog.at_level(logging.ERROR, logger="service.errors"):
                failure = await expect_error(
                    raw_method(channel, "test.Broken", "Explode")(b"", timeout=TIMEOUT),
                    grpc.StatusCode.INTERNAL,
                    "INTERNAL",
                )
    finally:
        await server.stop(0)
    assert failure.info is not None
    reference = failure.info.metadata["reference"]
    assert reference in failure.message
    assert failure.violations == []
    # The trace goes to the log, under the same reference.
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
