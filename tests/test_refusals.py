"""Calls the server refuses before they reach a handler (no credentials, no
permission, too many calls in flight, shutting down) are what an on-call engineer
looks for under overload: each is counted in the call metrics with its code and
logged in the call log with its reason, once."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable

import grpc
import pytest
from ruleiq.data.v1 import user_pb2, user_pb2_grpc

from repositories.database import Database
from service.logs import JsonFormatter

from .apps import running
from .probes import (
    Samples,
    lock_user_row,
    moved,
    now,
    scrape,
    scrape_once,
    value,
    wait_for,
)
from .tokens import POLICY, TOKENS, bearer

USERS = "ruleiq.data.v1.UserService"
CALLS_TOTAL = "ruleiq_grpc_calls_total"
TIMEOUT = 5


async def refused_with(call: Awaitable[object], code: grpc.StatusCode) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    assert error.value.code() == code, error.value.details()


REFUSALS = 5


def refused_in(after: Samples, before: Samples) -> float:
    return sum(
        moved(after, before, CALLS_TOTAL, **labels)
        for (name, pairs) in after
        if name == CALLS_TOTAL
        and (labels := dict(pairs))["service"] == USERS
        and labels["code"] != "OK"
    )


def call_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The call log as it is written: one JSON object per call."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "service.calls"]


async def test_every_refusal_is_counted_with_its_code_and_logged_with_its_reason(
    database: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="service.calls")
    async with running(
        database_url,
        metrics_port=0,
        metrics_host="127.0.0.1",
        auth_tokens=json.dumps(POLICY),
        grpc_max_concurrent_calls=1,
    ) as app:
        lock = await database.async_engine.connect()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                users = user_pb2_grpc.UserServiceStub(channel)
                writer = bearer("writer")
                user = await users.CreateUser(
                    user_pb2.CreateUserRequest(
                        user=user_pb2.User(email=f"{secrets.token_hex(6)}@refused.io")
                    ),
                    metadata=writer,
                    timeout=TIMEOUT,
                )
                get = user_pb2.GetUserRequest(id=user.id)
                before = await scrape(app)
                await refused_with(
                    users.GetUser(get, timeout=TIMEOUT), grpc.StatusCode.UNAUTHENTICATED
                )
                await refused_with(
                    users.GetUser(
                        get, metadata=(("authorization", "Bearer wrong"),), timeout=TIMEOUT
                    ),
                    grpc.StatusCode.UNAUTHENTICATED,
                )
                await refused_with(
                    users.CreateUser(
                        user_pb2.CreateUserRequest(user=user_pb2.User(email="r@refused.io")),
                        metadata=bearer("reader"),
                        timeout=TIMEOUT,
                    ),
                    grpc.StatusCode.PERMISSION_DENIED,
                )
                # One call held in flight on a row lock fills the cap of 1.
                await lock_user_row(lock, user.id)
                update = user_pb2.UpdateUserRequest(user=user_pb2.User(id=user.id, full_name="h"))
                held = asyncio.ensure_future(
                    users.UpdateUser(update, metadata=writer, timeout=TIMEOUT)
                )
                await wait_for(lambda: now(app.admission.in_flight == 1), TIMEOUT)
                await refused_with(
                    users.GetUser(get, metadata=writer, timeout=TIMEOUT),
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                )
                # A real drain: it waits for the held call while refusing new ones.
                stopping = asyncio.ensure_future(app.stop(grace=TIMEOUT))
                await wait_for(lambda: now(app.admission.draining), TIMEOUT)
                await refused_with(
                    users.GetUser(get, metadata=writer, timeout=TIMEOUT),
                    grpc.StatusCode.UNAVAILABLE,
                )
                # Counted and logged in one step, so once counted, logged too.
                after = await scrape_once(app, lambda s: refused_in(s, before) >= REFUSALS)
                await lock.rollback()
                assert (await held).full_name == "h"
                await stopping
        finally:
            await lock.close()

    def counted(method: str, code: str) -> float:
        return moved(after, before, CALLS_TOTAL, service=USERS, method=method, code=code)

    assert counted("GetUser", "UNAUTHENTICATED") == 2
    assert counted("CreateUser", "PERMISSION_DENIED") == 1
    assert counted("GetUser", "RESOURCE_EXHAUSTED") == 1
    assert counted("GetUser", "UNAVAILABLE") == 1
    # Each refused call counted once; the held call is not finished yet.
    assert (
        sum(
            value(after, CALLS_TOTAL, service=USERS, method=m, code=c)
            - value(before, CALLS_TOTAL, service=USERS, method=m, code=c)
            for m in ("GetUser", "CreateUser", "UpdateUser")
            for c in (
                "OK",
                "UNAUTHENTICATED",
                "PERMISSION_DENIED",
                "RESOURCE_EXHAUSTED",
                "UNAVAILABLE",
            )
        )
        == 5
    )

    refusals = [
        (line["code"], line.get("reason"), line.get("caller")) for line in call_lines(caplog)
    ]
    assert refusals == [
        ("UNAUTHENTICATED", "MISSING_CREDENTIALS", None),
        ("UNAUTHENTICATED", "INVALID_CREDENTIALS", None),
        ("PERMISSION_DENIED", "NOT_ALLOWED", "reader"),
        ("RESOURCE_EXHAUSTED", "TOO_MANY_CALLS", "writer"),
        ("UNAVAILABLE", "SHUTTING_DOWN", "writer"),
    ]
    for line in call_lines(caplog):
        assert line["method"] in (f"/{USERS}/GetUser", f"/{USERS}/CreateUser")
        assert len(str(line["request_id"])) == 32
        assert str(line["peer"]).startswith("ipv4:127.0.0.1:")
    assert all(token not in caplog.text for token in TOKENS.values())
