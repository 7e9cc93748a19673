"""The one generic servicer: Get, List, Create, Update, Delete and BatchGet for any
resource declared in service/resources.py."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, message_factory
from google.protobuf.message import Message
from sqlalchemy import Table

from repositories import idempotency
from repositories.cluster import Cluster
from repositories.errors import (
    AlreadyExistsError,
    DataError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
)
from repositories.history import ChangeContext
from repositories.ids import uuid7
from repositories.names import snake
from repositories.querying import UUID_TEXT
from repositories.repository import NextNumber, Page, Repository, Row
from repositories.together import Statement
from repositories.unit_of_work import Locks, Transaction, UnitOfWork

from .conversion import Converter, parse_text, parse_uuid
from .encoding import PageEncoder
from .handlers import parse_message
from .query import AggregateLanguage, ListLanguage, group_value
from .recording import changes_of
from .resources import Resource

# A reply is a message, or its bytes when the servicer encoded it itself (encoding.py).
Behaviour = Callable[[bytes, grpc.aio.ServicerContext[Any, Any]], Awaitable[Message | bytes]]
T = TypeVar("T")
# A write request checked and converted, ready to run in any unit of work: it
# returns the row it created or updated, None for a delete. Single calls and
# Commit run the same ones, so every rule holds in both.
Write = Callable[[Transaction], Awaitable[Row | None]]
RowWrite = Callable[[Transaction], Awaitable[Row]]
# Several creates as one statement: their rows, in order.
BulkWrite = Callable[[Transaction], Awaitable[list[Row]]]

# Metadata a caller sends to read from the primary even when replicas are set:
# after its own write, a replica may not have replayed it yet.
READ_YOUR_WRITES = "x-read-your-writes"
_TRUE = frozenset({"true", "1", "yes"})
# More than a row's reply can hold beyond what its write request sent: id, etag,
# timestamps, defaults.
SERVER_FIELDS_BYTES = 64 * 1024
_FALSE = frozenset({"false", "0", "no"})
# Items in one batch call (AIP-231).
MAX_BATCH = 1000


def check_batch(count: int, field: str) -> None:
    """Refuse a batch of more than MAX_BATCH items, naming its field, before any
    item is parsed."""
    if count > MAX_BATCH:
        raise InvalidArgumentError.single(field, f"at most {MAX_BATCH} {field} per call")


def statement_timeout(context: grpc.aio.ServicerContext[Any, Any], cap: float) -> float:
    """Seconds the database may spend on this call: its remaining deadline, at most
    `cap` (MAX_STATEMENT_TIMEOUT_SECONDS)."""
    remaining = context.time_remaining()
    if remaining is None:
        return cap
    if remaining <= 0:
        raise DeadlineExceededError("the call's deadline had passed", reason="DEADLINE_PASSED")
    return min(cap, remaining)


@dataclass(frozen=True)
class CreateWrite:
    """A checked, converted Create; awaiting it in a transaction writes the row."""

    servicer: ResourceServicer
    values: dict[str, Any]
    request_id: uuid.UUID | None
    chosen: uuid.UUID | None
    locks: dict[str, set[uuid.UUID]]
    """Rows the transaction must lock before this create runs: a numbered row's
    parent, the parent its rule changes."""

    def __call__(self, transaction: Transaction) -> Awaitable[Row]:
        return self.servicer._create(self, transaction)

    def add_to(self, statement: Statement) -> bool:
        """This create as a part of `statement`; False when it is more than its
        INSERT (a request_id, a rule after it)."""
        servicer = self.servicer
        if self.request_id is not None or servicer.resource.after_create is not None:
            return False
        statement.create(servicer.repository, servicer.insert_values(self))
        return True


@dataclass(frozen=True)
class UpdateWrite:
    """A checked, converted Update (see CreateWrite)."""

    servicer: ResourceServicer
    row_id: uuid.UUID
    values: dict[str, Any]
    etag: str

    async def __call__(self, transaction: Transaction) -> Row:
        servicer = self.servicer
        with servicer._request_paths():
            return await servicer.repository.update(
                transaction, self.row_id, self.values, etag=self.etag
            )

    def add_to(self, statement: Statement) -> bool:
        """This update as a part of `statement`."""
        statement.update(self.servicer.repository, self.row_id, self.values, self.etag)
        return True


class ResourceServicer:
    """Serves one resource's `<Resource>Service` from its declaration."""

    def __init__(
        self,
        resource: Resource,
        cluster: Cluster,
        *,
        max_statement_timeout: float,
        max_response_bytes: int,
        tell_history: bool = True,
    ) -> None:
        self.resource = resource
        self.tell_history = tell_history
        self.cluster = cluster
        self.max_statement_timeout = max_statement_timeout
        self.max_response_bytes = max_response_bytes
        self.service = resource.module.DESCRIPTOR.services_by_name[f"{resource.message}Service"]
        message_class: type[Message] = getattr(resource.module, resource.message)
        table: Any = resource.model.__table__
        self.converter = Converter(message_class, table)
        hidden = [n for n, plan in self.converter.fields.items() if plan.input_only]
        self.repository = Repository(
            resource.model,
            filterable=resource.filterable,
            orderable=resource.orderable,
            default_order=resource.default_order,
            hidden=hidden,
            searchable=resource.searchable,
        )
        self.language = ListLanguage(
            table,
            filterable=resource.filterable,
            orderable=self.repository.orderable,
            default_order=resource.default_order,
            searchable=resource.searchable,
        )
        self.aggregates = AggregateLanguage(
            table,
            self.language.filters,
            groupable=resource.groupable,
            measures=resource.measures,
        )
        self.field = snake(resource.message)
        # AIP-133: the request field a caller names the new row's id with.
        self.id_field = f"{self.field}_id"
        self.list_field = snake(resource.plural)
        self.updatable = self.converter.writable - set(resource.parents)
        self._requests: dict[str, type[Message]] = {}
        self._responses: dict[str, type[Message]] = {}
        for method in self.service.methods:
            self._requests[method.name] = message_factory.GetMessageClass(method.input_type)
            self._responses[method.name] = message_factory.GetMessageClass(method.output_type)
        # Looked up once here, not per call.
        m, p = resource.message, resource.plural
        self._get_request = self._requests[f"Get{m}"]
        self._batch_request = self._requests[f"BatchGet{p}"]
        self._batch_response = self._responses[f"BatchGet{p}"]
        self._list_request = self._requests[f"List{p}"]
        self._list_response = self._responses[f"List{p}"]
        self._create_request = self._requests[f"Create{m}"]
        if self.id_field not in self._create_request.DESCRIPTOR.fields_by_name:
            raise TypeError(f"{self._create_request.DESCRIPTOR.full_name} has no {self.id_field}")
        self._update_request = self._requests.get(f"Update{m}")
        self._delete_request = self._requests[f"Delete{m}"]
        self._aggregate_request = self._requests[f"Aggregate{p}"]
        self._aggregate_response = self._responses[f"Aggregate{p}"]
        self._list_encoder = PageEncoder(self._list_response, self.list_field)
        self._batch_encoder = PageEncoder(self._batch_response, self.list_field)
        # A numbered create: (column, its parent reference, the parent's table).
        self._numbered: tuple[str, str, str] | None = None
        if resource.numbered is not None:
            column, parent = resource.numbered
            self._numbered = (column, parent, _referred_table(table, parent))
        # The parents a create locks as its transaction opens: (reference, table).
        self._locked_parents = [
            (parent, _referred_table(table, parent))
            for parent in (resource.numbered and resource.numbered[1], resource.changes_parent)
            if parent is not None
        ]

    def messages_of(self, method: str) -> tuple[type[Message], type[Message]]:
        """The request and response message classes of one of the service's methods."""
        return self._requests[method], self._responses[method]

    @property
    def full_name(self) -> str:
        return str(self.service.full_name)

    def method_handlers(
        self, more: Mapping[str, Behaviour] | None = None
    ) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
        """The service's methods; `more` adds those served elsewhere (the batch
        writes, on the commit executor)."""
        m, p = self.resource.message, self.resource.plural
        behaviours: dict[str, Behaviour] = {
            **(more or {}),
            f"Get{m}": self.get,
            f"List{p}": self.list_page,
            f"Create{m}": self.create,
            f"Delete{m}": self.delete,
            f"BatchGet{p}": self.batch_get,
            f"Aggregate{p}": self.aggregate,
        }
        if not self.resource.append_only:
            behaviours[f"Update{m}"] = self.update
        declared = {method.name for method in self.service.methods}
        if declared != set(behaviours):
            raise TypeError(
                f"{self.full_name}: contract {sorted(declared)} != {sorted(behaviours)}"
            )
        return {
            name: grpc.unary_unary_rpc_method_handler(behaviour, response_serializer=_serialize)
            for name, behaviour in behaviours.items()
        }

    def _unit(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        *,
        single_statement: bool = False,
        changes: ChangeContext | None = None,
        locks: Locks | None = None,
    ) -> UnitOfWork:
        """One write transaction whose statements end when the caller stops waiting;
        it tells the change history who is writing (`changes`)."""
        timeout = statement_timeout(context, self.max_statement_timeout)
        return self.cluster.writer(
            timeout, single_statement=single_statement, changes=changes, locks=locks
        )

    def _changes(self, context: grpc.aio.ServicerContext[Any, Any]) -> ChangeContext | None:
        """What a write tells the change history about its call."""
        return changes_of(context) if self.tell_history else None

    async def _read(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        read: Callable[[Transaction], Awaitable[T]],
        *,
        single_statement: bool = False,
    ) -> T:
        """`read` where the cluster sends it: a replica, unless the caller asked to
        read its own writes, or the primary."""
        return await self.cluster.read(
            read,
            time_left=lambda: statement_timeout(context, self.max_statement_timeout),
            single_statement=single_statement,
            # Without replicas every read is the primary's: the metadata means nothing.
            read_your_writes=bool(self.cluster.replicas) and _read_your_writes(context),
        )

    async def get(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        request = parse_message(self._get_request, data)
        row_id = parse_uuid(request.id, "id")
        row = await self._read(
            context,
            lambda transaction: self.repository.get(transaction, row_id),
            single_statement=True,
        )
        return self._reply(row)

    def _encode(self, row: Row) -> bytes:
        data: bytes = self.converter.to_message(row).SerializeToString()
        return data

    def _reply(self, row: Row, *, written: bool = False) -> bytes:
        """One row's reply, encoded once; refused when no response may carry it."""
        data = self._encode(row)
        if len(data) > self.max_response_bytes:
            raise self._row_too_large(row, len(data), written=written)
        return data

    def _row_too_large(self, row: Row, size: int, *, written: bool = False) -> DataError:
        limit = self.max_response_bytes
        if written:
            # Refused before the commit: a row no reply can carry could never be read.
            return InvalidArgumentError(
                FieldViolation(
                    self.field,
                    f"makes a row of {size} bytes; no response may exceed {limit} bytes",
                ),
                reason="RESPONSE_TOO_LARGE",
            )
        return FailedPreconditionError(
            f"{self.repository.name} {row['id']} is {size} bytes, more than a response may "
            f"hold ({limit} bytes): shorten it with an update",
            reason="RESPONSE_TOO_LARGE",
            metadata={
                "resource": self.repository.name,
                "id": str(row["id"]),
                "size_bytes": str(size),
                "limit_bytes": str(limit),
            },
        )

    async def batch_get(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        request = parse_message(self._batch_request, data)
        ids = list(request.ids)
        check_batch(len(ids), "ids")
        # One pass of the precompiled check over them all; the database reads the
        # text. Only a batch with a malformed id is looked at one by one, to name it.
        if not all(map(UUID_TEXT.fullmatch, ids)):
            for index, value in enumerate(ids):
                parse_uuid(value, f"ids[{index}]")
        rows = await self._read(
            context,
            lambda transaction: self.repository.get_many(transaction, ids),
            single_statement=True,
        )
        encoder = self._batch_encoder
        parts: list[bytes] = []
        size = 0
        for index, row in enumerate(rows):
            item = self._encode(row)
            prefix = encoder.prefix(item)
            size += len(prefix) + len(item)
            if size > self.max_response_bytes:
                if index == 0:
                    raise self._row_too_large(row, len(item))
                # All or nothing: a BatchGet is atomic, so it is not cut short.
                raise FailedPreconditionError(
                    f"the {len(ids)} {self.repository.name} rows asked for are more than a "
                    f"response may hold ({self.max_response_bytes} bytes); the first "
                    f"{index} fit: ask for fewer ids per call",
                    reason="RESPONSE_TOO_LARGE",
                    metadata={
                        "resource": self.repository.name,
                        "limit_bytes": str(self.max_response_bytes),
                        "ids_that_fit": str(index),
                    },
                )
            parts += (prefix, item)
        return b"".join(parts)

    async def list_page(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        request = parse_message(self._list_request, data)
        query = self.language.list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
            skip=request.skip,
            with_total=request.show_total_size,
        )
        # A page without its total is one statement: no BEGIN and ROLLBACK around it.
        page = await self._read(
            context,
            lambda transaction: self.repository.list(transaction, query),
            single_statement=not query.with_total,
        )
        return self._fitted(page)

    async def aggregate(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
        request = parse_message(self._aggregate_request, data)
        query = self.aggregates.aggregate_query(
            filter_text=request.filter,
            group_by=list(request.group_by),
            metrics=list(request.metrics),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        groups, more = await self._read(
            context, lambda session: self.repository.aggregate(session, query)
        )
        response: Any = self._aggregate_response()
        for keys, values in groups:
            group = response.groups.add()
            for key in keys:
                group.keys.append(group_value(key))
            for value in values:
                group.values.append(group_value(value))
        if more:
            response.next_page_token = self.aggregates.next_token(query)
        reply: Message = response
        return reply

    def _fitted(self, page: Page) -> bytes:
        """The page's reply, cut short to GRPC_MAX_RESPONSE_BYTES when its rows are
        larger (AIP-158): the token then continues right after the last row sent."""
        encoder = self._list_encoder
        limit = self.max_response_bytes
        parts: list[bytes] = []
        size = 0
        for row in page.rows:
            item = self._encode(row)
            prefix = encoder.prefix(item)
            if size + len(prefix) + len(item) > limit:
                break
            size += len(prefix) + len(item)
            parts += (prefix, item)
        total = page.total_size or 0
        while True:
            kept = len(parts) // 2
            if kept == len(page.rows):
                tail = encoder.tail(page.next_page_token, total)
            elif kept:
                tail = encoder.tail(page.token_after(kept - 1), total)
            else:
                row = page.rows[0]
                raise self._row_too_large(row, len(self._encode(row)))
            if size + len(tail) <= limit:
                return b"".join((*parts, tail))
            # Rare: the token (it holds the sort key) did not fit; one row fewer.
            size -= len(parts[-2]) + len(parts[-1])
            del parts[-2:]

    async def create(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        request = parse_message(self._create_request, data)
        write = self.create_write(request)
        # A plain create is one INSERT; an idempotent one or one with rules is more,
        # and so is one that may make a row too large to reply with (refused then).
        single = (
            not request.request_id
            and self.resource.after_create is None
            and not write.locks
            and self._surely_fits(data)
        )
        return await self._write_one(context, write, single_statement=single, locks=write.locks)

    async def _write_one(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        write: RowWrite,
        *,
        single_statement: bool,
        locks: Locks | None = None,
    ) -> bytes:
        """One create or update in its own unit of work, and its reply. In a
        transaction, a row too large to reply with is refused before it commits."""
        async with self._unit(
            context,
            single_statement=single_statement,
            changes=self._changes(context),
            locks=locks,
        ) as uow:
            row = await write(uow.transaction)
            reply = self._reply(row, written=not single_statement)
            await uow.commit()
        return reply

    def create_write(self, request: Any) -> CreateWrite:
        """A Create request, checked and converted: what it writes inside any unit
        of work (a Create call's, or a Commit's)."""
        if not request.HasField(self.field):
            raise InvalidArgumentError.single(self.field, "is required")
        values = self.converter.values_for_create(getattr(request, self.field), self.field)
        request_id = parse_uuid(request.request_id, "request_id") if request.request_id else None
        chosen = self._chosen_id(getattr(request, self.id_field))
        locks: dict[str, set[uuid.UUID]] = {}
        for parent, parent_table in self._locked_parents:
            if values.get(parent) is not None:
                locks.setdefault(parent_table, set()).add(values[parent])
        return CreateWrite(self, values, request_id, chosen, locks)

    async def _create(self, write: CreateWrite, transaction: Transaction) -> Row:
        chosen, request_id = write.chosen, write.request_id
        new_id = chosen or uuid7()
        if request_id is not None:
            # AIP-155: the request_id wins; a repeat gets the first row back,
            # whatever id it asks for.
            first = await idempotency.claim(transaction, self.repository.name, request_id, new_id)
            if first is not None:
                return await self.repository.get(transaction, first)
        try:
            with self._request_paths():
                row = await self.repository.create(transaction, self.insert_values(write, new_id))
        except AlreadyExistsError as error:
            if chosen is not None and error.metadata.get("fields") == "id":
                raise self._id_taken(chosen, error) from error
            raise
        if self.resource.after_create is not None:
            await self.resource.after_create(transaction, row)
        return row

    def insert_values(self, write: CreateWrite, new_id: uuid.UUID | None = None) -> dict[str, Any]:
        """The values a create inserts: its own, the row's id, and its number when
        the resource is numbered (the parent is locked, write.locks: the INSERT
        reads every number given)."""
        values = {**write.values, "id": new_id or write.chosen or uuid7()}
        if self._numbered is not None:
            column, parent, _ = self._numbered
            values[column] = NextNumber(parent)
        return values

    def bulk_create(self, writes: Sequence[CreateWrite]) -> BulkWrite | None:
        """The same creates as one INSERT, when none of them is more than its INSERT
        (no rule after it, no request_id); None otherwise. Numbered rows take their
        numbers in the INSERT, in order (their parents are locked: the writes'
        `locks`). Any refusal of the one INSERT is left to the creates one by one,
        which name the item that caused it."""
        if self.resource.after_create is not None or any(w.request_id for w in writes):
            return None

        async def run(transaction: Transaction) -> list[Row]:
            rows = [self.insert_values(w) for w in writes]
            return await self.repository.create_many(transaction, rows)

        return run

    def write_request(self, verb: str) -> type[Message] | None:
        """The request message of `verb` (create, update, delete); None when the
        resource has no such method (append-only ones have no update)."""
        return {
            "create": self._create_request,
            "update": self._update_request,
            "delete": self._delete_request,
        }[verb]

    def write_for(self, verb: str, request: Any) -> Write:
        """The checked write of a `verb` request (see create_write)."""
        if verb == "create":
            return self.create_write(request)
        if verb == "update":
            return self.update_write(request)
        return self.delete_write(request)

    def target_of(self, verb: str, request: Any) -> uuid.UUID | None:
        """The existing row a checked `verb` request changes; None for a create."""
        if verb == "update":
            return parse_uuid(getattr(request, self.field).id, f"{self.field}.id")
        if verb == "delete":
            return parse_uuid(request.id, "id")
        return None

    def reply_for_write(self, row: Row) -> bytes:
        """A written row's bytes, refused (before the commit) when no reply may hold it."""
        return self._reply(row, written=True)

    def _chosen_id(self, value: str) -> uuid.UUID | None:
        """The id the caller chose for the new row (AIP-133), None to assign one."""
        if not value:
            return None
        chosen = parse_uuid(value, self.id_field)
        if chosen.int == 0:
            raise InvalidArgumentError.single(self.id_field, "cannot be the nil UUID")
        return chosen

    def _id_taken(self, chosen: uuid.UUID, error: AlreadyExistsError) -> AlreadyExistsError:
        name = self.repository.name
        return AlreadyExistsError(
            f"{self.id_field}: a {name} row with id {chosen} already exists",
            reason="ALREADY_EXISTS",
            metadata={
                **error.metadata,
                "resource": name,
                "id": str(chosen),
                "field": self.id_field,
            },
        )

    def _surely_fits(self, request: bytes) -> bool:
        """Whether the row a write of `request` makes is sure to fit in a reply. Only
        rows that may not are written in a transaction, refused before it commits."""
        return len(request) + SERVER_FIELDS_BYTES <= self.max_response_bytes

    async def update(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        assert self._update_request is not None  # only served when the contract has it
        write = self.update_write(parse_message(self._update_request, data))
        # The fields left unchanged count too: a small update of a large row that
        # makes it too large is written, and its reply refused as a read would be.
        return await self._write_one(context, write, single_statement=self._surely_fits(data))

    def update_write(self, request: Any) -> UpdateWrite:
        """An Update request, checked and converted (see create_write)."""
        if not request.HasField(self.field):
            raise InvalidArgumentError.single(self.field, "is required")
        resource = getattr(request, self.field)
        row_id = parse_uuid(resource.id, f"{self.field}.id")
        names = self._masked_fields(request, resource)
        values = self.converter.values_for_update(resource, self.field, names)
        etag = (
            parse_text(request.etag, "etag")
            if request.etag
            else parse_text(resource.etag, f"{self.field}.etag")
        )
        return UpdateWrite(self, row_id, values, etag)

    @contextmanager
    def _request_paths(self) -> Iterator[None]:
        """The data layer names a refused value by its column; the caller sent it
        as `<resource>.<field>`."""
        try:
            yield
        except InvalidArgumentError as error:
            raise error.within(self.field, self.converter.fields) from error

    def _masked_fields(self, request: Any, resource: Message) -> list[str]:
        """AIP-134: the mask's fields (`*` for all); without a mask, every field set."""
        paths = list(request.update_mask.paths) if request.HasField("update_mask") else []
        if not paths:
            names = [n for n in sorted(self.updatable) if self.converter.is_set(resource, n)]
            if not names:
                raise InvalidArgumentError.single("update_mask", "names no field to change")
            return names
        if paths == ["*"]:
            return sorted(self.updatable)
        if "*" in paths:
            raise InvalidArgumentError.single("update_mask", "`*` must be the only path")
        violations = []
        for path in paths:
            if path not in self.converter.fields:
                violations.append(FieldViolation("update_mask", f"{path[:60]!r} is not a field"))
            elif path in self.resource.parents:
                violations.append(FieldViolation("update_mask", f"{path} cannot change"))
            elif path not in self.updatable:
                violations.append(FieldViolation("update_mask", f"{path} is output only"))
        if violations:
            raise InvalidArgumentError(*violations)
        return list(dict.fromkeys(paths))

    async def delete(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
        request = parse_message(self._delete_request, data)
        write = self.delete_write(request)
        # With force, dependents go first: more than one statement.
        async with self._unit(
            context, single_statement=not request.force, changes=self._changes(context)
        ) as uow:
            await write(uow.transaction)
            await uow.commit()
        return empty_pb2.Empty()

    def delete_write(self, request: Any) -> Write:
        """A Delete request, checked (see create_write); its write returns None."""
        row_id = parse_uuid(request.id, "id")
        etag, force = parse_text(request.etag, "etag"), request.force

        async def run(transaction: Transaction) -> None:
            await self.repository.delete(transaction, row_id, etag=etag, force=force)

        return run


def _read_your_writes(context: grpc.aio.ServicerContext[Any, Any]) -> bool:
    for key, value in context.invocation_metadata() or ():
        if key == READ_YOUR_WRITES:
            if value.lower() in _TRUE:
                return True
            if value.lower() not in _FALSE:
                raise InvalidArgumentError.single(
                    READ_YOUR_WRITES, "metadata must be true or false"
                )
    return False


def _serialize(reply: Message | bytes) -> bytes:
    if isinstance(reply, bytes):
        return reply  # encoded by the servicer, once
    return reply.SerializeToString()


def _referred_table(table: Table, reference: str) -> str:
    """The table the foreign key `reference` of `table` points at."""
    (key,) = table.c[reference].foreign_keys
    return str(key.column.table.name)
