"""Which replica may edit a chat's messages right now: one at a time, so nothing is sent twice.

A chat is delivered to by the replica the roster makes its owner; the claim covers the moments when two
replicas both think they are (one just joined or died and the other has not seen it yet). On PostgreSQL a
claim is a session advisory lock on a connection this replica keeps for them: if the replica dies, its
connection closes and PostgreSQL frees every claim it held at once.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import text

from bot.storage.database import Database
from bot.storage.own_connection import OwnConnection

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
    """Claims as PostgreSQL session advisory locks on one connection kept for them."""

    def __init__(self, db: Database) -> None:
        self._conn = OwnConnection(db)

    async def claim(self, chat_id: int) -> bool:
        try:
            async with self._conn.use() as conn:
                got = await conn.execute(
                    text("SELECT pg_try_advisory_lock(:space, :key)"),
                    {"space": CLAIM_SPACE, "key": chat_id % INT4_KEYS},
                )
                return bool(got.scalar())
        except Exception:
            log.exception("claiming chat %s failed", chat_id)
            return False

    async def release(self, chat_id: int) -> None:
        if not self._conn.open:
            return  # the connection that held it is gone, and with it the claim
        try:
            async with self._conn.use() as conn:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:space, :key)"),
                    {"space": CLAIM_SPACE, "key": chat_id % INT4_KEYS},
                )
        except Exception:
            log.exception("releasing chat %s failed", chat_id)

    async def close(self) -> None:
        await self._conn.close()
