"""Pictures served to backends under unguessable paths (`PUBLIC_URL/files/<token>`), shared by replicas."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, String, Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import metadata

TOKEN_LENGTH = 64

# Defined on the shared metadata so `Database.open()` creates it with the other tables.
hosted_images = Table(
    "hosted_images",
    metadata,
    Column("token", String(TOKEN_LENGTH), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("mime_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_hosted_images_expires_at", "expires_at"),
)


@dataclass(frozen=True, slots=True)
class StoredImage:
    data: bytes
    mime_type: str
    expires_at: float


async def prune_hosted(conn: AsyncConnection, *, now: float, room_for: int, max_bytes: int) -> None:
    """Drop expired pictures, then the soonest to expire until `room_for` more bytes fit in `max_bytes`."""
    await conn.execute(delete(hosted_images).where(hosted_images.c.expires_at <= now))
    held = (await conn.execute(select(func.coalesce(func.sum(hosted_images.c.size), 0)))).scalar_one()
    excess = int(held) + room_for - max_bytes
    if excess <= 0:
        return
    oldest = select(hosted_images.c.token, hosted_images.c.size).order_by(hosted_images.c.expires_at)
    doomed: list[str] = []
    for token, size in await conn.execute(oldest):
        if excess <= 0:
            break
        doomed.append(token)
        excess -= size
    await conn.execute(delete(hosted_images).where(hosted_images.c.token.in_(doomed)))


async def insert_hosted(
    conn: AsyncConnection, token: str, data: bytes, mime_type: str, *, expires_at: float
) -> None:
    await conn.execute(
        insert(hosted_images).values(
            token=token, data=data, mime_type=mime_type, size=len(data), expires_at=expires_at
        )
    )


async def get_hosted(conn: AsyncConnection, token: str, *, now: float) -> StoredImage | None:
    query = select(hosted_images.c.data, hosted_images.c.mime_type, hosted_images.c.expires_at).where(
        hosted_images.c.token == token, hosted_images.c.expires_at > now
    )
    row = (await conn.execute(query)).first()
    return StoredImage(bytes(row.data), row.mime_type, row.expires_at) if row else None


async def hosted_usage(conn: AsyncConnection) -> tuple[int, int]:
    """(pictures, bytes) held now, expired ones included until the next prune."""
    query = select(func.count(), func.coalesce(func.sum(hosted_images.c.size), 0))
    count, size = (await conn.execute(query)).one()
    return int(count), int(size)
