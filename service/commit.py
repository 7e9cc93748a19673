"""Atomic writes across rows: `DataService.Commit`, and the executor it shares with
the batch methods. Every write runs the resource servicers' own code (their
`*_write` functions), so a rule holds in a commit exactly as in a single call."""

from __future__ import annotations

import asyncio
import functools
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, message_factory
from google.protobuf.message import Message
from ruleiq.data.v1 import data_service_pb2

from repositories import commits
from repositories.database import Database
from repositories.errors import (
    AbortedError,
    DataError,
    DeadlineExceededError,
    FieldViolation,
    InvalidArgumentError,
    UnavailableError,
)
from repositories.history import ChangeContext
from repositories.ids import uuid7
from repositories.repository import Repository, Row
from repositories.together import Refused, Statement
from repositories.unit_of_work import Locks, Transaction

from .conversion import parse_text, parse_uuid
from .encoding import PageEncoder
from .handlers import parse_message
from .recording import changes_of
from .servicer import (
    SERVER_FIELDS_BYTES,
    Behaviour,
    BulkWrite,
    CreateWrite,
    ResourceServicer,
    UpdateWrite,
    Write,
    check_batch,
    statement_timeout,
)

MAX_MUTATIONS = 100
"""Mutations per Commit; more is INVALID_ARGUMENT. A commit holds its row locks until
it ends: a bound keeps one caller from holding many for long."""
MAX_TOGETHER = 10
"""Writes of a commit run as one statement at most (repositories/together.py): a
larger one's text is more than asyncpg keeps prepared."""
MAX_ATTEMPTS = 5
"""Runs of one atomic call when serialization failures or deadlocks abort it."""
# A one-statement commit is cancelled this long before the caller's deadline.
_CANCEL_AHEAD_SECONDS = 0.1
_BACKOFF_SECONDS = 0.01
_BACKOFF_CAP_SECONDS = 0.25
# A statement_timeout is set again only when the deadline left has fallen this far
# below it: a fast commit pays no extra round trip.
_TIGHTEN_BELOW = 0.9

