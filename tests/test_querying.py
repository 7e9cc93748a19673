"""The List language on its own, without a database: filters, order_by and page
tokens are parsed and typed against a table's declared fields before any SQL."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Column, Table, and_
from sqlalchemy.sql.elements import ColumnElement

from repositories.errors import FieldViolation, InvalidArgumentError
from repositories.filtering import where_clause
from repositories.models import ChatMessage, Evidence, EvidenceStatus, User
from repositories.querying import OrderKey, PageTokens, check_storable, parse_order
from service.query import MAX_FILTER_LENGTH, FilterLanguage


def _table(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


EVIDENCE = _table(Evidence)
MESSAGES = _table(ChatMessage)
USERS = _table(User)
EVIDENCE_FILTERABLE = frozenset(
    {
        "evidence_name",
        "file_size_bytes",
        "compliance_score_impact",
        "collected_at",
        "created_at",
        "user_id",
        "required_for_audit",
        "status",
    }
)
MESSAGE_FILTERABLE = frozenset({"sequence_number", "content"})
USER_ORDERABLE = frozenset({"email", "is_active", "created_at"})
SOME_ID = uuid.UUID("0192f5e2-7a3c-7b1d-9c4e-123456789abc")


def parse_filter(text: str, table: Table, allowed: frozenset[str]) -> list[ColumnElement[bool]]:
    """The filter's SQL condition, as a list: empty for no filter."""
    language = FilterLanguage(table, sorted(allowed), ())
    condition = where_clause(language.parse(text), table, ())
    return [] if condition is None else [condition]


def evidence_filter(text: str) -> list[ColumnElement[bool]]:
    return parse_filter(text, EVIDENCE, EVIDENCE_FILTERABLE)


def compiled(conditions: list[ColumnElement[bool]]) -> tuple[str, dict[str, Any]]:
    statement = and_(*conditions).compile()
    return str(statement), dict(statement.params)


def refusal(error: pytest.ExceptionInfo[InvalidArgumentError]) -> FieldViolation:
    assert len(error.value.violations) == 1
    return error.value.violations[0]


# --- filters -------------------------------------------------------------------

OPERATORS = ["=", "!=", "<", "<=", ">", ">="]
UTC = dt.UTC


@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        ("evidence_name", '"policy v2"', "policy v2"),
        ("evidence_name", "bare-word", "bare-word"),
        ("file_size_bytes", "1024", 1024),
        ("file_size_bytes", "-5", -5),
        ("compliance_score_impact", "12.5", 12.5),
        ("compliance_score_impact", "1e1", 10.0),
        ("collected_at", "2026-01-31T12:00:00Z", dt.datetime(2026, 1, 31, 12, tzinfo=UTC)),
        (
            "collected_at",
            "2026-01-31T14:00:00.250+02:00",
            dt.datetime(2026, 1, 31, 12, 0, 0, 250000, tzinfo=UTC),
        ),
    ],
)
def test_filter_compares_ordered_types_with_every_operator(
    operator: str, field: str, raw: str, value: Any
) -> None:
    sql, params = compiled(evidence_filter(f"{field} {operator} {raw}"))

    assert sql == f"evidence_items.{field} {operator} :{field}_1"
    assert params == {f"{field}_1": value}
    if isinstance(value, dt.datetime):
        assert params[f"{field}_1"].utcoffset() is not None


@pytest.mark.parametrize("operator", ["=", "!="])
@pytest.mark.parametrize(
    ("field", "raw", "value"),
    [
        ("user_id", str(SOME_ID), SOME_ID),
        ("user_id", f'"{SOME_ID}"', SOME_ID),
        ("user_id", SOME_ID.hex, SOME_ID),
        ("status", "collected", EvidenceStatus.COLLECTED),
        ("status", "COLLECTED", EvidenceStatus.COLLECTED),
        ("status", "EVIDENCE_STATUS_COLLECTED", EvidenceStatus.COLLECTED),
        ("status", '"under_review"', EvidenceStatus.UNDER_REVIEW),
    ],
)
def test_filter_compares_uuid_bool_and_enum_for_equality(
    operator: str, field: str, raw: str, value: Any
) -> None:
    sql, params = compiled(evidence_filter(f"{field} {operator} {raw}"))

    assert sql == f"evidence_items.{field} {operator} :{field}_1"
    assert params == {f"{field}_1": value}
    assert type(params[f"{field}_1"]) is type(value)


