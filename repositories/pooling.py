"""The async engine's pool: SQLAlchemy's queue pool, except for what it does with
the connections it opens beyond `pool_size`.

SQLAlchemy closes such an overflow connection as soon as it is returned while
`pool_size` connections sit idle. Under a load that keeps more than `pool_size`
calls in flight, that is a connection opened and closed every few calls: each a
fork of a PostgreSQL backend, its authentication, its catalog caches and its
prepared statements built again, costing the database more CPU than the calls
themselves. Here an overflow connection stays open while the load has needed more
than `pool_size` connections within the last `keep_overflow` seconds; after that,
connections returned while `pool_size` are idle are closed, so the pool shrinks
back once the burst is over."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import queue as sqla_queue


class BurstPool(AsyncAdaptedQueuePool):
    # Its log lines under SQLAlchemy's logger, at SQLAlchemy's level (warnings).
    _sqla_logger_namespace = "sqlalchemy.pool.BurstPool"

    def __init__(
        self,
        creator: Any,
        pool_size: int = 5,
        max_overflow: int = 10,
        keep_overflow: float = 60.0,
        **kw: Any,
    ) -> None:
        # The queue holds every connection the pool may open, so none is closed
        # for want of room; which ones to close is decided on return, below.
        super().__init__(creator, pool_size=pool_size + max_overflow, max_overflow=0, **kw)
        self._base = pool_size
        self._extra = max_overflow
        self._keep_overflow = keep_overflow
        self._needed_at = -float("inf")

    def _do_get(self) -> ConnectionPoolEntry:
        record = super()._do_get()
        if self.checkedout() > self._base:
            self._needed_at = time.monotonic()
        return record

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        surplus = self.checkedin() >= self._base
        if surplus and time.monotonic() - self._needed_at > self._keep_overflow:
            try:
                record.close()
            finally:
                self._dec_overflow()
            return
        super()._do_return_conn(record)

    def opened(self) -> int:
        """Connections open now, idle or checked out."""
        return int(self._pool.maxsize + self._overflow)

    def size(self) -> int:
        return self._base

    def max_overflow(self) -> int:
        return self._extra

    def keep_overflow(self) -> float:
        return self._keep_overflow

    def overflow(self) -> int:
        return self.opened() - self._base

    def dispose(self) -> None:
        # The parent's, counting from the queue's size rather than from size().
        while True:
            try:
                record = self._pool.get(False)
            except sqla_queue.Empty:
                break
            record.close()
        self._overflow = -self._pool.maxsize
        self.logger.info("Pool disposed. %s", self.status())

    def recreate(self) -> BurstPool:
        self.logger.info("Pool recreating")
        return self.__class__(
            self._creator,
            pool_size=self._base,
            max_overflow=self._extra,
            keep_overflow=self._keep_overflow,
            pre_ping=self._pre_ping,
            use_lifo=self._pool.use_lifo,
            timeout=self._timeout,
            recycle=self._recycle,
            echo=self.echo,
            logging_name=self._orig_logging_name,
            reset_on_return=self._reset_on_return,
            _dispatch=self.dispatch,
            dialect=self._dialect,
        )
