"""The bot's audience: users who opened a private chat with it, and whether they blocked it since."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Select, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import metadata

# Defined on the shared metadata so `Database.open()` creates it with the other tables.
audience = Table(
    "audience",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("started_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("blocked_at", Float),
)
Index("ix_audience_started", audience.c.started_at)
Index("ix_audience_seen", audience.c.last_seen_at)


async def record_seen(conn: AsyncConnection, user_id: int, now: float) -> bool:
    """The user wrote to the bot in private: remember them (they unblocked it if they had blocked it).

    True when the user is new to the audience.
    """
    seen = await conn.execute(
        update(audience).where(audience.c.user_id == user_id).values(last_seen_at=now, blocked_at=None)
    )
    if seen.rowcount:
        return False
    try:
        async with conn.begin_nested():  # two replicas may see the user's first messages at once
            await conn.execute(insert(audience).values(user_id=user_id, started_at=now, last_seen_at=now))
    except IntegrityError:
        return False
    return True


async def mark_blocked(conn: AsyncConnection, user_id: int, now: float) -> None:
    """Telegram said the user blocked the bot (or is gone): later broadcasts skip them."""
    await conn.execute(
        update(audience)
        .where(audience.c.user_id == user_id, audience.c.blocked_at.is_(None))
        .values(blocked_at=now)
    )


async def is_blocked(conn: AsyncConnection, user_id: int) -> bool | None:
    """Whether the user blocked the bot; None when they are not in the audience."""
    row = (await conn.execute(select(audience.c.blocked_at).where(audience.c.user_id == user_id))).first()
    return None if row is None else row.blocked_at is not None


def reachable_users() -> Select[int]:
    """The users a broadcast goes to: everyone in the audience who has not blocked the bot."""
    return select(audience.c.user_id).where(audience.c.blocked_at.is_(None))


async def audience_counts(conn: AsyncConnection, *, since: float) -> tuple[int, int]:
    """(users new since `since`, users who wrote in private since `since`) — each an index range."""
    new = await conn.scalar(select(func.count()).where(audience.c.started_at >= since))
    seen = await conn.scalar(select(func.count()).where(audience.c.last_seen_at >= since))
    return int(new or 0), int(seen or 0)
