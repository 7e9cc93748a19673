"""The small exception tree the data layer raises, and the one translation from
driver errors into it. The service maps each class to one gRPC status."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import CheckConstraint, String, Table, UniqueConstraint
from sqlalchemy import exc as sa_exc

from .models import Base


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DataError(Exception):
    """Base of every error the data layer raises on purpose."""

    reason: str = "DATA_ERROR"

    def __init__(
        self, message: str, *, reason: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgumentError(DataError):
    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        *violations: FieldViolation,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        message = "; ".join(f"{v.field}: {v.description}" for v in violations)
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)

    @classmethod
    def single(cls, field_name: str, description: str) -> InvalidArgumentError:
        return cls(FieldViolation(field_name, description))

    def within(self, prefix: str, names: Collection[str]) -> InvalidArgumentError:
        """The same refusal with each field in `names` (a column) spelled as the
        request's path to it, `prefix.name`."""
        violations = [
            replace(v, field=f"{prefix}.{v.field}") if v.field in names else v
            for v in self.violations
        ]
        return InvalidArgumentError(*violations, reason=self.reason, metadata=self.metadata)


class NotFoundError(DataError):
    reason = "NOT_FOUND"


class AlreadyExistsError(DataError):
    reason = "ALREADY_EXISTS"


class FailedPreconditionError(DataError):
    reason = "FAILED_PRECONDITION"


class AbortedError(DataError):
    reason = "ABORTED"


class DeadlineExceededError(DataError):
    reason = "DEADLINE_EXCEEDED"


class UnavailableError(DataError):
    """The database cannot serve the call now; retry with backoff.
    `discard_connection`: the call's connection must not be lent again.
    `server_lost`: the server itself went away (a restart, the network), so the
    pool's idle connections are likely dead too."""

    reason = "UNAVAILABLE"
    discard_connection = True
    server_lost = True


class PoolExhaustedError(UnavailableError):
    """Load, not a fault: no connection became free in time."""

    reason = "POOL_EXHAUSTED"
    discard_connection = False
    server_lost = False


class DatabaseReadOnlyError(UnavailableError):
    """A live server that answers, but takes no writes (a standby, or set
    read-only). Its connection is dropped: after a failover it still points at
    the demoted server, where a new one may find the new primary."""

    reason = "DATABASE_READ_ONLY"
    server_lost = False


@dataclass(frozen=True)
class _ForeignKey:
    child_table: str
    column: str
    parent_table: str


@dataclass(frozen=True)
class CheckRule:
    """A CHECK constraint: the rule's short name and the columns it guards."""

    rule: str
    columns: tuple[str, ...]


@dataclass
class _ConstraintIndex:
    foreign_keys: dict[str, _ForeignKey] = field(default_factory=dict)
    unique_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    checks: dict[str, CheckRule] = field(default_factory=dict)
    indexed_text: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The text columns each B-tree index (or unique constraint) holds, by name."""


# In a CHECK's SQL: string literals (skipped), and names not followed by `(` (a
# function's name is not a column, even when a column has the same name).
_SQL_STRING = re.compile(r"'(?:[^']|'')*'")
_SQL_NAME = re.compile(r'"([^"]+)"|\b([A-Za-z_][A-Za-z0-9_$]*)\b(?!\s*\()')


def guarded_columns(constraint: CheckConstraint, table: Table) -> tuple[str, ...]:
    """The columns of `table` a CHECK's expression reads, in order of appearance."""
    sql = _SQL_STRING.sub("''", str(constraint.sqltext))
    found: dict[str, None] = {}
    for match in _SQL_NAME.finditer(sql):
        name = match.group(1) or match.group(2)
        if name in table.c:
            found[name] = None
    return tuple(found)


def _index_constraints() -> _ConstraintIndex:
    index = _ConstraintIndex()
    for table in Base.metadata.tables.values():
        for fk in table.foreign_key_constraints:
            index.foreign_keys[str(fk.name)] = _ForeignKey(
                table.name, fk.column_keys[0], fk.referred_table.name
            )
        # A caller-chosen id that is taken breaks the primary key: name its column.
        index.unique_columns[str(table.primary_key.name)] = tuple(
            c.name for c in table.primary_key.columns
        )
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                index.unique_columns[str(constraint.name)] = tuple(
                    c.name for c in constraint.columns
                )
            elif isinstance(constraint, CheckConstraint):
                name = str(constraint.name)
                rule = name.removeprefix(f"ck_{table.name}_")
                index.checks[name] = CheckRule(rule, guarded_columns(constraint, table))
        for idx in table.indexes:
            if idx.unique:
                names = tuple(getattr(e, "name", None) or str(e) for e in idx.expressions)
                index.unique_columns[str(idx.name)] = names
    index.unique_columns["uq_users_lower_email"] = ("email",)
    for table in Base.metadata.tables.values():
        index.indexed_text.update(_indexed_text(table, index.unique_columns))
    return index


