"""Start-up configuration is read once: the files the settings name (certificates,
the callers' policy) are read by load_config, and the server it is handed to reads
none of them again."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import grpc
import pytest
from ruleiq.data.v1 import user_pb2, user_pb2_grpc

from repositories.config import ConfigError
from repositories.database import Database
from service.config import Config, load_config

from .apps import running
from .certs import Authority

TIMEOUT = 5
TOKEN = secrets.token_urlsafe(24)


def _configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Config, Authority]:
    """A configuration with TLS and a policy file, loaded; then the files are gone."""
    ca = Authority(tmp_path)
    server = ca.issue("ruleiq-data", server=True)
    policy = tmp_path / "callers.json"
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    policy.write_text(json.dumps({"reader": {"token_sha256": digest, "allow": ["read"]}}))
    monkeypatch.setenv("GRPC_TLS_CERT_FILE", str(server.cert_file))
    monkeypatch.setenv("GRPC_TLS_KEY_FILE", str(server.key_file))
    monkeypatch.setenv("AUTH_TOKENS_FILE", str(policy))
    config = load_config()
    for path in (server.cert_file, server.key_file, policy):
        path.unlink()
    return config, ca


async def test_a_server_handed_the_config_serves_tls_and_auth_without_the_files(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, ca = _configured(tmp_path, monkeypatch)
    assert config.access.transport == "TLS"
    async with running(database_url, app_options={"access": config.access}) as app:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca.cert)
        async with grpc.aio.secure_channel(f"127.0.0.1:{app.port}", credentials) as channel:
            stub = user_pb2_grpc.UserServiceStub(channel)
            request = user_pb2.ListUsersRequest(page_size=1)
            await stub.ListUsers(
                request, metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=TIMEOUT
            )
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ListUsers(request, timeout=TIMEOUT)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_server_given_only_settings_reads_their_files_itself(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configured(tmp_path, monkeypatch)
    with pytest.raises(ConfigError) as error:
        async with running(database_url):
            pass
    assert "GRPC_TLS_CERT_FILE: cannot read" in str(error.value)
    assert "AUTH_TOKENS_FILE: cannot read" in str(error.value)
