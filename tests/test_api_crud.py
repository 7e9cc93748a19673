"""Create, Get, List, Update, Delete and BatchGet of every resource, through the
real server and the generated client. Parametrized over service.resources.RESOURCES:
a new resource is covered as soon as it is declared (and given a Shape in api.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import grpc
import pytest
from google.api import field_behavior_pb2
from google.protobuf import field_mask_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sqlalchemy import Table, select

from repositories.database import Database
from service.resources import RESOURCES, Resource

from .api import (
    MARKED,
    TIMEOUT,
    Api,
    assert_no_leak,
    call,
    expect_error,
    failure_of,
    items,
    resource,
    resource_field,
    service_name,
    shape,
    valid_fields,
)

NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _params(resources: list[Resource] | tuple[Resource, ...]) -> list[Any]:
    return [pytest.param(r, id=r.message) for r in resources]


def _behaviours(field: FieldDescriptor) -> set[int]:
    options: Any = field.GetOptions()
    return set(options.Extensions[field_behavior_pb2.field_behavior])


def _fields(r: Resource) -> list[FieldDescriptor]:
    return list(getattr(r.module, r.message).DESCRIPTOR.fields)


def _input_only(r: Resource) -> list[str]:
    return [f.name for f in _fields(r) if field_behavior_pb2.INPUT_ONLY in _behaviours(f)]


def _table(r: Resource) -> Table:
    table = r.model.__table__
    assert isinstance(table, Table)
    return table


def _children(parent: Resource) -> list[tuple[Resource, str, bool]]:
    """(child resource, its column referring to `parent`, whether it cascades)."""
    found = []
    for child in RESOURCES:
        for fk in _table(child).foreign_keys:
            if fk.column.table is _table(parent):
                found.append((child, fk.parent.name, (fk.ondelete or "").upper() == "CASCADE"))
    return found


ALL = _params(RESOURCES)
UPDATABLE = _params([r for r in RESOURCES if not r.append_only])
APPEND_ONLY = _params([r for r in RESOURCES if r.append_only])
WITH_PARENTS = _params([r for r in RESOURCES if r.parents and not r.append_only])
WITH_SECRETS = _params([r for r in RESOURCES if _input_only(r)])
CLEARABLE = _params([r for r in RESOURCES if not r.append_only and shape(r.message).clear])
RESTRICTED = [
    pytest.param(r, child, column, id=f"{r.message}-{child.message}")
    for r in RESOURCES
    for child, column, cascades in _children(r)[:1]
    if not cascades
]
CASCADING = [
    pytest.param(r, child, column, id=f"{r.message}-{child.message}")
    for r in RESOURCES
    for child, column, cascades in _children(r)
    if cascades
]


def _with_default(r: Resource) -> bool:
    update = shape(r.message).update
    if r.append_only or update is None:
        return False
    column = _table(r).c[update[0]]
    return not column.nullable and column.server_default is not None


WITH_DEFAULT = _params([r for r in RESOURCES if _with_default(r)])


def assign(message: Any, name: str, value: Any) -> None:
    if isinstance(value, Message):
        getattr(message, name).CopyFrom(value)
    else:
        setattr(message, name, value)


def copy(message: Any) -> Any:
    duplicate = type(message)()
    duplicate.CopyFrom(message)
    return duplicate


def without_version(message: Any) -> Any:
    """The message minus what every write changes (etag, updated_at)."""
    stripped = copy(message)
    stripped.ClearField("etag")
    if "updated_at" in stripped.DESCRIPTOR.fields_by_name:
        stripped.ClearField("updated_at")
    return stripped


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


async def make_for_update(api: Api, r: Resource) -> Any:
    clear = shape(r.message).clear
    overrides = {clear[0]: clear[1]} if clear else {}
    return await api.make(r.message, **overrides)


async def update(api: Api, r: Resource, message: Any, **fields: Any) -> Any:
    return await call(api, r.message, "Update", **{resource_field(r.message): message}, **fields)


async def make_group(api: Api, r: Resource) -> tuple[list[Any], str]:
    """Five rows only the returned filter finds; the MARKED ones carry every
    declared filter's marks."""
    spec = shape(r.message)
    tag = f"g{uuid.uuid4().hex[:12]}"
    shared = await valid_fields(api, r.message) if spec.group.shared else None
    rows = []
    for i in range(5):
        fields = dict(shared) if shared is not None else await valid_fields(api, r.message)
        fields.update(spec.vary(i))
        fields.update(spec.group.row(tag, i))
        if i in MARKED:
            for declared in spec.filters:
                fields.update(declared.marks)
        rows.append(await api.create(r.message, **fields))
    return rows, spec.group.filter(tag, shared or {})


