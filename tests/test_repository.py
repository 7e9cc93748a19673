"""The generic repository and the unit of work on a real PostgreSQL.

The same tests run on several tables, each through one `Repository` declaration, so
what passes here passes because the generic path is right, not because one table's
code is. Every test runs inside an outer transaction rolled back at teardown; the
units of work commit into savepoints of it."""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from sqlalchemy import ForeignKey, func, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from repositories import models
from repositories.database import Database
from repositories.errors import (
    AbortedError,
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from repositories.ids import uuid7
from repositories.models import (
    ChatMessageRole,
    EvidencePriority,
    EvidenceStatus,
    IntegrationProvider,
)
from repositories.repository import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, Repository, Row
from repositories.unit_of_work import Transaction, UnitOfWork

from . import rows as valid_rows
from .isolation import OuterTransaction, savepoint
from .listing import list_rows
from .rows import unique

UTC = dt.UTC
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=UTC)

# --- one declaration per table --------------------------------------------------------

USERS = Repository(
    models.User,
    filterable=["email", "full_name", "google_id", "is_active", "created_at"],
    orderable=["email", "is_active", "created_at", "updated_at"],
    hidden=["hashed_password"],
)
EVIDENCE = Repository(
    models.Evidence,
    filterable=[
        "user_id",
        "business_profile_id",
        "framework_id",
        "status",
        "priority",
        "evidence_name",
        "compliance_score_impact",
        "file_size_bytes",
        "required_for_audit",
        "collected_at",
        "created_at",
    ],
    orderable=["evidence_name", "status", "priority", "compliance_score_impact", "created_at"],
)
MESSAGES = Repository(
    models.ChatMessage,
    filterable=["conversation_id", "role", "sequence_number", "content", "created_at"],
    orderable=["sequence_number", "role", "created_at"],
)
INTEGRATIONS = Repository(
    models.Integration,
    filterable=["user_id", "provider", "is_active", "last_health_check", "created_at"],
    orderable=["provider", "is_active", "created_at"],
    hidden=["encrypted_credentials"],
)
PROFILES = Repository(models.BusinessProfile, filterable=["user_id"])
FRAMEWORKS = Repository(models.ComplianceFramework, filterable=["name"])
POLICIES = Repository(models.Policy)
ASSESSMENT_SESSIONS = Repository(models.AssessmentSession)
QUESTIONS = Repository(models.AssessmentQuestion)
COLLECTIONS = Repository(models.EvidenceCollection)
HEALTH_LOGS = Repository(models.IntegrationHealthLog, default_order="checked_at desc")
READINESS = Repository(models.ReadinessAssessment)
CONVERSATIONS = Repository(models.ChatConversation)


# --- helpers ----------------------------------------------------------------------------


class Db:
    """Units of work on the test's connection: `write` commits (into a savepoint),
    `read` never does."""

    def __init__(self, sessions: OuterTransaction) -> None:
        self.sessions = sessions

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        async with UnitOfWork(self.sessions) as uow:
            yield uow.transaction
            await uow.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Transaction]:
        async with UnitOfWork(self.sessions) as uow:
            yield uow.transaction


@pytest.fixture
def db(sessions: OuterTransaction) -> Db:
    return Db(sessions)


async def new_user(session: Transaction, **values: Any) -> Row:
    return await USERS.create(
        session, valid_rows.row("users", **{"hashed_password": "pbkdf2$x", **values})
    )


async def new_profile(session: Transaction, user_id: uuid.UUID) -> Row:
    return await PROFILES.create(session, valid_rows.row("business_profiles", {"user_id": user_id}))


async def new_framework(session: Transaction) -> Row:
    return await FRAMEWORKS.create(session, valid_rows.row("compliance_frameworks"))


async def new_conversation(session: Transaction, user_id: uuid.UUID, profile_id: uuid.UUID) -> Row:
    parents = {"user_id": user_id, "business_profile_id": profile_id}
    return await CONVERSATIONS.create(session, valid_rows.row("chat_conversations", parents))


def evidence_values(parents: Mapping[str, Any], name: str = "Access review") -> dict[str, Any]:
    return valid_rows.row("evidence_items", parents, evidence_name=name)


async def evidence_parents(session: Transaction) -> dict[str, Any]:
    user = await new_user(session)
    profile = await new_profile(session, user["id"])
    framework = await new_framework(session)
    return {
        "user_id": user["id"],
        "business_profile_id": profile["id"],
        "framework_id": framework["id"],
    }


# --- the tables every generic test runs on ---------------------------------------------


@dataclass
class Scope:
    """Rows of one table that only this test made, the filter that selects exactly
    them, and what new ones need."""

    filter: str
    parents: dict[str, Any]
    serial: Iterator[int] = field(default_factory=itertools.count)


@dataclass(frozen=True)
class Case:
    name: str
    repository: Repository
    make_scope: Callable[[Transaction], Awaitable[Scope]]
    minimal: Callable[[Transaction, Scope, int], Awaitable[dict[str, Any]]]
    """The required values of row `i`; row `i` of one scope differs from the others."""
    variety: Callable[[int], dict[str, Any]]
    """Optional values that spread rows of a scope over the sort and filter keys."""
    defaults: dict[str, Any]
    orders: tuple[str, ...]
    narrow: tuple[str, Callable[[Mapping[str, Any]], bool]]
    """A filter selecting part of a scope, and the same test in Python."""
    change: tuple[str, Any]
    check_violation: tuple[dict[str, Any], str]
    secret: str | None = None
    parent_fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name


async def _users_scope(session: Transaction) -> Scope:
    marker = unique("scope")
    return Scope(f'full_name = "{marker}"', {"full_name": marker})


async def _users_minimal(session: Transaction, scope: Scope, i: int) -> dict[str, Any]:
    return valid_rows.row(
        "users", full_name=scope.parents["full_name"], hashed_password=f"pbkdf2${i}"
    )


async def _evidence_scope(session: Transaction) -> Scope:
    parents = await evidence_parents(session)
    return Scope(f"user_id = {parents['user_id']}", parents)


async def _evidence_minimal(session: Transaction, scope: Scope, i: int) -> dict[str, Any]:
    return evidence_values(scope.parents, name=f"evidence {i:04d}")


async def _messages_scope(session: Transaction) -> Scope:
    user = await new_user(session)
    profile = await new_profile(session, user["id"])
    conversation = await new_conversation(session, user["id"], profile["id"])
    return Scope(
        f'conversation_id = "{conversation["id"]}"', {"conversation_id": conversation["id"]}
    )


async def _messages_minimal(session: Transaction, scope: Scope, i: int) -> dict[str, Any]:
    return valid_rows.row(
        "chat_messages", scope.parents, content=f"message {i}", sequence_number=i + 1
    )


async def _integrations_scope(session: Transaction) -> Scope:
    # Unique (user_id, provider) allows seven rows per user, so each row has a user
    # of its own and the scope is a moment no other test uses.
    moment = LONG_AGO - dt.timedelta(days=1, microseconds=uuid.uuid4().int % 10**9)
    return Scope(f"last_health_check = {moment.isoformat()}", {"last_health_check": moment})


async def _integrations_minimal(session: Transaction, scope: Scope, i: int) -> dict[str, Any]:
    user = await new_user(session)
    return valid_rows.row(
        "integrations",
        {"user_id": user["id"]},
        provider=IntegrationProvider.AWS,
        encrypted_credentials=f"ciphertext-{i}",
        last_health_check=scope.parents["last_health_check"],
    )


_STATUSES = [EvidenceStatus.NOT_STARTED, EvidenceStatus.COLLECTED, EvidenceStatus.APPROVED]
_PRIORITIES = list(EvidencePriority)
_ROLES = list(ChatMessageRole)
_PROVIDERS = list(IntegrationProvider)

