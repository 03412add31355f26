"""Answers to the bot's questions: a reply to a ForceReply question, or to a job waiting for its prompt."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.types import Message

from bot.handlers.context import requester_for
from bot.i18n import Locales
from bot.jobs import JobPrompt, JobService, NewPrompt


async def _pending_question(
    message: Message, bot: Bot, jobs: JobService, locales: Locales
) -> dict[str, Any] | bool:
    """Match a reply to the question (or waiting job) it answers, if it is the asker's own."""
    reply = message.reply_to_message
    if reply is None or reply.from_user is None or reply.from_user.id != bot.id or message.from_user is None:
        return False
    asked = {t("ask-prompt") for t in locales.all_translators().values()}
    found = await jobs.questions.match(
        message.chat.id, reply.message_id, reply.text or "", message.from_user.id, asked
    )
    return {"question": found} if found is not None else False


async def answer(message: Message, jobs: JobService, language: str, question: NewPrompt | JobPrompt) -> None:
    assert message.from_user is not None
    match question:
        case NewPrompt():
            await jobs.questions.answered(question)
            await jobs.imagine(requester_for(message, message.from_user, language), message.text)
        case JobPrompt(job_id):
            await jobs.provide_input(job_id, message.from_user.id, message.text)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="replies")
    router.message.register(answer, F.text, F.reply_to_message, _pending_question)
    return router
