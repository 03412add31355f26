"""The ForceReply question under the message of a job waiting for the user's prompt, posted once."""

from __future__ import annotations

import time
from html import escape

from aiogram.types import ForceReply

from bot.delivery.methods import reply_message
from bot.delivery.render import truncate
from bot.delivery.sender import Sender
from bot.domain import Job
from bot.i18n import Locales
from bot.region_links import waits_for_mask
from bot.storage import repo
from bot.storage.database import Database

INPUT_PLACEHOLDER_LIMIT = 64
INPUT_PURPOSE_EDIT = "edit"


class InputQuestions:
    """Asks for the prompt of a job that needs input, and remembers the question to match the answer."""

    def __init__(self, sender: Sender, db: Database, locales: Locales) -> None:
        self._sender = sender
        self._db = db
        self._locales = locales

    async def ask(self, job: Job) -> None:
        """Post the ForceReply question of a job waiting for the user's prompt, once."""
        if waits_for_mask(job):
            return  # the editor asks for the region and the prompt together
        async with self._db.read() as conn:
            asked = await repo.job_input_request(conn, job.id)
            current = await repo.get_job(conn, job.id)
        if asked is not None or current is None or current.message_id is None:
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
        request = repo.InputRequest(
            job.chat_id, question.message_id, job.user_id, INPUT_PURPOSE_EDIT, job.id, time.time()
        )
        async with self._db.write() as conn:
            await repo.add_input_request(conn, request)