CASES = [
    Case(
        name="users",
        repository=USERS,
        make_scope=_users_scope,
        minimal=_users_minimal,
        variety=lambda i: {"is_active": i % 3 != 1},
        defaults={"is_active": True, "google_id": None},
        orders=("", "email asc, created_at desc", "is_active desc, created_at asc", "updated_at"),
        narrow=("is_active = false", lambda row: not row["is_active"]),
        change=("google_id", "google-oauth2|123"),
        check_violation=({"email": "no-at-sign"}, "ck_users_email_has_at"),
        secret="hashed_password",
    ),
    Case(
        name="evidence_items",
        repository=EVIDENCE,
        make_scope=_evidence_scope,
        minimal=_evidence_minimal,
        variety=lambda i: {
            "status": _STATUSES[i % 3],
            "priority": _PRIORITIES[i % 4],
            "compliance_score_impact": (i * 7) % 5 * 12.5,
        },
        defaults={
            "status": EvidenceStatus.NOT_STARTED,
            "priority": EvidencePriority.MEDIUM,
            "required_for_audit": True,
            "collection_frequency": "once",
            "collection_method": "manual",
            "compliance_score_impact": 0.0,
            "ai_metadata": None,
            "collected_at": None,
        },
        orders=(
            "",
            "status asc, compliance_score_impact desc",
            "priority desc, evidence_name asc",
            "compliance_score_impact, created_at desc",
        ),
        narrow=("status = COLLECTED", lambda row: row["status"] == EvidenceStatus.COLLECTED),
        change=("review_notes", "Reviewed by the auditor"),
        check_violation=(
            {"compliance_score_impact": 100.5},
            "ck_evidence_items_compliance_score_impact_range",
        ),
        parent_fields=("user_id", "business_profile_id", "framework_id"),
    ),
    Case(
        name="chat_messages",
        repository=MESSAGES,
        make_scope=_messages_scope,
        minimal=_messages_minimal,
        variety=lambda i: {"role": _ROLES[i % 3]},
        defaults={"message_metadata": None},
        orders=("", "role asc, sequence_number desc", "created_at asc", "role desc, created_at"),
        narrow=("role = assistant", lambda row: row["role"] == ChatMessageRole.ASSISTANT),
        change=("message_metadata", {"intent": "greeting", "confidence": 0.9}),
        check_violation=({"sequence_number": 0}, "ck_chat_messages_sequence_number_positive"),
        parent_fields=("conversation_id",),
    ),
    Case(
        name="integrations",
        repository=INTEGRATIONS,
        make_scope=_integrations_scope,
        minimal=_integrations_minimal,
        variety=lambda i: {"is_active": i % 2 == 0, "provider": _PROVIDERS[i % 7]},
        defaults={"is_active": True, "health_status": None, "configuration_metadata": None},
        orders=("", "provider asc, created_at desc", "is_active, created_at desc"),
        narrow=("is_active = false", lambda row: not row["is_active"]),
        change=("configuration_metadata", {"region": "eu-west-2"}),
        check_violation=(
            {"health_status": ["not", "an object"]},
            "ck_integrations_health_status_is_object",
        ),
        secret="encrypted_credentials",
        parent_fields=("user_id",),
    ),
]
CASES_BY_NAME = {case.name: case for case in CASES}
SECRET_CASES = [case for case in CASES if case.secret]
ORDERS = [
    pytest.param(case, order, id=f"{case}:{order or 'default'}")
    for case in CASES
    for order in case.orders
]


async def insert_rows(
    case: Case, session: Transaction, scope: Scope, count: int, *, shared_time: bool = False
) -> list[Row]:
    """`count` new rows of the scope. Unless `shared_time`, half of them get one of
    three old creation times and the rest the transaction's now(), so many rows
    tie on created_at."""
    rows = []
    for _ in range(count):
        i = next(scope.serial)
        values = {**await case.minimal(session, scope, i), **case.variety(i)}
        if not shared_time and i % 2:
            values["created_at"] = LONG_AGO + dt.timedelta(seconds=i % 3)
        rows.append(await case.repository.create(session, values))
    return rows


async def every_id(
    case: Case, session: Transaction, scope: Scope, order: str = ""
) -> list[uuid.UUID]:
    page = await list_rows(
        case.repository, session, filter_text=scope.filter, order_by=order, page_size=MAX_PAGE_SIZE
    )
    assert page.next_page_token == ""
    return [row["id"] for row in page.rows]


async def scope_with_rows(
    case: Case, db: Db, count: int, *, shared_time: bool = False
) -> tuple[Scope, list[Row]]:
    async with db.write() as session:
        scope = await case.make_scope(session)
        rows = await insert_rows(case, session, scope, count, shared_time=shared_time)
    return scope, rows


def violation(error: pytest.ExceptionInfo[InvalidArgumentError]) -> tuple[str, str]:
    assert len(error.value.violations) == 1
    return error.value.violations[0].field, error.value.violations[0].description


async def stored_secret(session: Transaction, case: Case, row_id: uuid.UUID) -> Any:
    assert case.secret is not None
    table = case.repository.table
    return (
        await session.execute(select(table.c[case.secret]).where(table.c.id == row_id))
    ).scalar_one()


# --- get and get_many --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_get_returns_the_row_with_an_etag(case: Case, db: Db) -> None:
    _, (created,) = await scope_with_rows(case, db, 1)

    async with db.read() as session:
        row = await case.repository.get(session, created["id"])

    assert dict(row) == dict(created)
    assert isinstance(row["etag"], str)
    assert row["etag"]
    assert row["created_at"].utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_get_of_a_missing_row_is_not_found(case: Case, db: Db) -> None:
    missing = uuid.uuid4()
    async with db.read() as session:
        with pytest.raises(NotFoundError) as error:
            await case.repository.get(session, missing)

    assert error.value.reason == "NOT_FOUND"
    assert str(missing) in error.value.message
    assert error.value.metadata == {"resource": case.name, "id": str(missing)}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_get_many_returns_rows_in_the_order_asked_with_duplicates_in_place(
    case: Case, db: Db
) -> None:
    _, rows = await scope_with_rows(case, db, 4)
    a, b, c, d = (row["id"] for row in rows)
    asked = [c, a, d, a, b, c]

    async with db.read() as session:
        got = await case.repository.get_many(session, asked)

    assert [row["id"] for row in got] == asked
    assert all(row["etag"] for row in got)
    assert dict(got[1]) == dict(got[3]) == dict(rows[0])


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_get_many_names_the_first_missing_id(case: Case, db: Db) -> None:
    _, rows = await scope_with_rows(case, db, 2)
    first_missing, second_missing = uuid.uuid4(), uuid.uuid4()

    async with db.read() as session:
        with pytest.raises(NotFoundError) as error:
            await case.repository.get_many(
                session, [rows[0]["id"], first_missing, rows[1]["id"], second_missing]
            )

    assert error.value.metadata["id"] == str(first_missing)
    assert str(first_missing) in error.value.message


async def test_get_many_of_no_ids_is_empty(db: Db) -> None:
    async with db.read() as session:
        assert await USERS.get_many(session, []) == []


async def test_get_many_looks_up_1000_ids_in_one_call(db: Db) -> None:
    async with db.read() as session:
        ids = [uuid.uuid4() for _ in range(1000)]
        with pytest.raises(NotFoundError) as missing:
            await USERS.get_many(session, ids)

    assert missing.value.metadata["id"] == str(ids[0])


# --- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", SECRET_CASES, ids=str)
async def test_hidden_columns_are_written_but_never_returned(case: Case, db: Db) -> None:
    assert case.secret is not None
    async with db.write() as session:
        scope = await case.make_scope(session)
        created = await case.repository.create(session, await case.minimal(session, scope, 0))
        updated = await case.repository.update(
            session, created["id"], {case.secret: "rotated-secret"}
        )
    async with db.read() as session:
        returned: list[Row] = [
            created,
            updated,
            await case.repository.get(session, created["id"]),
            await case.repository.get(session, created["id"], lock=True),
            *await case.repository.get_many(session, [created["id"]]),
            *(await list_rows(case.repository, session, filter_text=scope.filter)).rows,
            *(await list_rows(case.repository, session, filter_text="", page_size=1000)).rows,
        ]
        stored = await stored_secret(session, case, created["id"])

    assert stored == "rotated-secret"
    for row in returned:
        assert case.secret not in row
        assert "rotated-secret" not in {str(value) for value in row.values()}


