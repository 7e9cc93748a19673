"""Transport security: TLS from a certificate and key, mutual TLS with a client CA,
and start-up errors that name the variable at fault."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from ruleiq.data.v1 import user_pb2, user_pb2_grpc

from repositories.config import ConfigError
from repositories.database import Database
from service.config import load_config
from service.security import server_credentials

from .apps import running, settings
from .certs import Authority, Issued, tls
from .health import health_stub

TIMEOUT = 5


@pytest.fixture
def url(database: Database, database_url: str) -> str:
    """The shared test database, migrated."""
    return database_url


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def server_cert(ca: Authority) -> Issued:
    return ca.issue("ruleiq-data", server=True)


@pytest.fixture(scope="module")
def client_cert(ca: Authority) -> Issued:
    return ca.issue("billing", server=False)


def secure(port: int, ca: Authority, client: Issued | None = None) -> grpc.aio.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.cert,
        private_key=client.key if client else None,
        certificate_chain=client.cert if client else None,
    )
    return grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials)


async def create_user(channel: grpc.aio.Channel, email: str) -> user_pb2.User:
    stub = user_pb2_grpc.UserServiceStub(channel)
    request = user_pb2.CreateUserRequest(user=user_pb2.User(email=email, full_name="TLS"))
    return await stub.CreateUser(request, timeout=TIMEOUT)


async def users_with(channel: grpc.aio.Channel, email: str) -> list[user_pb2.User]:
    stub = user_pb2_grpc.UserServiceStub(channel)
    request = user_pb2.ListUsersRequest(filter=f'email = "{email}"')
    return list((await stub.ListUsers(request, timeout=TIMEOUT)).users)


async def test_plaintext_is_refused_and_never_served_when_tls_is_on(
    url: str, ca: Authority, server_cert: Issued
) -> None:
    email = f"plain-{uuid.uuid4().hex[:10]}@example.com"
    async with running(url, **tls(server_cert)) as app:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as plain:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await create_user(plain, email)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        async with secure(app.port, ca) as channel:
            assert await users_with(channel, email) == []


async def test_tls_call_is_served(url: str, ca: Authority, server_cert: Issued) -> None:
    email = f"tls-{uuid.uuid4().hex[:10]}@example.com"
    async with running(url, **tls(server_cert)) as app, secure(app.port, ca) as channel:
        created = await create_user(channel, email)
        assert [u.id for u in await users_with(channel, email)] == [created.id]
        health = health_stub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service="readiness"), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_client_that_does_not_trust_the_server_ca_is_refused(
    url: str, server_cert: Issued, tmp_path: Path
) -> None:
    other = Authority(tmp_path, "other CA")
    async with running(url, **tls(server_cert)) as app, secure(app.port, other) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await users_with(channel, "nobody@example.com")
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_refuses_a_client_without_a_certificate(
    url: str, ca: Authority, server_cert: Issued
) -> None:
    email = f"nocert-{uuid.uuid4().hex[:10]}@example.com"
    async with running(url, **tls(server_cert, client_ca=ca)) as app:
        async with secure(app.port, ca) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await create_user(channel, email)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_refuses_a_certificate_from_an_unknown_ca(
    url: str, ca: Authority, server_cert: Issued, tmp_path: Path
) -> None:
    stranger = Authority(tmp_path, "stranger CA").issue("billing", server=False)
    async with running(url, **tls(server_cert, client_ca=ca)) as app:
        async with secure(app.port, ca, stranger) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await users_with(channel, "nobody@example.com")
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_serves_a_client_with_a_good_certificate(
    url: str, ca: Authority, server_cert: Issued, client_cert: Issued
) -> None:
    email = f"mtls-{uuid.uuid4().hex[:10]}@example.com"
    async with (
        running(url, **tls(server_cert, client_ca=ca)) as app,
        secure(app.port, ca, client_cert) as channel,
    ):
        created = await create_user(channel, email)
        assert [u.id for u in await users_with(channel, email)] == [created.id]


@pytest.mark.parametrize(
    ("options", "variable"),
    [
        ({"grpc_tls_cert_file": "CERT"}, "GRPC_TLS_KEY_FILE"),
        ({"grpc_tls_key_file": "KEY"}, "GRPC_TLS_CERT_FILE"),
        ({"grpc_tls_client_ca_file": "CERT"}, "GRPC_TLS_CLIENT_CA_FILE"),
        ({"grpc_tls_cert_file": "MISSING", "grpc_tls_key_file": "KEY"}, "GRPC_TLS_CERT_FILE"),
        ({"grpc_tls_cert_file": "CERT", "grpc_tls_key_file": "MISSING"}, "GRPC_TLS_KEY_FILE"),
        (
            {
                "grpc_tls_cert_file": "CERT",
                "grpc_tls_key_file": "KEY",
                "grpc_tls_client_ca_file": "NOTPEM",
            },
            "GRPC_TLS_CLIENT_CA_FILE",
        ),
    ],
)
def test_bad_tls_settings_are_a_config_error_naming_the_variable(
    server_cert: Issued, tmp_path: Path, options: dict[str, str], variable: str
) -> None:
    (tmp_path / "not.pem").write_text("hello")
    files = {
        "CERT": server_cert.cert_file,
        "KEY": server_cert.key_file,
        "MISSING": tmp_path / "missing.pem",
        "NOTPEM": tmp_path / "not.pem",
    }
    with pytest.raises(ConfigError) as error:
        server_credentials(settings(**{k: files[v] for k, v in options.items()}))
    assert str(error.value).startswith(f"{variable}:")
    assert "PRIVATE KEY" not in str(error.value)


def test_an_unreadable_key_stops_start_up_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, server_cert: Issued, tmp_path: Path
) -> None:
    monkeypatch.setenv("GRPC_TLS_CERT_FILE", str(server_cert.cert_file))
    monkeypatch.setenv("GRPC_TLS_KEY_FILE", str(tmp_path))  # a directory: not readable as a file
    with pytest.raises(ConfigError, match="GRPC_TLS_KEY_FILE: cannot read"):
        load_config()