SERVICE = data_service_pb2.DESCRIPTOR.services_by_name["DataService"]

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One write of an atomic call, how its result is encoded, and how its errors
    name it: `path` prefixes field violations, `index_key` goes into ErrorInfo."""

    write: Write
    encode: Callable[[Row | None], bytes]
    path: str
    index: int
    index_key: str
    target: tuple[Repository, uuid.UUID] | None = None
    """The existing row the write changes (updates, deletes)."""
    locks: Locks = field(default_factory=dict)
    """Rows the write needs locked before it runs (a numbered create's parent)."""

    def named(self, error: DataError) -> DataError:
        return named(error, self.path, self.index_key, self.index)


def named(error: DataError, path: str, index_key: str, index: int) -> DataError:
    """`error` as one step's: its fields under `path`, its index in ErrorInfo."""
    if isinstance(error, InvalidArgumentError):
        violations = [
            replace(v, field=path if v.field == "request" else f"{path}.{v.field}")
            for v in error.violations
        ]
        metadata = {**error.metadata, index_key: str(index)}
        return InvalidArgumentError(*violations, reason=error.reason, metadata=metadata)
    # The same object, so what the unit of work decides from its class holds.
    error.metadata[index_key] = str(index)
    error.message = f"{path}: {error.message}"
    return error


def prepared(prepare: Callable[[], Write], path: str, index_key: str, index: int) -> Write:
    """The write `prepare` checks and converts, its refusals named as the step's."""
    try:
        return prepare()
    except DataError as error:
        raise named(error, path, index_key, index) from error


def retryable(error: DataError) -> bool:
    """A serialization failure or deadlock: the same commit may well succeed when run
    again. A stale etag never does."""
    return isinstance(error, AbortedError) and error.reason == "CONCURRENT_CONFLICT"


class Executor:
    """Runs steps in one transaction, all or nothing, on the primary; runs them again
    after a serialization failure or deadlock while the call's deadline allows."""

    def __init__(
        self, database: Database, *, max_statement_timeout: float, tell_history: bool = True
    ) -> None:
        self.database = database
        self.max_statement_timeout = max_statement_timeout
        self.tell_history = tell_history

    async def run(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        steps: Sequence[Step],
        assemble: Callable[[list[bytes]], bytes],
        *,
        request_id: uuid.UUID | None = None,
        validate_only: bool = False,
        bulk: BulkWrite | None = None,
        fits: bool = False,
    ) -> bytes:
        """The reply `assemble` makes of the steps' encoded results; with
        `request_id`, the first reply stored for it when there is one. `bulk`
        writes what the steps would, in fewer statements: when it is refused, the
        steps run instead, and name the item the refusal is about. Likewise
        consecutive creates of one resource run as one INSERT (`bulk_create`) until
        one such INSERT is refused.

        A few creates and updates of distinct rows whose reply surely `fits` run as
        one statement, without a transaction block; when it is refused, the steps
        run as above, and name the write the refusal is about."""
        if fits and request_id is None and not validate_only and bulk is None:
            reply = await self._together(context, steps, assemble)
            if reply is not None:
                return reply
        attempt = 0
        together = True
        while True:
            try:
                return await self._attempt(
                    context, steps, assemble, request_id, validate_only, bulk, together
                )
            except _BulkRefused:
                bulk, together = None, False
            except DataError as error:
                attempt += 1
                if not retryable(error) or attempt >= MAX_ATTEMPTS:
                    raise
                # Full jitter: conflicting callers do not meet again in step.
                delay = random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_SECONDS * 2**attempt))
                remaining = context.time_remaining()
                if remaining is not None and remaining <= delay + _BACKOFF_SECONDS:
                    raise
                await asyncio.sleep(delay)

    async def _attempt(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        steps: Sequence[Step],
        assemble: Callable[[list[bytes]], bytes],
        request_id: uuid.UUID | None,
        validate_only: bool,
        bulk: BulkWrite | None,
        together: bool,
    ) -> bytes:
        timeout = statement_timeout(context, self.max_statement_timeout)
        # Every change event of one commit carries its id: the request_id when the
        # caller sent one (so a retried commit is recognisable), else a fresh one.
        changes = None
        if self.tell_history:
            commit_id = str(request_id or uuid7())
            changes = replace(changes_of(context), commit_id=commit_id)
        try:
            return await self._transaction(
                context,
                steps,
                assemble,
                request_id,
                validate_only,
                bulk,
                together,
                timeout,
                changes,
            )
        except DataError as error:
            if request_id is None or not commits.taken(error):
                raise
        # A repeat: the first commit's response, written by none of this one's steps.
        first = await self.stored(context, request_id)
        # Only a committed claim is taken, and every committed one holds its response.
        assert first is not None
        return first

    async def _together(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        steps: Sequence[Step],
        assemble: Callable[[list[bytes]], bytes],
    ) -> bytes | None:
        """The steps' reply, written by one statement; None when they cannot be
        one, or the statement was refused (and wrote nothing)."""
        if not 2 <= len(steps) <= MAX_TOGETHER or not _apart(steps):
            return None
        statement = Statement()
        for step in steps:
            if not isinstance(step.write, (CreateWrite, UpdateWrite)):
                return None
            try:
                if not step.write.add_to(statement):
                    return None
            except DataError:
                return None  # refused as the step runs alone, where it is named
        # No transaction block: the statement commits as it ends. It must end, or be
        # cancelled, while the caller still waits, or a caller told DEADLINE_EXCEEDED
        # could find it written.
        remaining = context.time_remaining()
        timeout = self.max_statement_timeout
        if remaining is not None:
            timeout = min(timeout, remaining - _CANCEL_AHEAD_SECONDS)
            if timeout <= 0:
                return None
        changes = None
        if self.tell_history:
            changes = replace(changes_of(context), commit_id=str(uuid7()))
        try:
            async with self.database.unit_of_work(
                timeout, single_statement=True, changes=changes
            ) as uow:
                rows = await statement.run(uow.transaction, _locks(steps))
                await uow.commit()
        except Refused:
            return None
        return assemble([step.encode(row) for step, row in zip(steps, rows, strict=True)])

    async def stored(
        self, context: grpc.aio.ServicerContext[Any, Any], request_id: uuid.UUID
    ) -> bytes | None:
        """The response the commit that claimed `request_id` stored, if one did."""
        timeout = statement_timeout(context, self.max_statement_timeout)
        async with self.database.unit_of_work(timeout, single_statement=True) as uow:
            return await commits.stored_response(uow.transaction, request_id)

    async def _transaction(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        steps: Sequence[Step],
        assemble: Callable[[list[bytes]], bytes],
        request_id: uuid.UUID | None,
        validate_only: bool,
        bulk: BulkWrite | None,
        together: bool,
        allowed: float,
        changes: ChangeContext | None,
    ) -> bytes:
        """One run of the steps in one transaction; with `request_id`, claimed as it
        opens (a taken one fails it, see commits.taken) and stored as it commits."""
        claim = [commits.claim_statement(request_id)] if request_id is not None else []
        timeout = allowed
        async with self.database.unit_of_work(
            timeout, changes=changes, locks=_locks(steps), first=claim
        ) as uow:
            transaction = uow.transaction
            if request_id is not None:
                await commits.RESPONSES.purge_when_due(transaction)
            parts = []
            if bulk is not None:
                await _within_deadline(context, transaction, timeout)
                for step, row in zip(steps, await _bulk_rows(bulk, transaction), strict=True):
                    try:
                        parts.append(step.encode(row))
                    except DataError as error:
                        raise step.named(error) from error
            for run, joint in _runs(steps, together) if bulk is None else ():
                timeout = await _within_deadline(context, transaction, timeout)
                if joint is not None:
                    for step, row in zip(run, await _bulk_rows(joint, transaction), strict=True):
                        try:
                            parts.append(step.encode(row))
                        except DataError as error:
                            raise step.named(error) from error
                    continue
                (step,) = run
                try:
                    parts.append(step.encode(await step.write(transaction)))
                except DataError as error:
                    raise step.named(error) from error
            reply = assemble(parts)
            if validate_only:
                return reply  # the unit rolls back
            if request_id is not None:
                await uow.commit(commits.store_statement(request_id, reply))
            else:
                await uow.commit()
        return reply