@pytest.mark.parametrize("case", SECRET_CASES, ids=str)
async def test_hidden_columns_cannot_be_filtered_or_ordered(case: Case, db: Db) -> None:
    assert case.secret is not None
    async with db.read() as session:
        with pytest.raises(InvalidArgumentError) as by_filter:
            await list_rows(case.repository, session, filter_text=f'{case.secret} = "x"')
        with pytest.raises(InvalidArgumentError) as by_order:
            await list_rows(case.repository, session, order_by=case.secret)

    assert violation(by_filter)[0] == "filter"
    assert violation(by_order)[0] == "order_by"
    with pytest.raises(ValueError, match="hidden"):
        Repository(models.User, filterable=["hashed_password"], hidden=["hashed_password"])


def test_declarations_with_unknown_or_nullable_columns_fail_at_start_up() -> None:
    with pytest.raises(ValueError, match="no column 'nope'"):
        Repository(models.User, filterable=["nope"])
    with pytest.raises(ValueError, match="nullable"):
        Repository(models.User, orderable=["full_name"])
    with pytest.raises(InvalidArgumentError):
        Repository(models.User, default_order="created_at sideways")


# --- list: page sizes -----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_default_page_size_is_50(case: Case, db: Db) -> None:
    scope, _ = await scope_with_rows(case, db, DEFAULT_PAGE_SIZE + 1)

    async with db.read() as session:
        first = await list_rows(case.repository, session, filter_text=scope.filter)
        second = await list_rows(
            case.repository, session, filter_text=scope.filter, page_token=first.next_page_token
        )

    assert DEFAULT_PAGE_SIZE == 50
    assert len(first.rows) == 50
    assert first.next_page_token
    assert len(second.rows) == 1
    assert second.next_page_token == ""


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_page_size_is_capped_at_1000(case: Case, db: Db) -> None:
    async with db.write() as session:
        scope = await case.make_scope(session)
        values = []
        for _ in range(MAX_PAGE_SIZE + 1):
            i = next(scope.serial)
            values.append({**await case.minimal(session, scope, i), **case.variety(i)})
        for row in values:
            row.setdefault("id", uuid7())
        await session.execute(insert(case.repository.table).values(values))

    async with db.read() as session:
        page = await list_rows(case.repository, session, filter_text=scope.filter, page_size=5000)
        rest = await list_rows(
            case.repository,
            session,
            filter_text=scope.filter,
            page_size=5000,
            page_token=page.next_page_token,
        )

    assert MAX_PAGE_SIZE == 1000
    assert len(page.rows) == 1000
    assert page.next_page_token
    assert len(rest.rows) == 1
    assert rest.next_page_token == ""


@pytest.mark.parametrize("page_size", [-1, -1000])
async def test_list_negative_page_size_is_invalid(db: Db, page_size: int) -> None:
    async with db.read() as session:
        with pytest.raises(InvalidArgumentError) as error:
            await list_rows(USERS, session, page_size=page_size)

    assert violation(error)[0] == "page_size"


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_last_page_has_an_empty_token_even_when_it_is_full(case: Case, db: Db) -> None:
    scope, rows = await scope_with_rows(case, db, 10)

    async with db.read() as session:
        first = await list_rows(case.repository, session, filter_text=scope.filter, page_size=5)
        last = await list_rows(
            case.repository,
            session,
            filter_text=scope.filter,
            page_size=5,
            page_token=first.next_page_token,
        )

    assert len(first.rows) == len(last.rows) == 5
    assert first.next_page_token
    assert last.next_page_token == ""
    assert {r["id"] for r in first.rows + last.rows} == {r["id"] for r in rows}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_with_total_gives_the_filtered_count(case: Case, db: Db) -> None:
    scope, rows = await scope_with_rows(case, db, 9)
    narrow, matches = case.narrow
    narrowed = f"{scope.filter} AND {narrow}"

    async with db.read() as session:
        everything = await list_rows(
            case.repository, session, filter_text=scope.filter, page_size=2, with_total=True
        )
        part = await list_rows(
            case.repository, session, filter_text=narrowed, page_size=1, with_total=True
        )
        later = await list_rows(
            case.repository,
            session,
            filter_text=narrowed,
            page_size=1,
            with_total=True,
            page_token=part.next_page_token,
        )
        without = await list_rows(case.repository, session, filter_text=scope.filter)

    expected = len([row for row in rows if matches(dict(row))])
    assert 0 < expected < 9
    assert everything.total_size == 9
    assert part.total_size == later.total_size == expected
    assert without.total_size is None


# --- list: keyset pages under concurrent change ------------------------------------------