@pytest.mark.parametrize(("operator", "expected"), [("=", "IS NULL"), ("!=", "IS NOT NULL")])
@pytest.mark.parametrize("field", ["collected_at", "file_size_bytes", "user_id", "status"])
def test_filter_null_means_absent_with_equals_and_not_equals(
    operator: str, expected: str, field: str
) -> None:
    sql, params = compiled(evidence_filter(f"{field} {operator} null"))

    assert sql == f"evidence_items.{field} {expected}"
    assert params == {}


def test_filter_quoted_null_is_the_text_null() -> None:
    _, params = compiled(evidence_filter('evidence_name = "null"'))

    assert params == {"evidence_name_1": "null"}


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r'"say \"hi\""', 'say "hi"'),
        (r'"back\\slash"', "back\\slash"),
        (r'"tab\there"', "tab\there"),
        (r'"caf\u00e9"', "café"),
        ('"x\'; DROP TABLE users; --"', "x'; DROP TABLE users; --"),
        ('"  spaces  and AND or OR  "', "  spaces  and AND or OR  "),
        ('"<= >= != ="', "<= >= != ="),
        ('""', ""),
    ],
)
def test_filter_quoted_strings_keep_their_content(literal: str, value: str) -> None:
    _, params = compiled(evidence_filter(f"evidence_name = {literal}"))

    assert params == {"evidence_name_1": value}


