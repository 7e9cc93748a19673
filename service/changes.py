"""The change history's service side: `ChangeService.ListChanges` for auditors
(what a write tells the database about its call is service/recording.py).

The recording itself is the database's (alembic 0002): every write, through this
service or not, leaves its event in the same transaction."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from ruleiq.data.v1 import change_pb2

from repositories.database import Database
from repositories.errors import FailedPreconditionError
from repositories.models import ChangeEvent
from repositories.repository import Page, Repository

from .conversion import Converter
from .encoding import PageEncoder
from .handlers import parse_request
from .query import ListLanguage
from .recording import actor_of
from .servicer import statement_timeout
from .watch import WatchServicer, event_bytes

log = logging.getLogger("ruleiq_data.changes")

CHANGE_SERVICE: str = change_pb2.DESCRIPTOR.services_by_name["ChangeService"].full_name
FILTERABLE = (
    "resource_type",
    "resource_id",
    "owner_user_id",
    "actor",
    "operation",
    "source",
    "on_behalf_of",
    "request_id",
    "commit_id",
    "changed_at",
)


class ChangeServicer:
    """ListChanges: the change history, newest first, in keyset pages."""

    def __init__(
        self, database: Database, *, max_statement_timeout: float, max_response_bytes: int
    ) -> None:
        self.database = database
        self.max_statement_timeout = max_statement_timeout
        self.max_response_bytes = max_response_bytes
        self.repository = Repository(ChangeEvent, filterable=FILTERABLE, default_order="id desc")
        table: Any = ChangeEvent.__table__
        self.converter = Converter(change_pb2.ChangeEvent, table, unstored=("values_omitted",))
        self.language = ListLanguage(
            table,
            filterable=FILTERABLE,
            orderable=self.repository.orderable,
            default_order="id desc",
        )
        self._encoder = PageEncoder(change_pb2.ListChangesResponse, "changes")

    async def ListChanges(self, data: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        request = parse_request(
            change_pb2.ListChangesRequest.FromString, data, "ListChangesRequest"
        )
        query = self.language.list_query(
            filter_text=request.filter,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        timeout = statement_timeout(context, self.max_statement_timeout)
        async with self.database.unit_of_work(timeout) as uow:
            page = await self.repository.list(uow.transaction, query)
        # An auditor's read is itself on the record, in the service's log.
        log.info(
            "change history read",
            extra={
                "caller": actor_of(context),
                "filter": request.filter[:500],
                "events": len(page.rows),
            },
        )
        return self._fitted(page)

    def _fitted(self, page: Page) -> bytes:
        """The page's reply, cut short when its events are more than a response may
        hold; the token then continues right after the last event sent."""
        parts: list[bytes] = []
        size = 0
        for index, row in enumerate(page.rows):
            item = event_bytes(self.converter, row, self.max_response_bytes - 1024)
            prefix = self._encoder.prefix(item)
            if size + len(prefix) + len(item) > self.max_response_bytes - 1024:
                if index == 0:
                    raise FailedPreconditionError(
                        f"change event {row['id']} is more than a response may hold "
                        f"({self.max_response_bytes} bytes)",
                        reason="RESPONSE_TOO_LARGE",
                        metadata={"id": str(row["id"])},
                    )
                return b"".join((*parts, self._encoder.tail(page.token_after(index - 1), 0)))
            size += len(prefix) + len(item)
            parts += (prefix, item)
        return b"".join((*parts, self._encoder.tail(page.next_page_token, 0)))


def add_change_service(
    server: grpc.aio.Server, servicer: ChangeServicer, watch: WatchServicer
) -> None:
    """Serve ListChanges and WatchChanges; both send replies they encoded themselves."""
    handlers = {
        "ListChanges": grpc.unary_unary_rpc_method_handler(
            servicer.ListChanges, response_serializer=lambda reply: reply
        ),
        "WatchChanges": grpc.unary_stream_rpc_method_handler(
            watch.WatchChanges, response_serializer=lambda reply: reply
        ),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(CHANGE_SERVICE, handlers),)
    )
