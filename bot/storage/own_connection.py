"""A connection a replica keeps for one purpose (PostgreSQL): out of the pool, in autocommit, one statement
at a time. Session state on it (advisory locks) lives as long as it does; on a failure it is dropped, not
returned to the pool, so that state ends with it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database

log = logging.getLogger(__name__)


class OwnConnection:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    @property
    def open(self) -> bool:
        """Whether the connection is up (a session lock taken on it still holds)."""
        return self._conn is not None

    @asynccontextmanager
    async def use(self) -> AsyncIterator[AsyncConnection]:
        """The connection, opened if need be, for this caller alone; dropped if the caller's work fails."""
        async with self._lock:
            if self._conn is None:
                conn = await self._db.engine.connect()
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                yield self._conn
            except BaseException:
                await self._drop()
                raise

    async def close(self) -> None:
        async with self._lock:
            await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.invalidate()
                await conn.close()
            except Exception:
                log.warning("closing a kept connection failed", exc_info=True)
