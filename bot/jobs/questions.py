"""The bot's ForceReply questions: which are open, and which question (or waiting job) a reply answers."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.domain import Job, JobStatus
from bot.domain.jobs import waits_for_mask
from bot.storage.database import Database
from bot.storage.jobs import job_by_message, jobs_waiting_for_input
from bot.storage.questions import (
    InputRequest,
    add_input_request,
    delete_input_request,
    get_input_request,
    job_input_request,
)

PURPOSE_IMAGINE = "imagine"  # "what should I draw?" after a bare /imagine
PURPOSE_EDIT = "edit"  # the prompt of a job waiting for input


@dataclass(frozen=True, slots=True)
class NewPrompt:
    """A reply to "what should I draw?": the answer is a new /imagine prompt."""

    chat_id: int
    message_id: int | None  # the question's message, None when recognised only by its text


@dataclass(frozen=True, slots=True)
class JobPrompt:
    """A reply giving the prompt a waiting job asked for."""

    job_id: str


Answer = NewPrompt | JobPrompt


class Questions:
    """Remembers the questions asked and matches replies to them (only the asker's reply counts)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def asked_for_prompt(self, chat_id: int, message_id: int, user_id: int) -> None:
        """The bot asked `user_id` what to draw in message `message_id`."""
        await self._record(InputRequest(chat_id, message_id, user_id, PURPOSE_IMAGINE, None, self._clock()))

    async def asked_for_input(self, job: Job, message_id: int) -> None:
        """The bot asked for the prompt of `job` (waiting for input) in message `message_id`."""
        await self._record(
            InputRequest(job.chat_id, message_id, job.user_id, PURPOSE_EDIT, job.id, self._clock())
        )

    async def was_asked(self, job_id: str) -> bool:
        async with self._db.read() as conn:
            return await job_input_request(conn, job_id) is not None

    async def match(
        self,
        chat_id: int,
        replied_to: int,
        replied_text: str,
        user_id: int,
        prompt_questions: Collection[str],
    ) -> Answer | None:
        """What a reply of `user_id` to message `replied_to` (a message of the bot's) answers, if anything.

        `prompt_questions` are the texts of "what should I draw?" in every language.
        """
        async with self._db.read() as conn:
            request = await get_input_request(conn, chat_id, replied_to)
            waiting = None if request else await job_by_message(conn, chat_id, replied_to)
            pending = await jobs_waiting_for_input(conn, chat_id, user_id)
        if request is not None and request.user_id == user_id:
            if request.purpose == PURPOSE_IMAGINE:
                return NewPrompt(chat_id, request.message_id)
            assert request.job_id is not None
            return JobPrompt(request.job_id)
        if waiting is not None and waiting.status is JobStatus.NEEDS_INPUT and waiting.user_id == user_id:
            return JobPrompt(waiting.id)
        # A quick answer can arrive before the question's record is stored: know the question by its text.
        for job in pending:
            if job.prompt and job.prompt in replied_text and not waits_for_mask(job):
                return JobPrompt(job.id)
        if request is None and replied_text in prompt_questions:
            return NewPrompt(chat_id, None)
        return None

    async def answered(self, answer: NewPrompt) -> None:
        """A "what should I draw?" question got its answer: it is closed."""
        if answer.message_id is None:
            return
        async with self._db.write() as conn:
            await delete_input_request(conn, answer.chat_id, answer.message_id)

    async def _record(self, request: InputRequest) -> None:
        async with self._db.write() as conn:
            await add_input_request(conn, request)
