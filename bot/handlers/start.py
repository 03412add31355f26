"""/start and /help."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message

from bot.backends.base import Backend
from bot.handlers.context import answer, display_name
from bot.i18n import Translator
from bot.sender import Sender


async def start(message: Message, sender: Sender, backend: Backend, t: Translator) -> None:
    name = display_name(message.from_user) if message.from_user else ""
    text = t("start-greeting", name=name)
    if backend.capabilities.simulated:
        text += "\n\n" + t("simulated-notice")
    await answer(message, sender, text, html=False, quote=False)


async def help_(message: Message, sender: Sender, backend: Backend, bot: Bot, t: Translator) -> None:
    me = await bot.me()
    text = t("help-text", bot=me.username or "")
    if backend.capabilities.simulated:
        text += "\n\n" + t("simulated-notice")
    await answer(message, sender, text, html=True, quote=False)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    return router