@pytest.mark.parametrize(
    "text",
    [
        'status = collected AND compliance_score_impact > 5 AND evidence_name != "x y"',
        'status=collected AND compliance_score_impact>5 AND evidence_name!="x y"',
        '  status = collected   AND  compliance_score_impact > 5 AND evidence_name != "x y"  ',
        'status = collected AND compliance_score_impact > 5 AND evidence_name != "x y"\n',
    ],
)
def test_filter_joins_conditions_with_and(text: str) -> None:
    conditions = evidence_filter(text)

    sql, params = compiled(conditions)
    assert sql == (
        "evidence_items.status = :status_1"
        " AND evidence_items.compliance_score_impact > :compliance_score_impact_1"
        " AND evidence_items.evidence_name != :evidence_name_1"
    )
    assert params == {
        "status_1": EvidenceStatus.COLLECTED,
        "compliance_score_impact_1": 5.0,
        "evidence_name_1": "x y",
    }


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_filter_has_no_conditions(text: str) -> None:
    assert evidence_filter(text) == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("bogus = 1", "unknown field 'bogus'"),
        ("evidence_type = document", "cannot filter on 'evidence_type'"),
        ("evidence_name ~ x", "expected an operator"),
        ("evidence_name", "found nothing"),
        ("evidence_name == x", "`evidence_name =` has no value"),
        ("evidence_name =", "`evidence_name =` has no value"),
        ("evidence_name = AND status = collected", "`evidence_name =` has no value"),
        ("evidence_name = OR", "`evidence_name =` has no value"),
        (f"user_id < {SOME_ID}", "user_id only takes = and !=, not <"),
        (f"user_id >= {SOME_ID}", "user_id only takes = and !=, not >="),
        ("required_for_audit > false", "required_for_audit only takes = and !="),
        ("status <= collected", "status only takes = and !="),
        ("status < null", "status only takes = and !="),
        ("collected_at < null", "null only goes with = and !="),
        ("user_id = not-a-uuid", "'not-a-uuid' is not a valid value for user_id"),
        ("user_id = 42", "'42' is not a valid value for user_id"),
        ("compliance_score_impact > lots", "'lots' is not a valid value"),
        ("compliance_score_impact > nan", "must be a finite number"),
        ("compliance_score_impact > inf", "must be a finite number"),
        ("compliance_score_impact > 1e999", "must be a finite number"),
        ("file_size_bytes > 1.5", "'1.5' is not a valid value for file_size_bytes"),
        ("file_size_bytes > 9223372036854775808", "file_size_bytes is out of range"),
        ("collected_at > yesterday", "'yesterday' is not a valid value for collected_at"),
        ("collected_at > 2026-01-31T12:00:00", "collected_at needs a time zone"),
        ("collected_at > 2026-01-31", "collected_at needs a time zone"),
        ("required_for_audit = yes", "required_for_audit takes true or false"),
        ("required_for_audit = TRUE", "required_for_audit takes true or false"),
        ("status = finished", "status takes one of"),
        ("status = EVIDENCE_PRIORITY_HIGH", "status takes one of"),
        ("status = collected AND", "AND at the end has no condition after it"),
        ("AND status = collected", "AND needs a condition on each side"),
        ("status = collected AND AND evidence_name = x", "AND needs a condition on each side"),
        ("status = collected or status = approved", "expected AND or OR between conditions"),
        ("evidence_name : x", "evidence_name is not a list: `:` takes only *"),
        ("status = collected OR", "OR at the end has no condition after it"),
        ("OR status = collected", "OR needs a condition on each side"),
        ("NOT", "NOT needs a condition after it (character 1)"),
        ("status = collected AND NOT", "NOT needs a condition after it (character 24)"),
        ("-", "`-` needs a condition after it"),
        ("(status = collected", "is not closed: found the end"),
        ("((status = collected)", "is not closed"),
        ("status = collected))", "unbalanced parenthesis ')'"),
        ("()", "expected a condition, found ')' at character 2"),
        ("search(x)", "search takes one quoted string"),
        ('search("x"', "search takes one quoted string"),
        ('search("a", "b")', "cannot read ','"),
        ("file_size_bytes = 1*", "is not a valid value for file_size_bytes"),
        ("status = collect*", "status takes one of"),
        ("evidence_name:*x", "evidence_name is not a list"),
        ("evidence_name.key = x", "cannot filter on 'evidence_name.key'"),
        ("bogus.key = x", "unknown field 'bogus.key'"),
        ("status = collected status = approved", "expected AND or OR between conditions"),
        ("status = collected and evidence_name = x", "expected AND or OR between conditions"),
        ('evidence_name = "unterminated', "unterminated quoted string"),
        ('evidence_name = "ends in escape\\"', "unterminated quoted string"),
        (r'evidence_name = "bad \q escape"', "bad string literal for evidence_name"),
        ("evidence_name = ! x", "cannot read"),
        ("evidence_name = a\x00b", "cannot contain a NUL character"),
        ("evid\x00ence_name = a", "cannot contain a NUL character"),
        (r'evidence_name = "a\u0000b"', "evidence_name cannot contain NUL"),
        ('evidence_name = "' + "a" * MAX_FILTER_LENGTH + '"', "longer than 2000 characters"),
        ("evidence_name = (", "`evidence_name =` has no value: found '(' at character 17"),
        ("status = collected)", "unbalanced parenthesis ')' at character 19"),
        ("status = (collected", "`status =` has no value: found '(' at character 10"),
        ("evidence_name = x y", "expected AND or OR between conditions, found 'y' at character 19"),
        ("evidence_name = 'quoted'", "cannot read \"'quoted'\" at character 17"),
        ("evidence_name = a,b", "cannot read ',b' at character 18"),
        ("evidence_name = x';", 'cannot read "\';" at character 18'),
        ("evidence_name = x AND ;", "cannot read ';' at character 23"),
        ("status = collected AND", "AND at the end has no condition after it (character 20)"),
        ("evidence_name ~ x", "found '~' at character 15"),
        ("file_size_bytes > 1_000", "'1_000' is not a valid value for file_size_bytes"),
        ("file_size_bytes > \u0661\u0662", "is not a valid value for file_size_bytes"),
        ("compliance_score_impact > 1_0.5", "'1_0.5' is not a valid value"),
        ("compliance_score_impact > 0x10", "'0x10' is not a valid value"),
    ],
)
def test_bad_filter_is_refused_naming_the_bad_part(text: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        evidence_filter(text)

    violation = refusal(error)
    assert violation.field == "filter"
    assert says in violation.description


def test_filter_refusals_do_not_echo_long_input() -> None:
    long_name = "x" * 500
    with pytest.raises(InvalidArgumentError) as error:
        evidence_filter(f"{long_name} = 1")

    assert len(refusal(error).description) < 300


def test_filter_of_exactly_the_maximum_length_is_accepted() -> None:
    prefix = 'evidence_name = "'
    text = prefix + "a" * (MAX_FILTER_LENGTH - len(prefix) - 1) + '"'

    assert len(text) == MAX_FILTER_LENGTH
    assert len(evidence_filter(text)) == 1


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [
        ("2147483647", True),
        ("-2147483648", True),
        ("2147483648", False),
        ("-2147483649", False),
        ("99999999999999999999999", False),
    ],
)
def test_filter_on_a_32_bit_column_refuses_values_it_cannot_hold(raw: str, accepted: bool) -> None:
    text = f"sequence_number > {raw}"
    if accepted:
        _, params = compiled(parse_filter(text, MESSAGES, MESSAGE_FILTERABLE))
        assert params == {"sequence_number_1": int(raw)}
    else:
        with pytest.raises(InvalidArgumentError) as error:
            parse_filter(text, MESSAGES, MESSAGE_FILTERABLE)
        assert refusal(error).field == "filter"
        assert "sequence_number is out of range" in refusal(error).description


