"""Key/value settings the bot keeps for itself (schema version, webhook secret, closed mode)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import kv


async def kv_get(conn: AsyncConnection, key: str) -> str | None:
    value = (await conn.execute(select(kv.c.value).where(kv.c.key == key))).scalar()
    return str(value) if value is not None else None


async def kv_set(conn: AsyncConnection, key: str, value: str) -> None:
    await conn.execute(delete(kv).where(kv.c.key == key))
    await conn.execute(insert(kv).values(key=key, value=value))
