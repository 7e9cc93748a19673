"""CamelCase names as the other spellings of them: a message's request field and
a Python enum's PostgreSQL type are snake_case, a proto enum's value prefix is
UPPER_SNAKE."""

from __future__ import annotations

import re

_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    """EvidenceStatus -> evidence_status."""
    return _WORD_START.sub("_", name).lower()


def enum_prefix(name: str) -> str:
    """EvidenceStatus -> EVIDENCE_STATUS_, the prefix of its proto enum values (AIP-126)."""
    return snake(name).upper() + "_"