# ---------------------------------------------------------------------------
# Create and Get


def _output_only_values(r: Resource) -> dict[str, Any]:
    """A value for every output-only field, as a careless caller might send."""
    values: dict[str, Any] = {}
    for field in _fields(r):
        if field_behavior_pb2.OUTPUT_ONLY not in _behaviours(field):
            continue
        if field.message_type is not None:
            assert field.message_type.full_name == "google.protobuf.Timestamp", field.name
            values[field.name] = timestamp_pb2.Timestamp(seconds=1_000_000_000)
        elif field.name == "etag":
            values[field.name] = "caller-etag"
        elif field.type == FieldDescriptor.TYPE_STRING:
            values[field.name] = str(uuid.uuid4())
        else:
            values[field.name] = 999
    return values


@pytest.mark.parametrize("r", ALL)
async def test_create_assigns_id_timestamps_and_etag_and_ignores_output_only_fields(
    api: Api, r: Resource
) -> None:
    fields = await valid_fields(api, r.message)
    ignored = _output_only_values(r)
    assert "id" in ignored
    assert "etag" in ignored
    created = await api.create(r.message, **fields, **ignored)

    assert uuid.UUID(created.id)
    assert created.etag
    for name, value in ignored.items():
        assert getattr(created, name) != value, name
    now = dt.datetime.now(dt.UTC)
    for name in ("created_at", "updated_at"):
        if name in created.DESCRIPTOR.fields_by_name:
            assert created.HasField(name)
            moment = getattr(created, name).ToDatetime(tzinfo=dt.UTC)
            assert abs(moment - now) < dt.timedelta(minutes=5)
    secrets = _input_only(r)
    for name, value in fields.items():
        assert getattr(created, name) == ("" if name in secrets else value), name


@pytest.mark.parametrize("r", ALL)
async def test_get_returns_the_resource_create_returned(api: Api, r: Resource) -> None:
    created = await api.make(r.message)
    assert await call(api, r.message, "Get", id=created.id) == created

    missing = str(uuid.uuid4())
    failure = await expect_error(call(api, r.message, "Get", id=missing), NOT_FOUND, "NOT_FOUND")
    assert missing in failure.message


@pytest.mark.parametrize("r", WITH_SECRETS)
async def test_secrets_are_accepted_but_never_returned(
    api: Api, database: Database, r: Resource
) -> None:
    secrets = {name: f"secret-{uuid.uuid4().hex}" for name in _input_only(r)}
    created = await api.make(r.message, **secrets)

    async def stored() -> dict[str, Any]:
        table = _table(r)
        columns = [table.c[name] for name in secrets]
        async with database.async_engine.connect() as connection:
            row = (
                await connection.execute(
                    select(*columns).where(table.c.id == uuid.UUID(created.id))
                )
            ).one()
        return dict(row._mapping)

    assert await stored() == secrets

    since = f'created_at >= "{created.created_at.ToJsonString()}"'
    listed = items(r.message, await call(api, r.message, "List", filter=since, page_size=1000))
    batch = items(r.message, await call(api, r.message, "BatchGet", ids=[created.id]))
    fetched = await call(api, r.message, "Get", id=created.id)
    assert created.id in [m.id for m in listed]

    replaced = {name: f"rotated-{uuid.uuid4().hex}" for name in secrets}
    patch = getattr(r.module, r.message)(id=created.id, **replaced)
    updated = await update(api, r, patch, update_mask=mask(*replaced))
    assert await stored() == replaced

    for message in [created, fetched, updated, *listed, *batch]:
        for name in secrets:
            assert not message.HasField(name), (name, message)
            assert getattr(message, name) == ""


# ---------------------------------------------------------------------------
# List


@pytest.mark.parametrize("r", ALL)
async def test_list_pages_return_every_row_exactly_once(api: Api, r: Resource) -> None:
    rows, scope = await make_group(api, r)
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await call(
            api,
            r.message,
            "List",
            filter=scope,
            page_size=2,
            page_token=token,
            show_total_size=True,
        )
        pages += 1
        found = items(r.message, page)
        assert len(found) == (2 if page.next_page_token else 1)
        assert page.total_size == 5
        seen.extend(m.id for m in found)
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(row.id for row in rows)
    assert len(set(seen)) == 5


