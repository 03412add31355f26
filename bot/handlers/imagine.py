"""/imagine: with a prompt it starts a job; without one it asks for the prompt as a forced reply."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import ForceReply, Message

from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender
from bot.handlers.context import requester_for, say, thread_of
from bot.i18n import Translator
from bot.jobs import JobService


async def imagine_command(
    message: Message, command: CommandObject, jobs: JobService, sender: Sender, t: Translator, language: str
) -> None:
    assert message.from_user is not None
    if command.args and command.args.strip():
        await jobs.imagine(requester_for(message, message.from_user, language), command.args)
        return
    await ask_for_prompt(message, sender, jobs, t)


async def ask_for_prompt(message: Message, sender: Sender, jobs: JobService, t: Translator) -> None:
    """Send a ForceReply question and remember it, so the answer (even in a group) becomes the prompt."""
    assert message.from_user is not None
    asker = message.from_user.id

    async def remember(question: Message) -> None:
        await jobs.questions.asked_for_prompt(message.chat.id, question.message_id, asker)

    ask = reply_message(
        message.chat.id,
        thread_of(message),
        t("ask-prompt"),
        reply_to=message.message_id,
        reply_markup=ForceReply(selective=True, input_field_placeholder=t("ask-prompt-placeholder")),
    )
    say(message, sender, ask, on_sent=remember)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="imagine")
    router.message.register(imagine_command, Command("imagine"))
    return router