# --- storable values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        (MESSAGES.c.sequence_number, 2**31, "out of range"),
        (MESSAGES.c.sequence_number, -(2**31) - 1, "out of range"),
        (EVIDENCE.c.file_size_bytes, 2**63, "out of range"),
        (EVIDENCE.c.evidence_name, "nul\x00inside", "NUL"),
        (EVIDENCE.c.ai_metadata, {"key": ["deep", {"k": "nul\x00"}]}, "NUL"),
        (EVIDENCE.c.ai_metadata, {"nul\x00key": 1}, "NUL"),
    ],
)
def test_values_the_database_cannot_store_are_refused_naming_the_column(
    column: Column[Any], value: Any, says: str
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        check_storable(column, value)

    assert refusal(error).field == column.name
    assert says in refusal(error).description


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (MESSAGES.c.sequence_number, 2**31 - 1),
        (EVIDENCE.c.file_size_bytes, 2**63 - 1),
        (EVIDENCE.c.required_for_audit, True),
        (EVIDENCE.c.evidence_name, "plain text, unicode é, emoji 🙂"),
        (EVIDENCE.c.ai_metadata, {"list": [1, "two", None]}),
        (EVIDENCE.c.collected_at, None),
    ],
)
def test_values_the_database_can_store_pass(column: Column[Any], value: Any) -> None:
    check_storable(column, value)


# --- order_by ----------------------------------------------------------------------


def order(text: str, default: str = "created_at desc") -> list[tuple[str, bool]]:
    keys = parse_order(text, USERS, USER_ORDERABLE, default)
    return [(key.column.name, key.descending) for key in keys]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("", [("created_at", True), ("id", True)]),
        ("  ", [("created_at", True), ("id", True)]),
        ("email", [("email", False), ("id", False)]),
        ("email asc", [("email", False), ("id", False)]),
        ("email desc", [("email", True), ("id", True)]),
        ("email  desc ", [("email", True), ("id", True)]),
        (
            "email asc, created_at desc",
            [("email", False), ("created_at", True), ("id", True)],
        ),
        (
            "is_active desc,created_at",
            [("is_active", True), ("created_at", False), ("id", False)],
        ),
        ("id desc", [("id", True)]),
        ("created_at, id desc", [("created_at", False), ("id", True)]),
    ],
)
def test_order_by_ends_with_the_id_as_tie_breaker(text: str, keys: list[tuple[str, bool]]) -> None:
    assert order(text) == keys


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("bogus", "cannot order by 'bogus'"),
        ("full_name", "cannot order by 'full_name'"),
        ("hashed_password", "cannot order by 'hashed_password'"),
        ("email, email desc", "email appears twice"),
        ("created_at desc, id, id", "id appears twice"),
        ("email up", "expected `field [asc|desc]`"),
        ("email DESC", "expected `field [asc|desc]`"),
        ("email desc extra", "expected `field [asc|desc]`"),
        ("email,", "expected `field [asc|desc]`"),
        (",email", "expected `field [asc|desc]`"),
        ("email; DROP TABLE users", "expected `field [asc|desc]`"),
    ],
)
def test_bad_order_by_is_refused(text: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        order(text)

    violation = refusal(error)
    assert violation.field == "order_by"
    assert says in violation.description


# --- page tokens ---------------------------------------------------------------------

EVIDENCE_KEYS = [
    OrderKey(EVIDENCE.c.status, False),
    OrderKey(EVIDENCE.c.compliance_score_impact, True),
    OrderKey(EVIDENCE.c.created_at, True),
    OrderKey(EVIDENCE.c.evidence_name, False),
    OrderKey(EVIDENCE.c.required_for_audit, False),
    OrderKey(EVIDENCE.c.id, True),
]
EVIDENCE_VALUES: list[Any] = [
    EvidenceStatus.UNDER_REVIEW,
    12.5,
    dt.datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC),
    'name with "quotes", unicode é and \\',
    False,
    SOME_ID,
]
FINGERPRINT = PageTokens.fingerprint(EVIDENCE, "status = collected", EVIDENCE_KEYS)