def _indexed_text(
    table: Table, unique_columns: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The text columns of each of `table`'s indexes and unique constraints, by name
    (an expression index's from `unique_columns`)."""
    texts = {c.name for c in table.columns if isinstance(c.type, String)}
    held = {str(idx.name): tuple(c.name for c in idx.columns) for idx in table.indexes}
    names = {str(table.primary_key.name), *held}
    names.update(str(c.name) for c in table.constraints if isinstance(c, UniqueConstraint))
    found = {}
    for name in names:
        columns = held.get(name) or unique_columns.get(name, ())
        if any(c in texts for c in columns):
            found[name] = tuple(c for c in columns if c in texts)
    return found


_CONSTRAINTS = _index_constraints()
CHECK_RULES: Mapping[str, CheckRule] = _CONSTRAINTS.checks
"""Every CHECK constraint of the schema by name, with the columns it guards."""

# SQLSTATE classes and codes (PostgreSQL appendix A).
_UNAVAILABLE_CODES = {"53300", "57P01", "57P02", "57P03", "55000"}
_ABORTED_CODES = {"40001", "40P01", "55P03"}


# Why PostgreSQL refused a connection: its own words name the role or database,
# never a password. invalid_authorization_specification (a missing role, no
# pg_hba.conf entry), invalid_password, invalid_catalog_name (a missing database).
_REFUSAL_CODES = {"28000", "28P01", "3D000"}
# The same from libpq (psycopg2), which gives no SQLSTATE for a failed connect.
_LIBPQ_FATAL = re.compile(r"FATAL:\s+(.+)")


def refusal_cause(error: BaseException) -> str | None:
    """PostgreSQL's reason for refusing the connection behind `error`, e.g.
    'role "x" does not exist'; None when it is not such a refusal. Only the
    server's message is taken: a driver's text may quote the DSN."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if sqlstate_of(current) in _REFUSAL_CODES:
            message = getattr(current, "message", None)  # asyncpg's PostgresError
            if isinstance(message, str) and message:
                return message
        if type(current).__module__.startswith("psycopg2"):
            match = _LIBPQ_FATAL.search(str(current))
            if match:
                return match.group(1).strip()
        current = getattr(current, "orig", None) or current.__cause__
    return None


def sqlstate_of(error: BaseException) -> str | None:
    orig = getattr(error, "orig", error)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else None


def _diag(error: BaseException, name: str) -> str | None:
    """A diagnostic field (constraint_name, column_name...) from asyncpg or psycopg2."""
    orig = getattr(error, "orig", error)
    for source in (getattr(orig, "__cause__", None), orig, getattr(orig, "diag", None)):
        value = getattr(source, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def translate(error: BaseException, *, deleting: bool = False) -> BaseException:
    """The DataError a driver or pool error means; other errors come back unchanged
    (they are bugs and surface as INTERNAL)."""
    if isinstance(error, DataError):
        return error
    if isinstance(error, sa_exc.TimeoutError):
        return PoolExhaustedError("no database connection became free in time")
    if isinstance(error, TimeoutError):
        # asyncpg's per-statement timeout (read-only units): it has already asked
        # PostgreSQL to cancel the query.
        return DeadlineExceededError(
            "the call's deadline ran out in the database", reason="STATEMENT_TIMEOUT"
        )
    if isinstance(error, (OSError, ConnectionError)):
        return UnavailableError("the database cannot be reached", reason="DATABASE_UNAVAILABLE")
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return UnavailableError("the database connection was lost", reason="DATABASE_UNAVAILABLE")
    # asyncpg's own errors (the precompiled statements run on the driver) carry
    # their SQLSTATE directly; SQLAlchemy's wrap it in .orig.
    code = sqlstate_of(error)
    constraint = _diag(error, "constraint_name") or ""
    if code is None:
        return _translate_driver_only(error)
    if code == "23505":
        columns = _CONSTRAINTS.unique_columns.get(constraint, ())
        what = ", ".join(columns) or "these values"
        return AlreadyExistsError(
            f"a row with the same {what} already exists",
            reason="ALREADY_EXISTS",
            metadata={"constraint": constraint, "fields": ",".join(columns)},
        )
    if code in ("23503", "23001"):  # foreign_key_violation, restrict_violation
        fk = _CONSTRAINTS.foreign_keys.get(constraint)
        if deleting:
            child = fk.child_table if fk else "other rows"
            return FailedPreconditionError(
                f"still referred to by {child}; delete those first or pass force",
                reason="HAS_DEPENDENTS",
                metadata={"constraint": constraint, "dependent": child},
            )
        column = fk.column if fk else "a parent id"
        parent = fk.parent_table if fk else "the parent table"
        return FailedPreconditionError(
            f"{column} names no row in {parent}",
            reason="PARENT_NOT_FOUND",
            metadata={"constraint": constraint, "field": column},
        )
    if code == "23514":
        return _check_violation(constraint)
    if code == "23502":
        column = _diag(error, "column_name") or "a field"
        return InvalidArgumentError.single(column, "is required")
    if code.startswith("22"):
        column = _diag(error, "column_name") or "request"
        return InvalidArgumentError.single(column, "has a value the database cannot store")
    if code == "54000":
        return _too_large(constraint)
    if code in _ABORTED_CODES:
        return AbortedError(
            "the transaction conflicted with another one; retry", reason="CONCURRENT_CONFLICT"
        )
    if code == "25006":  # read_only_sql_transaction: a standby, or set read-only
        return DatabaseReadOnlyError(
            "the database is read-only (a standby, or a primary set read-only): "
            "writes fail until a writable primary is back; reads are served"
        )
    if code == "57014":
        return DeadlineExceededError(
            "the call's deadline ran out in the database", reason="STATEMENT_TIMEOUT"
        )
    if code in _REFUSAL_CODES:
        cause = refusal_cause(error) or f"SQLSTATE {code}"
        return UnavailableError(
            f"PostgreSQL refused the connection: {cause}",
            reason="DATABASE_UNAVAILABLE",
            metadata={"sqlstate": code},
        )
    if code.startswith("08") or code in _UNAVAILABLE_CODES:
        return UnavailableError("the database is not available", reason="DATABASE_UNAVAILABLE")
    return error


def _check_violation(constraint: str) -> InvalidArgumentError:
    """A CHECK reads only its own row, so what breaks it is the value of the
    field(s) it guards, whatever other rows hold (AIP-193: INVALID_ARGUMENT)."""
    check = CHECK_RULES.get(constraint)
    if check is None or not check.columns:
        violations = [FieldViolation("request", "breaks a rule of the table")]
    else:
        violations = [FieldViolation(c, f"breaks the rule {check.rule}") for c in check.columns]
    return InvalidArgumentError(
        *violations, reason="CHECK_VIOLATION", metadata={"constraint": constraint}
    )


def _too_large(index: str) -> InvalidArgumentError:
    """program_limit_exceeded: a value too large for the database to keep, most
    often text too long for a B-tree index entry (about 2,700 bytes once
    compressed). PostgreSQL names the index when it can: its text columns are then
    the fields to blame."""
    description = "is too long for the database to index; send a shorter value"
    columns = _CONSTRAINTS.indexed_text.get(index, ())
    violations = [FieldViolation(c, description) for c in columns] or [
        FieldViolation("request", "holds a value too large for the database to index or store")
    ]
    metadata = {"constraint": index} if index else {}
    return InvalidArgumentError(*violations, reason="VALUE_TOO_LARGE", metadata=metadata)


def _translate_driver_only(error: BaseException) -> BaseException:
    """Connection errors that carry no SQLSTATE: the connection died mid-query, or
    was already closed when used."""
    name = type(error).__name__
    lost = name == "ConnectionDoesNotExistError" or (
        name == "InterfaceError" and "closed" in str(error)
    )
    if lost:
        return UnavailableError("the database connection was lost", reason="DATABASE_UNAVAILABLE")
    return error


@contextmanager
def translated(*, deleting: bool = False) -> Iterator[None]:
    """Re-raise database errors as the DataError they mean, for work outside any
    unit of work (whose Transaction translates its own statements)."""
    try:
        yield
    except Exception as error:
        mapped = translate(error, deleting=deleting)
        if mapped is error:
            raise
        raise mapped from error
