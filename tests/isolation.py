"""Per-test isolation through the production interface: a connection source that
lends every unit of work the test's one connection, inside an outer transaction
that is rolled back at teardown. The units of work run their own code unchanged;
the transaction they open and end on it becomes a savepoint of the outer one."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import PoolProxiedConnection
from sqlalchemy.ext.asyncio import AsyncConnection

from repositories.unit_of_work import Pool, Transaction

_savepoints = itertools.count(1)


class SavepointDriver:
    """The asyncpg connection, with a unit of work's BEGIN, COMMIT and ROLLBACK sent
    as a savepoint's SAVEPOINT, RELEASE and ROLLBACK TO; everything else as it is."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver
        self._open: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)

    async def execute(self, sql: str, *arguments: Any, **options: Any) -> Any:
        return await self._driver.execute(self._nested(sql), *arguments, **options)

    def _nested(self, sql: str) -> str:
        first, _, rest = sql.partition(";")
        verb = first.strip().upper()
        if verb == "BEGIN":
            self._open.append(f"uow_{next(_savepoints)}")
            first = f"SAVEPOINT {self._open[-1]}"
        elif verb == "COMMIT":
            first = f"RELEASE SAVEPOINT {self._open.pop()}"
        elif verb == "ROLLBACK":
            name = self._open.pop()
            first = f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"
        else:
            return sql
        return f"{first};{rest}" if rest else first


class OuterTransaction(Pool):
    """Lends `connection` (in its outer transaction) to every unit of work, and
    keeps it when they end: the fixture that owns it rolls it back."""

    def __init__(self, connection: AsyncConnection, pooled: PoolProxiedConnection) -> None:
        super().__init__(connection.engine)
        self._pooled = pooled
        self._driver = SavepointDriver(pooled.driver_connection)

    async def checkout(self) -> PoolProxiedConnection:
        return self._pooled

    def driver(self, pooled: PoolProxiedConnection) -> Any:
        return self._driver

    async def release(self, pooled: PoolProxiedConnection) -> None:
        adapter: Any = pooled.dbapi_connection
        adapter.autocommit = False  # as the outer connection expects it

    async def discard(self, pooled: PoolProxiedConnection, error: BaseException) -> None:
        await self.release(pooled)  # the fixture's connection: its owner decides


async def outer_transaction(connection: AsyncConnection) -> OuterTransaction:
    """Units of work on `connection`, which must be inside a transaction already."""
    return OuterTransaction(connection, await connection.get_raw_connection())


@asynccontextmanager
async def savepoint(transaction: Transaction) -> AsyncIterator[None]:
    """What the block wrote is undone if it raises; the transaction goes on."""
    name = f"sp_{next(_savepoints)}"
    await transaction.script(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        await transaction.script(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
        raise
    await transaction.script(f"RELEASE SAVEPOINT {name}")
