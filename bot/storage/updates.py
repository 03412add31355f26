"""Telegram update ids already taken, so that each update is handled once by one replica."""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import seen_updates


async def first_sight(conn: AsyncConnection, update_id: int, now: float) -> bool:
    """Record the update; False when some replica recorded it before."""
    try:
        async with conn.begin_nested():
            await conn.execute(insert(seen_updates).values(update_id=update_id, seen_at=now))
    except IntegrityError:
        return False
    return True


async def forget_seen_before(conn: AsyncConnection, before: float) -> int:
    """Drop records older than Telegram keeps updates for; how many."""
    result = await conn.execute(delete(seen_updates).where(seen_updates.c.seen_at < before))
    return int(result.rowcount or 0)
