"""Bearer tokens and the policy that grants them, for servers started with auth."""

from __future__ import annotations

import hashlib
import secrets

TOKENS = {name: secrets.token_urlsafe(24) for name in ("reader", "writer", "billing", "ops")}


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


POLICY = {
    "reader": {"token_sha256": sha256(TOKENS["reader"]), "allow": ["read"]},
    "writer": {
        "token_sha256": [sha256("an old token"), sha256(TOKENS["writer"])],
        "allow": ["write"],
    },
    "billing": {
        "token_sha256": sha256(TOKENS["billing"]),
        "allow": {"*": ["read"], "UserService": ["write"]},
    },
    "ops": {"token_sha256": sha256(TOKENS["ops"]), "allow": {"DatabaseService": ["admin"]}},
}


def bearer(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[name]}"),)
