"""/imagine: with a prompt it starts a job; without one it asks for the prompt as a forced reply."""

from __future__ import annotations

import time

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.methods import SendMessage
from aiogram.types import ForceReply, Message, ReplyParameters

from bot.handlers.context import requester_for, thread_of
from bot.i18n import Translator
from bot.jobs import JobService
from bot.sender import Sender
from bot.storage import repo
from bot.storage.database import Database

PROMPT_COMMAND = "imagine"


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
        SendMessage(
            chat_id=message.chat.id,
            message_thread_id=thread_of(message),
            text=t("ask-prompt"),
            reply_markup=ForceReply(selective=True, input_field_placeholder=t("ask-prompt-placeholder")),
            reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True),
        ),
        chat_id=message.chat.id,
    )
    request = repo.PromptRequest(
        chat_id=message.chat.id,
        message_id=question.message_id,
        user_id=message.from_user.id,
        command=PROMPT_COMMAND,
        created_at=time.time(),
    )
    async with db.write() as conn:
        await repo.add_prompt_request(conn, request)


async def _is_answer_to_our_question(message: Message, bot: Bot, db: Database) -> bool:
    reply = message.reply_to_message
    if reply is None or reply.from_user is None or reply.from_user.id != bot.id or message.from_user is None:
        return False
    async with db.read() as conn:
        request = await repo.peek_prompt_request(conn, message.chat.id, reply.message_id)
    return request is not None and request.user_id == message.from_user.id


async def prompt_answer(message: Message, jobs: JobService, db: Database, language: str) -> None:
    assert message.from_user is not None and message.reply_to_message is not None
    async with db.write() as conn:
        await repo.take_prompt_request(conn, message.chat.id, message.reply_to_message.message_id)
    await jobs.imagine(requester_for(message, message.from_user, language), message.text)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="imagine")
    router.message.register(imagine_command, Command(PROMPT_COMMAND))
    router.message.register(prompt_answer, F.text, F.reply_to_message, _is_answer_to_our_question)
    return router
