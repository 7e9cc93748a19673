"""DataService.Commit through the real server and the generated client: several
writes in one transaction, all or nothing, with errors that name the mutation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from ruleiq.data.v1 import (
    business_profile_pb2,
    chat_conversation_pb2,
    chat_message_pb2,
    compliance_framework_pb2,
    data_service_pb2,
    data_service_pb2_grpc,
    integration_health_log_pb2,
    integration_pb2,
    user_pb2,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from repositories import commits
from repositories.database import Database
from repositories.unit_of_work import Transaction

from .api import TIMEOUT, Api, expect_error, unindexable, valid_fields
from .apps import running
from .rows import unique

Mutation = data_service_pb2.Mutation
USER = chat_message_pb2.CHAT_MESSAGE_ROLE_USER
ASSISTANT = chat_message_pb2.CHAT_MESSAGE_ROLE_ASSISTANT


def data_service(api: Api) -> data_service_pb2_grpc.DataServiceAsyncStub:
    return data_service_pb2_grpc.DataServiceStub(api.channel)


async def commit(
    api: Api, *mutations: Mutation, request_id: str = "", validate_only: bool = False
) -> data_service_pb2.CommitResponse:
    request = data_service_pb2.CommitRequest(
        mutations=mutations, request_id=request_id, validate_only=validate_only
    )
    response: data_service_pb2.CommitResponse = await data_service(api).Commit(
        request, timeout=TIMEOUT
    )
    return response


def new_id() -> str:
    return str(uuid.uuid4())


def create_user(user_id: str, email: str | None = None) -> Mutation:
    user = user_pb2.User(email=email or f"{unique('user')}@example.com", full_name="A User")
    return Mutation(create_user=user_pb2.CreateUserRequest(user=user, user_id=user_id))


def create_profile(profile_id: str, user_id: str) -> Mutation:
    profile = business_profile_pb2.BusinessProfile(
        user_id=user_id, company_name=unique("co"), industry="fintech", employee_count=10
    )
    request = business_profile_pb2.CreateBusinessProfileRequest(
        business_profile=profile, business_profile_id=profile_id
    )
    return Mutation(create_business_profile=request)


def create_conversation(conversation_id: str, user_id: str, profile_id: str) -> Mutation:
    conversation = chat_conversation_pb2.ChatConversation(
        user_id=user_id, business_profile_id=profile_id, title="Onboarding"
    )
    request = chat_conversation_pb2.CreateChatConversationRequest(
        chat_conversation=conversation, chat_conversation_id=conversation_id
    )
    return Mutation(create_chat_conversation=request)


def append(conversation_id: str, content: str, role: int = USER) -> Mutation:
    message = chat_message_pb2.ChatMessage(
        conversation_id=conversation_id,
        role=role,  # type: ignore[arg-type]
        content=content,
    )
    return Mutation(
        create_chat_message=chat_message_pb2.CreateChatMessageRequest(chat_message=message)
    )


def retitle(conversation: chat_conversation_pb2.ChatConversation, title: str) -> Mutation:
    request = chat_conversation_pb2.UpdateChatConversationRequest(
        chat_conversation=chat_conversation_pb2.ChatConversation(id=conversation.id, title=title),
        update_mask=field_mask_pb2.FieldMask(paths=["title"]),
        etag=conversation.etag,
    )
    return Mutation(update_chat_conversation=request)


async def conversation(api: Api) -> chat_conversation_pb2.ChatConversation:
    made: chat_conversation_pb2.ChatConversation = await api.make("ChatConversation")
    return made


async def messages_of(api: Api, conversation_id: str) -> list[chat_message_pb2.ChatMessage]:
    response = await api.ChatMessage.ListChatMessages(
        chat_message_pb2.ListChatMessagesRequest(
            filter=f'conversation_id = "{conversation_id}"', page_size=1000
        ),
        timeout=TIMEOUT,
    )
    return list(response.chat_messages)


async def user_exists(api: Api, user_id: str) -> bool:
    try:
        await api.User.GetUser(user_pb2.GetUserRequest(id=user_id), timeout=TIMEOUT)
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        return False
    return True


async def test_chat_send_writes_both_messages_and_touches_the_conversation_at_once(
    api: Api,
) -> None:
    chat = await conversation(api)
    response = await commit(
        api,
        append(chat.id, "What does ISO 27001 ask of access control?"),
        append(chat.id, "Annex A.9 covers it.", ASSISTANT),
        retitle(chat, "Access control"),
    )
    kinds = [result.WhichOneof("result") for result in response.results]
    assert kinds == ["chat_message", "chat_message", "chat_conversation"]
    asked, answered, touched = response.results
    assert (asked.chat_message.sequence_number, answered.chat_message.sequence_number) == (1, 2)
    assert touched.chat_conversation.title == "Access control"
    assert touched.chat_conversation.etag != chat.etag
    assert await messages_of(api, chat.id) == [asked.chat_message, answered.chat_message]
    stored = await api.ChatConversation.GetChatConversation(
        chat_conversation_pb2.GetChatConversationRequest(id=chat.id), timeout=TIMEOUT
    )
    assert stored == touched.chat_conversation


async def test_rows_created_in_a_commit_refer_to_each_other_by_chosen_ids(api: Api) -> None:
    user_id, profile_id, conversation_id = new_id(), new_id(), new_id()
    response = await commit(
        api,
        create_user(user_id),
        create_profile(profile_id, user_id),
        create_conversation(conversation_id, user_id, profile_id),
        append(conversation_id, "Hello"),
    )
    assert response.results[0].user.id == user_id
    assert response.results[1].business_profile.user_id == user_id
    assert response.results[2].chat_conversation.id == conversation_id
    assert response.results[3].chat_message.sequence_number == 1
    assert await user_exists(api, user_id)


async def test_a_delete_answers_empty_and_force_deletes_dependents(api: Api) -> None:
    chat = await conversation(api)
    await commit(api, append(chat.id, "one"), append(chat.id, "two"))
    profile_id = chat.business_profile_id
    delete = Mutation(
        delete_business_profile=business_profile_pb2.DeleteBusinessProfileRequest(
            id=profile_id, force=True
        )
    )
    response = await commit(api, delete)
    assert response.results[0].WhichOneof("result") == "deleted"
    assert await messages_of(api, chat.id) == []


# Each breaks the third of five mutations in one of four ways: a field the
# request gets wrong, a stale etag, a parent that does not exist, a unique clash.
Breaker = Callable[[Api, str], Awaitable[tuple[Mutation, grpc.StatusCode, str]]]


async def _bad_field(api: Api, user_id: str) -> tuple[Mutation, grpc.StatusCode, str]:
    chat = await conversation(api)
    message = chat_message_pb2.ChatMessage(conversation_id=chat.id, role=USER)  # no content
    request = chat_message_pb2.CreateChatMessageRequest(chat_message=message)
    return (
        Mutation(create_chat_message=request),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
    )


async def _stale_etag(api: Api, user_id: str) -> tuple[Mutation, grpc.StatusCode, str]:
    chat = await conversation(api)
    await commit(api, retitle(chat, "moved on"))
    return retitle(chat, "too late"), grpc.StatusCode.ABORTED, "ETAG_MISMATCH"


async def _missing_parent(api: Api, user_id: str) -> tuple[Mutation, grpc.StatusCode, str]:
    return (
        append(str(uuid.uuid4()), "to nowhere"),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PARENT_NOT_FOUND",
    )


async def _unique_clash(api: Api, user_id: str) -> tuple[Mutation, grpc.StatusCode, str]:
    taken = await api.make("User")
    return create_user(new_id(), taken.email), grpc.StatusCode.ALREADY_EXISTS, "ALREADY_EXISTS"


BREAKERS = [
    pytest.param(_bad_field, id="bad_field"),
    pytest.param(_stale_etag, id="stale_etag"),
    pytest.param(_missing_parent, id="missing_parent"),
    pytest.param(_unique_clash, id="unique_clash"),
]


@pytest.mark.parametrize("breaker", BREAKERS)
async def test_a_failing_third_mutation_leaves_nothing_and_names_index_2(
    api: Api, breaker: Breaker
) -> None:
    user_id, profile_id, later_user = new_id(), new_id(), new_id()
    chat = await conversation(api)
    broken, code, reason = await breaker(api, user_id)
    failure = await expect_error(
        commit(
            api,
            create_user(user_id),
            append(chat.id, "before"),
            broken,
            create_profile(profile_id, user_id),
            create_user(later_user),
        ),
        code,
        reason,
    )
    assert failure.info is not None
    assert failure.info.metadata["mutation_index"] == "2"
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        assert failure.fields == ["mutations[2].create_chat_message.chat_message.content"]
    else:
        assert failure.message.startswith("mutations[2].")
    assert not await user_exists(api, user_id)
    assert not await user_exists(api, later_user)
    assert await messages_of(api, chat.id) == []


async def test_a_commit_whose_updates_all_miss_names_the_first_and_writes_nothing(
    api: Api,
) -> None:
    chats = [await conversation(api) for _ in range(2)]
    for chat in chats:
        await commit(api, retitle(chat, "moved on"))
    failure = await expect_error(
        commit(api, retitle(chats[0], "too late"), retitle(chats[1], "too late")),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert failure.info is not None
    assert failure.info.metadata["mutation_index"] == "0"
    gone = chat_conversation_pb2.ChatConversation(id=new_id(), title="nowhere")
    await expect_error(
        commit(api, append(chats[0].id, "kept?"), retitle(gone, "nowhere")),
        grpc.StatusCode.NOT_FOUND,
    )
    assert await messages_of(api, chats[0].id) == []
    for chat in chats:
        current = await api.ChatConversation.GetChatConversation(
            chat_conversation_pb2.GetChatConversationRequest(id=chat.id), timeout=TIMEOUT
        )
        assert current.title == "moved on"


async def test_validate_only_answers_as_the_commit_would_and_writes_nothing(api: Api) -> None:
    user_id, profile_id = new_id(), new_id()
    chat = await conversation(api)
    response = await commit(
        api,
        create_user(user_id),
        create_profile(profile_id, user_id),
        append(chat.id, "dry run"),
        validate_only=True,
    )
    assert response.results[0].user.id == user_id
    assert response.results[2].chat_message.sequence_number == 1
    assert not await user_exists(api, user_id)
    assert await messages_of(api, chat.id) == []
    # And the same commit, for real, afterwards: nothing was left to clash with.
    real = await commit(api, create_user(user_id), create_profile(profile_id, user_id))
    assert real.results[0].user.id == user_id


async def test_validate_only_refuses_what_the_commit_would_refuse(api: Api) -> None:
    failure = await expect_error(
        commit(api, create_user(new_id()), append(new_id(), "x"), validate_only=True),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PARENT_NOT_FOUND",
    )
    assert failure.info is not None
    assert failure.info.metadata["mutation_index"] == "1"


async def test_a_repeated_request_id_returns_the_first_response_not_a_reread(api: Api) -> None:
    chat = await conversation(api)
    request_id = new_id()
    first = await commit(
        api, append(chat.id, "once"), retitle(chat, "First"), request_id=request_id
    )
    # The rows change after the first commit; a repeat still answers as it did.
    await commit(api, retitle(first.results[1].chat_conversation, "Changed since"))
    again = await commit(
        api, append(chat.id, "once"), retitle(chat, "First"), request_id=request_id
    )
    assert again == first
    assert [m.content for m in await messages_of(api, chat.id)] == ["once"]


async def test_a_repeat_is_answered_with_the_first_response_whatever_it_carries(
    api: Api,
) -> None:
    request_id = new_id()
    first = await commit(api, create_user(new_id()), request_id=request_id)
    for carried in ([], [Mutation()], [create_user("not a uuid")], [create_user(new_id())] * 101):
        assert await commit(api, *carried, request_id=request_id) == first


async def test_an_etag_holding_nul_is_invalid_wherever_it_is_sent(api: Api) -> None:
    user = await api.make("User")
    bad = "1\x00"
    delete = user_pb2.DeleteUserRequest(id=user.id, etag=bad)
    forced = user_pb2.DeleteUserRequest(id=user.id, etag=bad, force=True)
    update = user_pb2.UpdateUserRequest(
        user=user_pb2.User(id=user.id, full_name="N"),
        update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
        etag=bad,
    )
    in_resource = user_pb2.UpdateUserRequest(
        user=user_pb2.User(id=user.id, full_name="N", etag=bad),
        update_mask=field_mask_pb2.FieldMask(paths=["full_name"]),
    )
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    for deleting in (delete, forced):
        await expect_error(
            api.User.DeleteUser(deleting, timeout=TIMEOUT), invalid, field_name="etag"
        )
    for updating, field in ((update, "etag"), (in_resource, "user.etag")):
        await expect_error(
            api.User.UpdateUser(updating, timeout=TIMEOUT), invalid, field_name=field
        )
    for mutation, field in (
        (Mutation(delete_user=forced), "mutations[1].delete_user.etag"),
        (Mutation(update_user=update), "mutations[1].update_user.etag"),
    ):
        failure = await expect_error(
            commit(api, create_user(new_id()), mutation), invalid, field_name=field
        )
        assert failure.info is not None
        assert failure.info.metadata["mutation_index"] == "1"
    batch = user_pb2.BatchDeleteUsersRequest(ids=[user.id, user.id], etags=[user.etag, bad])
    failure = await expect_error(
        api.User.BatchDeleteUsers(batch, timeout=TIMEOUT), invalid, field_name="etags[1]"
    )
    assert failure.info is not None
    assert failure.info.metadata["request_index"] == "1"
    assert await user_exists(api, user.id)


async def test_concurrent_commits_with_one_request_id_write_once(api: Api) -> None:
    chat = await conversation(api)
    request_id = new_id()
    responses = await asyncio.gather(
        *(commit(api, append(chat.id, "retried"), request_id=request_id) for _ in range(4))
    )
    assert all(response == responses[0] for response in responses)
    assert len(await messages_of(api, chat.id)) == 1


async def test_a_failed_commit_does_not_keep_its_request_id(api: Api) -> None:
    chat = await conversation(api)
    request_id = new_id()
    await expect_error(
        commit(api, append(chat.id, "ok"), append(new_id(), "x"), request_id=request_id),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    response = await commit(api, append(chat.id, "ok"), request_id=request_id)
    assert response.results[0].chat_message.sequence_number == 1


async def test_a_request_id_outlives_a_restart(database_url: str) -> None:
    request_id, user_id = new_id(), new_id()
    responses = []
    for _ in range(2):
        async with (
            running(database_url) as app,
            grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
        ):
            responses.append(
                await commit(Api(channel), create_user(user_id), request_id=request_id)
            )
    assert responses[0] == responses[1]
    assert responses[0].results[0].user.id == user_id


@pytest.mark.parametrize(
    ("mutations", "field"),
    [
        pytest.param(0, "mutations", id="none"),
        pytest.param(101, "mutations", id="over_100"),
    ],
)
async def test_commits_outside_the_limits_are_refused(api: Api, mutations: int, field: str) -> None:
    many = [create_user(new_id()) for _ in range(mutations)]
    await expect_error(commit(api, *many), grpc.StatusCode.INVALID_ARGUMENT, field_name=field)


async def test_a_mutation_without_an_operation_is_named(api: Api) -> None:
    failure = await expect_error(
        commit(api, create_user(new_id()), Mutation()),
        grpc.StatusCode.INVALID_ARGUMENT,
        field_name="mutations[1]",
    )
    assert failure.info is not None
    assert failure.info.metadata["mutation_index"] == "1"


async def test_a_malformed_request_id_is_invalid(api: Api) -> None:
    await expect_error(
        commit(api, create_user(new_id()), request_id="nope"),
        grpc.StatusCode.INVALID_ARGUMENT,
        field_name="request_id",
    )


async def test_one_profile_per_user_holds_inside_a_commit(api: Api) -> None:
    user_id = new_id()
    failure = await expect_error(
        commit(
            api,
            create_user(user_id),
            create_profile(new_id(), user_id),
            create_profile(new_id(), user_id),
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert failure.info is not None
    assert failure.info.metadata["mutation_index"] == "2"
    assert not await user_exists(api, user_id)


async def test_a_health_log_in_a_commit_updates_its_integration(api: Api) -> None:
    fields: dict[str, Any] = await valid_fields(api, "IntegrationHealthLog")
    log = integration_health_log_pb2.IntegrationHealthLog(**fields)
    response = await commit(
        api,
        Mutation(
            create_integration_health_log=integration_health_log_pb2.CreateIntegrationHealthLogRequest(
                integration_health_log=log
            )
        ),
    )
    created = response.results[0].integration_health_log
    integration = await api.Integration.GetIntegration(
        request_for_integration(log.integration_id), timeout=TIMEOUT
    )
    assert integration.health_status["log_id"] == created.id


def request_for_integration(integration_id: str) -> Any:
    return Api.pb("Integration").GetIntegrationRequest(id=integration_id)


async def test_appends_in_commits_and_single_calls_number_densely(api: Api) -> None:
    chat = await conversation(api)

    async def three(n: int) -> list[int]:
        response = await commit(api, *(append(chat.id, f"c{n}.{k}") for k in range(3)))
        return [r.chat_message.sequence_number for r in response.results]

    async def single(n: int) -> list[int]:
        made = await api.create("ChatMessage", conversation_id=chat.id, role=USER, content=f"s{n}")
        return [made.sequence_number]

    numbered = await asyncio.gather(*(three(n) for n in range(6)), *(single(n) for n in range(6)))
    for numbers in numbered[:6]:
        # The conversation stays locked until the commit ends: its appends are adjacent.
        assert numbers == list(range(numbers[0], numbers[0] + 3))
    everything = sorted(n for numbers in numbered for n in numbers)
    assert everything == list(range(1, 6 * 3 + 6 + 1))
    assert [m.sequence_number for m in await messages_of(api, chat.id)] == everything


async def test_a_killed_connection_mid_commit_is_unavailable_and_leaves_nothing(
    api: Api, database: Database
) -> None:
    chat = await conversation(api)
    user_id = new_id()
    async with database.async_engine.connect() as blocker:
        # Hold the conversation's row lock: the commit waits on it as it opens.
        await blocker.execute(
            text("SELECT id FROM chat_conversations WHERE id = :id FOR UPDATE"), {"id": chat.id}
        )
        pending = asyncio.ensure_future(commit(api, create_user(user_id), append(chat.id, "hi")))
        waiting = None
        for _ in range(200):
            # A transaction sees one snapshot of pg_stat_activity: poll from outside it.
            async with database.async_engine.connect() as watcher:
                waiting = (
                    await watcher.execute(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE '%chat_conversations%'"
                        )
                    )
                ).scalar()
            if waiting is not None:
                break
            await asyncio.sleep(0.05)
        assert waiting is not None, "the commit never waited on the lock"
        await blocker.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting})
        await expect_error(pending, grpc.StatusCode.UNAVAILABLE)
        await blocker.rollback()
    assert not await user_exists(api, user_id)
    assert await messages_of(api, chat.id) == []
    # The pool recovered: the next commit works.
    assert (await commit(api, append(chat.id, "again"))).results[
        0
    ].chat_message.sequence_number == 1


async def test_eight_clients_in_different_orders_lose_no_update(api: Api) -> None:
    frameworks = [await api.make("ComplianceFramework", description="0") for _ in range(3)]
    ids = [f.id for f in frameworks]
    acknowledged = 0

    async def client(order: list[int]) -> None:
        nonlocal acknowledged
        for _ in range(4):
            current = await api.ComplianceFramework.BatchGetComplianceFrameworks(
                compliance_framework_pb2.BatchGetComplianceFrameworksRequest(ids=ids),
                timeout=TIMEOUT,
            )
            rows = list(current.compliance_frameworks)
            mutations = [
                Mutation(
                    update_compliance_framework=compliance_framework_pb2.UpdateComplianceFrameworkRequest(
                        compliance_framework=compliance_framework_pb2.ComplianceFramework(
                            id=rows[i].id, description=str(int(rows[i].description) + 1)
                        ),
                        update_mask=field_mask_pb2.FieldMask(paths=["description"]),
                        etag=rows[i].etag,
                    )
                )
                for i in order
            ]
            try:
                await commit(api, *mutations)
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.ABORTED:
                    raise
            else:
                acknowledged += 1

    orders = [
        [0, 1, 2],
        [2, 1, 0],
        [1, 2, 0],
        [0, 2, 1],
        [2, 0, 1],
        [1, 0, 2],
        [0, 1, 2],
        [2, 1, 0],
    ]
    await asyncio.gather(*(client(order) for order in orders))
    final = await api.ComplianceFramework.BatchGetComplianceFrameworks(
        compliance_framework_pb2.BatchGetComplianceFrameworksRequest(ids=ids), timeout=TIMEOUT
    )
    assert acknowledged >= 1
    assert [f.description for f in final.compliance_frameworks] == [str(acknowledged)] * 3


async def _lock_waiter(database: Database, table: str = "chat_conversations") -> int | None:
    """The pid of a session waiting on a row lock of `table`, if any."""
    # A transaction sees one snapshot of pg_stat_activity: each poll outside it.
    async with database.async_engine.connect() as watcher:
        pid: int | None = (
            await watcher.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE :pattern"
                ),
                {"pattern": f"%{table}%"},
            )
        ).scalar()
    return pid


async def test_a_commit_locks_the_conversations_it_appends_to_in_id_order(
    api: Api, database: Database
) -> None:
    low, high = sorted([(await conversation(api)).id for _ in range(2)], key=uuid.UUID)
    lock = text("SELECT id FROM chat_conversations WHERE id = :id FOR UPDATE NOWAIT")
    async with (
        database.async_engine.connect() as blocker,
        database.async_engine.connect() as prober,
    ):
        await blocker.execute(lock, {"id": low})
        # Appends in the opposite order: locking as they ran, the commit would hold
        # `high` while it waits for `low`.
        pending = asyncio.ensure_future(commit(api, append(high, "b"), append(low, "a")))
        for _ in range(200):
            if await _lock_waiter(database) is not None:
                break
            await asyncio.sleep(0.05)
        assert await _lock_waiter(database) is not None, "the commit never waited on the lock"
        # While it waits for `low`, `high` is free: it comes later in the order.
        await prober.execute(lock, {"id": high})
        await prober.rollback()
        await blocker.rollback()
        response = await pending
    assert [r.chat_message.sequence_number for r in response.results] == [1, 1]


async def test_commits_appending_in_opposite_orders_both_succeed_densely(api: Api) -> None:
    first, second = await conversation(api), await conversation(api)
    for _ in range(3):
        # Both lock the two conversations up front in one order: they queue.
        await asyncio.gather(
            commit(api, append(first.id, "a"), append(second.id, "a")),
            commit(api, append(second.id, "b"), append(first.id, "b")),
        )
    for chat in (first, second):
        numbers = [m.sequence_number for m in await messages_of(api, chat.id)]
        assert numbers == list(range(1, 7))


async def test_a_commit_blocked_past_its_deadline_writes_nothing(
    api: Api, database: Database
) -> None:
    chat = await conversation(api)
    user_id = new_id()
    async with database.async_engine.connect() as blocker:
        await blocker.execute(
            text("SELECT id FROM chat_conversations WHERE id = :id FOR UPDATE"), {"id": chat.id}
        )
        request = data_service_pb2.CommitRequest(
            mutations=[create_user(user_id), append(chat.id, "late")]
        )
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await data_service(api).Commit(request, timeout=1.5)
        assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await blocker.rollback()
    assert not await user_exists(api, user_id)
    assert await messages_of(api, chat.id) == []


async def test_stored_responses_past_retention_are_purged_and_recent_ones_kept(
    session: Transaction, connection: AsyncConnection
) -> None:
    old, recent = uuid.uuid4(), uuid.uuid4()
    await connection.execute(
        text(
            "INSERT INTO commit_responses (request_id, response, created_at) VALUES "
            "(:old, 'x', now() - interval '8 days'), (:recent, 'y', now() - interval '6 days')"
        ),
        {"old": old, "recent": recent},
    )
    assert await commits.RESPONSES.purge(session) >= 1
    left = (
        await connection.execute(
            text("SELECT request_id FROM commit_responses WHERE request_id IN (:old, :recent)"),
            {"old": old, "recent": recent},
        )
    ).scalars()
    assert list(left) == [recent]


async def test_appends_to_two_conversations_in_one_commit_number_each_densely(api: Api) -> None:
    first, second = await conversation(api), await conversation(api)
    await commit(api, append(first.id, "earlier"))
    response = await commit(
        api, append(first.id, "a"), append(second.id, "b"), append(first.id, "c")
    )
    assert [r.chat_message.sequence_number for r in response.results] == [2, 1, 3]
    assert [m.content for m in await messages_of(api, first.id)] == ["earlier", "a", "c"]


async def test_a_refused_append_among_appends_is_named_and_leaves_nothing(api: Api) -> None:
    chat = await conversation(api)
    failure = await expect_error(
        commit(api, append(chat.id, "fine"), append(str(uuid.uuid4()), "to nowhere")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "PARENT_NOT_FOUND",
    )
    assert failure.info is not None
    assert failure.info.metadata["mutation_index"] == "1"
    assert await messages_of(api, chat.id) == []


async def test_a_value_too_long_for_its_index_names_its_mutation_and_field(api: Api) -> None:
    first, second = new_id(), new_id()
    too_long = create_user(second)
    too_long.create_user.user.google_id = unindexable()
    failure = await expect_error(
        commit(api, create_user(first), too_long),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VALUE_TOO_LARGE",
    )
    assert failure.info is not None
    assert failure.info.metadata["mutation_index"] == "1"
    assert failure.fields == ["mutations[1].create_user.user.google_id"]
    assert not await user_exists(api, first)


async def test_field_paths_are_named_whole_however_long(api: Api) -> None:
    user_id = new_id()
    profile = create_profile(new_id(), user_id)
    profile.create_business_profile.business_profile.employee_count = 0
    failure = await expect_error(
        commit(api, create_user(user_id), profile), grpc.StatusCode.INVALID_ARGUMENT
    )
    path = "mutations[1].create_business_profile.business_profile.employee_count"
    assert failure.fields == [path]
    assert failure.message.startswith(path)


def log_for(fields: dict[str, Any], integration_id: str) -> Mutation:
    log = integration_health_log_pb2.IntegrationHealthLog(
        **{**fields, "integration_id": integration_id}
    )
    request = integration_health_log_pb2.CreateIntegrationHealthLogRequest(
        integration_health_log=log
    )
    return Mutation(create_integration_health_log=request)


def deactivate(integration_id: str) -> Mutation:
    request = integration_pb2.UpdateIntegrationRequest(
        integration=integration_pb2.Integration(id=integration_id, is_active=False),
        update_mask=field_mask_pb2.FieldMask(paths=["is_active"]),
    )
    return Mutation(update_integration=request)


async def test_a_health_log_locks_its_integration_in_the_commits_one_order(
    api: Api, database: Database
) -> None:
    made = [await api.make("Integration") for _ in range(2)]
    low, high = sorted((i.id for i in made), key=uuid.UUID)
    fields: dict[str, Any] = await valid_fields(api, "IntegrationHealthLog")
    lock = text("SELECT id FROM integrations WHERE id = :id FOR UPDATE NOWAIT")
    async with (
        database.async_engine.connect() as blocker,
        database.async_engine.connect() as prober,
    ):
        await blocker.execute(lock, {"id": low})
        # The log changes `high`, then `low` is updated: locking as they ran, the
        # commit would hold `high` while it waits for `low`, and two such commits
        # in opposite orders would deadlock.
        pending = asyncio.ensure_future(commit(api, log_for(fields, high), deactivate(low)))
        for _ in range(200):
            if await _lock_waiter(database, "integrations") is not None:
                break
            await asyncio.sleep(0.05)
        assert await _lock_waiter(database, "integrations") is not None, "the commit never waited"
        await prober.execute(lock, {"id": high})
        await prober.rollback()
        await blocker.rollback()
        response = await pending
    assert not response.results[1].integration.is_active
