"""Key/value settings the bot keeps for itself (schema version, generated secrets, closed mode)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import kv


async def kv_get(conn: AsyncConnection, key: str) -> str | None:
    value = (await conn.execute(select(kv.c.value).where(kv.c.key == key))).scalar()
    return str(value) if value is not None else None


async def kv_set(conn: AsyncConnection, key: str, value: str) -> None:
    await conn.execute(delete(kv).where(kv.c.key == key))
    await conn.execute(insert(kv).values(key=key, value=value))


async def kv_setdefault(conn: AsyncConnection, key: str, value: str) -> str:
    """The value stored under `key`, storing `value` first when there is none.

    Insert-or-ignore before reading, so that two processes starting on one database agree: the second
    waits for the first's write and then reads its value (reading first would race)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        dialect_insert(kv).values(key=key, value=value).on_conflict_do_nothing(index_elements=[kv.c.key])
    )
    stored = await kv_get(conn, key)
    assert stored is not None  # just inserted, or already there
    return stored
