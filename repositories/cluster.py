"""The primary and its read replicas, as the service sees them: a writer's unit of
work always runs on the primary; a read runs on a replica in rotation unless the
caller must see its own writes, and on the primary when no replica can serve it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from .config import ConfigError, DatabaseSettings, replica_urls
from .database import Database
from .errors import AbortedError, UnavailableError
from .history import ChangeContext
from .replicas import Replica, ReplicaSet
from .unit_of_work import Locks, Transaction, UnitOfWork

T = TypeVar("T")


class Cluster:
    """`primary` takes every write; `replicas` (DATABASE_REPLICA_URLS) share the reads."""

    def __init__(self, primary: Database, replicas: Sequence[Database] = ()) -> None:
        self.primary = primary
        self.replicas = ReplicaSet(
            [Replica(f"replica-{i}", database) for i, database in enumerate(replicas)],
            max_lag_seconds=primary.settings.db_replica_max_lag_seconds,
        )

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        url: str | None = None,
        *,
        replicas: list[str] | None = None,
    ) -> Cluster:
        """The primary at `url` (else DATABASE_URL) and the replicas `replicas` names
        (else DATABASE_REPLICA_URLS)."""
        primary = Database(settings, url)
        given = replica_urls(settings) if replicas is None else replicas
        return cls(primary, [_replica(settings, i, u) for i, u in enumerate(given)])

    def writer(
        self,
        statement_timeout: float | None = None,
        *,
        single_statement: bool = False,
        changes: ChangeContext | None = None,
        locks: Locks | None = None,
    ) -> UnitOfWork:
        """A unit of work on the primary (see UnitOfWork for `single_statement`,
        `changes` and `locks`)."""
        return self.primary.unit_of_work(
            statement_timeout, single_statement=single_statement, changes=changes, locks=locks
        )

    async def read(
        self,
        read: Callable[[Transaction], Awaitable[T]],
        *,
        time_left: Callable[[], float | None] = lambda: None,
        single_statement: bool = False,
        read_your_writes: bool = False,
    ) -> T:
        """`read` in a unit of work on a replica in rotation, unless `read_your_writes`
        (a replica may not have replayed the caller's last write yet); on the
        primary otherwise, or when the replica fails it. A read can therefore run
        twice; a replica found gone leaves the rotation at once. `time_left` gives
        each attempt its statement_timeout (seconds; None: none) when it starts, so a
        second attempt has only what the first one left."""
        replica = None if read_your_writes else self.replicas.choose()
        if replica is not None:
            try:
                async with replica.database.unit_of_work(
                    time_left(), single_statement=single_statement
                ) as uow:
                    return await read(uow.transaction)
            except UnavailableError as error:
                if not error.server_lost:
                    raise  # load, not a fault; the deadline is likely spent anyway
                self.replicas.drop(replica, error.message)
            except AbortedError:
                pass  # cancelled by a conflict with the replica's replay
        async with self.writer(time_left(), single_statement=single_statement) as uow:
            return await read(uow.transaction)

    async def dispose(self) -> None:
        await self.replicas.dispose()
        await self.primary.dispose()


def _replica(settings: DatabaseSettings, index: int, url: str) -> Database:
    try:
        return Database(settings, url)
    except ConfigError as error:
        # Named as the setting is: which of the URLs, never the URL itself.
        raise ConfigError(
            str(error).replace("DATABASE_URL", f"DATABASE_REPLICA_URLS[{index}]", 1)
        ) from None
