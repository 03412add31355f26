"""Broadcasts: a message an admin copies to the audience, and where each recipient stands (portable SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Float, Index, String, Table, func, insert, literal, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.audience import reachable_users
from bot.storage.rows import from_row, to_values
from bot.storage.schema import metadata


class BroadcastStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class Delivery(StrEnum):
    """Where one recipient of a broadcast stands."""

    PENDING = "pending"
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot, or the account is gone
    FAILED = "failed"


broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("from_chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("admin_chat_id", BigInteger, nullable=False),
    Column("admin_thread_id", BigInteger),
    Column("progress_message_id", BigInteger),
    Column("language", String(16), nullable=False),
    Column("status", String(12), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float),
)
Index("ix_broadcasts_status", broadcasts.c.status)

broadcast_recipients = Table(
    "broadcast_recipients",
    metadata,
    Column("broadcast_id", String(24), primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Column("state", String(8), nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_broadcast_recipients_state", broadcast_recipients.c.broadcast_id, broadcast_recipients.c.state)


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A stored broadcast: the message copied, the admin chat that follows it, and how far it is."""

    id: str
    from_chat_id: int
    message_id: int
    admin_chat_id: int
    admin_thread_id: int | None
    progress_message_id: int | None
    language: str
    status: BroadcastStatus
    created_at: float
    finished_at: float | None


async def create_broadcast(conn: AsyncConnection, broadcast: Broadcast) -> int:
    """Record the broadcast and one pending recipient per reachable user; how many recipients."""
    await conn.execute(insert(broadcasts).values(**to_values(broadcast, status=lambda status: status.value)))
    users = reachable_users().subquery()
    snapshot = select(
        literal(broadcast.id, String(24)),
        users.c.user_id,
        literal(Delivery.PENDING.value, String(8)),
        literal(broadcast.created_at, Float),
    )
    columns = ["broadcast_id", "user_id", "state", "updated_at"]
    await conn.execute(insert(broadcast_recipients).from_select(columns, snapshot))
    return await _count(conn, broadcast.id)


async def _count(conn: AsyncConnection, broadcast_id: str) -> int:
    query = select(func.count()).where(broadcast_recipients.c.broadcast_id == broadcast_id)
    return int(await conn.scalar(query) or 0)


def _broadcast(row: RowMapping) -> Broadcast:
    return from_row(Broadcast, row, status=BroadcastStatus)


async def running_broadcast(conn: AsyncConnection) -> Broadcast | None:
    """The oldest broadcast still running (one runs at a time)."""
    query = (
        select(broadcasts)
        .where(broadcasts.c.status == BroadcastStatus.RUNNING.value)
        .order_by(broadcasts.c.created_at, broadcasts.c.id)
        .limit(1)
    )
    row = (await conn.execute(query)).mappings().first()
    return _broadcast(row) if row else None


async def get_broadcast(conn: AsyncConnection, broadcast_id: str) -> Broadcast | None:
    query = select(broadcasts).where(broadcasts.c.id == broadcast_id)
    row = (await conn.execute(query)).mappings().first()
    return _broadcast(row) if row else None


async def pending_recipients(conn: AsyncConnection, broadcast_id: str, limit: int) -> list[int]:
    """Up to `limit` users the broadcast has not been tried on yet, in a stable order."""
    query = (
        select(broadcast_recipients.c.user_id)
        .where(
            broadcast_recipients.c.broadcast_id == broadcast_id,
            broadcast_recipients.c.state == Delivery.PENDING.value,
        )
        .order_by(broadcast_recipients.c.user_id)
        .limit(limit)
    )
    return [int(user_id) for user_id in (await conn.execute(query)).scalars()]


async def settle_recipient(
    conn: AsyncConnection, broadcast_id: str, user_id: int, state: Delivery, now: float
) -> bool:
    """Record how the send to `user_id` went; False when it was settled already."""
    result = await conn.execute(
        update(broadcast_recipients)
        .where(
            broadcast_recipients.c.broadcast_id == broadcast_id,
            broadcast_recipients.c.user_id == user_id,
            broadcast_recipients.c.state == Delivery.PENDING.value,
        )
        .values(state=state.value, updated_at=now)
    )
    return bool(result.rowcount)


async def recipient_counts(conn: AsyncConnection, broadcast_id: str) -> dict[Delivery, int]:
    """How many recipients stand where (every state present, 0 when none)."""
    query = (
        select(broadcast_recipients.c.state, func.count())
        .where(broadcast_recipients.c.broadcast_id == broadcast_id)
        .group_by(broadcast_recipients.c.state)
    )
    found = {Delivery(state): int(n) for state, n in (await conn.execute(query)).all()}
    return {state: found.get(state, 0) for state in Delivery}


async def set_progress_message(conn: AsyncConnection, broadcast_id: str, message_id: int) -> None:
    await conn.execute(
        update(broadcasts).where(broadcasts.c.id == broadcast_id).values(progress_message_id=message_id)
    )


async def finish_broadcast(
    conn: AsyncConnection, broadcast_id: str, status: BroadcastStatus, now: float
) -> bool:
    """Mark a running broadcast done or cancelled; False when it was no longer running."""
    result = await conn.execute(
        update(broadcasts)
        .where(broadcasts.c.id == broadcast_id, broadcasts.c.status == BroadcastStatus.RUNNING.value)
        .values(status=status.value, finished_at=now)
    )
    return bool(result.rowcount)
