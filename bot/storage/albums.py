"""The parts of Telegram albums being collected, shared by replicas (each part may reach another one)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Float,
    Index,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import metadata

# Defined on the shared metadata so `Database.open()` creates it with the other tables.
album_parts = Table(
    "album_parts",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("group_id", String(64), primary_key=True),
    Column("message_id", BigInteger, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("received_at", Float, nullable=False),
    Index("ix_album_parts_received_at", "received_at"),
)

AlbumKey = tuple[int, str]
"""(chat id, media group id)"""


async def add_album_part(
    conn: AsyncConnection, key: AlbumKey, message_id: int, payload: str, *, now: float
) -> None:
    """Store one part; the same part twice (a re-delivered update) is stored once."""
    chat_id, group_id = key
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(album_parts).values(
                    chat_id=chat_id,
                    group_id=group_id,
                    message_id=message_id,
                    payload=payload,
                    received_at=now,
                )
            )
    except IntegrityError:
        pass


def _of(key: AlbumKey) -> ColumnElement[bool]:
    return and_(album_parts.c.chat_id == key[0], album_parts.c.group_id == key[1])


async def last_album_part_at(conn: AsyncConnection, key: AlbumKey) -> float | None:
    """When the album's newest stored part arrived; None when no part is stored (or it was taken)."""
    found = (await conn.execute(select(func.max(album_parts.c.received_at)).where(_of(key)))).scalar()
    return float(found) if found is not None else None


async def take_album(conn: AsyncConnection, key: AlbumKey) -> list[str]:
    """Remove and return the album's parts (payloads, by message id): each part goes to one taker only."""
    taken = await conn.execute(
        delete(album_parts).where(_of(key)).returning(album_parts.c.message_id, album_parts.c.payload)
    )
    return [payload for _, payload in sorted(taken.all())]


async def stale_albums(conn: AsyncConnection, *, before: float) -> list[AlbumKey]:
    """Albums whose newest part arrived before `before`: nobody took them in time."""
    query = (
        select(album_parts.c.chat_id, album_parts.c.group_id)
        .group_by(album_parts.c.chat_id, album_parts.c.group_id)
        .having(func.max(album_parts.c.received_at) < before)
    )
    return [(int(row.chat_id), str(row.group_id)) for row in await conn.execute(query)]
