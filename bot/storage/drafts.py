"""Blend drafts: the images a user gathers for /blend before choosing the shape."""

from __future__ import annotations

import json

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.drafts import BlendDraft
from bot.storage.rows import from_row, to_values
from bot.storage.schema import blend_drafts


def _file_ids(file_ids: tuple[str, ...]) -> str:
    return json.dumps(list(file_ids))


def _draft(row: RowMapping) -> BlendDraft:
    return from_row(BlendDraft, row, file_ids=lambda raw: tuple(json.loads(raw)))


async def insert_draft(conn: AsyncConnection, draft: BlendDraft) -> None:
    await conn.execute(insert(blend_drafts).values(**to_values(draft, file_ids=_file_ids)))


async def set_draft_message(conn: AsyncConnection, draft_id: str, message_id: int) -> None:
    await conn.execute(
        update(blend_drafts).where(blend_drafts.c.id == draft_id).values(message_id=message_id)
    )


async def set_draft_files(conn: AsyncConnection, draft_id: str, file_ids: tuple[str, ...]) -> None:
    values = {"file_ids": _file_ids(file_ids)}
    await conn.execute(update(blend_drafts).where(blend_drafts.c.id == draft_id).values(**values))


async def move_draft(conn: AsyncConnection, draft_id: str, from_status: str, to_status: str) -> bool:
    """Change a draft's status only if it still has `from_status` (two presses can race)."""
    query = (
        update(blend_drafts)
        .where(blend_drafts.c.id == draft_id, blend_drafts.c.status == from_status)
        .values(status=to_status)
    )
    return bool((await conn.execute(query)).rowcount)


async def close_open_drafts(conn: AsyncConnection, chat_id: int, user_id: int, status: str) -> None:
    query = (
        update(blend_drafts)
        .where(
            blend_drafts.c.chat_id == chat_id,
            blend_drafts.c.user_id == user_id,
            blend_drafts.c.status == "open",
        )
        .values(status=status)
    )
    await conn.execute(query)


async def get_draft(conn: AsyncConnection, draft_id: str) -> BlendDraft | None:
    row = (await conn.execute(select(blend_drafts).where(blend_drafts.c.id == draft_id))).mappings().first()
    return _draft(row) if row else None


async def open_draft(conn: AsyncConnection, chat_id: int, user_id: int) -> BlendDraft | None:
    """The user's newest draft in the chat that still collects images."""
    query = (
        select(blend_drafts)
        .where(
            blend_drafts.c.chat_id == chat_id,
            blend_drafts.c.user_id == user_id,
            blend_drafts.c.status == "open",
        )
        .order_by(blend_drafts.c.created_at.desc())
    )
    row = (await conn.execute(query)).mappings().first()
    return _draft(row) if row else None
