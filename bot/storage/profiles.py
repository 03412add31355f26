"""Per-user and per-chat preference records: a JSON document per (scope, owner), portable SQL only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Float, String, Table, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.owners import Scope
from bot.storage.schema import metadata

# Defined on the shared metadata so `Database.open()` creates it with the other tables.
profiles = Table(
    "profiles",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("owner_id", BigInteger, primary_key=True),
    Column("data", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Profile:
    """A stored record: the JSON document as a mapping, not yet checked against the domain's rules."""

    scope: Scope
    owner_id: int
    data: Mapping[str, Any]
    updated_at: float


def _key(scope: Scope, owner_id: int) -> Any:
    return (profiles.c.scope == scope.value) & (profiles.c.owner_id == owner_id)


def _decode(raw: str) -> Mapping[str, Any]:
    # A damaged document must not lock its owner out: it reads as "nothing set".
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def get_profile(conn: AsyncConnection, scope: Scope, owner_id: int) -> Profile | None:
    query = select(profiles.c.data, profiles.c.updated_at).where(_key(scope, owner_id))
    row = (await conn.execute(query)).first()
    return Profile(scope, owner_id, _decode(row.data), row.updated_at) if row else None


async def save_profile(
    conn: AsyncConnection, scope: Scope, owner_id: int, data: Mapping[str, Any], now: float
) -> None:
    """Insert or replace the owner's document (update first, insert when no row was there)."""
    document = json.dumps(dict(data), ensure_ascii=False, sort_keys=True)
    result = await conn.execute(
        update(profiles).where(_key(scope, owner_id)).values(data=document, updated_at=now)
    )
    if result.rowcount == 0:
        await conn.execute(
            insert(profiles).values(scope=scope.value, owner_id=owner_id, data=document, updated_at=now)
        )
