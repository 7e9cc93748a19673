"""The keyword arguments a driver's connect would receive, caught on their way
to it: what the settings make of a URL, with no server needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine


class _Caught(Exception):
    """Raised in place of connecting, once the driver's arguments are seen."""


def _catch_connect(engine: Engine, seen: dict[str, Any]) -> Callable[..., None]:
    def grab(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise _Caught

    event.listen(engine, "do_connect", grab)
    return grab


def sync_connect_arguments(engine: Engine) -> dict[str, Any]:
    """The keyword arguments psycopg2.connect would receive."""
    seen: dict[str, Any] = {}
    grab = _catch_connect(engine, seen)
    try:
        with pytest.raises(_Caught):
            engine.connect()
    finally:
        event.remove(engine, "do_connect", grab)
    return seen


async def async_connect_arguments(engine: AsyncEngine) -> dict[str, Any]:
    """The keyword arguments asyncpg.connect would receive."""
    seen: dict[str, Any] = {}
    grab = _catch_connect(engine.sync_engine, seen)
    try:
        with pytest.raises(_Caught):
            await engine.connect()
    finally:
        event.remove(engine.sync_engine, "do_connect", grab)
    return seen
