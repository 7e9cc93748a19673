"""Several writes as one statement (repositories/together.py), on a real PostgreSQL:
the rows come back whole and typed, in order; a write that fails, or an UPDATE that
matches no row, writes nothing; numbered rows take dense numbers or are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from repositories import models
from repositories.database import Database
from repositories.ids import uuid7
from repositories.repository import NextNumber, Repository
from repositories.together import Refused, Statement
from repositories.unit_of_work import Transaction

from .isolation import savepoint
from .rows import row

USERS = Repository(models.User, hidden=["hashed_password"])
CONVERSATIONS = Repository(models.ChatConversation)
MESSAGES = Repository(models.ChatMessage)
PROFILES = Repository(models.BusinessProfile)


async def _conversation(transaction: Transaction) -> dict[str, Any]:
    user = await USERS.create(transaction, row("users"))
    profile = await PROFILES.create(transaction, row("business_profiles", {"user_id": user["id"]}))
    parents = {"user_id": user["id"], "business_profile_id": profile["id"]}
    return dict(await CONVERSATIONS.create(transaction, row("chat_conversations", parents)))


def _message(conversation_id: uuid.UUID, content: str) -> dict[str, Any]:
    values = row("chat_messages", {"conversation_id": conversation_id}, content=content)
    return {**values, "id": uuid7(), "sequence_number": NextNumber("conversation_id")}


async def _count(transaction: Transaction, sql: str, *arguments: Any) -> int:
    found: int = await transaction.fetchval(sql, *arguments)
    return found


async def test_writes_of_two_tables_come_back_whole_typed_and_in_order(
    session: Transaction,
) -> None:
    chat = await _conversation(session)
    statement = Statement()
    statement.create(MESSAGES, _message(chat["id"], "first"))
    statement.update(CONVERSATIONS, chat["id"], {"title": "Renamed"}, chat["etag"])
    statement.create(MESSAGES, _message(chat["id"], "second"))
    first, renamed, second = await statement.run(session, {"chat_conversations": {chat["id"]}})
    assert (first["content"], first["sequence_number"]) == ("first", 1)
    assert (second["content"], second["sequence_number"]) == ("second", 2)
    assert first["role"] is models.ChatMessageRole.USER
    assert isinstance(first["created_at"], dt.datetime)
    assert set(first) == set(MESSAGES.returned_names)
    assert (renamed["id"], renamed["title"]) == (chat["id"], "Renamed")
    assert renamed["status"] is models.ChatConversationStatus.ACTIVE
    assert await CONVERSATIONS.get(session, chat["id"]) == renamed


@pytest.mark.parametrize("missing", ["stale etag", "no such row"])
async def test_an_update_matching_no_row_writes_nothing(session: Transaction, missing: str) -> None:
    chat = await _conversation(session)
    target = chat["id"] if missing == "stale etag" else uuid7()
    statement = Statement()
    message = _message(chat["id"], "never")
    statement.create(MESSAGES, message)
    statement.update(CONVERSATIONS, target, {"title": "Never"}, "1")
    with pytest.raises(Refused):
        async with savepoint(session):
            await statement.run(session, {})
    assert (
        await _count(session, "SELECT count(*) FROM chat_messages WHERE id = $1", message["id"])
        == 0
    )
    assert (await CONVERSATIONS.get(session, chat["id"]))["title"] == chat["title"]


async def test_only_updates_that_all_miss_are_refused_too(session: Transaction) -> None:
    """No row at all comes back: the count is checked even then."""
    chats = [await _conversation(session) for _ in range(2)]
    statement = Statement()
    for chat in chats:
        statement.update(CONVERSATIONS, chat["id"], {"title": "Never"}, "1")
    with pytest.raises(Refused):
        async with savepoint(session):
            await statement.run(session, {})


async def test_a_failing_write_refuses_the_statement_and_writes_nothing(
    session: Transaction,
) -> None:
    chat = await _conversation(session)
    taken = (await USERS.get(session, chat["user_id"]))["email"]
    statement = Statement()
    statement.update(CONVERSATIONS, chat["id"], {"title": "Never"}, chat["etag"])
    statement.create(USERS, {**row("users", email=taken), "id": uuid7()})
    with pytest.raises(Refused):
        async with savepoint(session):
            await statement.run(session, {})
    assert (await CONVERSATIONS.get(session, chat["id"]))["etag"] == chat["etag"]


async def test_a_number_taken_while_the_statement_waited_refuses_it(database: Database) -> None:
    """The statement's snapshot is older than what it waited for: its number clashes
    with the one committed meanwhile, and it is refused rather than numbered twice."""
    async with database.unit_of_work() as uow:
        chat = await _conversation(uow.transaction)
        await MESSAGES.create(uow.transaction, _message(chat["id"], "one"))
        await uow.commit()
    async with database.async_engine.connect() as other:
        await other.execute(
            text("SELECT id FROM chat_conversations WHERE id = :id FOR UPDATE"), {"id": chat["id"]}
        )
        await other.execute(
            text(
                "INSERT INTO chat_messages (id, conversation_id, role, content, sequence_number)"
                " VALUES (:id, :chat, 'user', 'meanwhile', 2)"
            ),
            {"id": uuid7(), "chat": chat["id"]},
        )

        async def together() -> None:
            statement = Statement()
            statement.create(MESSAGES, _message(chat["id"], "late"))
            statement.create(MESSAGES, _message(chat["id"], "later"))
            async with database.unit_of_work(single_statement=True) as uow:
                await statement.run(uow.transaction, {"chat_conversations": {chat["id"]}})
                await uow.commit()

        pending = asyncio.ensure_future(together())
        await asyncio.sleep(0.3)
        assert not pending.done(), "the statement did not wait for the conversation's lock"
        await other.commit()
        with pytest.raises(Refused):
            await pending
    async with database.unit_of_work(single_statement=True) as uow:
        numbers = await uow.transaction.fetch(
            "SELECT sequence_number FROM chat_messages WHERE conversation_id = $1 "
            "ORDER BY sequence_number",
            chat["id"],
        )
    assert [r["sequence_number"] for r in numbers] == [1, 2]
