"""Every id the service mints: a new row's (time-ordered), and the random ones
that only need to be unique (a call's request id, an error's reference, a
prepared statement's name)."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): new rows land at the right edge of
    the primary-key index instead of on random pages."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64
    value |= 0b10 << 62 | rand & 0x3FFF_FFFF_FFFF_FFFF
    return uuid.UUID(int=value)


def random_hex(length: int = 32) -> str:
    """`length` (at most 32) random hex digits, from a UUID4: 122 random bits."""
    return uuid.uuid4().hex[:length]
