"""Replies fit GRPC_MAX_RESPONSE_BYTES, so a client with grpc's default receive limit
(4 MiB) can read every one: List pages of large rows are cut short and still visit
every row once, a BatchGet that cannot fit and a row that alone is too large are
clear errors, and a write that would make such a row is refused before it commits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import struct_pb2
from ruleiq.data.v1 import chat_message_pb2

from service.encoding import PageEncoder
from service.settings import ServiceSettings

from .api import TIMEOUT, Api, all_pages, conversation_with, expect_error
from .apps import running

MiB = 1024 * 1024
LIMIT = ServiceSettings().grpc_max_response_bytes
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


async def test_a_page_of_large_rows_is_cut_to_fit_and_paging_visits_every_row_once(
    api: Api,
) -> None:
    # Three 2 MiB messages are 6 MiB, past the default client's 4 MiB; small ones
    # around them fill pages up to the limit.
    sizes = [1000, 2 * MiB, 2 * MiB, 500, 2 * MiB, 1000]
    conversation_id, ids = await conversation_with(api, sizes)
    pages = await all_pages(api.ChatMessage, conversation_id)
    seen = [m.id for page in pages for m in page.chat_messages]
    assert seen == ids
    assert [len(page.chat_messages) for page in pages] == [2, 2, 2]
    assert all(page.ByteSize() <= LIMIT for page in pages)
    assert all(page.total_size == len(ids) for page in pages)
    # A page cut short says so only by its token: a small page_size still pages.
    assert [
        m.id for p in await all_pages(api.ChatMessage, conversation_id, 1) for m in p.chat_messages
    ] == ids


async def test_a_batch_get_that_cannot_fit_is_failed_precondition_saying_how_many_fit(
    api: Api,
) -> None:
    _, ids = await conversation_with(api, [2 * MiB, 2 * MiB, 2 * MiB])
    failure = await expect_error(
        api.ChatMessage.BatchGetChatMessages(
            chat_message_pb2.BatchGetChatMessagesRequest(ids=ids), timeout=TIMEOUT
        ),
        FAILED_PRECONDITION,
        "RESPONSE_TOO_LARGE",
    )
    assert failure.info is not None
    assert dict(failure.info.metadata) == {
        "resource": "chat_messages",
        "limit_bytes": str(LIMIT),
        "ids_that_fit": "1",
    }
    assert "ask for fewer ids" in failure.message
    one = await api.ChatMessage.BatchGetChatMessages(
        chat_message_pb2.BatchGetChatMessagesRequest(ids=ids[:1]), timeout=TIMEOUT
    )
    assert [m.id for m in one.chat_messages] == ids[:1]


@pytest.fixture
async def small_limit_api(database_url: str) -> AsyncIterator[Api]:
    """A server of its own whose replies hold at most 512 KiB."""
    async with (
        running(database_url, grpc_max_response_bytes=512 * 1024) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        yield Api(channel)


async def test_a_row_larger_than_the_limit_is_a_clear_error_on_every_read(
    api: Api, small_limit_api: Api
) -> None:
    # Written through the default server, read through one with a lower limit.
    conversation_id, (small, large) = await conversation_with(api, [10, 600 * 1024])
    reads = small_limit_api.ChatMessage
    for call in (
        reads.GetChatMessage(chat_message_pb2.GetChatMessageRequest(id=large), timeout=TIMEOUT),
        reads.BatchGetChatMessages(
            chat_message_pb2.BatchGetChatMessagesRequest(ids=[large]), timeout=TIMEOUT
        ),
        reads.ListChatMessages(
            chat_message_pb2.ListChatMessagesRequest(
                filter=f'conversation_id = "{conversation_id}" AND sequence_number >= 2'
            ),
            timeout=TIMEOUT,
        ),
    ):
        failure = await expect_error(call, FAILED_PRECONDITION, "RESPONSE_TOO_LARGE")
        assert failure.info is not None
        assert failure.info.metadata["id"] == large
        assert failure.info.metadata["limit_bytes"] == str(512 * 1024)
        assert int(failure.info.metadata["size_bytes"]) > 600 * 1024
    # The page before it still reads, and its token leads to the large row.
    first = await reads.ListChatMessages(
        chat_message_pb2.ListChatMessagesRequest(filter=f'conversation_id = "{conversation_id}"'),
        timeout=TIMEOUT,
    )
    assert [m.id for m in first.chat_messages] == [small]
    assert first.next_page_token


async def test_a_write_that_would_make_a_row_too_large_is_refused_and_not_written(
    api: Api, small_limit_api: Api
) -> None:
    parent = await api.make("ChatMessage")
    big = "z" * (600 * 1024)
    await expect_error(
        small_limit_api.create(
            "ChatMessage",
            conversation_id=parent.conversation_id,
            role=chat_message_pb2.CHAT_MESSAGE_ROLE_USER,
            content=big,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "RESPONSE_TOO_LARGE",
        field_name="chat_message",
    )
    user = await small_limit_api.make("User")
    await expect_error(
        small_limit_api.User.UpdateUser(
            api.pb("User").UpdateUserRequest(user=api.pb("User").User(id=user.id, full_name=big)),
            timeout=TIMEOUT,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "RESPONSE_TOO_LARGE",
        field_name="user",
    )
    pages = await all_pages(api.ChatMessage, parent.conversation_id)
    assert [m.id for page in pages for m in page.chat_messages] == [parent.id]
    assert (await api.User.GetUser(api.pb("User").GetUserRequest(id=user.id))).full_name != big


def test_the_encoded_reply_is_what_protobuf_itself_would_send() -> None:
    items = [
        chat_message_pb2.ChatMessage(
            id="a", content="x" * 300, message_metadata=struct_pb2.Struct()
        ),
        chat_message_pb2.ChatMessage(id="b", content=""),
        chat_message_pb2.ChatMessage(),
        # Around the sizes whose prefixes are made once, at start-up.
        *(chat_message_pb2.ChatMessage(content="q" * n) for n in (16_380, 16_381, 40_000)),
    ]
    response = chat_message_pb2.ListChatMessagesResponse
    encoder = PageEncoder(response, "chat_messages")
    for token, total in (("", 0), ("t" * 200, 3), ("abc", 70000)):
        encoded = b"".join(encoder.prefix(d) + d for d in (m.SerializeToString() for m in items))
        encoded += encoder.tail(token, total)
        expected = response(chat_messages=items, next_page_token=token, total_size=total)
        assert encoded == expected.SerializeToString()
