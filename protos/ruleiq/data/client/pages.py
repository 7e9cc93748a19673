"""Page iterators over any List method: the repeated field of the response is found
from its descriptor, so one iterator serves every resource."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

Request = TypeVar("Request", bound=Message)
Response = TypeVar("Response", bound=Message)
Metadata = Sequence[tuple[str, str | bytes]]

PAGE_TOKEN = "page_token"  # noqa: S105  # a field name
NEXT_PAGE_TOKEN = "next_page_token"  # noqa: S105


def items_field(response: Message) -> str:
    """The name of a List response's one repeated message field (`users`, `evidence`)."""
    descriptor = response.DESCRIPTOR
    found = [
        f.name
        for f in descriptor.fields
        if f.is_repeated and f.type == FieldDescriptor.TYPE_MESSAGE
    ]
    if len(found) != 1 or NEXT_PAGE_TOKEN not in descriptor.fields_by_name:
        raise TypeError(f"{descriptor.full_name} is not a List response")
    return found[0]


def _first(request: Request) -> Request:
    """A copy of the caller's request, so paging never changes it."""
    if PAGE_TOKEN not in request.DESCRIPTOR.fields_by_name:
        raise TypeError(f"{request.DESCRIPTOR.full_name} is not a List request")
    copy = type(request)()
    copy.CopyFrom(request)
    return copy


def pages(
    method: Callable[..., Response],
    request: Request,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> Iterator[Response]:
    """Every page of a List call (e.g. `stub.ListUsers`), one call per page, each
    with its own deadline `timeout` (None: the channel's default for reads)."""
    request = _first(request)
    while True:
        page = method(request, timeout=timeout, metadata=metadata)
        yield page
        token = getattr(page, NEXT_PAGE_TOKEN)
        if not token:
            return
        setattr(request, PAGE_TOKEN, token)


def items(
    method: Callable[..., Message],
    request: Message,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> Iterator[Any]:
    """Every resource of every page of a List call, in the server's order."""
    for page in pages(method, request, timeout=timeout, metadata=metadata):
        yield from getattr(page, items_field(page))


async def apages(
    method: Callable[..., Awaitable[Response]],
    request: Request,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> AsyncIterator[Response]:
    """The asyncio twin of `pages`, for stubs on a `grpc.aio` channel."""
    request = _first(request)
    while True:
        page = await method(request, timeout=timeout, metadata=metadata)
        yield page
        token = getattr(page, NEXT_PAGE_TOKEN)
        if not token:
            return
        setattr(request, PAGE_TOKEN, token)


async def aitems(
    method: Callable[..., Awaitable[Message]],
    request: Message,
    *,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> AsyncIterator[Any]:
    """The asyncio twin of `items`."""
    async for page in apages(method, request, timeout=timeout, metadata=metadata):
        for item in getattr(page, items_field(page)):
            yield item