async def page_through_while_changing(
    case: Case, db: Db, order: str, *, initial: int, page_size: int, shared_time: bool
) -> None:
    """Read a scope page by page; between pages insert three rows and delete either
    one not yet seen or the last one seen (the token's position). Each page is its
    own unit of work, as each RPC is.

    Keyset paging promises: no row twice; every row present from start to end
    seen; a row inserted after the cursor's position seen, one inserted before it
    not; a row deleted before it was reached not seen; and the pages together in
    the order one query over the final rows gives."""
    scope, rows = await scope_with_rows(case, db, initial, shared_time=shared_time)
    original = {row["id"] for row in rows}
    seen: list[uuid.UUID] = []
    expected_new: set[uuid.UUID] = set()
    unexpected_new: set[uuid.UUID] = set()
    deleted: set[uuid.UUID] = set()
    deleted_seen: set[uuid.UUID] = set()
    token = ""
    for pages in itertools.count(1):
        assert pages < 200, "paging does not end"
        async with db.read() as session:
            page = await list_rows(
                case.repository,
                session,
                filter_text=scope.filter,
                order_by=order,
                page_size=page_size,
                page_token=token,
            )
        assert len(page.rows) <= page_size
        seen += [row["id"] for row in page.rows]
        if not page.next_page_token:
            break
        assert len(page.rows) == page_size
        token = page.next_page_token
        async with db.write() as session:
            new = {
                row["id"]
                for row in await insert_rows(case, session, scope, 3, shared_time=shared_time)
            }
            now_ordered = await every_id(case, session, scope, order)
            after_cursor = now_ordered[now_ordered.index(seen[-1]) + 1 :]
            expected_new |= new & set(after_cursor)
            unexpected_new |= new - set(after_cursor)
            unseen = [i for i in after_cursor if i not in new and i not in deleted]
            if pages % 2 and unseen:
                victim = unseen[len(unseen) // 2]
                await case.repository.delete(session, victim)
                deleted.add(victim)
            elif not pages % 2:
                # The row the token points after: the next page must still follow it.
                await case.repository.delete(session, seen[-1])
                deleted_seen.add(seen[-1])
    async with db.read() as session:
        final = await every_id(case, session, scope, order)

    assert len(seen) == len(set(seen)), "a row was visited twice"
    assert set(seen) == (original | expected_new) - deleted
    kept = [i for i in seen if i not in deleted_seen]
    assert kept == [i for i in final if i in set(seen)], "pages disagree with one query"
    assert deleted, "no unseen row was deleted between pages"
    assert deleted_seen, "no cursor row was deleted between pages"
    assert expected_new | unexpected_new, "no row was inserted between pages"
    assert expected_new | unexpected_new, "no row was inserted between pages"


@pytest.mark.parametrize(("case", "order"), ORDERS)
async def test_list_pages_visit_every_row_once_while_rows_are_inserted(
    case: Case, order: str, db: Db
) -> None:
    await page_through_while_changing(case, db, order, initial=23, page_size=4, shared_time=False)


@pytest.mark.parametrize(("case", "order"), ORDERS)
async def test_list_pages_visit_every_row_once_when_all_rows_share_created_at(
    case: Case, order: str, db: Db
) -> None:
    await page_through_while_changing(case, db, order, initial=17, page_size=3, shared_time=True)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_rows_made_in_one_transaction_page_by_id_within_created_at(
    case: Case, db: Db
) -> None:
    scope, rows = await scope_with_rows(case, db, 12, shared_time=True)

    async with db.read() as session:
        pages: list[Page] = [
            await list_rows(case.repository, session, filter_text=scope.filter, page_size=5)
        ]
        while pages[-1].next_page_token:
            pages.append(
                await list_rows(
                    case.repository,
                    session,
                    filter_text=scope.filter,
                    page_size=5,
                    page_token=pages[-1].next_page_token,
                )
            )

    seen = [row["id"] for page in pages for row in page.rows]
    assert len({row["created_at"] for row in rows}) == 1
    assert [len(page.rows) for page in pages] == [5, 5, 2]
    # created_at desc, then id desc: uuid order is PostgreSQL's uuid order.
    assert seen == sorted((row["id"] for row in rows), reverse=True)


def sort_key(row: Row, name: str) -> Any:
    value = row[name]
    if isinstance(value, enum.Enum):
        return list(type(value)).index(value)
    return value


@pytest.mark.parametrize(("case", "order"), ORDERS)
async def test_list_order_by_sorts_each_field_in_its_direction(
    case: Case, order: str, db: Db
) -> None:
    scope, _ = await scope_with_rows(case, db, 15)
    keys = [
        (words[0], len(words) == 2 and words[1] == "desc")
        for words in (part.split() for part in (order or "created_at desc").split(","))
    ]
    keys.append(("id", keys[-1][1]))

    async with db.read() as session:
        page = await list_rows(
            case.repository, session, filter_text=scope.filter, order_by=order, page_size=100
        )

    # Text keys here (hex emails, zero-padded names) sort alike in every collation.
    expected = list(page.rows)
    for name, descending in reversed(keys):

        def by(row: Row, name: str = name) -> Any:
            return sort_key(row, name)

        expected.sort(key=by, reverse=descending)
    assert len(page.rows) == 15
    assert [row["id"] for row in page.rows] == [row["id"] for row in expected]


# --- filters -----------------------------------------------------------------------------

FILTER_MOMENT = dt.datetime(2024, 1, 4, tzinfo=UTC)


@pytest.fixture
async def evidence_rows(db: Db) -> tuple[Scope, list[Row]]:
    """Six evidence rows with known values of every filterable type."""
    async with db.write() as session:
        scope = await _evidence_scope(session)
        rows = []
        for i in range(6):
            values = evidence_values(scope.parents, name=f"name {i}")
            values.update(
                status=_STATUSES[i % 3],
                compliance_score_impact=i * 10.0,
                file_size_bytes=i * 1000 if i % 2 else None,
                required_for_audit=i % 2 == 0,
                collected_at=FILTER_MOMENT + dt.timedelta(days=i - 3) if i >= 2 else None,
            )
            rows.append(await EVIDENCE.create(session, values))
        rows.append(
            await EVIDENCE.create(
                session, evidence_values(scope.parents, name='say "hi" \\ and it\'s done')
            )
        )
        rows.append(
            await EVIDENCE.create(
                session, evidence_values(scope.parents, name="x'; DROP TABLE users; --")
            )
        )
    return scope, rows


def compare(value: Any, operator: str, other: Any) -> bool:
    if value is None:
        return False  # SQL: a comparison with NULL is never true
    outcome: bool = {
        "=": value == other,
        "!=": value != other,
        "<": value < other,
        "<=": value <= other,
        ">": value > other,
        ">=": value >= other,
    }[operator]
    return outcome


@pytest.mark.parametrize("operator", ["=", "!=", "<", "<=", ">", ">="])
@pytest.mark.parametrize(
    ("column", "literal", "value"),
    [
        ("evidence_name", '"name 3"', "name 3"),
        ("evidence_name", "name", "name"),
        ("compliance_score_impact", "20", 20.0),
        ("compliance_score_impact", "25.5", 25.5),
        ("file_size_bytes", "3000", 3000),
        ("collected_at", "2024-01-04T00:00:00Z", FILTER_MOMENT),
        ("collected_at", "2024-01-04T02:00:00+02:00", FILTER_MOMENT),
        (
            "collected_at",
            "2024-01-03T23:59:59.999999-00:00",
            FILTER_MOMENT - dt.timedelta(microseconds=1),
        ),
    ],
)
async def test_filter_operators_select_the_matching_rows(
    db: Db,
    evidence_rows: tuple[Scope, list[Row]],
    operator: str,
    column: str,
    literal: str,
    value: Any,
) -> None:
    scope, rows = evidence_rows

    async with db.read() as session:
        page = await list_rows(
            EVIDENCE, session, filter_text=f"{scope.filter} AND {column} {operator} {literal}"
        )

    assert {r["id"] for r in page.rows} == {
        r["id"] for r in rows if compare(r[column], operator, value)
    }


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ("status = collected", lambda r: r["status"] == EvidenceStatus.COLLECTED),
        ("status = COLLECTED", lambda r: r["status"] == EvidenceStatus.COLLECTED),
        ("status = EVIDENCE_STATUS_COLLECTED", lambda r: r["status"] == EvidenceStatus.COLLECTED),
        ("status != collected", lambda r: r["status"] != EvidenceStatus.COLLECTED),
        ("required_for_audit = true", lambda r: r["required_for_audit"]),
        ("required_for_audit = false", lambda r: not r["required_for_audit"]),
        ("required_for_audit != true", lambda r: not r["required_for_audit"]),
        ("collected_at = null", lambda r: r["collected_at"] is None),
        ("collected_at != null", lambda r: r["collected_at"] is not None),
        ("file_size_bytes = null", lambda r: r["file_size_bytes"] is None),
        (
            'evidence_name = "say \\"hi\\" \\\\ and it\'s done"',
            lambda r: '"hi"' in r["evidence_name"],
        ),
        ('evidence_name = "x\'; DROP TABLE users; --"', lambda r: "DROP" in r["evidence_name"]),
        (
            "status = collected AND compliance_score_impact > 5 AND required_for_audit = true",
            lambda r: (
                r["status"] == EvidenceStatus.COLLECTED
                and r["compliance_score_impact"] > 5
                and r["required_for_audit"]
            ),
        ),
        (
            "collected_at >= 2024-01-03T00:00:00Z AND collected_at < 2024-01-05T00:00:00Z",
            lambda r: (
                r["collected_at"] is not None
                and dt.datetime(2024, 1, 3, tzinfo=UTC)
                <= r["collected_at"]
                < dt.datetime(2024, 1, 5, tzinfo=UTC)
            ),
        ),
    ],
)
async def test_filter_on_enum_bool_null_quotes_and_several_conditions(
    db: Db,
    evidence_rows: tuple[Scope, list[Row]],
    condition: str,
    matches: Callable[[Mapping[str, Any]], bool],
) -> None:
    scope, rows = evidence_rows

    async with db.read() as session:
        page = await list_rows(EVIDENCE, session, filter_text=f"{scope.filter} AND {condition}")

    expected = {r["id"] for r in rows if matches(dict(r))}
    assert {r["id"] for r in page.rows} == expected


async def test_filter_on_uuid_parents(db: Db, evidence_rows: tuple[Scope, list[Row]]) -> None:
    scope, rows = evidence_rows
    parents = scope.parents

    async with db.read() as session:
        by_profile = await list_rows(
            EVIDENCE, session, filter_text=f"business_profile_id = {parents['business_profile_id']}"
        )
        not_that_framework = await list_rows(
            EVIDENCE,
            session,
            filter_text=f"{scope.filter} AND framework_id != {parents['framework_id']}",
        )
        nobody = await list_rows(EVIDENCE, session, filter_text=f"user_id = {uuid.uuid4()}")

    assert {r["id"] for r in by_profile.rows} == {r["id"] for r in rows}
    assert not_that_framework.rows == []
    assert nobody.rows == []


@pytest.mark.parametrize("operator", ["=", "!=", "<", "<=", ">", ">="])
async def test_filter_on_an_integer_column(db: Db, operator: str) -> None:
    case = CASES_BY_NAME["chat_messages"]
    scope, rows = await scope_with_rows(case, db, 6)

    async with db.read() as session:
        page = await list_rows(
            MESSAGES, session, filter_text=f"{scope.filter} AND sequence_number {operator} 3"
        )

    assert {r["id"] for r in page.rows} == {
        r["id"] for r in rows if compare(r["sequence_number"], operator, 3)
    }