class _BulkRefused(Exception):
    """The bulk write was refused: the steps run one by one instead."""


async def _bulk_rows(bulk: BulkWrite, transaction: Transaction) -> list[Row]:
    try:
        return await bulk(transaction)
    except DataError as error:
        if retryable(error) or isinstance(error, (UnavailableError, DeadlineExceededError)):
            raise  # about the transaction, not an item: the steps would meet it too
        raise _BulkRefused from error


def _runs(steps: Sequence[Step], together: bool) -> list[tuple[Sequence[Step], BulkWrite | None]]:
    """The steps in order, each alone, or with `together` consecutive creates of one
    resource as one INSERT (a chat send's two messages): a round trip fewer each."""
    runs: list[tuple[Sequence[Step], BulkWrite | None]] = []
    start = 0
    while start < len(steps):
        end = start + 1
        first = steps[start].write
        if together and isinstance(first, CreateWrite):
            while end < len(steps):
                write = steps[end].write
                if not isinstance(write, CreateWrite) or write.servicer is not first.servicer:
                    break
                end += 1
        run = steps[start:end]
        joint = None
        if len(run) > 1:
            writes = [step.write for step in run if isinstance(step.write, CreateWrite)]
            joint = first.servicer.bulk_create(writes) if isinstance(first, CreateWrite) else None
        if joint is None:
            runs += [([step], None) for step in run]
        else:
            runs.append((run, joint))
        start = end
    return runs


def _apart(steps: Sequence[Step]) -> bool:
    """Whether no two steps write the same row: one statement's writes share its
    snapshot, so none would see the row another one wrote."""
    written: set[uuid.UUID] = set()
    for step in steps:
        row_id = step.target[1] if step.target is not None else None
        if isinstance(step.write, CreateWrite):
            row_id = step.write.chosen
        if row_id is not None:
            if row_id in written:
                return False
            written.add(row_id)
    return True


def _locks(steps: Sequence[Step]) -> dict[str, set[uuid.UUID]]:
    """What the transaction locks as it opens (UnitOfWork `locks`): the rows the
    steps need locked, and, when there are several rows in all, the rows they change
    too. All are then taken in one global order (table, then id), so two commits
    changing the same rows in different orders queue instead of deadlocking (which
    PostgreSQL notices only after deadlock_timeout, a second by default). A single
    row changed needs no lock ahead: its write takes it."""
    needed: dict[str, set[uuid.UUID]] = {}
    for step in steps:
        for table, ids in step.locks.items():
            needed.setdefault(table, set()).update(ids)
    every = {table: set(ids) for table, ids in needed.items()}
    for step in steps:
        if step.target is not None:
            repository, row_id = step.target
            every.setdefault(repository.name, set()).add(row_id)
    return every if sum(len(ids) for ids in every.values()) > 1 else needed


async def _within_deadline(
    context: grpc.aio.ServicerContext[Any, Any], transaction: Transaction, allowed: float
) -> float:
    """The whole commit is one budget: once much of the deadline is spent, the next
    statements get only what is left, not the first statement's allowance again."""
    remaining = context.time_remaining()
    if remaining is None or remaining >= allowed * _TIGHTEN_BELOW:
        return allowed
    if remaining <= 0:
        raise DeadlineExceededError("the call's deadline had passed", reason="DEADLINE_PASSED")
    milliseconds = max(1, int(remaining * 1000))
    await transaction.script(f"SET LOCAL statement_timeout = {milliseconds}")
    return remaining


