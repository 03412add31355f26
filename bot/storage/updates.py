"""Telegram update ids already taken, so that each update is handled once by one replica."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.leases import holder_alive
from bot.storage.schema import metadata, seen_updates


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


# Updates a replica took and has not finished handling, with their bodies: if it dies, another one handles
# them (Telegram was told they arrived, and would not send them again).
inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("taken_at", Float, nullable=False),
)


@dataclass(frozen=True, slots=True)
class HeldUpdate:
    update_id: int
    holder: str
    body: str


async def take_in(conn: AsyncConnection, update_id: int, holder: str, body: str, now: float) -> None:
    await conn.execute(insert(inbox).values(update_id=update_id, holder=holder, body=body, taken_at=now))


async def let_go(conn: AsyncConnection, update_id: int) -> None:
    """The update was handled (or failed for good): nobody needs to take it over."""
    await conn.execute(delete(inbox).where(inbox.c.update_id == update_id))


# The update whose handler runs in this context (set by the update-once middleware).
HANDLING: ContextVar[int | None] = ContextVar("handling_update", default=None)


async def settle_current_update(conn: AsyncConnection) -> None:
    """In the transaction that records what the update being handled asked for (a job): from its commit on,
    the update is handled as far as a replica taking it over goes; handling it again would record it twice."""
    update_id = HANDLING.get()
    if update_id is not None and conn.dialect.name != "sqlite":  # one process has no one to take over
        await let_go(conn, update_id)


async def held_by_the_dead(conn: AsyncConnection, member_prefix: str, *, now: float) -> list[HeldUpdate]:
    """Updates whose holder's membership lease (`member_prefix` + holder) has run out, oldest first."""
    query = (
        select(inbox).where(~holder_alive(member_prefix, inbox.c.holder, now=now)).order_by(inbox.c.update_id)
    )
    return [HeldUpdate(r.update_id, r.holder, r.body) for r in await conn.execute(query)]


async def take_over(conn: AsyncConnection, update_id: int, dead: str, holder: str, now: float) -> bool:
    """Move an update from a dead holder to `holder`; False when another replica was first."""
    moved = await conn.execute(
        update(inbox)
        .where(inbox.c.update_id == update_id, inbox.c.holder == dead)
        .values(holder=holder, taken_at=now)
    )
    return bool(moved.rowcount)
