"""Start-up configuration, built once: the environment's settings, then the files
they name (TLS certificates, the callers' policy), each read once. Every problem is
reported together, each naming its variable, before anything starts."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from pydantic import ValidationError

from repositories.config import (
    ConfigError,
    DatabaseSettings,
    invalid_configuration,
    validation_problems,
)

from .auth import Policy, load_policy
from .security import mutual_tls, server_credentials
from .settings import ServiceSettings


@dataclass(frozen=True)
class Access:
    """Who may reach the server and how: the listening port's TLS credentials
    (None: plaintext) and the callers' policy (None: auth is off)."""

    credentials: grpc.ServerCredentials | None
    policy: Policy | None
    mutual_tls: bool

    @property
    def transport(self) -> str:
        if self.credentials is None:
            return "plaintext"
        return "mutual TLS" if self.mutual_tls else "TLS"


def _access(settings: ServiceSettings, problems: list[str]) -> Access | None:
    """The files' contents, or None with what is wrong with them in `problems`."""
    credentials = policy = None
    found = len(problems)
    try:
        credentials = server_credentials(settings)
    except ConfigError as error:
        problems.append(str(error))
    try:
        policy = load_policy(settings)
    except ConfigError as error:
        problems.append(str(error))
    if len(problems) > found:
        return None
    return Access(credentials, policy, mutual_tls(settings))


def load_access(settings: ServiceSettings) -> Access:
    """The TLS credentials and the policy `settings` name, or a ConfigError."""
    problems: list[str] = []
    access = _access(settings, problems)
    if access is None:
        raise invalid_configuration(problems)
    return access


@dataclass(frozen=True)
class Config:
    """Everything a process is started with, validated."""

    service: ServiceSettings
    database: DatabaseSettings
    access: Access


def load_config() -> Config:
    """The configuration from the environment, or a ConfigError listing every bad
    value (never a secret's)."""
    problems: list[str] = []
    service = database = access = None
    try:
        service = ServiceSettings()
    except ValidationError as error:
        problems += validation_problems(error)
    try:
        database = DatabaseSettings()
    except ValidationError as error:
        problems += validation_problems(error)
    if service is not None:
        # What the files say is checked now, not when the first caller arrives.
        access = _access(service, problems)
    if service is None or database is None or access is None:
        raise invalid_configuration(problems)
    return Config(service, database, access)