class CommitServicer:
    """Serves `DataService.Commit` over the resource servicers' writes."""

    def __init__(
        self,
        servicers: Sequence[ResourceServicer],
        executor: Executor,
        *,
        max_response_bytes: int,
    ) -> None:
        self.executor = executor
        self.max_response_bytes = max_response_bytes
        self.full_name = str(SERVICE.full_name)
        method = SERVICE.methods_by_name["Commit"]
        self._request: type[Message] = message_factory.GetMessageClass(method.input_type)
        response: type[Message] = message_factory.GetMessageClass(method.output_type)
        self._results = PageEncoder(response, "results")
        result = data_service_pb2.MutationResult
        # Each oneof member of Mutation: the servicer and which of its writes.
        self._operations: dict[str, tuple[ResourceServicer, str]] = {}
        by_request = {}
        for servicer in servicers:
            for verb in ("create", "update", "delete"):
                request = servicer.write_request(verb)
                if request is not None:
                    by_request[request.DESCRIPTOR.full_name] = (servicer, verb)
        for member in data_service_pb2.Mutation.DESCRIPTOR.oneofs_by_name["operation"].fields:
            assert member.message_type is not None  # every member is a write request
            self._operations[member.name] = by_request[member.message_type.full_name]
        self._row_encoders = {
            servicer.field: PageEncoder(result, servicer.field) for servicer in servicers
        }
        deleted = PageEncoder(result, "deleted")
        self._deleted = deleted.prefix(b"")

    def method_handlers(self) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
        return {"Commit": grpc.unary_unary_rpc_method_handler(self.commit)}

    async def commit(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        request: Any = parse_message(self._request, data)
        request_id = parse_uuid(request.request_id, "request_id") if request.request_id else None
        try:
            steps = self._steps(request)
        except DataError:
            # A repeat is answered as the first commit was, whatever it carries now.
            if request_id is not None:
                first = await self.executor.stored(context, request_id)
                if first is not None:
                    return first
            raise
        return await self.executor.run(
            context,
            steps,
            self._assemble,
            request_id=request_id,
            validate_only=request.validate_only,
            fits=len(data) + SERVER_FIELDS_BYTES * len(steps) <= self.max_response_bytes,
        )

    def _steps(self, request: Any) -> list[Step]:
        if not request.mutations:
            raise InvalidArgumentError.single("mutations", "is required")
        if len(request.mutations) > MAX_MUTATIONS:
            raise InvalidArgumentError.single(
                "mutations", f"at most {MAX_MUTATIONS} mutations per commit"
            )
        return [self._step(index, mutation) for index, mutation in enumerate(request.mutations)]

    def _step(self, index: int, mutation: Any) -> Step:
        operation = mutation.WhichOneof("operation")
        if operation is None:
            raise InvalidArgumentError(
                FieldViolation(f"mutations[{index}]", "names no operation"),
                metadata={"mutation_index": str(index)},
            )
        servicer, verb = self._operations[operation]
        prefix = self._row_encoders[servicer.field].prefix

        def encode(row: Row | None) -> bytes:
            if row is None:
                return self._deleted
            item = servicer.reply_for_write(row)
            return prefix(item) + item

        path = f"mutations[{index}].{operation}"
        write = prepared(
            lambda: servicer.write_for(verb, getattr(mutation, operation)),
            path,
            "mutation_index",
            index,
        )
        target = servicer.target_of(verb, getattr(mutation, operation))
        return Step(
            write,
            encode,
            path,
            index,
            "mutation_index",
            (servicer.repository, target) if target else None,
            write.locks if isinstance(write, CreateWrite) else {},
        )

    def _assemble(self, parts: list[bytes]) -> bytes:
        out = b"".join(self._results.prefix(part) + part for part in parts)
        if len(out) > self.max_response_bytes:
            # Refused before the commit: the caller could never learn it happened.
            raise InvalidArgumentError(
                FieldViolation(
                    "mutations",
                    f"make a response of {len(out)} bytes; no response may exceed "
                    f"{self.max_response_bytes} bytes: split the commit",
                ),
                reason="RESPONSE_TOO_LARGE",
            )
        return out


class BatchMethods:
    """AIP-233/234/235 `BatchCreate<R>s`, `BatchUpdate<R>s` and `BatchDelete<R>s` of
    one resource, from its declaration: its own writes, run on the executor, atomic
    like a Commit. Append-only resources get no BatchUpdate."""

    def __init__(
        self, servicer: ResourceServicer, executor: Executor, *, max_response_bytes: int
    ) -> None:
        self.servicer = servicer
        self.executor = executor
        self.max_response_bytes = max_response_bytes
        p = servicer.resource.plural
        self._create = self._method(f"BatchCreate{p}")
        self._update = None if servicer.resource.append_only else self._method(f"BatchUpdate{p}")
        self._delete, _ = servicer.messages_of(f"BatchDelete{p}")

    def _method(self, name: str) -> tuple[type[Message], PageEncoder]:
        request, response = self.servicer.messages_of(name)
        return request, PageEncoder(response, self.servicer.list_field)

    def behaviours(self) -> dict[str, Behaviour]:
        p = self.servicer.resource.plural
        found: dict[str, Behaviour] = {
            f"BatchCreate{p}": self.batch_create,
            f"BatchDelete{p}": self.batch_delete,
        }
        if self._update is not None:
            found[f"BatchUpdate{p}"] = self.batch_update
        return found

    async def batch_create(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        return await self._batch(data, context, "create", *self._create)

    async def batch_update(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        assert self._update is not None  # only served when the contract has it
        return await self._batch(data, context, "update", *self._update)

    async def _batch(
        self,
        data: bytes,
        context: grpc.aio.ServicerContext[Any, Any],
        verb: str,
        request_class: type[Message],
        encoder: PageEncoder,
    ) -> bytes:
        request: Any = parse_message(request_class, data)
        _check_size("requests", len(request.requests))
        servicer = self.servicer

        def encode(row: Row | None) -> bytes:
            assert row is not None  # creates and updates return their row
            item = servicer.reply_for_write(row)
            return encoder.prefix(item) + item

        steps = []
        for index, item in enumerate(request.requests):
            path = f"requests[{index}]"
            write = prepared(
                functools.partial(servicer.write_for, verb, item), path, "request_index", index
            )
            target = servicer.target_of(verb, item)
            steps.append(
                Step(
                    write,
                    encode,
                    path,
                    index,
                    "request_index",
                    (servicer.repository, target) if target else None,
                    write.locks if isinstance(write, CreateWrite) else {},
                )
            )
        creates = [step.write for step in steps if isinstance(step.write, CreateWrite)]
        bulk = servicer.bulk_create(creates) if len(creates) == len(steps) else None
        fits = len(data) + SERVER_FIELDS_BYTES * len(steps) <= self.max_response_bytes
        return await self.executor.run(context, steps, self._fitted, bulk=bulk, fits=fits)

    async def batch_delete(
        self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Message:
        request: Any = parse_message(self._delete, data)
        _check_size("ids", len(request.ids))
        if request.etags and len(request.etags) != len(request.ids):
            raise InvalidArgumentError.single("etags", "must be empty or one per id")
        servicer = self.servicer
        delete_class = servicer.write_request("delete")
        assert delete_class is not None
        steps = []
        for index, value in enumerate(request.ids):
            path = f"ids[{index}]"
            row_id = _item(parse_uuid, value, path, index)
            etag = (
                _item(parse_text, request.etags[index], f"etags[{index}]", index)
                if request.etags
                else ""
            )
            item = delete_class(id=str(row_id), etag=etag, force=request.force)
            steps.append(
                Step(
                    servicer.delete_write(item),
                    lambda row: b"",
                    path,
                    index,
                    "request_index",
                    (servicer.repository, row_id),
                )
            )
        await self.executor.run(context, steps, lambda parts: b"")
        return empty_pb2.Empty()

    def _fitted(self, parts: list[bytes]) -> bytes:
        out = b"".join(parts)
        if len(out) > self.max_response_bytes:
            raise InvalidArgumentError(
                FieldViolation(
                    "requests",
                    f"make a response of {len(out)} bytes; no response may exceed "
                    f"{self.max_response_bytes} bytes: send fewer per call",
                ),
                reason="RESPONSE_TOO_LARGE",
            )
        return out


def _item(parse: Callable[[str, str], T], value: str, path: str, index: int) -> T:
    """`parse(value, path)`, its refusal naming the batch item."""
    try:
        return parse(value, path)
    except InvalidArgumentError as error:
        error.metadata["request_index"] = str(index)
        raise


def _check_size(field: str, count: int) -> None:
    if not count:
        raise InvalidArgumentError.single(field, "is required")
    check_batch(count, field)
