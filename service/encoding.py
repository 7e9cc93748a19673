"""Replies encoded once, and measured while they are encoded, so none is larger
than GRPC_MAX_RESPONSE_BYTES: a client with grpc's default receive limit (4 MiB)
would fail on it with RESOURCE_EXHAUSTED, after the server did all the work.

A List or BatchGet reply is put together from each resource's own bytes (the
protobuf encoding of a message is the concatenation of its fields), so each
resource is serialized exactly once and its size is known before it joins the page."""

from __future__ import annotations

import functools

from google.protobuf.message import Message

_VARINT = 0
_LENGTH_DELIMITED = 2
# Prefixes of resources up to this many bytes are made once, at start-up.
_SHORT = 1 << 14


def varint(value: int) -> bytes:
    """`value` (not negative) as a protobuf base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


@functools.cache
def _short_prefixes(key: bytes) -> tuple[bytes, ...]:
    # One table per field key, shared: the resource field is number 1 everywhere.
    return tuple(key + varint(n) for n in range(_SHORT))


class PageEncoder:
    """The wire form of one List or BatchGet response type, from its parts: the
    repeated resource field, and `next_page_token` and `total_size` when it has them."""

    def __init__(self, response: type[Message], items_field: str) -> None:
        fields = response.DESCRIPTOR.fields_by_name
        self._item_key = _key(fields[items_field].number, _LENGTH_DELIMITED)
        self._short_prefixes = _short_prefixes(self._item_key)
        token = fields.get("next_page_token")
        total = fields.get("total_size")
        self._token_key = _key(token.number, _LENGTH_DELIMITED) if token is not None else b""
        self._total_key = _key(total.number, _VARINT) if total is not None else b""

    def prefix(self, item: bytes) -> bytes:
        """What precedes one resource's bytes in the reply."""
        size = len(item)
        if size < len(self._short_prefixes):  # most rows: no varint to compute
            return self._short_prefixes[size]
        return self._item_key + varint(size)

    def tail(self, next_page_token: str = "", total_size: int = 0) -> bytes:
        """The fields after the resources; proto3 leaves out empty and zero values."""
        out = b""
        if next_page_token:
            token = next_page_token.encode()
            out += self._token_key + varint(len(token)) + token
        if total_size:
            out += self._total_key + varint(total_size)
        return out
