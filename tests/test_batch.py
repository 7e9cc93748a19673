"""BatchCreate, BatchUpdate and BatchDelete for every resource (AIP-233/234/235),
through the real server and the generated client: atomic, in order, and a failing
item named by its index."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2

from service.resources import RESOURCES, Resource

from .api import (
    SHAPES,
    Api,
    call,
    expect_error,
    items,
    resource_field,
    unindexable,
    valid_fields,
)

ALL = [pytest.param(r, id=r.message) for r in RESOURCES]
UPDATABLE = [pytest.param(r, id=r.message) for r in RESOURCES if not r.append_only]


def create_request(r: Resource, fields: dict[str, Any], chosen: str = "") -> Any:
    field = resource_field(r.message)
    message = getattr(r.module, r.message)(**fields)
    return getattr(r.module, f"Create{r.message}Request")(**{field: message, f"{field}_id": chosen})


async def exists(api: Api, r: Resource, row_id: str) -> bool:
    try:
        await call(api, r.message, "Get", id=row_id)
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        return False
    return True


async def made(api: Api, r: Resource, count: int) -> list[Any]:
    return [await api.make(r.message) for _ in range(count)]


def update_of(r: Resource) -> tuple[str, Any]:
    """The field an Update test changes, and its new value."""
    update = SHAPES[r.message].update
    assert update is not None  # declared for every resource that has Update
    return update


def update_request(r: Resource, row: Any, etag: str) -> Any:
    name, value = update_of(r)
    field = resource_field(r.message)
    changed = getattr(r.module, r.message)(id=row.id, **{name: value})
    return getattr(r.module, f"Update{r.message}Request")(
        **{field: changed},
        update_mask=field_mask_pb2.FieldMask(paths=[name]),
        etag=etag,
    )


@pytest.mark.parametrize("r", ALL)
async def test_batch_create_makes_every_row_in_order(api: Api, r: Resource) -> None:
    requests = [create_request(r, await valid_fields(api, r.message)) for _ in range(3)]
    created = items(r.message, await call(api, r.message, "BatchCreate", requests=requests))
    assert len(created) == 3
    for row in created:
        assert await call(api, r.message, "Get", id=row.id) == row


@pytest.mark.parametrize("r", ALL)
async def test_a_failing_batch_create_writes_nothing_and_names_the_item(
    api: Api, r: Resource
) -> None:
    first, other = str(uuid.uuid4()), str(uuid.uuid4())
    requests = [
        create_request(r, await valid_fields(api, r.message), first),
        create_request(r, await valid_fields(api, r.message), other),
        create_request(r, await valid_fields(api, r.message), first),  # the id is taken
    ]
    failure = await expect_error(
        call(api, r.message, "BatchCreate", requests=requests), grpc.StatusCode.ALREADY_EXISTS
    )
    assert failure.info is not None
    assert failure.info.metadata["request_index"] == "2"
    assert not await exists(api, r, first)
    assert not await exists(api, r, other)


@pytest.mark.parametrize("r", ALL)
async def test_a_bad_field_in_a_batch_create_is_named_by_its_path(api: Api, r: Resource) -> None:
    requests = [create_request(r, await valid_fields(api, r.message)), create_request(r, {})]
    failure = await expect_error(
        call(api, r.message, "BatchCreate", requests=requests), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert failure.fields
    assert all(f.startswith("requests[1].") for f in failure.fields), failure.fields


@pytest.mark.parametrize("r", UPDATABLE)
async def test_batch_update_changes_every_row_or_none(api: Api, r: Resource) -> None:
    rows = await made(api, r, 2)
    name, value = update_of(r)
    stale = [update_request(r, rows[0], rows[0].etag), update_request(r, rows[1], "stale")]
    failure = await expect_error(
        call(api, r.message, "BatchUpdate", requests=stale),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert failure.info is not None
    assert failure.info.metadata["request_index"] == "1"
    assert await call(api, r.message, "Get", id=rows[0].id) == rows[0]
    fresh = [update_request(r, row, row.etag) for row in rows]
    updated = items(r.message, await call(api, r.message, "BatchUpdate", requests=fresh))
    assert [getattr(row, name) for row in updated] == [value, value]
    assert [row.id for row in updated] == [row.id for row in rows]


@pytest.mark.parametrize("r", [pytest.param(r, id=r.message) for r in RESOURCES if r.append_only])
def test_append_only_resources_have_no_batch_update(r: Resource) -> None:
    service = r.module.DESCRIPTOR.services_by_name[f"{r.message}Service"]
    assert f"BatchUpdate{r.plural}" not in service.methods_by_name
    assert f"BatchCreate{r.plural}" in service.methods_by_name


@pytest.mark.parametrize("r", ALL)
async def test_batch_delete_deletes_every_row_or_none(api: Api, r: Resource) -> None:
    rows = await made(api, r, 2)
    missing = str(uuid.uuid4())
    failure = await expect_error(
        call(api, r.message, "BatchDelete", ids=[rows[0].id, missing]),
        grpc.StatusCode.NOT_FOUND,
    )
    assert failure.info is not None
    assert failure.info.metadata["request_index"] == "1"
    assert await exists(api, r, rows[0].id)
    await call(
        api,
        r.message,
        "BatchDelete",
        ids=[row.id for row in rows],
        etags=[row.etag for row in rows],
    )
    assert not await exists(api, r, rows[0].id)
    assert not await exists(api, r, rows[1].id)


async def test_batch_delete_with_force_takes_the_dependents(api: Api) -> None:
    message = await api.make("ChatMessage")
    conversation = await call(api, "ChatConversation", "Get", id=message.conversation_id)
    await expect_error(
        call(api, "BusinessProfile", "BatchDelete", ids=[conversation.business_profile_id]),
        grpc.StatusCode.FAILED_PRECONDITION,
        "HAS_DEPENDENTS",
    )
    await call(
        api, "BusinessProfile", "BatchDelete", ids=[conversation.business_profile_id], force=True
    )
    assert not await exists(api, RESOURCES[-1], message.id)


async def test_batch_delete_refuses_etags_that_do_not_match_the_ids(api: Api) -> None:
    await expect_error(
        call(api, "User", "BatchDelete", ids=[str(uuid.uuid4())] * 2, etags=["x"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        field_name="etags",
    )


async def test_a_malformed_id_in_a_batch_delete_is_named(api: Api) -> None:
    failure = await expect_error(
        call(api, "User", "BatchDelete", ids=[str(uuid.uuid4()), "nope"]),
        grpc.StatusCode.INVALID_ARGUMENT,
        field_name="ids[1]",
    )
    assert failure.info is not None
    assert failure.info.metadata["request_index"] == "1"


@pytest.mark.parametrize(
    ("count", "method"),
    [(0, "BatchDelete"), (1001, "BatchDelete"), (0, "BatchCreate"), (1001, "BatchCreate")],
)
async def test_batches_outside_the_limits_are_refused(api: Api, count: int, method: str) -> None:
    if method == "BatchDelete":
        fields: dict[str, Any] = {"ids": [str(uuid.uuid4())] * count}
        field = "ids"
    else:
        fields = {"requests": [create_request(RESOURCES[0], {})] * count}
        field = "requests"
    await expect_error(
        call(api, "User", method, **fields), grpc.StatusCode.INVALID_ARGUMENT, field_name=field
    )


async def test_batch_created_rows_that_leave_out_different_fields_get_their_defaults(
    api: Api,
) -> None:
    r = RESOURCES[0]
    plain = await valid_fields(api, "User")
    inactive = {**await valid_fields(api, "User"), "is_active": False}
    created = items(
        "User",
        await call(
            api,
            "User",
            "BatchCreate",
            requests=[create_request(r, plain), create_request(r, inactive)],
        ),
    )
    assert [user.is_active for user in created] == [True, False]
    assert [user.email for user in created] == [plain["email"], inactive["email"]]


async def test_a_batch_create_clashing_with_a_stored_row_names_the_item(api: Api) -> None:
    r = RESOURCES[0]
    taken = await api.make("User")
    fresh = await valid_fields(api, "User")
    failure = await expect_error(
        call(
            api,
            "User",
            "BatchCreate",
            requests=[
                create_request(r, fresh),
                create_request(r, {"email": taken.email, "full_name": "Again"}),
            ],
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert failure.info is not None
    assert failure.info.metadata["request_index"] == "1"
    found = await call(api, "User", "List", filter=f'email = "{fresh["email"]}"')
    assert items("User", found) == []


async def test_a_value_too_long_for_its_index_in_a_batch_create_names_the_item(
    api: Api,
) -> None:
    r = RESOURCES[0]
    fresh = await valid_fields(api, "User")
    too_long = {**await valid_fields(api, "User"), "google_id": unindexable()}
    failure = await expect_error(
        call(
            api,
            "User",
            "BatchCreate",
            requests=[create_request(r, fresh), create_request(r, too_long)],
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "VALUE_TOO_LARGE",
        field_name="requests[1].user.google_id",
    )
    assert failure.info is not None
    assert failure.info.metadata["request_index"] == "1"
    found = await call(api, "User", "List", filter=f'email = "{fresh["email"]}"')
    assert items("User", found) == []


async def test_batch_created_chat_messages_are_numbered_in_request_order(api: Api) -> None:
    r = next(r for r in RESOURCES if r.message == "ChatMessage")
    first = await api.make("ChatMessage")
    other = await api.make("ChatConversation")
    chats = [first.conversation_id, other.id, first.conversation_id]
    requests = [
        create_request(
            r, {"conversation_id": chat, "role": "CHAT_MESSAGE_ROLE_USER", "content": f"m{i}"}
        )
        for i, chat in enumerate(chats)
    ]
    created = items(r.message, await call(api, r.message, "BatchCreate", requests=requests))
    assert [m.sequence_number for m in created] == [2, 1, 3]
