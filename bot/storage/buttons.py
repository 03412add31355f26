"""Button tokens: the short unguessable callback_data that stands for one action of one job."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import from_row
from bot.storage.schema import buttons

BUTTON_TOKEN_BYTES = 9  # 12 URL-safe characters: unguessable, short enough for callback_data


@dataclass(frozen=True, slots=True)
class Button:
    token: str
    job_id: str
    action_ref: str


def new_token() -> str:
    return secrets.token_urlsafe(BUTTON_TOKEN_BYTES)


async def create_buttons(
    conn: AsyncConnection, job_id: str, refs: Iterable[str], now: float
) -> dict[str, str]:
    """Store a fresh token for each action ref of the job; returns ref -> token."""
    tokens = {ref: new_token() for ref in dict.fromkeys(refs)}
    if tokens:
        rows = [{"token": t, "job_id": job_id, "action_ref": r, "created_at": now} for r, t in tokens.items()]
        await conn.execute(insert(buttons), rows)
    return tokens


async def job_buttons(conn: AsyncConnection, job_id: str) -> dict[str, str]:
    """ref -> token of every button stored for the job."""
    query = select(buttons.c.action_ref, buttons.c.token).where(buttons.c.job_id == job_id)
    return {r.action_ref: r.token for r in await conn.execute(query)}


async def get_button(conn: AsyncConnection, token: str) -> Button | None:
    row = (await conn.execute(select(buttons).where(buttons.c.token == token))).mappings().first()
    return from_row(Button, row) if row else None
