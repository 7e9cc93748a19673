"""Caller identity and permissions: bearer tokens (or, under mutual TLS, client
certificates) mapped to read, write and admin per service, checked before anything
is read; health and reflection open; tokens never logged."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from ruleiq.data.v1 import (
    compliance_framework_pb2,
    compliance_framework_pb2_grpc,
    data_service_pb2,
    data_service_pb2_grpc,
    database_pb2,
    database_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)

from repositories.config import ConfigError
from repositories.database import Database
from service.auth import load_policy, required_permission
from service.config import load_config
from service.logs import JsonFormatter
from service.server import App

from .api import failure_of
from .apps import running, settings
from .certs import Authority
from .health import health_stub
from .probes import HANG_SECONDS, now, wait_for
from .tokens import POLICY, TOKENS, bearer, sha256

TIMEOUT = 5
USERS = "ruleiq.data.v1.UserService"
FRAMEWORKS = "ruleiq.data.v1.ComplianceFrameworkService"


@pytest.fixture
def url(database: Database, database_url: str) -> str:
    return database_url


@pytest.fixture
async def app(url: str) -> AsyncIterator[App]:
    async with running(url, auth_tokens=json.dumps(POLICY)) as app:
        yield app


@pytest.fixture
async def channel(app: App) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield channel


def users(channel: grpc.aio.Channel) -> user_pb2_grpc.UserServiceAsyncStub:
    return user_pb2_grpc.UserServiceStub(channel)


def new_user() -> user_pb2.CreateUserRequest:
    email = f"auth-{uuid.uuid4().hex[:10]}@example.com"
    return user_pb2.CreateUserRequest(user=user_pb2.User(email=email, full_name="Auth"))


async def refused(call: Any) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    failure = failure_of(error.value)
    assert failure.info is not None
    assert failure.info.domain == "data.ruleiq"
    return failure


async def emails(channel: grpc.aio.Channel, email: str) -> list[str]:
    request = user_pb2.ListUsersRequest(filter=f'email = "{email}"')
    reply = await users(channel).ListUsers(request, metadata=bearer("reader"), timeout=TIMEOUT)
    return [u.email for u in reply.users]


async def test_a_call_without_credentials_is_unauthenticated(channel: grpc.aio.Channel) -> None:
    failure = await refused(users(channel).ListUsers(user_pb2.ListUsersRequest(), timeout=TIMEOUT))
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert failure.info.reason == "MISSING_CREDENTIALS"


@pytest.mark.parametrize("header", ["Bearer not-a-known-token", "Basic dXNlcjpwYXNz", "Bearer "])
async def test_an_unknown_or_malformed_token_is_unauthenticated(
    channel: grpc.aio.Channel, header: str
) -> None:
    call = users(channel).ListUsers(
        user_pb2.ListUsersRequest(), metadata=(("authorization", header),), timeout=TIMEOUT
    )
    failure = await refused(call)
    assert failure.code == grpc.StatusCode.UNAUTHENTICATED
    assert failure.info.reason == "INVALID_CREDENTIALS"
    assert "not-a-known-token" not in failure.message


async def test_a_reader_reads_but_may_not_write_and_nothing_is_written(
    channel: grpc.aio.Channel,
) -> None:
    reply = await users(channel).ListUsers(
        user_pb2.ListUsersRequest(page_size=1), metadata=bearer("reader"), timeout=TIMEOUT
    )
    assert reply is not None
    request = new_user()
    failure = await refused(
        users(channel).CreateUser(request, metadata=bearer("reader"), timeout=TIMEOUT)
    )
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.info.reason == "NOT_ALLOWED"
    assert dict(failure.info.metadata) == {
        "caller": "reader",
        "permission": "write",
        "service": USERS,
    }
    assert await emails(channel, request.user.email) == []


async def test_a_writer_writes_and_reads_with_either_of_its_tokens(
    channel: grpc.aio.Channel,
) -> None:
    request = new_user()
    created = await users(channel).CreateUser(request, metadata=bearer("writer"), timeout=TIMEOUT)
    got = await users(channel).GetUser(
        user_pb2.GetUserRequest(id=created.id), metadata=bearer("writer"), timeout=TIMEOUT
    )
    assert got.email == request.user.email
    old = (("authorization", "Bearer an old token"),)
    await users(channel).GetUser(
        user_pb2.GetUserRequest(id=created.id), metadata=old, timeout=TIMEOUT
    )


async def test_permissions_are_per_service_and_checked_before_the_request_is_read(
    channel: grpc.aio.Channel,
) -> None:
    created = await users(channel).CreateUser(
        new_user(), metadata=bearer("billing"), timeout=TIMEOUT
    )
    assert created.id
    frameworks = compliance_framework_pb2_grpc.ComplianceFrameworkServiceStub(channel)
    # An empty request would be INVALID_ARGUMENT: the permission is checked first.
    failure = await refused(
        frameworks.CreateComplianceFramework(
            compliance_framework_pb2.CreateComplianceFrameworkRequest(),
            metadata=bearer("billing"),
            timeout=TIMEOUT,
        )
    )
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.info.metadata["service"] == FRAMEWORKS
    await frameworks.ListComplianceFrameworks(
        compliance_framework_pb2.ListComplianceFrameworksRequest(),
        metadata=bearer("billing"),
        timeout=TIMEOUT,
    )


async def test_a_commit_needs_write_on_every_service_it_writes_to(
    channel: grpc.aio.Channel,
) -> None:
    commits = data_service_pb2_grpc.DataServiceStub(channel)
    user = data_service_pb2.Mutation(create_user=new_user())
    framework = data_service_pb2.Mutation(
        create_compliance_framework=compliance_framework_pb2.CreateComplianceFrameworkRequest()
    )
    failure = await refused(
        commits.Commit(
            data_service_pb2.CommitRequest(mutations=[user, framework]),
            metadata=bearer("billing"),
            timeout=TIMEOUT,
        )
    )
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    assert failure.info.metadata["service"] == FRAMEWORKS
    assert await emails(channel, user.create_user.user.email) == []
    committed = await commits.Commit(
        data_service_pb2.CommitRequest(mutations=[user]),
        metadata=bearer("billing"),
        timeout=TIMEOUT,
    )
    assert committed.results[0].user.email == user.create_user.user.email


async def test_only_admin_may_call_database_service(channel: grpc.aio.Channel) -> None:
    stub = database_pb2_grpc.DatabaseServiceStub(channel)
    request = database_pb2.GetDatabaseInfoRequest()
    failure = await refused(
        stub.GetDatabaseInfo(request, metadata=bearer("writer"), timeout=TIMEOUT)
    )
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    info = await stub.GetDatabaseInfo(request, metadata=bearer("ops"), timeout=TIMEOUT)
    assert info.server_version
    failure = await refused(
        users(channel).ListUsers(
            user_pb2.ListUsersRequest(), metadata=bearer("ops"), timeout=TIMEOUT
        )
    )
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED


async def list_services(channel: grpc.aio.Channel) -> list[str]:
    # grpcio-reflection ships its generated stub without annotations.
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)  # type: ignore[no-untyped-call]
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for reply in stub.ServerReflectionInfo(iter([request]), timeout=TIMEOUT):
        return [s.name for s in reply.list_services_response.service]
    return []


async def test_health_and_reflection_need_no_credentials(channel: grpc.aio.Channel) -> None:
    health = health_stub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service="readiness"), timeout=TIMEOUT)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert USERS in await list_services(channel)


async def test_reflection_can_be_switched_off(url: str) -> None:
    async with (
        running(url, auth_tokens=json.dumps(POLICY), grpc_reflection=False) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await list_services(channel)
        assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_tokens_never_appear_in_logs(
    channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "Bearer " + secrets.token_urlsafe(24)
    for name in TOKENS:
        for call in (
            users(channel).ListUsers(
                user_pb2.ListUsersRequest(), metadata=bearer(name), timeout=TIMEOUT
            ),
            users(channel).CreateUser(new_user(), metadata=bearer(name), timeout=TIMEOUT),
            users(channel).GetUser(
                user_pb2.GetUserRequest(id="bad"), metadata=bearer(name), timeout=TIMEOUT
            ),
        ):
            with contextlib.suppress(grpc.aio.AioRpcError):
                await call
    with pytest.raises(grpc.aio.AioRpcError):
        await users(channel).ListUsers(
            user_pb2.ListUsersRequest(), metadata=(("authorization", bad),), timeout=TIMEOUT
        )

    def formatted() -> list[str]:
        return [JsonFormatter().format(record) for record in caplog.records]

    # The server logs a call once its status is sent: the caller can get there first.
    await wait_for(
        lambda: now(any("INVALID_CREDENTIALS" in line for line in formatted())), HANG_SECONDS
    )
    lines = formatted()
    assert any("PERMISSION_DENIED" in line or "NOT_ALLOWED" in line for line in lines)
    assert any("INVALID_CREDENTIALS" in line for line in lines)
    text = caplog.text + "\n".join(lines)
    for token in [*TOKENS.values(), bad.split()[1]]:
        assert token not in text


async def test_without_auth_everything_is_open_and_a_warning_says_so(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="service.server")
    async with running(url) as app, grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        await users(channel).ListUsers(user_pb2.ListUsersRequest(page_size=1), timeout=TIMEOUT)
    assert "auth is off" in caplog.text


async def test_a_client_certificate_identifies_its_caller_under_mutual_tls(
    url: str, tmp_path: Path
) -> None:
    ca = Authority(tmp_path)
    server = ca.issue("ruleiq-data", server=True)
    reports, stranger = ca.issue("reports", server=False), ca.issue("stranger", server=False)
    policy = {"reports": {"certificate_cn": "reports", "allow": ["read"]}}
    async with running(
        url,
        auth_tokens=json.dumps(policy),
        grpc_tls_cert_file=server.cert_file,
        grpc_tls_key_file=server.key_file,
        grpc_tls_client_ca_file=ca.cert_file,
    ) as app:
        for client, expected in ((reports, None), (stranger, grpc.StatusCode.UNAUTHENTICATED)):
            credentials = grpc.ssl_channel_credentials(ca.cert, client.key, client.cert)
            async with grpc.aio.secure_channel(f"127.0.0.1:{app.port}", credentials) as channel:
                call = users(channel).ListUsers(user_pb2.ListUsersRequest(), timeout=TIMEOUT)
                if expected is None:
                    await call
                    failure = await refused(users(channel).CreateUser(new_user(), timeout=TIMEOUT))
                    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
                else:
                    assert (await refused(call)).code == expected


def test_write_implies_read_and_star_adds_to_each_service() -> None:
    policy = load_policy(settings(auth_tokens=json.dumps(POLICY)))
    assert policy is not None
    billing = policy.by_token(TOKENS["billing"])
    assert billing is not None
    assert billing.name == "billing"
    assert billing.may(USERS, "write")
    assert billing.may(USERS, "read")
    assert billing.may(FRAMEWORKS, "read")
    assert not billing.may(FRAMEWORKS, "write")
    assert not billing.may("ruleiq.data.v1.DatabaseService", "admin")
    assert policy.by_token("nope") is None
    assert required_permission(USERS, "BatchGetUsers") == "read"
    assert required_permission(USERS, "DeleteUser") == "write"
    assert required_permission(USERS, "AggregateUsers") == "read"
    assert required_permission("ruleiq.data.v1.DatabaseService", "GetDatabaseInfo") == "admin"


def test_a_toml_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "callers.toml"
    path.write_text(
        f'[reader]\ntoken_sha256 = "{sha256("t")}"\nallow = ["read"]\n\n'
        f'[ops]\ntoken_sha256 = "{sha256("u")}"\nallow = {{ DatabaseService = ["admin"] }}\n'
    )
    monkeypatch.setenv("AUTH_TOKENS_FILE", str(path))
    policy = load_config().access.policy
    assert policy is not None
    assert [c.name for c in policy.callers] == ["reader", "ops"]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must map caller names"),
        ({"a": {"token_sha256": "SECRET-TOKEN", "allow": ["read"]}}, "64 hex digits"),
        ({"a": {"token": "SECRET-TOKEN", "allow": ["read"]}}, "unknown keys"),
        ({"a": {"token_sha256": sha256("x"), "allow": ["delete"]}}, "must be a list of"),
        (
            {"a": {"token_sha256": sha256("x"), "allow": {"NoSuchService": ["read"]}}},
            "unknown service",
        ),
        ({"a": {"allow": ["read"]}}, "needs token_sha256 or certificate_cn"),
        ({"a": {"certificate_cn": "a", "allow": ["read"]}}, "needs mutual TLS"),
        (
            {
                "a": {"token_sha256": sha256("x"), "allow": ["read"]},
                "b": {"token_sha256": sha256("x"), "allow": ["read"]},
            },
            "used by another caller",
        ),
    ],
)
def test_a_bad_policy_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, policy: Any, message: str
) -> None:
    monkeypatch.setenv("AUTH_TOKENS", policy if isinstance(policy, str) else json.dumps(policy))
    with pytest.raises(ConfigError) as error:
        load_config()
    assert "AUTH_TOKENS:" in str(error.value)
    assert message in str(error.value)
    assert "SECRET-TOKEN" not in str(error.value)


def test_both_token_settings_at_once_are_refused(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps(POLICY))
    with pytest.raises(ConfigError, match="not both"):
        load_policy(settings(auth_tokens=json.dumps(POLICY), auth_tokens_file=tmp_path / "p.json"))
    with pytest.raises(ConfigError, match="AUTH_TOKENS_FILE: cannot read"):
        load_policy(settings(auth_tokens_file=tmp_path / "missing.json"))
