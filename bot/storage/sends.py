"""Telegram sends the replicas share (PostgreSQL only): the slots of the bot's overall budget, and recent
sends to groups, so a group's next owner knows its minute.

Times are PostgreSQL's clock (`clock_timestamp()`, epoch seconds), one clock for every replica whatever
their hosts' clocks say.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Float, Index, SmallInteger, String, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import metadata

# One row per send Telegram may count in any second: `free_at` NULL while a send is on its way (until
# Telegram answers), then the moment its second is over.
send_slots = Table(
    "send_slots",
    metadata,
    Column("n", SmallInteger, primary_key=True, autoincrement=False),
    Column("holder", String(64)),
    Column("ticket", BigInteger),
    Column("free_at", Float),
)

# A group's job messages of its last minute, by the replica that sent them.
group_sends = Table(
    "group_sends",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("replica", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_group_sends_chat_at", "chat_id", "at"),
)

_NOW = "extract(epoch FROM clock_timestamp())::float8"


async def provide_slots(conn: AsyncConnection, count: int) -> None:
    """Make sure slots 0..count-1 exist (every replica does it at start; the first one creates them)."""
    await conn.execute(
        text(
            "INSERT INTO send_slots (n, free_at) SELECT n, 0 FROM generate_series(0, :last) AS n"
            " ON CONFLICT (n) DO NOTHING"
        ),
        {"last": count - 1},
    )


async def take_slot(
    conn: AsyncConnection, *, holder: str, ticket: int, count: int, alive: Sequence[str]
) -> int | None:
    """Take a free slot for a send about to leave: its number, or None when none is free.

    A slot is free when its second is over, or when the replica whose send holds it is no longer alive
    (its send, if it left at all, arrived long before its lease ran out).
    """
    taken = await conn.execute(
        text(
            "UPDATE send_slots SET holder = :holder, ticket = :ticket, free_at = NULL WHERE n = ("
            "  SELECT n FROM send_slots WHERE n < :count"
            f"  AND (free_at <= {_NOW} OR (free_at IS NULL AND NOT holder = ANY(CAST(:alive AS VARCHAR[]))))"
            "  ORDER BY n LIMIT 1 FOR UPDATE SKIP LOCKED"
            ") RETURNING n"
        ),
        {"holder": holder, "ticket": ticket, "count": count, "alive": list(alive)},
    )
    slot = taken.scalar()
    return None if slot is None else int(slot)


async def until_a_slot_frees(conn: AsyncConnection, *, count: int) -> float:
    """Seconds until the next slot's second is over; 0.0 when every slot's send is still on its way."""
    soonest = await conn.execute(
        text(f"SELECT min(free_at) - {_NOW} FROM send_slots WHERE n < :count AND free_at IS NOT NULL"),
        {"count": count},
    )
    wait = soonest.scalar()
    return max(float(wait), 0.0) if wait is not None else 0.0


async def settle_slots(
    conn: AsyncConnection, *, holder: str, tickets: Sequence[int], period: float, groups: Sequence[int]
) -> None:
    """Telegram has answered the sends of `tickets`: their slots free `period` seconds from now. `groups`:
    the groups among them that got a job message, remembered for their next owner."""
    await conn.execute(
        text(
            f"UPDATE send_slots SET free_at = greatest(coalesce(free_at, 0), {_NOW} + :period)"
            " WHERE holder = :holder AND ticket = ANY(CAST(:tickets AS BIGINT[]))"
        ),
        {"holder": holder, "tickets": list(tickets), "period": period},
    )
    if groups:
        await conn.execute(
            text(
                "INSERT INTO group_sends (chat_id, replica, at)"
                f" SELECT chat, :holder, {_NOW} FROM unnest(CAST(:groups AS BIGINT[])) AS chat"
            ),
            {"holder": holder, "groups": list(groups)},
        )


async def pause_slots(conn: AsyncConnection, *, seconds: float, count: int) -> None:
    """Telegram said to wait `seconds`: no slot frees before then (one on its way keeps the later of that
    and its own second once answered)."""
    await conn.execute(
        text(
            f"UPDATE send_slots SET free_at = greatest(coalesce(free_at, 0), {_NOW} + :seconds)"
            " WHERE n < :count"
        ),
        {"seconds": seconds, "count": count},
    )


async def others_group_sends(
    conn: AsyncConnection, chat_id: int, *, me: str, since: float, period: float
) -> tuple[float, list[float]]:
    """The other replicas' sends to group `chat_id` in its last `period` seconds, after `since` (a previous
    answer's clock): (the clock now, the sends' ages in seconds)."""
    row = (
        await conn.execute(
            text(
                f"SELECT {_NOW}, array_agg(at) FROM group_sends WHERE chat_id = :chat AND replica <> :me"
                f" AND at > greatest(:since, {_NOW} - :period)"
            ),
            {"chat": chat_id, "me": me, "since": since, "period": period},
        )
    ).one()
    now = float(row[0])
    return now, [now - float(at) for at in row[1] or ()]


async def forget_group_sends(conn: AsyncConnection, *, older_than: float) -> None:
    """Drop remembered group sends older than `older_than` seconds."""
    await conn.execute(text(f"DELETE FROM group_sends WHERE at < {_NOW} - :age"), {"age": older_than})
