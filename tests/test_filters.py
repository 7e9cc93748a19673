"""The filter language on a real PostgreSQL, through the real server and the
generated client: each operator, precedence, negation over absent values, `:` on
lists, JSON keys, wildcards, search(), and skip with total_size."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import struct_pb2
from ruleiq.data.v1 import compliance_framework_pb2

from service.query import MAX_FILTER_DEPTH, MAX_FILTER_TERMS, MAX_SKIP

from .api import Api, call, expect_error, items
from .filter_rows import ITEMS, T0, Item, Owner, hash_of, make_owner, names
from .rows import unique

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
async def owner(api: Api) -> Owner:
    return await make_owner(api)


def contains(needle: str) -> Callable[[Item], bool]:
    return lambda i: any(needle.lower() in text.lower() for text in (i.name, i.description))


CASES: list[tuple[str, Callable[[Item], bool]]] = [
    ("status = collected", lambda i: i.status == "collected"),
    ("status != collected", lambda i: i.status != "collected"),
    (f'collected_at = "{T0.isoformat()}"', lambda i: i.collected_at == T0),
    (f'collected_at != "{T0.isoformat()}"', lambda i: i.collected_at not in (None, T0)),
    (
        f'collected_at > "{T0.isoformat()}"',
        lambda i: i.collected_at is not None and i.collected_at > T0,
    ),
    (
        f'collected_at >= "{T0.isoformat()}"',
        lambda i: i.collected_at is not None and i.collected_at >= T0,
    ),
    (
        f'collected_at < "{T0.isoformat()}"',
        lambda i: i.collected_at is not None and i.collected_at < T0,
    ),
    (
        f'collected_at <= "{T0.isoformat()}"',
        lambda i: i.collected_at is not None and i.collected_at <= T0,
    ),
    ("collected_at = null", lambda i: i.collected_at is None),
    ("collected_at != null", lambda i: i.collected_at is not None),
    ("collected_at:*", lambda i: i.collected_at is not None),
    # Negation is two-valued: rows with no collected_at are "not after T0".
    (
        f'NOT collected_at > "{T0.isoformat()}"',
        lambda i: not (i.collected_at is not None and i.collected_at > T0),
    ),
    (
        f'-collected_at > "{T0.isoformat()}"',
        lambda i: not (i.collected_at is not None and i.collected_at > T0),
    ),
    ("NOT collected_at:*", lambda i: i.collected_at is None),
    ("NOT NOT status = collected", lambda i: i.status == "collected"),
    (
        "-(status = collected OR status = approved)",
        lambda i: i.status not in ("collected", "approved"),
    ),
    # OR binds tighter than AND.
    (
        'status = collected OR status = approved AND evidence_name = "Access*"',
        lambda i: i.status in ("collected", "approved") and i.name.startswith("Access"),
    ),
    (
        'status = collected OR (status = approved AND evidence_name = "Access*")',
        lambda i: (
            i.status == "collected" or (i.status == "approved" and i.name.startswith("Access"))
        ),
    ),
    (
        'evidence_name = "Access*" AND status = approved OR status = rejected',
        lambda i: i.name.startswith("Access") and i.status in ("approved", "rejected"),
    ),
    # Wildcards: case-sensitive, `%` and `_` literal.
    ('evidence_name = "Fire*"', lambda i: i.name.startswith("Fire")),
    ('evidence_name = "*review"', lambda i: i.name.endswith("review")),
    ('evidence_name = "*50%"', lambda i: i.name.endswith("50%")),
    ('evidence_name = "Access_*"', lambda i: i.name.startswith("Access_")),
    ('evidence_name != "*access*"', lambda i: "access" not in i.name),
    ("evidence_name = *", lambda i: True),
    ('evidence_name = "Firewall review"', lambda i: i.name == "Firewall review"),
    # Keys of a JSON object.
    ('ai_metadata.content_hash = "abc1"', lambda i: hash_of(i) == "abc1"),
    ('ai_metadata.content_hash = "ab*"', lambda i: str(hash_of(i) or "").startswith("ab")),
    ('ai_metadata.content_hash != "abc1"', lambda i: hash_of(i) not in (None, "abc1")),
    ("ai_metadata.content_hash:*", lambda i: hash_of(i) is not None),
    ("NOT ai_metadata.content_hash:*", lambda i: hash_of(i) is None),
    ("ai_metadata.content_hash = null", lambda i: hash_of(i) is None),
    # search(): case-insensitive substring of name or description, taken literally.
    ('search("FIREWALL")', contains("firewall")),
    ('search("rules")', contains("rules")),
    ('search("50%")', contains("50%")),
    ('search("s_c")', contains("s_c")),
    ('search("%")', contains("%")),
    ('search("zÜrich")', contains("zürich")),
    ('search("été")', contains("été")),
    ('search("plain")', contains("plain")),
    ('NOT search("access")', lambda i: not contains("access")(i)),
    (
        'search("access") AND status = approved',
        lambda i: contains("access")(i) and i.status == "approved",
    ),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_filter_selects_the_rows_python_would(
    api: Api, owner: Owner, expression: str, expected: Callable[[Item], bool]
) -> None:
    assert await names(api, owner, expression) == {i.name for i in ITEMS if expected(i)}


@pytest.fixture(scope="module")
async def frameworks(api: Api) -> str:
    prefix = unique("scope")
    shapes: list[tuple[list[str], list[str]]] = [
        (["UK"], ["fintech", "health"]),
        (["UK", "EU"], []),
        (["US"], ["fintech"]),
        ([], ["retail"]),
    ]
    for index, (scope, industries) in enumerate(shapes):
        geographic = struct_pb2.ListValue()
        geographic.extend(scope)
        applicable = struct_pb2.ListValue()
        applicable.extend(industries)
        await api.make(
            "ComplianceFramework",
            name=f"{prefix}-{index}",
            geographic_scope=geographic,
            applicable_industries=applicable,
        )
    return prefix


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('geographic_scope:"UK"', {0, 1}),
        ("geographic_scope:EU", {1}),
        ('geographic_scope:"uk"', set()),
        ("applicable_industries:fintech", {0, 2}),
        ('geographic_scope:"UK" AND applicable_industries:fintech', {0}),
        ("geographic_scope:US OR geographic_scope:EU", {1, 2}),
        ("NOT geographic_scope:UK", {2, 3}),
        ("geographic_scope:*", {0, 1, 2}),
        ("applicable_industries:*", {0, 2, 3}),
        ("-applicable_industries:*", {1}),
    ],
)
async def test_has_matches_an_element_of_a_json_list(
    api: Api, frameworks: str, expression: str, expected: set[int]
) -> None:
    response = await call(
        api,
        "ComplianceFramework",
        "List",
        filter=f'name = "{frameworks}-*" AND ({expression})',
        page_size=100,
    )
    found = {int(row.name.rsplit("-", 1)[1]) for row in items("ComplianceFramework", response)}
    assert found == expected


async def test_a_search_over_a_resource_without_text_fields_is_refused(api: Api) -> None:
    await expect_error(
        call(api, "IntegrationHealthLog", "List", filter='search("x")'),
        INVALID,
        field_name="filter",
    )


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        (" AND ".join(["status = collected"] * (MAX_FILTER_TERMS + 1)), "more than"),
        (
            "(" * (MAX_FILTER_DEPTH + 1) + "status = collected" + ")" * (MAX_FILTER_DEPTH + 1),
            "deeper",
        ),
        ("NOT " * (MAX_FILTER_DEPTH + 1) + "status = collected", "deeper"),
        ("status:collected", "not a list"),
        ("ai_metadata.content_hash > a", "only takes = and !="),
        ("ai_metadata.other = a", "cannot filter on 'ai_metadata.other'"),
    ],
)
async def test_filters_past_the_bounds_or_the_declarations_are_refused_naming_filter(
    api: Api, expression: str, says: str
) -> None:
    failure = await expect_error(
        call(api, "Evidence", "List", filter=expression), INVALID, field_name="filter"
    )
    assert any(says in v.description for v in failure.violations), failure.violations


async def test_filters_at_the_bounds_are_accepted(api: Api, owner: Owner) -> None:
    terms = " AND ".join(["status = collected"] * (MAX_FILTER_TERMS - 1))
    nested = "(" * (MAX_FILTER_DEPTH - 1) + "status = collected" + ")" * (MAX_FILTER_DEPTH - 1)
    assert await names(api, owner, terms) == {i.name for i in ITEMS if i.status == "collected"}
    assert await names(api, owner, nested) == {i.name for i in ITEMS if i.status == "collected"}


async def test_skip_jumps_over_rows_and_total_size_counts_them_all(api: Api, owner: Owner) -> None:
    everything = await call(
        api,
        "Evidence",
        "List",
        filter=f'user_id = "{owner.user_id}"',
        order_by="evidence_name",
        page_size=100,
    )
    ordered = [row.evidence_name for row in items("Evidence", everything)]
    assert len(ordered) == len(ITEMS)

    third_page = await call(
        api,
        "Evidence",
        "List",
        filter=f'user_id = "{owner.user_id}"',
        order_by="evidence_name",
        page_size=2,
        skip=4,
        show_total_size=True,
    )
    assert [row.evidence_name for row in items("Evidence", third_page)] == ordered[4:6]
    assert third_page.total_size == len(ITEMS)
    assert third_page.next_page_token == ""

    # skip counts from the page token: page 1, then skip one page's worth.
    first = await call(
        api,
        "Evidence",
        "List",
        filter=f'user_id = "{owner.user_id}"',
        order_by="evidence_name",
        page_size=1,
    )
    after = await call(
        api,
        "Evidence",
        "List",
        filter=f'user_id = "{owner.user_id}"',
        order_by="evidence_name",
        page_size=1,
        page_token=first.next_page_token,
        skip=2,
    )
    assert [row.evidence_name for row in items("Evidence", after)] == ordered[3:4]


@pytest.mark.parametrize(("skip", "says"), [(-1, "cannot be negative"), (MAX_SKIP + 1, "at most")])
async def test_skip_out_of_bounds_is_refused_naming_skip(api: Api, skip: int, says: str) -> None:
    failure = await expect_error(call(api, "User", "List", skip=skip), INVALID, field_name="skip")
    assert any(says in v.description for v in failure.violations), failure.violations


async def test_skip_of_the_maximum_is_accepted(api: Api) -> None:
    response = await call(api, "User", "List", skip=MAX_SKIP, filter="email = nobody@x.example")
    assert items("User", response) == []


async def test_keyset_pages_visit_every_filtered_row_once_under_concurrent_inserts(
    api: Api,
) -> None:
    prefix = unique("burst")
    profile = await api.make("BusinessProfile")
    first = await api.make(
        "ChatConversation",
        user_id=profile.user_id,
        business_profile_id=profile.id,
        title=f"{prefix} 0 keep",
    )
    for index in range(1, 30):
        await api.make(
            "ChatConversation",
            user_id=profile.user_id,
            business_profile_id=profile.id,
            title=f"{prefix} {index} {'keep' if index % 3 else 'drop'}",
        )
    expression = (
        f'user_id = "{first.user_id}" AND (search("keep") OR status = archived) '
        f'AND NOT title = "* drop"'
    )

    async def insert_more() -> None:
        for index in range(30, 60):
            await api.make(
                "ChatConversation",
                user_id=profile.user_id,
                business_profile_id=profile.id,
                title=f"{prefix} {index} keep",
            )

    writer = asyncio.create_task(insert_more())
    seen: list[str] = []
    token = ""
    while True:
        response = await call(
            api,
            "ChatConversation",
            "List",
            filter=expression,
            order_by="created_at",
            page_size=3,
            page_token=token,
        )
        seen += [row.title for row in items("ChatConversation", response)]
        token = response.next_page_token
        await asyncio.sleep(0)
        if not token:
            break
    await writer

    assert len(seen) == len(set(seen))
    before = {f"{prefix} {i} keep" for i in range(30) if i % 3}
    assert before | {f"{prefix} 0 keep"} <= set(seen)
    assert all(title.endswith("keep") for title in seen)


def test_framework_message_has_the_list_fields_a_filter_names() -> None:
    fields = compliance_framework_pb2.ComplianceFramework.DESCRIPTOR.fields_by_name
    assert {"geographic_scope", "applicable_industries"} <= set(fields)
