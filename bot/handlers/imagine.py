"""/imagine: with a prompt it starts a job; without one it asks for the prompt as a forced reply."""

from __future__ import annotations

import time

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import ForceReply, Message

from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender
from bot.handlers.context import requester_for, thread_of
from bot.i18n import Translator
from bot.jobs import JobService
from bot.storage import repo
from bot.storage.database import Database

PURPOSE_IMAGINE = "imagine"


async def imagine_command(
    message: Message,
    command: CommandObject,
    jobs: JobService,
    sender: Sender,
    db: Database,
    t: Translator,
    language: str,
) -> None:
    assert message.from_user is not None
    if command.args and command.args.strip():
        await jobs.imagine(requester_for(message, message.from_user, language), command.args)
        return
    await ask_for_prompt(message, sender, db, t)


async def ask_for_prompt(message: Message, sender: Sender, db: Database, t: Translator) -> None:
    """Send a ForceReply question and remember it, so the answer (even in a group) becomes the prompt."""
    assert message.from_user is not None
    question = await sender.call(
        reply_message(
            message.chat.id,
            thread_of(message),
            t("ask-prompt"),
            reply_to=message.message_id,
            reply_markup=ForceReply(selective=True, input_field_placeholder=t("ask-prompt-placeholder")),
        ),
        chat_id=message.chat.id,
    )
    request = repo.InputRequest(
        message.chat.id, question.message_id, message.from_user.id, PURPOSE_IMAGINE, None, time.time()
    )
    async with db.write() as conn:
        await repo.add_input_request(conn, request)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="imagine")
    router.message.register(imagine_command, Command("imagine"))
    return router
