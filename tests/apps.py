"""A server of a test's own, with settings of its own, on the shared test database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from repositories.cluster import Cluster
from repositories.database import Database
from service.server import App
from service.settings import ServiceSettings

from .conftest import db_settings


def settings(**overrides: Any) -> ServiceSettings:
    base: dict[str, Any] = {
        "grpc_host": "127.0.0.1",
        "grpc_port": 0,
        "readiness_interval_seconds": 0.5,
    }
    return ServiceSettings(**{**base, **overrides})


@contextlib.asynccontextmanager
async def running(
    database_url: str, app_options: Any = None, database_options: Any = None, **overrides: Any
) -> AsyncIterator[App]:
    """An App started with `overrides` (ServiceSettings fields) and
    `database_options` (DatabaseSettings fields), stopped afterwards."""
    database = Database(db_settings(**(database_options or {})), database_url)
    app = App(settings(**overrides), Cluster(database), **(app_options or {}))
    await app.start()
    try:
        yield app
    finally:
        await app.stop(grace=1)
