"""One transaction per call: begun on entry, committed only when told to, rolled
back otherwise, and its connection always handed back to the pool."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .errors import translated


class UnitOfWork:
    """`async with UnitOfWork(sessions) as uow: ...; await uow.commit()`.

    `statement_timeout` (seconds) becomes the transaction's `SET LOCAL
    statement_timeout`, so PostgreSQL itself ends a query the caller no longer waits for.
    `client_check_interval` (milliseconds) becomes `client_connection_check_interval`:
    when a cancelled call's connection is closed mid-query (SQLAlchemy discards it,
    and asyncpg's own cancel request dies with it), PostgreSQL notices the closed
    socket within that interval and ends the query instead of running it to the end.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        statement_timeout: float | None = None,
        client_check_interval: int = 0,
    ) -> None:
        self._sessions = sessions
        self._statement_timeout = statement_timeout
        self._client_check_interval = client_check_interval
        self._committed = False
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        try:
            with translated():
                await self.session.begin()
                settings = []
                if self._statement_timeout is not None:
                    milliseconds = max(1, int(self._statement_timeout * 1000))
                    settings.append(func.set_config("statement_timeout", str(milliseconds), True))
                if self._client_check_interval > 0:
                    interval = str(self._client_check_interval)
                    settings.append(
                        func.set_config("client_connection_check_interval", interval, True)
                    )
                if settings:
                    await self.session.execute(select(*settings))
        except BaseException:
            await self.session.close()
            raise
        return self

    async def commit(self) -> None:
        with translated():
            await self.session.commit()
        self._committed = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()