async def test_sql_in_filter_values_is_only_a_value(db: Db) -> None:
    scope, _ = await scope_with_rows(CASES_BY_NAME["users"], db, 2)
    attempts = [
        'email = "x\'; DROP TABLE users; --"',
        'email = "\' OR 1=1 --"',
        'full_name = "a\\" OR \\"1\\"=\\"1"',
    ]

    async with db.read() as session:
        for attempt in attempts:
            page = await list_rows(USERS, session, filter_text=attempt)
            assert page.rows == []
        with pytest.raises(InvalidArgumentError):  # unquoted, it is not even a value
            await list_rows(USERS, session, filter_text="email = x';DROP")
        still_there = await list_rows(USERS, session, filter_text=scope.filter, with_total=True)

    assert still_there.total_size == 2


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("bogus = 1", "unknown field 'bogus'"),
        ("evidence_type = document", "cannot filter on 'evidence_type'"),
        ("evidence_name ~ x", "expected an operator"),
        ("user_id < 0192f5e2-7a3c-7b1d-9c4e-123456789abc", "only takes = and !="),
        ("required_for_audit >= true", "only takes = and !="),
        ("status < collected", "only takes = and !="),
        ("compliance_score_impact > many", "not a valid value"),
        ("evidence_name =", "has no value"),
        ("status = collected AND", "AND at the end"),
        ("status = collected OR", "OR at the end"),
        ('evidence_name = "open', "unterminated quoted string"),
        ("collected_at > 2024-01-01T00:00:00", "needs a time zone"),
        ("evidence_name = a\x00b", "NUL"),
        ("x = " + "y" * 2000, "longer than 2000"),
    ],
)
async def test_bad_filter_is_invalid_argument_on_filter(db: Db, text: str, says: str) -> None:
    async with db.read() as session:
        with pytest.raises(InvalidArgumentError) as error:
            await list_rows(EVIDENCE, session, filter_text=text)

    field_name, description = violation(error)
    assert field_name == "filter"
    assert says in description


async def test_filter_value_out_of_a_32_bit_column_is_invalid_not_a_driver_error(db: Db) -> None:
    async with db.read() as session:
        with pytest.raises(InvalidArgumentError) as error:
            await list_rows(MESSAGES, session, filter_text="sequence_number > 3000000000")

    assert violation(error)[0] == "filter"


# --- order_by ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_by", "says"),
    [
        ("bogus", "cannot order by 'bogus'"),
        ("evidence_type", "cannot order by 'evidence_type'"),
        ("collected_at desc", "cannot order by 'collected_at'"),
        ("status, status desc", "status appears twice"),
        ("status upward", "expected `field [asc|desc]`"),
        ("status,", "expected `field [asc|desc]`"),
    ],
)
async def test_bad_order_by_is_invalid_argument_on_order_by(
    db: Db, order_by: str, says: str
) -> None:
    async with db.read() as session:
        with pytest.raises(InvalidArgumentError) as error:
            await list_rows(EVIDENCE, session, order_by=order_by)

    field_name, description = violation(error)
    assert field_name == "order_by"
    assert says in description


async def test_default_order_fields_may_be_named_even_if_not_declared(db: Db) -> None:
    logs = Repository(
        models.IntegrationHealthLog, filterable=["integration_id"], default_order="checked_at desc"
    )
    async with db.write() as session:
        user = await new_user(session)
        integration = await INTEGRATIONS.create(
            session, valid_rows.row("integrations", {"user_id": user["id"]}, provider="gitlab")
        )
        for status in ("healthy", "degraded"):
            await logs.create(
                session,
                {
                    "integration_id": integration["id"],
                    "status": status,
                    "checked_at": LONG_AGO + dt.timedelta(hours=len(status)),
                },
            )
    mine = f'integration_id = "{integration["id"]}"'

    async with db.read() as session:
        oldest_first = await list_rows(logs, session, order_by="checked_at asc", filter_text=mine)
        newest_first = await list_rows(logs, session, filter_text=mine)

    assert [r["status"] for r in oldest_first.rows] == ["healthy", "degraded"]
    assert [r["status"] for r in newest_first.rows] == ["degraded", "healthy"]


# --- page tokens --------------------------------------------------------------------------


async def first_token(case: Case, db: Db, scope: Scope, order: str = "") -> str:
    async with db.read() as session:
        page = await list_rows(
            case.repository, session, filter_text=scope.filter, order_by=order, page_size=2
        )
    assert page.next_page_token
    return page.next_page_token


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_page_token_works_with_the_same_filter_and_order_and_any_page_size(
    case: Case, db: Db
) -> None:
    scope, _ = await scope_with_rows(case, db, 6)
    order = case.orders[1]
    token = await first_token(case, db, scope, order)

    async with db.read() as session:
        rest = await list_rows(
            case.repository,
            session,
            filter_text=scope.filter,
            order_by=order,
            page_size=10,
            page_token=token,
        )

    assert len(rest.rows) == 4
    assert rest.next_page_token == ""


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_page_token_with_another_filter_or_order_is_refused(case: Case, db: Db) -> None:
    scope, _ = await scope_with_rows(case, db, 3)
    token = await first_token(case, db, scope)
    narrow, _ = case.narrow
    others = [
        (f"{scope.filter} AND {narrow}", ""),
        ("", ""),
        (scope.filter, case.orders[1]),
        (scope.filter, "created_at"),
    ]

    async with db.read() as session:
        for filter_text, order_by in others:
            with pytest.raises(InvalidArgumentError) as error:
                await list_rows(
                    case.repository,
                    session,
                    filter_text=filter_text,
                    order_by=order_by,
                    page_token=token,
                )
            field_name, description = violation(error)
            assert field_name == "page_token"
            assert "different filter or order_by" in description


async def test_page_token_of_another_table_is_refused(db: Db) -> None:
    await scope_with_rows(CASES_BY_NAME["chat_messages"], db, 3)
    async with db.read() as session:
        token = (await list_rows(MESSAGES, session, page_size=2)).next_page_token
        with pytest.raises(InvalidArgumentError) as error:
            await list_rows(EVIDENCE, session, page_token=token)

    assert token
    assert violation(error)[0] == "page_token"


async def test_page_token_is_bound_to_the_parent_it_was_listed_under(db: Db) -> None:
    case = CASES_BY_NAME["chat_messages"]
    scope_a, _ = await scope_with_rows(case, db, 3)
    scope_b, _ = await scope_with_rows(case, db, 3)
    a = f'conversation_id = "{scope_a.parents["conversation_id"]}"'
    b = f'conversation_id = "{scope_b.parents["conversation_id"]}"'

    async with db.read() as session:
        page = await list_rows(MESSAGES, session, filter_text=a, page_size=2)
        same = await list_rows(
            MESSAGES, session, filter_text=a, page_size=2, page_token=page.next_page_token
        )
        with pytest.raises(InvalidArgumentError) as error:
            await list_rows(MESSAGES, session, filter_text=b, page_token=page.next_page_token)

    assert len(page.rows) == 2
    assert len(same.rows) == 1
    assert violation(error)[0] == "page_token"