def _orders(r: Resource) -> list[str]:
    fields = sorted(r.orderable)
    orders = [order for name in fields for order in (name, f"{name} desc")]
    if len(fields) > 1:
        orders.append(f"{fields[0]} desc, {fields[1]}")
    return orders


@pytest.mark.parametrize("r", ALL)
async def test_list_pages_keep_every_declared_order(api: Api, r: Resource) -> None:
    rows, scope = await make_group(api, r)
    for order_by in _orders(r):
        whole = await call(api, r.message, "List", filter=scope, order_by=order_by)
        expected = [m.id for m in items(r.message, whole)]
        assert sorted(expected) == sorted(row.id for row in rows), order_by
        paged: list[str] = []
        token = ""
        while True:
            page = await call(
                api,
                r.message,
                "List",
                filter=scope,
                order_by=order_by,
                page_size=2,
                page_token=token,
            )
            paged.extend(m.id for m in items(r.message, page))
            token = page.next_page_token
            if not token:
                break
        assert paged == expected, order_by


@pytest.mark.parametrize("r", ALL)
async def test_list_without_show_total_size_leaves_total_unset(api: Api, r: Resource) -> None:
    rows, scope = await make_group(api, r)
    page = await call(api, r.message, "List", filter=scope)
    assert page.total_size == 0
    assert page.next_page_token == ""
    assert sorted(m.id for m in items(r.message, page)) == sorted(row.id for row in rows)


@pytest.mark.parametrize("r", ALL)
async def test_list_filters_on_declared_fields(api: Api, r: Resource) -> None:
    declared = shape(r.message).filters
    enums = [f.name for f in _fields(r) if f.enum_type is not None and f.name in r.filterable]
    # A resource with a filterable enum declares a filter on it.
    assert any(f.enum for f in declared) == bool(enums)
    assert declared

    rows, scope = await make_group(api, r)
    wanted = sorted(rows[i].id for i in MARKED)
    for condition in declared:
        expression = f"{scope} AND {condition.expression(rows)}"
        page = await call(api, r.message, "List", filter=expression)
        assert sorted(m.id for m in items(r.message, page)) == wanted, expression


# ---------------------------------------------------------------------------
# Update


@pytest.mark.parametrize("r", UPDATABLE)
async def test_update_with_mask_changes_only_masked_fields(api: Api, r: Resource) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    assert spec.other is not None
    (name, value), (other, other_value) = spec.update, spec.other
    created = await make_for_update(api, r)
    assert getattr(created, name) != value
    assert getattr(created, other) != other_value

    patch = getattr(r.module, r.message)(id=created.id)
    assign(patch, name, value)
    assign(patch, other, other_value)
    updated = await update(api, r, patch, update_mask=mask(name))

    expected = copy(created)
    assign(expected, name, value)
    assert without_version(updated) == without_version(expected)
    assert updated.etag != created.etag
    assert updated.updated_at.ToDatetime() >= created.updated_at.ToDatetime()
    assert await call(api, r.message, "Get", id=created.id) == updated


@pytest.mark.parametrize("r", CLEARABLE)
async def test_update_clears_a_masked_field_left_unset(api: Api, r: Resource) -> None:
    clear = shape(r.message).clear
    assert clear is not None
    created = await make_for_update(api, r)
    assert created.HasField(clear[0])

    patch = getattr(r.module, r.message)(id=created.id)
    updated = await update(api, r, patch, update_mask=mask(clear[0]))

    expected = copy(created)
    expected.ClearField(clear[0])
    assert without_version(updated) == without_version(expected)
    assert not (await call(api, r.message, "Get", id=created.id)).HasField(clear[0])


@pytest.mark.parametrize("r", WITH_DEFAULT)
async def test_update_resets_a_masked_unset_field_to_its_default(api: Api, r: Resource) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    name, value = spec.update
    created = await api.make(r.message)  # the payload leaves `name` to its default
    patch = getattr(r.module, r.message)(id=created.id)
    assign(patch, name, value)
    changed = await update(api, r, patch, update_mask=mask(name))
    assert getattr(changed, name) == value

    bare = getattr(r.module, r.message)(id=created.id)
    reset = await update(api, r, bare, update_mask=mask(name))
    assert getattr(reset, name) == getattr(created, name)