def forge(body: Any) -> str:
    """A token with a valid checksum around any JSON body (the checksum is no secret)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    digest = hashlib.sha256(raw).digest()[:12]
    return base64.urlsafe_b64encode(digest + raw).decode().rstrip("=")


def test_page_token_round_trips_every_type_of_sort_key() -> None:
    token = PageTokens.encode(FINGERPRINT, EVIDENCE_VALUES)

    decoded = PageTokens.decode(token, FINGERPRINT, EVIDENCE_KEYS)

    assert decoded == EVIDENCE_VALUES
    assert [type(v) for v in decoded] == [type(v) for v in EVIDENCE_VALUES]
    assert token.isascii()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_page_token_round_trips_integers() -> None:
    keys = [OrderKey(MESSAGES.c.sequence_number, False), OrderKey(MESSAGES.c.id, False)]
    fingerprint = PageTokens.fingerprint(MESSAGES, "", keys)

    token = PageTokens.encode(fingerprint, [2**31 - 1, SOME_ID])

    assert PageTokens.decode(token, fingerprint, keys) == [2**31 - 1, SOME_ID]


@pytest.mark.parametrize(
    ("filter_text", "keys", "scope"),
    [
        ("status = approved", EVIDENCE_KEYS, ""),
        ("", EVIDENCE_KEYS, ""),
        ("status = collected", [*EVIDENCE_KEYS[:-1], OrderKey(EVIDENCE.c.id, False)], ""),
        ("status = collected", EVIDENCE_KEYS[1:], ""),
        ("status = collected", EVIDENCE_KEYS, "user_id = 1"),
    ],
    ids=["other filter", "no filter", "other direction", "other fields", "other scope"],
)
def test_page_token_belongs_to_its_filter_order_and_scope(
    filter_text: str, keys: list[OrderKey], scope: str
) -> None:
    token = PageTokens.encode(FINGERPRINT, EVIDENCE_VALUES)
    other = PageTokens.fingerprint(EVIDENCE, filter_text, keys, scope=scope)

    with pytest.raises(InvalidArgumentError) as error:
        PageTokens.decode(token, other, keys)

    assert refusal(error).field == "page_token"
    assert "different filter or order_by" in refusal(error).description


def test_page_token_of_the_same_query_in_another_table_is_refused() -> None:
    keys = [OrderKey(USERS.c.created_at, True), OrderKey(USERS.c.id, True)]
    evidence_keys = [OrderKey(EVIDENCE.c.created_at, True), OrderKey(EVIDENCE.c.id, True)]
    token = PageTokens.encode(
        PageTokens.fingerprint(USERS, "", keys), [EVIDENCE_VALUES[2], SOME_ID]
    )

    with pytest.raises(InvalidArgumentError) as error:
        PageTokens.decode(token, PageTokens.fingerprint(EVIDENCE, "", evidence_keys), evidence_keys)

    assert refusal(error).field == "page_token"


def _good_token() -> str:
    return PageTokens.encode(FINGERPRINT, EVIDENCE_VALUES)


TAMPERED: dict[str, str] = {
    "empty": "",
    "truncated by one": _good_token()[:-1],
    "truncated by half": _good_token()[: len(_good_token()) // 2],
    "extended": _good_token() + "AAAA",
    "not base64": "!!!not*base64!!!",
    "non ascii": "tökén",
    "whitespace": "   ",
    "random base64": base64.urlsafe_b64encode(bytes(range(64))).decode(),
    "standard base64 alphabet": base64.b64encode(b"\xfb\xff" * 30).decode(),
    "checksum only": forge(b""),
    "empty json object": forge({}),
    "empty json list": forge([]),
    "json string": forge("ab"),
    "json number": forge(5),
    "json null": forge(None),
    "not json": forge(b"\xff\xfe not json"),
    "deeply nested json": forge(b"[" * 100_000 + b"]" * 100_000),
    "values not a list": forge([FINGERPRINT, {"a": 1}]),
    "values too few": forge([FINGERPRINT, ["under_review", 12.5]]),
    "values too many": forge([FINGERPRINT, ["a"] * 7]),
    "wrong types": forge([FINGERPRINT, [{"a": 1}, [1], None, 5, 7, 8]]),
    "numbers as text": forge(
        [
            FINGERPRINT,
            ["under_review", "12.5", "2026-01-31T12:00:00+00:00", "n", "false", str(SOME_ID)],
        ]
    ),
    "bool as json bool": forge(
        [FINGERPRINT, ["under_review", 12.5, "2026-01-31T12:00:00+00:00", "n", False, str(SOME_ID)]]
    ),
    "bad enum": forge(
        [FINGERPRINT, ["finished", 12.5, "2026-01-31T12:00:00+00:00", "n", "false", str(SOME_ID)]]
    ),
    "naive time": forge(
        [FINGERPRINT, ["collected", 12.5, "2026-01-31T12:00:00", "n", "false", str(SOME_ID)]]
    ),
    "bad uuid": forge(
        [FINGERPRINT, ["collected", 12.5, "2026-01-31T12:00:00Z", "n", "false", "not-a-uuid"]]
    ),
    "nul in text": forge(
        [FINGERPRINT, ["collected", 12.5, "2026-01-31T12:00:00Z", "n\x00", "false", str(SOME_ID)]]
    ),
    "infinite number": forge(
        [FINGERPRINT, ["collected", 1e400, "2026-01-31T12:00:00Z", "n", "false", str(SOME_ID)]]
    ),
}


@pytest.mark.parametrize("token", TAMPERED.values(), ids=TAMPERED.keys())
def test_tampered_page_token_is_refused_as_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        PageTokens.decode(token, FINGERPRINT, EVIDENCE_KEYS)

    assert refusal(error).field == "page_token"


def test_every_single_character_change_is_refused() -> None:
    token = _good_token()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    fields = []
    for position, original in enumerate(token):
        replacement = alphabet[(alphabet.index(original) + 1) % len(alphabet)]
        changed = token[:position] + replacement + token[position + 1 :]
        with pytest.raises(InvalidArgumentError) as error:
            PageTokens.decode(changed, FINGERPRINT, EVIDENCE_KEYS)
        fields.append(refusal(error).field)

    assert fields == ["page_token"] * len(token)


def test_stray_characters_around_a_good_token_are_refused() -> None:
    token = _good_token()
    for changed in (f" {token}", f"{token}\n", f"{token}==", f"{token[:10]}%{token[10:]}"):
        with pytest.raises(InvalidArgumentError) as error:
            PageTokens.decode(changed, FINGERPRINT, EVIDENCE_KEYS)
        assert refusal(error).field == "page_token"


def test_a_timestamp_filter_before_year_one_in_utc_is_refused_naming_filter() -> None:
    with pytest.raises(InvalidArgumentError) as error:
        parse_filter('created_at > "0001-01-01T00:00:00+23:59"', USERS, frozenset({"created_at"}))
    assert error.value.violations[0].field == "filter"
    assert "out of range" in error.value.violations[0].description


def test_a_token_after_an_infinite_timestamp_comes_back_in() -> None:
    keys = parse_order("created_at desc", USERS, frozenset({"created_at"}), "created_at desc")
    fingerprint = PageTokens.fingerprint(USERS, "", keys)
    token = PageTokens.encode(fingerprint, [dt.datetime.max, uuid.uuid4()])
    decoded = PageTokens.decode(token, fingerprint, keys)
    assert decoded[0] == dt.datetime.max.replace(tzinfo=dt.UTC)
