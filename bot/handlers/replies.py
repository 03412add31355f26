"""Answers to the bot's questions: a reply to a ForceReply question, or to a job waiting for its prompt."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.domain import JobStatus
from bot.handlers.context import requester_for
from bot.handlers.imagine import PURPOSE_IMAGINE
from bot.i18n import Locales
from bot.jobs import JobService
from bot.region_links import waits_for_mask
from bot.storage import repo
from bot.storage.database import Database


async def _pending_question(
    message: Message, bot: Bot, db: Database, locales: Locales
) -> dict[str, Any] | bool:
    """Match a reply to the question (or waiting job) it answers, if it is the asker's own."""
    reply = message.reply_to_message
    if reply is None or reply.from_user is None or reply.from_user.id != bot.id or message.from_user is None:
        return False
    user_id = message.from_user.id
    async with db.read() as conn:
        request = await repo.get_input_request(conn, message.chat.id, reply.message_id)
        waiting = None if request else await repo.job_by_message(conn, message.chat.id, reply.message_id)
        pending = await repo.jobs_waiting_for_input(conn, message.chat.id, user_id)
    if request is not None and request.user_id == user_id:
        return {"request": request}
    if waiting is not None and waiting.status is JobStatus.NEEDS_INPUT and waiting.user_id == user_id:
        return {"waiting_job_id": waiting.id}
    # A quick answer can arrive before the question's record is stored: recognise the question by its text.
    asked = reply.text or ""
    for job in pending:
        if job.prompt and job.prompt in asked and not waits_for_mask(job):
            return {"waiting_job_id": job.id}
    if request is None and asked in {t("ask-prompt") for t in locales.all_translators().values()}:
        return {"request": None, "new_prompt": True}
    return False


async def answer(
    message: Message,
    jobs: JobService,
    db: Database,
    language: str,
    request: repo.InputRequest | None = None,
    waiting_job_id: str | None = None,
    new_prompt: bool = False,
) -> None:
    assert message.from_user is not None
    if new_prompt:
        await jobs.imagine(requester_for(message, message.from_user, language), message.text)
        return
    if request is not None and request.purpose == PURPOSE_IMAGINE:
        async with db.write() as conn:
            await repo.delete_input_request(conn, request.chat_id, request.message_id)
        await jobs.imagine(requester_for(message, message.from_user, language), message.text)
        return
    job_id = request.job_id if request is not None else waiting_job_id
    assert job_id is not None
    await jobs.provide_input(job_id, message.from_user.id, message.text)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="replies")
    router.message.register(answer, F.text, F.reply_to_message, _pending_question)
    return router
