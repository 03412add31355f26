"""Leases: a named piece of work held by one replica until it stops renewing (portable SQL)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Exists, delete, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import leases


async def claim_lease(conn: AsyncConnection, name: str, holder: str, *, now: float, ttl: float) -> bool:
    """Take or renew `name` for `holder` until `now + ttl`; False while another holder's lease runs."""
    taken = await conn.execute(
        update(leases)
        .where(leases.c.name == name, (leases.c.holder == holder) | (leases.c.expires_at <= now))
        .values(holder=holder, expires_at=now + ttl)
    )
    if taken.rowcount:
        return True
    exists = (await conn.execute(select(leases.c.name).where(leases.c.name == name))).first()
    if exists is not None:
        return False
    try:
        async with conn.begin_nested():  # two replicas may create the first row at once: one wins
            await conn.execute(insert(leases).values(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


async def release_lease(conn: AsyncConnection, name: str, holder: str) -> None:
    """Give `name` up at once (on a clean shutdown), if `holder` holds it."""
    await conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


async def lease_holder(conn: AsyncConnection, name: str, *, now: float) -> str | None:
    """Who holds `name` now; None when nobody does."""
    row = (
        await conn.execute(select(leases.c.holder).where(leases.c.name == name, leases.c.expires_at > now))
    ).first()
    return str(row[0]) if row else None


async def live_holders(conn: AsyncConnection, prefix: str, *, now: float) -> list[str]:
    """The holders of the unexpired leases whose names start with `prefix`, sorted."""
    query = select(leases.c.holder).where(leases.c.name.startswith(prefix), leases.c.expires_at > now)
    return sorted({str(row[0]) for row in await conn.execute(query)})


def holder_alive(prefix: str, holder: ColumnElement[str], *, now: float) -> Exists:
    """For a query over another table: the unexpired lease `prefix` + `holder` exists (the replica named in
    that row is alive)."""
    return exists(
        select(leases.c.name).where(leases.c.name == literal(prefix) + holder, leases.c.expires_at > now)
    )