@pytest.mark.parametrize("r", UPDATABLE)
async def test_update_without_mask_changes_the_fields_set(api: Api, r: Resource) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    name, value = spec.update
    created = await make_for_update(api, r)

    patch = getattr(r.module, r.message)(id=created.id)
    assign(patch, name, value)
    updated = await update(api, r, patch)

    expected = copy(created)
    assign(expected, name, value)
    assert without_version(updated) == without_version(expected)


@pytest.mark.parametrize("r", UPDATABLE)
async def test_update_with_star_mask_replaces_every_writable_field(api: Api, r: Resource) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    assert spec.other is not None
    created = await make_for_update(api, r)

    replacement = copy(created)
    for name, value in (spec.update, spec.other):
        assign(replacement, name, value)
    # Secrets are never read back, so a full replacement sends them again.
    for name in _input_only(r):
        setattr(replacement, name, "replaced-secret")
    updated = await update(api, r, replacement, update_mask=mask("*"))

    expected = copy(replacement)
    for name in _input_only(r):
        expected.ClearField(name)
    assert without_version(updated) == without_version(expected)


@pytest.mark.parametrize("r", UPDATABLE)
async def test_update_with_stale_etag_is_aborted(api: Api, r: Resource) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    assert spec.other is not None
    created = await make_for_update(api, r)
    patch = getattr(r.module, r.message)(id=created.id)
    assign(patch, *spec.update)

    first = await update(api, r, patch, update_mask=mask(spec.update[0]), etag=created.etag)
    assert first.etag != created.etag

    second = getattr(r.module, r.message)(id=created.id)
    assign(second, *spec.other)
    failure = await expect_error(
        update(api, r, second, update_mask=mask(spec.other[0]), etag=created.etag),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert failure.info is not None
    assert failure.info.metadata["id"] == created.id
    # The etag inside the resource counts too.
    second.etag = created.etag
    await expect_error(
        update(api, r, second, update_mask=mask(spec.other[0])),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert await call(api, r.message, "Get", id=created.id) == first


@pytest.mark.parametrize("r", UPDATABLE)
async def test_concurrent_updates_with_one_etag_let_exactly_one_win(api: Api, r: Resource) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    name, value = spec.update
    created = await api.make(r.message)
    patch = getattr(r.module, r.message)(id=created.id)
    assign(patch, name, value)

    async def attempt() -> Any:
        try:
            return await update(api, r, patch, update_mask=mask(name), etag=created.etag)
        except grpc.aio.AioRpcError as error:
            return error

    outcomes = await asyncio.gather(*(attempt() for _ in range(5)))
    winners = [o for o in outcomes if not isinstance(o, grpc.aio.AioRpcError)]
    assert len(winners) == 1
    for loser in outcomes:
        if isinstance(loser, grpc.aio.AioRpcError):
            failure = failure_of(loser)
            assert_no_leak(failure.message)
            assert failure.code == grpc.StatusCode.ABORTED
            assert failure.info is not None
            assert failure.info.reason == "ETAG_MISMATCH"
    assert await call(api, r.message, "Get", id=created.id) == winners[0]


@pytest.mark.parametrize("r", UPDATABLE)
async def test_update_with_unknown_or_output_only_mask_path_is_invalid(
    api: Api, r: Resource
) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    created = await api.make(r.message)
    patch = getattr(r.module, r.message)(id=created.id)
    assign(patch, *spec.update)
    for path in ("no_such_field", "created_at", "id", "etag"):
        failure = await expect_error(
            update(api, r, patch, update_mask=mask(spec.update[0], path)),
            INVALID,
            field_name="update_mask",
        )
        assert path in failure.message
    failure = await expect_error(
        update(api, r, patch, update_mask=mask("*", spec.update[0])),
        INVALID,
        field_name="update_mask",
    )
    assert "*" in failure.message
    assert await call(api, r.message, "Get", id=created.id) == created


@pytest.mark.parametrize("r", WITH_PARENTS)
async def test_update_of_a_parent_path_is_invalid(api: Api, r: Resource) -> None:
    created = await api.make(r.message)
    other_parent = await api.make(r.message)
    for parent in r.parents:
        patch = getattr(r.module, r.message)(id=created.id)
        setattr(patch, parent, getattr(other_parent, parent))
        failure = await expect_error(
            update(api, r, patch, update_mask=mask(parent)), INVALID, field_name="update_mask"
        )
        assert parent in failure.message
    assert await call(api, r.message, "Get", id=created.id) == created


@pytest.mark.parametrize("r", UPDATABLE)
async def test_update_of_a_missing_row_is_not_found(api: Api, r: Resource) -> None:
    spec = shape(r.message)
    assert spec.update is not None
    patch = getattr(r.module, r.message)(id=str(uuid.uuid4()))
    assign(patch, *spec.update)
    await expect_error(update(api, r, patch, update_mask=mask(spec.update[0])), NOT_FOUND)


@pytest.mark.parametrize("r", APPEND_ONLY)
async def test_append_only_resource_has_no_update_method(
    api: Api, channel: grpc.aio.Channel, r: Resource
) -> None:
    method = f"Update{r.message}"
    assert not hasattr(getattr(api, r.message), method)
    assert method not in r.module.DESCRIPTOR.services_by_name[f"{r.message}Service"].methods_by_name
    raw = channel.unary_unary(
        f"/{service_name(r.message)}/{method}",
        request_serializer=None,
        response_deserializer=None,
    )
    await expect_error(raw(b"", timeout=TIMEOUT), grpc.StatusCode.UNIMPLEMENTED, rich=False)


# ---------------------------------------------------------------------------
# Delete


@pytest.mark.parametrize("r", ALL)
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
async def test_delete_removes_the_row_and_a_second_delete_is_not_found(
    api: Api, r: Resource, force: bool
) -> None:
    created = await api.make(r.message)
    await call(api, r.message, "Delete", id=created.id, etag=created.etag, force=force)
    await expect_error(call(api, r.message, "Get", id=created.id), NOT_FOUND, "NOT_FOUND")
    await expect_error(
        call(api, r.message, "Delete", id=created.id, force=force), NOT_FOUND, "NOT_FOUND"
    )


@pytest.mark.parametrize("r", ALL)
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
async def test_delete_with_stale_etag_is_aborted(api: Api, r: Resource, force: bool) -> None:
    created = await api.make(r.message)
    spec = shape(r.message)
    if spec.update is not None:
        patch = getattr(r.module, r.message)(id=created.id)
        assign(patch, *spec.update)
        current = await update(api, r, patch, update_mask=mask(spec.update[0]))
        stale = created.etag
    else:
        # Append-only rows never change: another row's version is as stale as any.
        current = created
        stale = (await api.make(r.message)).etag
    assert stale != current.etag

    await expect_error(
        call(api, r.message, "Delete", id=created.id, etag=stale, force=force),
        grpc.StatusCode.ABORTED,
        "ETAG_MISMATCH",
    )
    assert await call(api, r.message, "Get", id=created.id) == current
    await call(api, r.message, "Delete", id=created.id, etag=current.etag, force=force)


@pytest.mark.parametrize(("r", "child", "column"), RESTRICTED)
async def test_delete_with_dependents_is_refused_unless_forced(
    api: Api, r: Resource, child: Resource, column: str
) -> None:
    parent = await api.make(r.message)
    dependent = await api.make(child.message, **{column: parent.id})
    dependent_table = _table(child).name

    failure = await expect_error(
        call(api, r.message, "Delete", id=parent.id),
        grpc.StatusCode.FAILED_PRECONDITION,
        "HAS_DEPENDENTS",
    )
    assert failure.info is not None
    assert failure.info.metadata["dependent"] == dependent_table
    assert dependent_table in failure.message
    assert await call(api, child.message, "Get", id=dependent.id) == dependent

    await call(api, r.message, "Delete", id=parent.id, force=True)
    await expect_error(call(api, r.message, "Get", id=parent.id), NOT_FOUND)
    await expect_error(call(api, child.message, "Get", id=dependent.id), NOT_FOUND)


@pytest.mark.parametrize(("r", "child", "column"), CASCADING)
async def test_delete_takes_cascading_children_along(
    api: Api, r: Resource, child: Resource, column: str
) -> None:
    parent = await api.make(r.message)
    dependent = await api.make(child.message, **{column: parent.id})
    await call(api, r.message, "Delete", id=parent.id)
    await expect_error(call(api, child.message, "Get", id=dependent.id), NOT_FOUND)


async def test_forced_delete_of_a_user_removes_the_whole_tree(api: Api) -> None:
    message = await api.make("ChatMessage")
    conversation = await call(api, "ChatConversation", "Get", id=message.conversation_id)
    user_id = conversation.user_id
    profile_id = conversation.business_profile_id
    framework = await api.make("ComplianceFramework")
    evidence = await api.make(
        "Evidence", user_id=user_id, business_profile_id=profile_id, framework_id=framework.id
    )
    integration = await api.make("Integration", user_id=user_id)
    log = await api.make("IntegrationHealthLog", integration_id=integration.id)
    collection = await api.make(
        "EvidenceCollection", integration_id=integration.id, user_id=user_id
    )
    session = await api.make("AssessmentSession", user_id=user_id, business_profile_id=profile_id)
    question = await api.make("AssessmentQuestion", session_id=session.id)
    tree: Mapping[str, str] = {
        "User": user_id,
        "BusinessProfile": profile_id,
        "ChatConversation": conversation.id,
        "ChatMessage": message.id,
        "Evidence": evidence.id,
        "Integration": integration.id,
        "IntegrationHealthLog": log.id,
        "EvidenceCollection": collection.id,
        "AssessmentSession": session.id,
        "AssessmentQuestion": question.id,
    }

    await expect_error(
        call(api, "User", "Delete", id=user_id),
        grpc.StatusCode.FAILED_PRECONDITION,
        "HAS_DEPENDENTS",
    )
    for name, row_id in tree.items():
        assert (await call(api, name, "Get", id=row_id)).id == row_id

    await call(api, "User", "Delete", id=user_id, force=True)
    for name, row_id in tree.items():
        await expect_error(call(api, name, "Get", id=row_id), NOT_FOUND, "NOT_FOUND")
    # What the tree referred to but did not own stays.
    assert await call(api, "ComplianceFramework", "Get", id=framework.id) == framework


# ---------------------------------------------------------------------------
# BatchGet


@pytest.mark.parametrize("r", ALL)
async def test_batch_get_keeps_request_order_and_duplicates(api: Api, r: Resource) -> None:
    a, b, c = [await api.make(r.message) for _ in range(3)]
    found = items(r.message, await call(api, r.message, "BatchGet", ids=[c.id, a.id, b.id, a.id]))
    assert found == [c, a, b, a]
    assert items(r.message, await call(api, r.message, "BatchGet", ids=[])) == []


@pytest.mark.parametrize("r", ALL)
async def test_batch_get_with_a_missing_id_is_not_found_naming_it(api: Api, r: Resource) -> None:
    present = await api.make(r.message)
    missing = str(uuid.uuid4())
    failure = await expect_error(
        call(api, r.message, "BatchGet", ids=[present.id, missing]), NOT_FOUND, "NOT_FOUND"
    )
    assert missing in failure.message
    assert failure.info is not None
    assert failure.info.metadata["id"] == missing


async def test_batch_get_reads_every_spelling_of_an_id_and_names_a_missing_one_canonically(
    api: Api,
) -> None:
    a, b = await api.make("User"), await api.make("User")
    spellings = [a.id.upper(), a.id.replace("-", ""), b.id.upper().replace("-", ""), b.id]
    found = items("User", await call(api, "User", "BatchGet", ids=spellings))
    assert found == [a, a, b, b]
    missing = uuid.uuid4()
    failure = await expect_error(
        call(api, "User", "BatchGet", ids=[a.id, missing.hex.upper()]), NOT_FOUND, "NOT_FOUND"
    )
    assert failure.info is not None
    assert failure.info.metadata["id"] == str(missing)


@pytest.mark.parametrize("r", ALL)
async def test_batch_get_of_too_many_or_malformed_ids_is_invalid(api: Api, r: Resource) -> None:
    too_many = [str(uuid.uuid4()) for _ in range(1001)]
    refused = await expect_error(
        call(api, r.message, "BatchGet", ids=too_many), INVALID, field_name="ids"
    )
    assert "at most 1000 ids per call" in refused.message
    # The count is refused before any id is read: a malformed one is not named.
    await expect_error(
        call(api, r.message, "BatchGet", ids=[*too_many[:1000], "not-a-uuid"]),
        INVALID,
        field_name="ids",
    )
    present = str(uuid.uuid4())
    failure = await expect_error(
        call(api, r.message, "BatchGet", ids=[present, present, "not-a-uuid"]),
        INVALID,
        field_name="ids[2]",
    )
    assert failure.fields == ["ids[2]"]


def test_every_resource_declares_its_test_shape() -> None:
    for r in RESOURCES:
        spec = shape(r.message)
        assert (spec.update is None) == r.append_only, r.message
        assert resource(r.message) is r
