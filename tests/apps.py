"""The one way tests start an in-process server: an App of its own, with settings
of its own, on a database the test names."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from repositories.cluster import Cluster
from repositories.config import DatabaseSettings
from service.server import App
from service.settings import ServiceSettings


def db_settings(**overrides: object) -> DatabaseSettings:
    """DatabaseSettings from field values only: the environment is not read."""
    return DatabaseSettings.model_validate(overrides)


def settings(**overrides: Any) -> ServiceSettings:
    """ServiceSettings for a test server: loopback, a free port, a quick readiness check."""
    base: dict[str, Any] = {
        "grpc_host": "127.0.0.1",
        "grpc_port": 0,
        "readiness_interval_seconds": 0.5,
    }
    return ServiceSettings(**{**base, **overrides})


@contextlib.asynccontextmanager
async def running(
    database_url: str,
    app_options: Mapping[str, Any] | None = None,
    database_options: Mapping[str, Any] | None = None,
    *,
    replicas: list[str] | None = None,
    grace: float = 1.0,
    **overrides: Any,
) -> AsyncIterator[App]:
    """An App started with `overrides` (ServiceSettings fields), `database_options`
    (DatabaseSettings fields) and `app_options` (App's own arguments), stopped with
    `grace` afterwards, even when the test stopped it itself (a second stop is
    harmless, and a test that failed before its own stop still frees the port)."""
    cluster = Cluster.from_settings(
        db_settings(**(database_options or {})), database_url, replicas=replicas
    )
    app = App(settings(**overrides), cluster, **(app_options or {}))
    await app.start()
    try:
        yield app
    finally:
        await app.stop(grace=grace)
