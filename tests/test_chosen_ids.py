"""Create with an id the caller chooses (AIP-133 `<resource>_id`), for every
resource, through the real server and the generated client; with and without a
request_id (AIP-155: a repeated request_id returns the first result)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import grpc
import pytest
from google.api import field_behavior_pb2
from google.protobuf.descriptor import FieldDescriptor

from service.resources import RESOURCES, Resource

from .api import Api, call, create_with_id, expect_error, id_field, valid_fields

ALL = [pytest.param(r, id=r.message) for r in RESOURCES]
IDEMPOTENT = [pytest.param(False, id="plain"), pytest.param(True, id="request_id")]
NIL = "00000000-0000-0000-0000-000000000000"


def _request_id(idempotent: bool) -> str:
    return str(uuid.uuid4()) if idempotent else ""


@pytest.mark.parametrize("r", ALL)
def test_every_create_request_takes_an_optional_string_resource_id(r: Resource) -> None:
    request = getattr(r.module, f"Create{r.message}Request").DESCRIPTOR
    chosen = request.fields_by_name[id_field(r)]
    assert chosen.type == FieldDescriptor.TYPE_STRING
    options: Any = chosen.GetOptions()
    behaviours = set(options.Extensions[field_behavior_pb2.field_behavior])
    assert behaviours == {field_behavior_pb2.OPTIONAL}


@pytest.mark.parametrize("idempotent", IDEMPOTENT)
@pytest.mark.parametrize("r", ALL)
async def test_create_with_a_chosen_id_makes_the_row_with_that_id(
    api: Api, r: Resource, idempotent: bool
) -> None:
    chosen = str(uuid.uuid4())
    created = await create_with_id(
        api, r, await valid_fields(api, r.message), chosen, _request_id(idempotent)
    )
    assert created.id == chosen
    assert await call(api, r.message, "Get", id=chosen) == created


@pytest.mark.parametrize("r", ALL)
async def test_a_chosen_id_in_another_spelling_is_stored_in_canonical_form(
    api: Api, r: Resource
) -> None:
    chosen = uuid.uuid4()
    created = await create_with_id(api, r, await valid_fields(api, r.message), chosen.hex.upper())
    assert created.id == str(chosen)
    assert await call(api, r.message, "Get", id=str(chosen)) == created


@pytest.mark.parametrize("idempotent", IDEMPOTENT)
@pytest.mark.parametrize("r", ALL)
async def test_create_with_a_taken_id_is_already_exists_and_changes_nothing(
    api: Api, r: Resource, idempotent: bool
) -> None:
    first = await api.make(r.message)
    request_id = _request_id(idempotent)
    fields = await valid_fields(api, r.message)

    failure = await expect_error(
        create_with_id(api, r, fields, first.id, request_id),
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_EXISTS",
    )
    assert failure.info is not None
    assert failure.info.metadata["fields"] == "id"
    assert failure.info.metadata["id"] == first.id
    assert failure.info.metadata["field"] == id_field(r)
    assert failure.info.metadata["resource"] == r.model.__tablename__
    assert id_field(r) in failure.message
    assert first.id in failure.message
    assert await call(api, r.message, "Get", id=first.id) == first

    # The failed create used up neither the payload nor its request_id.
    again = str(uuid.uuid4())
    created = await create_with_id(api, r, fields, again, request_id)
    assert created.id == again


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(NIL, id="nil"),
        pytest.param(NIL.replace("-", ""), id="nil-hex"),
        pytest.param("not-a-uuid", id="text"),
        pytest.param(f"{{{uuid.uuid4()}}}", id="braces"),
        pytest.param(f"urn:uuid:{uuid.uuid4()}", id="urn"),
        pytest.param(f" {uuid.uuid4()}", id="space"),
        pytest.param(str(uuid.uuid4())[:-1], id="short"),
    ],
)
@pytest.mark.parametrize("r", ALL)
async def test_create_with_a_malformed_or_nil_id_is_invalid_naming_the_field(
    api: Api, r: Resource, bad: str
) -> None:
    fields = await valid_fields(api, r.message)
    await expect_error(
        create_with_id(api, r, fields, bad, str(uuid.uuid4())),
        grpc.StatusCode.INVALID_ARGUMENT,
        field_name=id_field(r),
    )


@pytest.mark.parametrize("r", ALL)
async def test_a_repeated_request_id_with_the_same_chosen_id_returns_the_first_result(
    api: Api, r: Resource
) -> None:
    chosen, request_id = str(uuid.uuid4()), str(uuid.uuid4())
    fields = await valid_fields(api, r.message)
    first = await create_with_id(api, r, fields, chosen, request_id)
    assert await create_with_id(api, r, fields, chosen, request_id) == first
    assert first.id == chosen


@pytest.mark.parametrize("r", ALL)
async def test_a_repeated_request_id_with_another_chosen_id_returns_the_first_result(
    api: Api, r: Resource
) -> None:
    chosen, other, request_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    fields = await valid_fields(api, r.message)
    first = await create_with_id(api, r, fields, chosen, request_id)

    # The request_id wins (AIP-155): no second row, under either id.
    assert await create_with_id(api, r, fields, other, request_id) == first
    assert await create_with_id(api, r, fields, "", request_id) == first
    await expect_error(call(api, r.message, "Get", id=other), grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("r", ALL)
async def test_parallel_creates_with_one_chosen_id_make_one_row(api: Api, r: Resource) -> None:
    chosen = str(uuid.uuid4())
    fields = [await valid_fields(api, r.message) for _ in range(4)]
    results = await asyncio.gather(
        *(create_with_id(api, r, f, chosen, str(uuid.uuid4())) for f in fields),
        return_exceptions=True,
    )
    made = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, grpc.aio.AioRpcError)]
    assert len(made) == 1
    assert [e.code() for e in refused] == [grpc.StatusCode.ALREADY_EXISTS] * 3
    assert await call(api, r.message, "Get", id=chosen) == made[0]