def _flip(token: str, position: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    swapped = alphabet[(alphabet.index(token[position]) + 7) % len(alphabet)]
    return token[:position] + swapped + token[position + 1 :]


TAMPERS: dict[str, Callable[[str], str]] = {
    "first character flipped": lambda t: _flip(t, 0),
    "middle character flipped": lambda t: _flip(t, len(t) // 2),
    "truncated": lambda t: t[:-3],
    "halved": lambda t: t[: len(t) // 2],
    "random base64": lambda t: "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mr",
    "not base64": lambda t: "%%%" + t,
    "doubled": lambda t: t + t,
}


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=TAMPERS.keys())
async def test_tampered_page_token_is_invalid_argument(
    db: Db, tamper: Callable[[str], str]
) -> None:
    case = CASES_BY_NAME["evidence_items"]
    scope, _ = await scope_with_rows(case, db, 3)
    token = await first_token(case, db, scope)

    async with db.read() as session:
        with pytest.raises(InvalidArgumentError) as error:
            await list_rows(EVIDENCE, session, filter_text=scope.filter, page_token=tamper(token))

    assert violation(error)[0] == "page_token"


# --- create -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_create_applies_server_defaults(case: Case, db: Db) -> None:
    async with db.write() as session:
        scope = await case.make_scope(session)
        row = await case.repository.create(session, await case.minimal(session, scope, 0))
        now = (await session.execute(select(func.now()))).scalar_one()

    assert isinstance(row["id"], uuid.UUID)
    assert row["id"].version == 7
    assert row["etag"]
    assert row["created_at"] == now
    if "updated_at" in row:
        assert row["updated_at"] == now
    assert {name: row[name] for name in case.defaults} == case.defaults


async def test_create_keeps_given_values_over_defaults(db: Db) -> None:
    moment = dt.datetime(2021, 6, 1, 12, tzinfo=UTC)
    async with db.write() as session:
        parents = await evidence_parents(session)
        row = await EVIDENCE.create(
            session,
            {
                **evidence_values(parents),
                "status": EvidenceStatus.APPROVED,
                "required_for_audit": False,
                "created_at": moment,
                "ai_metadata": {"model": "x", "scores": [1, 2.5, None]},
            },
        )

    assert row["status"] is EvidenceStatus.APPROVED
    assert row["required_for_audit"] is False
    assert row["created_at"] == moment
    assert row["ai_metadata"] == {"model": "x", "scores": [1, 2.5, None]}


@pytest.mark.parametrize("spelling", [str, str.upper, str.title])
async def test_create_with_a_taken_email_already_exists(
    db: Db, spelling: Callable[[str], str]
) -> None:
    async with db.write() as session:
        taken = await new_user(session)
    candidate = spelling(taken["email"])

    with pytest.raises(AlreadyExistsError) as error:
        async with db.write() as session:
            await new_user(session, email=candidate)

    assert error.value.reason == "ALREADY_EXISTS"
    assert error.value.metadata["fields"] == "email"
    assert "email" in error.value.message


async def test_update_to_a_taken_google_id_already_exists(db: Db) -> None:
    async with db.write() as session:
        await new_user(session, google_id="google|1")
        other = await new_user(session)

    with pytest.raises(AlreadyExistsError) as error:
        async with db.write() as session:
            await USERS.update(session, other["id"], {"google_id": "google|1"})

    assert error.value.metadata == {"constraint": "uq_users_google_id", "fields": "google_id"}


async def test_second_integration_of_a_provider_for_a_user_already_exists(db: Db) -> None:
    async with db.write() as session:
        user = await new_user(session)
        values = valid_rows.row("integrations", {"user_id": user["id"]}, provider="okta")
        await INTEGRATIONS.create(session, values)

    with pytest.raises(AlreadyExistsError) as error:
        async with db.write() as session:
            await INTEGRATIONS.create(session, values)

    assert error.value.metadata["fields"] == "user_id,provider"


PARENT_CASES = [
    pytest.param(case, name, id=f"{case}.{name}") for case in CASES for name in case.parent_fields
]


@pytest.mark.parametrize(("case", "parent_field"), PARENT_CASES)
async def test_create_with_a_missing_parent_names_the_field(
    case: Case, parent_field: str, db: Db
) -> None:
    async with db.write() as session:
        scope = await case.make_scope(session)
        values = await case.minimal(session, scope, 0)

    with pytest.raises(FailedPreconditionError) as error:
        async with db.write() as session:
            await case.repository.create(session, {**values, parent_field: uuid.uuid4()})

    assert error.value.reason == "PARENT_NOT_FOUND"
    assert error.value.metadata["field"] == parent_field
    assert parent_field in error.value.message


async def test_update_to_a_missing_parent_names_the_field(db: Db) -> None:
    _, (row,) = await scope_with_rows(CASES_BY_NAME["evidence_items"], db, 1)

    with pytest.raises(FailedPreconditionError) as error:
        async with db.write() as session:
            await EVIDENCE.update(session, row["id"], {"framework_id": uuid.uuid4()})

    assert error.value.reason == "PARENT_NOT_FOUND"
    assert error.value.metadata["field"] == "framework_id"


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_check_violation_names_the_guarded_field_on_create_and_update(
    case: Case, db: Db
) -> None:
    bad, constraint = case.check_violation
    scope, (row,) = await scope_with_rows(case, db, 1)
    async with db.read() as session:
        values = {**await case.minimal(session, scope, 1), **bad}

    with pytest.raises(InvalidArgumentError) as on_create:
        async with db.write() as session:
            await case.repository.create(session, values)
    with pytest.raises(InvalidArgumentError) as on_update:
        async with db.write() as session:
            await case.repository.update(session, row["id"], bad)

    for error in (on_create, on_update):
        assert error.value.reason == "CHECK_VIOLATION"
        assert error.value.metadata == {"constraint": constraint}
        assert [v.field for v in error.value.violations] == list(bad)


@pytest.mark.parametrize(
    ("case_name", "column", "value"),
    [
        ("users", "full_name", "nul\x00byte"),
        ("users", "email", "a\x00@example.com"),
        ("evidence_items", "ai_metadata", {"note": "nul\x00byte"}),
        ("chat_messages", "content", "\x00"),
        ("chat_messages", "sequence_number", 2**31),
        ("chat_messages", "sequence_number", -(2**31) - 1),
        ("evidence_items", "file_size_bytes", 2**63),
        ("users", "no_such_column", "x"),
    ],
)
async def test_values_the_database_cannot_store_are_invalid_argument_naming_the_field(
    db: Db, case_name: str, column: str, value: Any
) -> None:
    case = CASES_BY_NAME[case_name]
    scope, (row,) = await scope_with_rows(case, db, 1)
    async with db.write() as session:
        values = {**await case.minimal(session, scope, 1), column: value}

    with pytest.raises(InvalidArgumentError) as on_create:
        async with db.write() as session:
            await case.repository.create(session, values)
    with pytest.raises(InvalidArgumentError) as on_update:
        async with db.write() as session:
            await case.repository.update(session, row["id"], {column: value})

    assert violation(on_create)[0] == column
    assert violation(on_update)[0] == column


@pytest.mark.parametrize(
    "values",
    [
        {"employee_count": 2**40},
        {"company_name": "nul\x00byte"},
    ],
    ids=["int out of int32", "nul in text"],
)
async def test_driver_refusals_that_pass_the_repository_still_become_invalid_argument(
    db: Db, values: dict[str, Any]
) -> None:
    """The translation is the backstop for statements built outside the repository."""
    async with db.write() as session:
        user = await new_user(session)

    row = {"company_name": "c", "industry": "i", "employee_count": 1, **values}
    statement = insert(PROFILES.table).values(id=uuid7(), user_id=user["id"], **row)

    async def run() -> None:
        async with db.write() as session:
            await session.execute(statement)

    with pytest.raises(InvalidArgumentError) as error:
        await run()

    assert isinstance(error.value.__cause__, sa_exc.DBAPIError)


async def test_missing_required_value_is_invalid_argument_naming_the_column(db: Db) -> None:
    async with db.write() as session:
        parents = await evidence_parents(session)
    values = evidence_values(parents)
    del values["description"]

    with pytest.raises(InvalidArgumentError) as error:
        async with db.write() as session:
            await EVIDENCE.create(session, values)

    assert violation(error) == ("description", "is required")


# --- update -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_update_changes_only_given_columns_and_refreshes_updated_at_and_etag(
    case: Case, db: Db
) -> None:
    column, new_value = case.change
    async with db.write() as session:
        scope = await case.make_scope(session)
        values = await case.minimal(session, scope, 0)
        if "updated_at" in case.repository.table.c:
            values["updated_at"] = LONG_AGO
        before = await case.repository.create(session, values)
    async with db.write() as session:
        after = await case.repository.update(
            session, before["id"], {column: new_value}, etag=before["etag"]
        )
    async with db.read() as session:
        reread = await case.repository.get(session, before["id"])

    assert after[column] == new_value
    assert before[column] != new_value
    assert after["etag"] != before["etag"]
    assert dict(reread) == dict(after)
    unchanged = set(before) - {column, "etag", "updated_at"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    if "updated_at" in before:
        assert before["updated_at"] == LONG_AGO
        assert after["updated_at"] > LONG_AGO


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_update_with_a_stale_etag_is_aborted(case: Case, db: Db) -> None:
    column, new_value = case.change
    _, (row,) = await scope_with_rows(case, db, 1)
    async with db.write() as session:
        current = await case.repository.update(session, row["id"], {column: new_value})

    with pytest.raises(AbortedError) as error:
        async with db.write() as session:
            await case.repository.update(
                session, row["id"], {column: row[column]}, etag=row["etag"]
            )
    async with db.read() as session:
        kept = await case.repository.get(session, row["id"])

    assert error.value.reason == "ETAG_MISMATCH"
    assert error.value.metadata["id"] == str(row["id"])
    assert dict(kept) == dict(current)


@pytest.mark.parametrize("etag", ["", "12345"])
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_update_of_a_missing_row_is_not_found(case: Case, db: Db, etag: str) -> None:
    column, new_value = case.change
    missing = uuid.uuid4()

    with pytest.raises(NotFoundError) as error:
        async with db.write() as session:
            await case.repository.update(session, missing, {column: new_value}, etag=etag)

    assert error.value.metadata == {"resource": case.name, "id": str(missing)}


async def test_update_with_nothing_to_change_checks_the_etag_and_returns_the_row(db: Db) -> None:
    _, (row,) = await scope_with_rows(CASES_BY_NAME["users"], db, 1)
    async with db.write() as session:
        changed = await USERS.update(session, row["id"], {"full_name": "Changed"})

    async with db.write() as session:
        same = await USERS.update(session, row["id"], {}, etag=changed["etag"])
        with pytest.raises(AbortedError):
            await USERS.update(session, row["id"], {}, etag=row["etag"])
    with pytest.raises(NotFoundError):
        async with db.write() as session:
            await USERS.update(session, uuid.uuid4(), {})

    assert dict(same) == dict(changed)


# --- delete -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_delete_removes_the_row_and_checks_the_etag(case: Case, db: Db) -> None:
    _, (row, other) = await scope_with_rows(case, db, 2)
    column, new_value = case.change
    async with db.write() as session:
        await case.repository.update(session, row["id"], {column: new_value})

    with pytest.raises(AbortedError) as stale:
        async with db.write() as session:
            await case.repository.delete(session, row["id"], etag=row["etag"])
    with pytest.raises(AbortedError) as stale_forced:
        async with db.write() as session:
            await case.repository.delete(session, row["id"], etag=row["etag"], force=True)
    async with db.write() as session:
        await case.repository.delete(session, other["id"], etag=other["etag"])
        await case.repository.delete(session, row["id"])
    async with db.read() as session:
        with pytest.raises(NotFoundError):
            await case.repository.get(session, row["id"])
        with pytest.raises(NotFoundError):
            await case.repository.get(session, other["id"])

    assert stale.value.reason == stale_forced.value.reason == "ETAG_MISMATCH"


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("etag", ["", "12345"])
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_delete_of_a_missing_row_is_not_found(
    case: Case, db: Db, etag: str, force: bool
) -> None:
    missing = uuid.uuid4()

    with pytest.raises(NotFoundError) as error:
        async with db.write() as session:
            await case.repository.delete(session, missing, etag=etag, force=force)

    assert error.value.metadata["id"] == str(missing)


async def _user_with_profile(session: Transaction) -> tuple[Repository, uuid.UUID]:
    user = await new_user(session)
    await new_profile(session, user["id"])
    return USERS, user["id"]


async def _framework_with_evidence(session: Transaction) -> tuple[Repository, uuid.UUID]:
    parents = await evidence_parents(session)
    await EVIDENCE.create(session, evidence_values(parents))
    return FRAMEWORKS, parents["framework_id"]


async def _profile_with_conversation(session: Transaction) -> tuple[Repository, uuid.UUID]:
    user = await new_user(session)
    profile = await new_profile(session, user["id"])
    await new_conversation(session, user["id"], profile["id"])
    return PROFILES, profile["id"]


async def _user_with_integration(session: Transaction) -> tuple[Repository, uuid.UUID]:
    user = await new_user(session)
    await INTEGRATIONS.create(session, valid_rows.row("integrations", {"user_id": user["id"]}))
    return USERS, user["id"]


@pytest.mark.parametrize(
    ("build", "dependent"),
    [
        (_user_with_profile, "business_profiles"),
        (_framework_with_evidence, "evidence_items"),
        (_profile_with_conversation, "chat_conversations"),
        (_user_with_integration, "integrations"),
    ],
    ids=["user-profile", "framework-evidence", "profile-conversation", "user-integration"],
)
async def test_delete_with_dependents_fails_naming_the_dependent_table(
    db: Db,
    build: Callable[[Transaction], Awaitable[tuple[Repository, uuid.UUID]]],
    dependent: str,
) -> None:
    async with db.write() as session:
        repository, row_id = await build(session)

    with pytest.raises(FailedPreconditionError) as error:
        async with db.write() as session:
            await repository.delete(session, row_id)
    async with db.read() as session:
        still_there = await repository.get(session, row_id)

    assert error.value.reason == "HAS_DEPENDENTS"
    assert error.value.metadata["dependent"] == dependent
    assert dependent in error.value.message
    assert still_there["id"] == row_id


async def test_delete_of_a_conversation_takes_its_messages_with_it(db: Db) -> None:
    scope, messages = await scope_with_rows(CASES_BY_NAME["chat_messages"], db, 3)

    async with db.write() as session:
        await CONVERSATIONS.delete(session, scope.parents["conversation_id"])
    async with db.read() as session:
        left = await list_rows(MESSAGES, session, filter_text=scope.filter, with_total=True)

    assert left.total_size == 0
    assert messages


async def build_tree(session: Transaction) -> dict[str, list[uuid.UUID]]:
    """A user owning one row of every table that can refer to a user."""
    user = await new_user(session)
    profile = await new_profile(session, user["id"])
    framework = await new_framework(session)
    owned = {"user_id": user["id"], "business_profile_id": profile["id"]}
    evidence = await EVIDENCE.create(
        session, evidence_values({**owned, "framework_id": framework["id"]})
    )
    policy = await POLICIES.create(
        session,
        valid_rows.row(
            "generated_policies",
            {**owned, "framework_id": framework["id"]},
            framework_name=framework["name"],
            policy_content="x" * 10_000,
        ),
    )
    readiness = await READINESS.create(
        session,
        valid_rows.row(
            "readiness_assessments",
            {**owned, "framework_id": framework["id"]},
            score_breakdown={"access": 40},
        ),
    )
    assessment = await ASSESSMENT_SESSIONS.create(
        session, valid_rows.row("assessment_sessions", owned)
    )
    questions = [
        await QUESTIONS.create(
            session,
            valid_rows.row(
                "assessment_questions",
                {"session_id": assessment["id"]},
                question_text=f"Question {n}?",
                position=n,
            ),
        )
        for n in range(3)
    ]
    integration = await INTEGRATIONS.create(
        session, valid_rows.row("integrations", {"user_id": user["id"]})
    )
    log = {"integration_id": integration["id"]}
    logs = [
        await HEALTH_LOGS.create(session, valid_rows.row("integration_health_logs", log))
        for _ in range(2)
    ]
    collection = await COLLECTIONS.create(
        session,
        valid_rows.row(
            "evidence_collections", {"integration_id": integration["id"], "user_id": user["id"]}
        ),
    )
    conversation = await new_conversation(session, user["id"], profile["id"])
    messages = [
        await MESSAGES.create(
            session,
            valid_rows.row(
                "chat_messages", {"conversation_id": conversation["id"]}, sequence_number=n + 1
            ),
        )
        for n in range(3)
    ]
    return {
        "users": [user["id"]],
        "business_profiles": [profile["id"]],
        "evidence_items": [evidence["id"]],
        "generated_policies": [policy["id"]],
        "readiness_assessments": [readiness["id"]],
        "assessment_sessions": [assessment["id"]],
        "assessment_questions": [q["id"] for q in questions],
        "integrations": [integration["id"]],
        "integration_health_logs": [log["id"] for log in logs],
        "evidence_collections": [collection["id"]],
        "chat_conversations": [conversation["id"]],
        "chat_messages": [m["id"] for m in messages],
        "compliance_frameworks": [framework["id"]],
    }


async def surviving(
    session: Transaction, tree: Mapping[str, Sequence[uuid.UUID]]
) -> dict[str, int]:
    counts = {}
    for name, ids in tree.items():
        table = models.Base.metadata.tables[name]
        statement = select(func.count()).select_from(table).where(table.c.id.in_(ids))
        counts[name] = (await session.execute(statement)).scalar_one()
    return counts


async def test_force_delete_removes_the_whole_dependent_tree_in_one_transaction(db: Db) -> None:
    async with db.write() as session:
        doomed = await build_tree(session)
        bystander = await build_tree(session)
    user_id = doomed["users"][0]

    async with db.write() as session:
        with pytest.raises(FailedPreconditionError):
            async with savepoint(session):
                await USERS.delete(session, user_id)
        await USERS.delete(session, user_id, force=True)
        before_commit = await surviving(session, doomed)
    async with db.read() as session:
        after = await surviving(session, doomed)
        others = await surviving(session, bystander)

    # Frameworks are not the user's: evidence referred to one, nothing owns it.
    assert after == {name: int(name == "compliance_frameworks") for name in doomed}
    assert before_commit == after
    assert others == {name: len(ids) for name, ids in bystander.items()}


async def test_force_delete_with_a_stale_etag_deletes_nothing(db: Db) -> None:
    async with db.write() as session:
        tree = await build_tree(session)
    user_id = tree["users"][0]
    async with db.read() as session:
        user = await USERS.get(session, user_id)
    async with db.write() as session:
        await USERS.update(session, user_id, {"full_name": "changed"})

    # Even a caller that commits after the refusal keeps every row.
    async with db.write() as session:
        with pytest.raises(AbortedError):
            await USERS.delete(session, user_id, etag=user["etag"], force=True)
    async with db.read() as session:
        counts = await surviving(session, tree)

    assert counts == {name: len(ids) for name, ids in tree.items()}


async def test_force_delete_of_a_framework_removes_what_refers_to_it_and_nothing_else(
    db: Db,
) -> None:
    """And deleting an integration takes its logs and collections (CASCADE)."""
    async with db.write() as session:
        tree = await build_tree(session)
    framework_id = tree["compliance_frameworks"][0]

    async with db.write() as session:
        await FRAMEWORKS.delete(session, framework_id, force=True)
        await INTEGRATIONS.delete(session, tree["integrations"][0])
    async with db.read() as session:
        counts = await surviving(session, tree)

    gone = {
        "compliance_frameworks",
        "evidence_items",
        "generated_policies",
        "readiness_assessments",
        "integrations",
        "integration_health_logs",
        "evidence_collections",
    }
    assert {name for name, count in counts.items() if count == 0} == gone


class _Scratch(DeclarativeBase):
    """Tables of this test module only (never in the service's metadata): a shape
    the real schema lacks, a RESTRICT reference below a CASCADE one."""


class _Root(_Scratch):
    __tablename__ = "scratch_roots"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class _Branch(_Scratch):
    __tablename__ = "scratch_branches"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    root_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(_Root.id, ondelete="CASCADE"))


class _Leaf(_Scratch):
    __tablename__ = "scratch_leaves"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(_Branch.id, ondelete="RESTRICT"))


