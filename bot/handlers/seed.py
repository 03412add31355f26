"""/seed as a reply to a finished picture: the backend's seed of that image."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.delivery.sender import Sender
from bot.domain.errors import SeedUnavailable
from bot.handlers.context import answer
from bot.i18n import Translator
from bot.jobs import JobService


async def seed_command(message: Message, jobs: JobService, sender: Sender, t: Translator) -> None:
    reply = message.reply_to_message
    job = await jobs.job_for_message(message.chat.id, reply.message_id) if reply else None
    if job is None or message.from_user is None:
        raise SeedUnavailable()
    seed = await jobs.seed(job, message.from_user.id)
    # The backend's text, in an HTML message.
    await answer(message, sender, t("seed-value", seed=escape(seed)), html=True)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="seed")
    router.message.register(seed_command, Command("seed"))
    return router
