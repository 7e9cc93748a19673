"""Read replicas (DATABASE_REPLICA_URLS): which one serves the next read, and which
are fit to. A replica is in rotation only while its last check found it answering,
a standby, and no further behind than DB_REPLICA_MAX_LAG_SECONDS; a call that finds
it gone takes it out at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from .database import Database
from .errors import DataError

log = logging.getLogger(__name__)

# A check that takes longer says as much about the replica as a failed one.
CHECK_TIMEOUT_SECONDS = 2.0
# How much longer a check may take, past its own timeout, before it is abandoned.
BACKSTOP_SECONDS = 1.0


@dataclass
class Replica:
    name: str
    database: Database
    in_rotation: bool = False
    lag_seconds: float | None = None
    problem: str = "not checked yet"


class ReplicaSet:
    """The replicas, taken in turn by `choose()`."""

    def __init__(self, replicas: list[Replica], *, max_lag_seconds: float) -> None:
        self.replicas = replicas
        self.max_lag_seconds = max_lag_seconds
        self._rotation: list[Replica] = []
        self._turn = 0

    def __bool__(self) -> bool:
        return bool(self.replicas)

    def __iter__(self) -> Iterator[Replica]:
        return iter(self.replicas)

    def choose(self) -> Replica | None:
        """The next replica in rotation; None when none is (reads go to the primary)."""
        rotation = self._rotation
        if not rotation:
            return None
        self._turn = (self._turn + 1) % len(rotation)
        return rotation[self._turn]

    def drop(self, replica: Replica, problem: str) -> None:
        """Out of rotation until a check finds it fit again."""
        if replica.in_rotation:
            log.warning("%s leaves the rotation: %s", replica.name, problem)
        replica.in_rotation = False
        replica.problem = problem
        self._rotation = [r for r in self.replicas if r.in_rotation]

    async def check(self) -> None:
        """Check every replica at once; each joins or leaves the rotation by what it
        answers."""
        await asyncio.gather(*(self._check(replica) for replica in self.replicas))

    async def _check(self, replica: Replica) -> None:
        try:
            # asyncpg's own timeout ends the query on the server; the wait_for is a
            # backstop for a connect that hangs.
            lag = await asyncio.wait_for(
                replica.database.replication_lag(CHECK_TIMEOUT_SECONDS),
                timeout=CHECK_TIMEOUT_SECONDS + BACKSTOP_SECONDS,
            )
        except TimeoutError:
            replica.lag_seconds = None
            self.drop(replica, f"no answer within {CHECK_TIMEOUT_SECONDS:g}s")
            return
        except DataError as error:
            replica.lag_seconds = None
            self.drop(replica, error.message)
            return
        replica.lag_seconds = lag
        if lag is None:
            self.drop(replica, "has replayed nothing since it started")
        elif lag > self.max_lag_seconds:
            self.drop(
                replica,
                f"{lag:.1f}s behind the primary (DB_REPLICA_MAX_LAG_SECONDS "
                f"{self.max_lag_seconds:g})",
            )
        elif not replica.in_rotation:
            replica.in_rotation = True
            replica.problem = ""
            self._rotation = [r for r in self.replicas if r.in_rotation]
            log.info("%s joins the rotation (%.1fs behind)", replica.name, lag)

    async def dispose(self) -> None:
        for replica in self.replicas:
            await replica.database.dispose()