async def test_force_delete_reaches_restrict_references_below_a_cascade(
    db: Db, connection: AsyncConnection
) -> None:
    # DDL is transactional: the outer transaction's rollback drops these tables.
    await connection.run_sync(_Scratch.metadata.create_all)
    roots, branches, leaves = (
        Repository(model, default_order="id")  # type: ignore[arg-type]
        for model in (_Root, _Branch, _Leaf)
    )
    async with db.write() as session:
        root = await roots.create(session, {})
        kept = await roots.create(session, {})
        branch = await branches.create(session, {"root_id": root["id"]})
        other = await branches.create(session, {"root_id": kept["id"]})
        await leaves.create(session, {"branch_id": branch["id"]})
        await leaves.create(session, {"branch_id": other["id"]})

    with pytest.raises(FailedPreconditionError) as refused:
        async with db.write() as session:
            await roots.delete(session, root["id"])
    async with db.write() as session:
        await roots.delete(session, root["id"], force=True)
    async with db.read() as session:
        left = {
            name: [row["id"] for row in (await list_rows(repository, session)).rows]
            for name, repository in (("roots", roots), ("branches", branches), ("leaves", leaves))
        }

    assert refused.value.reason == "HAS_DEPENDENTS"
    assert left["roots"] == [kept["id"]]
    assert left["branches"] == [other["id"]]
    assert len(left["leaves"]) == 1


