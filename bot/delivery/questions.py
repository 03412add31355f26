"""The ForceReply question under the message of a job waiting for the user's prompt, posted once."""

from __future__ import annotations

from html import escape
from typing import Protocol

from aiogram.types import ForceReply

from bot.delivery.methods import reply_message
from bot.delivery.render import truncate
from bot.delivery.sender import Sender
from bot.domain import Job
from bot.domain.jobs import waits_for_mask
from bot.i18n import Locales
from bot.storage.database import Database
from bot.storage.jobs import get_job

INPUT_PLACEHOLDER_LIMIT = 64


class QuestionBook(Protocol):
    """Where the questions asked are kept (the job service's), so that replies can be matched."""

    async def was_asked(self, job_id: str) -> bool: ...

    async def asked_for_input(self, job: Job, message_id: int) -> None: ...


class InputQuestions:
    """Asks for the prompt of a job that needs input, and remembers the question to match the answer."""

    def __init__(self, sender: Sender, db: Database, locales: Locales, book: QuestionBook) -> None:
        self._sender = sender
        self._db = db
        self._locales = locales
        self._book = book

    async def ask(self, job: Job) -> None:
        """Post the ForceReply question of a job waiting for the user's prompt, once."""
        if waits_for_mask(job):
            return  # the editor asks for the region and the prompt together
        if await self._book.was_asked(job.id):
            return
        async with self._db.read() as conn:
            current = await get_job(conn, job.id)
        if current is None or current.message_id is None:
            return
        t = self._locales.translator(job.language)
        text = f"{t('input-question')}\n\n{t('input-current')}\n<code>{escape(job.prompt)}</code>"
        question = await self._sender.call(
            reply_message(
                job.chat_id,
                job.thread_id,
                text,
                reply_to=current.message_id,
                html=True,
                reply_markup=ForceReply(
                    selective=True, input_field_placeholder=truncate(job.prompt, INPUT_PLACEHOLDER_LIMIT)
                ),
            ),
            chat_id=job.chat_id,
        )
        await self._book.asked_for_input(job, question.message_id)
