"""Which replica may edit a chat's messages right now: one at a time, so nothing is sent twice.

A chat is delivered to by the replica the roster makes its owner; the claim covers the moments when two
replicas both think they are (one just joined or died and the other has not seen it yet). On PostgreSQL a
claim is a session advisory lock on a connection this replica keeps for them: if the replica dies, its
connection closes and PostgreSQL frees every claim it held at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database

log = logging.getLogger(__name__)

CLAIM_SPACE = 0x6D6A64  # "mjd": advisory lock space of chat claims
INT4_KEYS = 2_147_483_647  # chats sharing a key only take turns


class ChatClaims(Protocol):
    async def claim(self, chat_id: int) -> bool:
        """Whether this replica may deliver to `chat_id` until it releases it."""
        ...

    async def release(self, chat_id: int) -> None: ...

    async def close(self) -> None: ...


class LocalClaims:
    """One process: its per-chat worker is the only one."""

    async def claim(self, chat_id: int) -> bool:
        return True

    async def release(self, chat_id: int) -> None:
        return None

    async def close(self) -> None:
        return None


class AdvisoryClaims:
    """Claims as PostgreSQL session advisory locks on one dedicated connection."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def claim(self, chat_id: int) -> bool:
        async with self._lock:
            try:
                conn = await self._connection()
                got = await conn.execute(
                    text("SELECT pg_try_advisory_lock(:space, :key)"),
                    {"space": CLAIM_SPACE, "key": chat_id % INT4_KEYS},
                )
                return bool(got.scalar())
            except Exception:
                log.exception("claiming chat %s failed", chat_id)
                await self._drop()
                return False

    async def release(self, chat_id: int) -> None:
        async with self._lock:
            if self._conn is None:
                return  # the connection that held it is gone, and with it the claim
            try:
                await self._conn.execute(
                    text("SELECT pg_advisory_unlock(:space, :key)"),
                    {"space": CLAIM_SPACE, "key": chat_id % INT4_KEYS},
                )
            except Exception:
                log.exception("releasing chat %s failed", chat_id)
                await self._drop()

    async def close(self) -> None:
        async with self._lock:
            await self._drop()

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self._db.engine.connect()
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                # Invalidated, not returned to the pool: the claims end with the session that holds them.
                await conn.invalidate()
                await conn.close()
            except Exception:
                log.warning("closing the claims connection failed", exc_info=True)