# --- unit of work -------------------------------------------------------------------------


async def test_unit_of_work_without_commit_rolls_back(db: Db) -> None:
    async with UnitOfWork(db.sessions) as uow:
        user = await new_user(uow.transaction)
        seen_inside = await USERS.get(uow.transaction, user["id"])
    async with db.read() as session:
        with pytest.raises(NotFoundError):
            await USERS.get(session, user["id"])

    assert seen_inside["id"] == user["id"]


async def test_exception_inside_a_unit_of_work_rolls_back_and_propagates(db: Db) -> None:
    class Boom(Exception):
        pass

    made: list[uuid.UUID] = []

    async def work() -> None:
        async with UnitOfWork(db.sessions) as uow:
            made.append((await new_user(uow.transaction))["id"])
            raise Boom

    with pytest.raises(Boom):
        await work()
    async with db.read() as session:
        with pytest.raises(NotFoundError):
            await USERS.get(session, made[0])


async def test_unit_of_work_is_usable_after_a_failed_one(db: Db) -> None:
    async with db.write() as session:
        taken = await new_user(session)
    with pytest.raises(AlreadyExistsError):
        async with db.write() as session:
            await new_user(session, email=taken["email"])

    async with db.write() as session:
        fine = await new_user(session)
    async with db.read() as session:
        assert (await USERS.get(session, fine["id"]))["email"] == fine["email"]


async def test_commit_makes_changes_visible_to_another_connection(database: Database) -> None:
    """On the real engine (not the test's outer transaction): before commit no other
    connection sees the row; after it, one does."""
    email = f"{unique('committed')}@example.com"
    user_id: uuid.UUID | None = None
    try:
        async with database.unit_of_work() as writer:
            user = await new_user(writer.transaction, email=email)
            user_id = user["id"]
            async with database.unit_of_work() as reader:
                with pytest.raises(NotFoundError):
                    await USERS.get(reader.transaction, user_id)
            await writer.commit()
        async with database.unit_of_work() as reader:
            seen = await USERS.get(reader.transaction, user_id)
        assert seen["email"] == email
    finally:
        if user_id is not None:
            async with database.unit_of_work() as cleanup:
                await USERS.delete(cleanup.transaction, user_id, force=True)
                await cleanup.commit()
    assert database.pool_stats().checked_out == 0


@pytest.mark.parametrize(
    ("provoke", "error_class", "cause_class"),
    [
        # The hot statements run on the asyncpg connection: the cause is the driver's
        # own integrity error, with its SQLSTATE and constraint name.
        ("duplicate", AlreadyExistsError, asyncpg.exceptions.IntegrityConstraintViolationError),
        ("check", InvalidArgumentError, asyncpg.exceptions.IntegrityConstraintViolationError),
        ("parent", FailedPreconditionError, asyncpg.exceptions.IntegrityConstraintViolationError),
        ("restrict", FailedPreconditionError, asyncpg.exceptions.IntegrityConstraintViolationError),
        ("not null", InvalidArgumentError, asyncpg.exceptions.IntegrityConstraintViolationError),
    ],
)
async def test_translated_errors_keep_the_driver_error_as_cause(
    db: Db, provoke: str, error_class: type[Exception], cause_class: type[Exception]
) -> None:
    async with db.write() as session:
        user = await new_user(session)
        await new_profile(session, user["id"])
    attempts: dict[str, Callable[[Transaction], Awaitable[Any]]] = {
        "duplicate": lambda s: new_user(s, email=user["email"]),
        "check": lambda s: new_user(s, email="no-at"),
        "parent": lambda s: new_profile(s, uuid.uuid4()),
        "restrict": lambda s: USERS.delete(s, user["id"]),
        "not null": lambda s: USERS.create(s, {"full_name": "no email"}),
    }

    with pytest.raises(error_class) as error:
        async with db.write() as session:
            await attempts[provoke](session)

    assert isinstance(error.value.__cause__, cause_class)
    assert "DETAIL" not in str(error.value)
    assert "INSERT" not in str(error.value)
    assert "DELETE" not in str(error.value)


async def test_statement_timeout_ends_a_slow_query_as_deadline_exceeded(
    sessions: OuterTransaction,
) -> None:

    async def slow() -> None:
        async with UnitOfWork(sessions, statement_timeout=0.05) as uow:
            await uow.transaction.execute(text("SELECT pg_sleep(5)"))

    with pytest.raises(DeadlineExceededError) as error:
        await slow()

    assert error.value.reason == "STATEMENT_TIMEOUT"
    assert isinstance(error.value.__cause__, sa_exc.DBAPIError)
