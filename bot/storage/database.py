"""The async engine: SQLite (one writer, WAL) or PostgreSQL; the schema created or upgraded on open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.storage.migrations import SCHEMA_VERSION_KEY, upgrade
from bot.storage.schema import SCHEMA_VERSION, kv, metadata

SQLITE_BUSY_TIMEOUT_MS = 5000
# PostgreSQL advisory lock held while the schema is created or upgraded: replicas starting together take
# turns, and the ones after the first find the schema current. Any fixed number; this one spells "mjgr".
SCHEMA_LOCK_KEY = 0x6D6A6772


class Database:
    """Owns the engine; `write()` serialises writers (SQLite allows one) and commits on exit."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._is_sqlite = self._url.get_backend_name() == "sqlite"
        self._write_lock = asyncio.Lock()
        self.engine: AsyncEngine = self._create_engine(url)

    def _create_engine(self, url: str) -> AsyncEngine:
        if not self._is_sqlite:
            return create_async_engine(url, pool_pre_ping=True)
        database = self._url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine

    async def open(self) -> None:
        """Create missing tables, upgrade an older schema and record the schema version."""
        async with self.engine.begin() as conn:
            if not self._is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            await conn.run_sync(metadata.create_all)
            query = select(kv.c.value).where(kv.c.key == SCHEMA_VERSION_KEY)
            found = (await conn.execute(query)).scalar()
            if found is None:
                await conn.execute(insert(kv).values(key=SCHEMA_VERSION_KEY, value=str(SCHEMA_VERSION)))
            elif int(found) > SCHEMA_VERSION:
                raise RuntimeError(f"database schema {found} is newer than this mjgram ({SCHEMA_VERSION})")
            else:
                await upgrade(conn, int(found))

    @property
    def shared(self) -> bool:
        """Whether several processes may use this database at once (PostgreSQL; SQLite is one process's)."""
        return not self._is_sqlite

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success; writers queue behind one lock."""
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
