"""Input requests: ForceReply questions the bot asked, waiting for the user's answer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import from_row, to_values
from bot.storage.schema import input_requests


@dataclass(frozen=True, slots=True)
class InputRequest:
    """A ForceReply question: who must answer, what for, and for which job (None: a new /imagine)."""

    chat_id: int
    message_id: int
    user_id: int
    purpose: str
    job_id: str | None
    created_at: float


def _asked(chat_id: int, message_id: int) -> ColumnElement[bool]:
    return (input_requests.c.chat_id == chat_id) & (input_requests.c.message_id == message_id)


async def add_input_request(conn: AsyncConnection, request: InputRequest) -> None:
    await conn.execute(insert(input_requests).values(**to_values(request)))


async def get_input_request(conn: AsyncConnection, chat_id: int, message_id: int) -> InputRequest | None:
    row = (await conn.execute(select(input_requests).where(_asked(chat_id, message_id)))).mappings().first()
    return from_row(InputRequest, row) if row else None


async def job_input_request(conn: AsyncConnection, job_id: str) -> InputRequest | None:
    query = select(input_requests).where(input_requests.c.job_id == job_id)
    row = (await conn.execute(query)).mappings().first()
    return from_row(InputRequest, row) if row else None


async def delete_input_request(conn: AsyncConnection, chat_id: int, message_id: int) -> None:
    await conn.execute(delete(input_requests).where(_asked(chat_id, message_id)))


async def delete_job_input_requests(conn: AsyncConnection, job_id: str) -> None:
    await conn.execute(delete(input_requests).where(input_requests.c.job_id == job_id))
