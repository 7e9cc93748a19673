"""Who is calling, and what they may do: every calling service presents a bearer
token (or, under mutual TLS, a client certificate), which configuration maps to a
caller name and permissions.

The configuration (AUTH_TOKENS_FILE, JSON or TOML; or AUTH_TOKENS, JSON) maps
caller names to entries:

    {"billing": {"token_sha256": "<hex SHA-256 of the token>",
                 "allow": {"*": ["read"], "UserService": ["write"]}},
     "reports": {"certificate_cn": "reports.ruleiq.internal", "allow": ["read"]},
     "ops":     {"token_sha256": ["<current>", "<next>"], "allow": ["admin"]}}

Permissions: `read` (Get, List, BatchGet, Aggregate), `write` (Create, Update, Delete and their
Batch methods; implies read), `admin` (DatabaseService), `audit` (ChangeService: the
change history, which holds every resource's past values, so neither read nor write
implies it). A DataService.Commit needs `write` on the service of every resource its
mutations write. `allow` is a list (every service) or a map from service name (full,
or short as `UserService`) or `*` to a list; a caller's permissions on a service are
those under `*` plus those under its name. Only the token's SHA-256 is stored; a list
of them lets a token be rotated without downtime.

Health and reflection are always open. The check runs before the handler, so a
refused call reads nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection
from ruleiq.data.v1 import change_pb2, data_service_pb2, database_pb2

from repositories.config import ConfigError

from .errors import refuse
from .handlers import Handler, PerMethodInterceptor, unary
from .logs import CALLER
from .resources import RESOURCES
from .security import mutual_tls
from .settings import ServiceSettings

READ, WRITE, ADMIN, AUDIT = "read", "write", "admin", "audit"
PERMISSIONS = (READ, WRITE, ADMIN, AUDIT)
EVERY_SERVICE = "*"

DATABASE_SERVICE: str = database_pb2.DESCRIPTOR.services_by_name["DatabaseService"].full_name
DATA_SERVICES: tuple[str, ...] = tuple(
    str(r.module.DESCRIPTOR.services_by_name[f"{r.message}Service"].full_name) for r in RESOURCES
)
CHANGE_SERVICE: str = change_pb2.DESCRIPTOR.services_by_name["ChangeService"].full_name
KNOWN_SERVICES = (*DATA_SERVICES, DATABASE_SERVICE, CHANGE_SERVICE)
# Kubernetes probes carry no credentials; reflection is switched off by GRPC_REFLECTION.
OPEN_SERVICES = frozenset(
    {
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
        "grpc.reflection.v1.ServerReflection",
    }
)
_READ_METHODS = ("Get", "List", "BatchGet", "Aggregate")
_WRITE_METHODS = ("Create", "Update", "Delete", "BatchCreate", "BatchUpdate", "BatchDelete")
COMMIT_SERVICE: str = data_service_pb2.DESCRIPTOR.services_by_name["DataService"].full_name
# Each Mutation member (create_user, ...) -> the service whose write it is.
_MUTATION_SERVICES: dict[str, str] = {
    member.name: str(service.full_name)
    for member in data_service_pb2.Mutation.DESCRIPTOR.oneofs_by_name["operation"].fields
    if member.message_type is not None
    for service in member.message_type.file.services_by_name.values()
}
_NOTHING: frozenset[str] = frozenset()


def required_permission(service: str, method: str) -> str:
    """What a method needs: reads need read, changes write, the change history
    audit, anything else admin. A Commit's write is checked on each service its
    mutations write to."""
    if service == CHANGE_SERVICE:
        return AUDIT
    if service == COMMIT_SERVICE:
        return WRITE
    if service != DATABASE_SERVICE:
        if method.startswith(_READ_METHODS):
            return READ
        if method.startswith(_WRITE_METHODS):
            return WRITE
    return ADMIN


def _services_written(service: str, request: Any) -> list[str]:
    """The services a Commit writes to, from its mutations; none for other calls. A
    request that does not parse writes nothing: the handler refuses it."""
    if service != COMMIT_SERVICE:
        return []
    try:
        commit = data_service_pb2.CommitRequest.FromString(request)
    except Exception:  # whatever the parser raises, nothing is written
        return []
    names = {m.WhichOneof("operation") for m in commit.mutations}
    return sorted({_MUTATION_SERVICES[name] for name in names if name is not None})


@dataclass(frozen=True)
class Caller:
    """A calling service: how it is recognised and, per service, what it may do."""

    name: str
    token_digests: tuple[bytes, ...] = ()
    certificate_cn: str | None = None
    permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def may(self, service: str, permission: str) -> bool:
        return permission in self.permissions.get(service, _NOTHING)


@dataclass(frozen=True)
class Policy:
    """Every known caller, found by token (constant time) or certificate name."""

    callers: tuple[Caller, ...]
    by_certificate: Mapping[str, Caller]

    def by_token(self, token: str) -> Caller | None:
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        # Every digest is compared, so the time taken says nothing about which matched.
        for caller in self.callers:
            for known in caller.token_digests:
                if hmac.compare_digest(known, digest):
                    found = caller
        return found


def load_policy(settings: ServiceSettings) -> Policy | None:
    """The configured policy, or None when auth is off; a ConfigError names the
    variable and the caller at fault (never a token)."""
    if settings.auth_tokens_file is not None and settings.auth_tokens is not None:
        raise ConfigError("AUTH_TOKENS: set either AUTH_TOKENS or AUTH_TOKENS_FILE, not both")
    if settings.auth_tokens_file is not None:
        variable, path = "AUTH_TOKENS_FILE", settings.auth_tokens_file
        try:
            text = path.read_text()
        except OSError as error:
            raise ConfigError(f"{variable}: cannot read {path} ({error.strerror})") from None
        toml = path.suffix.lower() == ".toml"
    elif settings.auth_tokens is not None:
        variable, text, toml = "AUTH_TOKENS", settings.auth_tokens.get_secret_value(), False
    else:
        return None
    try:
        raw = tomllib.loads(text) if toml else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        # The parser's position only: its message may quote the text.
        kind = "TOML" if toml else "JSON"
        raise ConfigError(f"{variable}: not valid {kind} ({type(error).__name__})") from None
    try:
        return _policy(raw, mtls=mutual_tls(settings))
    except ValueError as error:
        raise ConfigError(f"{variable}: {error}") from None


def _policy(raw: Any, *, mtls: bool) -> Policy:
    if not isinstance(raw, dict) or not raw:
        raise ValueError("must map caller names to entries")
    callers = tuple(_caller(str(name), entry, mtls=mtls) for name, entry in raw.items())
    by_certificate: dict[str, Caller] = {}
    digests: set[bytes] = set()
    for caller in callers:
        if caller.certificate_cn is not None:
            if caller.certificate_cn in by_certificate:
                raise ValueError(f"certificate_cn {caller.certificate_cn!r} is given twice")
            by_certificate[caller.certificate_cn] = caller
        if digests & set(caller.token_digests):
            raise ValueError(f"caller {caller.name!r}: a token_sha256 is used by another caller")
        digests.update(caller.token_digests)
    return Policy(callers, by_certificate)


def _caller(name: str, entry: Any, *, mtls: bool) -> Caller:
    where = f"caller {name!r}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: must be an object with token_sha256 or certificate_cn")
    unknown = set(entry) - {"token_sha256", "certificate_cn", "allow"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    hashes = entry.get("token_sha256", [])
    hashes = [hashes] if isinstance(hashes, str) else hashes
    if not isinstance(hashes, list):
        raise ValueError(f"{where}: token_sha256 must be a hex SHA-256 or a list of them")
    digests = []
    for value in hashes:
        try:
            digest = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            digest = b""
        if len(digest) != hashlib.sha256().digest_size:
            # A plain token here would be a secret in the file; the value is not shown.
            raise ValueError(f"{where}: token_sha256 must be 64 hex digits (a SHA-256)")
        digests.append(digest)
    cn = entry.get("certificate_cn")
    if cn is not None and (not isinstance(cn, str) or not cn):
        raise ValueError(f"{where}: certificate_cn must be a non-empty string")
    if not digests and cn is None:
        raise ValueError(f"{where}: needs token_sha256 or certificate_cn")
    if cn is not None and not mtls and not digests:
        raise ValueError(f"{where}: certificate_cn needs mutual TLS (GRPC_TLS_CLIENT_CA_FILE)")
    return Caller(name, tuple(digests), cn, _permissions(where, entry.get("allow")))


def _permissions(where: str, allow: Any) -> dict[str, frozenset[str]]:
    if isinstance(allow, list):
        allow = {EVERY_SERVICE: allow}
    if not isinstance(allow, dict) or not allow:
        raise ValueError(f"{where}: allow must be a list of permissions or a map of them")
    granted: dict[str, set[str]] = {}
    for service, permissions in allow.items():
        name = _service_name(where, service)
        if not isinstance(permissions, list) or not all(p in PERMISSIONS for p in permissions):
            raise ValueError(f"{where}: allow[{service!r}] must be a list of {list(PERMISSIONS)}")
        expanded = set(permissions) | ({READ} if WRITE in permissions else set())
        granted.setdefault(name, set()).update(expanded)
    every = granted.pop(EVERY_SERVICE, set())
    return {s: frozenset(every | granted.get(s, set())) for s in KNOWN_SERVICES}


def _service_name(where: str, service: Any) -> str:
    if service == EVERY_SERVICE:
        return EVERY_SERVICE
    for known in KNOWN_SERVICES:
        if service in (known, known.rsplit(".", 1)[1]):
            return known
    raise ValueError(f"{where}: unknown service {service!r}")


def _bearer(metadata: Any) -> str | None:
    """The token of an `authorization: Bearer <token>` header; "" when the header
    is there but malformed; None when there is none."""
    for key, value in metadata or ():
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


class AuthInterceptor(PerMethodInterceptor):
    """Refuses a call with UNAUTHENTICATED or PERMISSION_DENIED before its handler
    runs; wraps each method once, with the permission it needs."""

    def __init__(self, policy: Policy) -> None:
        super().__init__()
        self.policy = policy

    def wrap(self, path: str, handler: Handler) -> Handler | None:
        service, _, method = path.lstrip("/").partition("/")
        if service in OPEN_SERVICES:
            return handler
        # A unary-stream method (WatchChanges) writes its responses from a coroutine,
        # checked like a unary one; any other kind fails closed.
        behaviour = handler.unary_unary or handler.unary_stream
        if behaviour is None:
            return None
        permission = required_permission(service, method)
        return unary(handler, self._checked(behaviour, path, service, permission))

    def _checked(self, behaviour: Any, path: str, service: str, permission: str) -> Any:
        async def call(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            caller = await self._identify(context)
            # Not reset: the call's task ends with it, and the call's log line,
            # written by the observer outside this interceptor, names the caller.
            CALLER.set(caller.name)
            for needed in _services_written(service, request):
                if not caller.may(needed, WRITE):
                    await refuse(
                        context,
                        grpc.StatusCode.PERMISSION_DENIED,
                        f"caller {caller.name!r} has no 'write' permission on {needed}",
                        "NOT_ALLOWED",
                        {"caller": caller.name, "permission": WRITE, "service": needed},
                    )
            if service != COMMIT_SERVICE and not caller.may(service, permission):
                await refuse(
                    context,
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"caller {caller.name!r} has no {permission!r} permission on {service}",
                    "NOT_ALLOWED",
                    {"caller": caller.name, "permission": permission, "service": service},
                )
            return await behaviour(request, context)

        return call

    async def _identify(self, context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
        """The caller by bearer token, else by verified certificate; refuses otherwise."""
        token = _bearer(context.invocation_metadata())
        if token is not None:
            caller = self.policy.by_token(token) if token else None
            if caller is not None:
                return caller
            reason, message = "INVALID_CREDENTIALS", "the bearer token is not valid"
        else:
            if self.policy.by_certificate:
                names = context.auth_context().get("x509_common_name") or ()
                for name in names:
                    found = self.policy.by_certificate.get(name.decode(errors="replace"))
                    if found is not None:
                        return found
            reason = "MISSING_CREDENTIALS"
            message = "no credentials: send the metadata `authorization: Bearer <token>`"
        await refuse(context, grpc.StatusCode.UNAUTHENTICATED, message, reason)
        raise AssertionError("abort returned")  # pragma: no cover  # abort raises
