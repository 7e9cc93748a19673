"""Errors grpc would answer on its own, through the real server: which of them the
service answers with ErrorInfo, and the ones only grpc core sees, as documented."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from ruleiq.data.v1 import user_pb2, user_pb2_grpc

from service.server import App

from .api import TIMEOUT, expect_error, failure_of, service_name

USERS = service_name("User")
UNIMPLEMENTED = grpc.StatusCode.UNIMPLEMENTED


async def test_an_unknown_method_of_a_known_service_is_unimplemented_with_error_info(
    channel: grpc.aio.Channel,
) -> None:
    call = channel.unary_unary(
        f"/{USERS}/EraseEverything", request_serializer=None, response_deserializer=None
    )
    failure = await expect_error(call(b"", timeout=TIMEOUT), UNIMPLEMENTED, "UNKNOWN_METHOD")
    assert failure.info is not None
    assert dict(failure.info.metadata) == {"service": USERS, "method": "EraseEverything"}


async def test_an_unknown_service_is_unimplemented_with_error_info(
    channel: grpc.aio.Channel,
) -> None:
    name = f"no.such.Service{uuid.uuid4().hex[:6]}"
    call = channel.unary_unary(f"/{name}/Get", request_serializer=None, response_deserializer=None)
    failure = await expect_error(call(b"", timeout=TIMEOUT), UNIMPLEMENTED, "UNKNOWN_SERVICE")
    assert failure.info is not None
    assert dict(failure.info.metadata) == {"service": name}


@pytest.mark.parametrize("shape", ["unary_stream", "stream_unary", "stream_stream"])
async def test_an_unknown_method_called_as_a_stream_is_answered_at_once(
    channel: grpc.aio.Channel, shape: str
) -> None:
    # No request is read: a caller that sends nothing, or never half-closes, still
    # gets its answer (well before the deadline; a hang would be DEADLINE_EXCEEDED).
    multi_callable = getattr(channel, shape)(f"/{USERS}/Watch")
    requests = b"" if shape == "unary_stream" else iter(())
    call = multi_callable(requests, timeout=TIMEOUT)
    await expect_error(answer(call), UNIMPLEMENTED, "UNKNOWN_METHOD")


async def answer(call: Any) -> None:
    """Await a call of any shape to its end."""
    if hasattr(call, "__aiter__"):
        async for _ in call:
            pass
    else:
        await call


async def test_a_very_long_unknown_name_is_clipped_in_the_error(
    channel: grpc.aio.Channel,
) -> None:
    call = channel.unary_unary(
        f"/{USERS}/{'x' * 5000}", request_serializer=None, response_deserializer=None
    )
    failure = await expect_error(call(b"", timeout=TIMEOUT), UNIMPLEMENTED, "UNKNOWN_METHOD")
    assert failure.info is not None
    assert len(failure.info.metadata["method"]) <= 160
    assert len(failure.message) < 400


async def test_a_request_past_the_servers_receive_limit_is_refused_by_grpc_without_details(
    grpc_app: App,
) -> None:
    """Documented exception: grpc core refuses the message before any handler runs,
    with RESOURCE_EXHAUSTED and its own text; the service cannot add ErrorInfo."""
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{grpc_app.port}", options=[("grpc.max_send_message_length", -1)]
    ) as sender:
        users = user_pb2_grpc.UserServiceStub(sender)
        huge = user_pb2.User(email="big@example.com", full_name="x" * (5 << 20))
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await users.CreateUser(user_pb2.CreateUserRequest(user=huge), timeout=TIMEOUT)
    failure = failure_of(error.value)
    assert failure.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in failure.message
    assert failure.info is None
