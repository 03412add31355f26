"""/start and /help."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message

from bot.backends.base import Backend
from bot.handlers.context import display_name, thread_of
from bot.i18n import Translator
from bot.sender import Sender


async def start(message: Message, sender: Sender, backend: Backend, t: Translator) -> None:
    name = display_name(message.from_user) if message.from_user else ""
    text = t("start-greeting", name=name)
    if backend.capabilities.simulated:
        text += "\n\n" + t("simulated-notice")
    await _answer(message, sender, text, html=False)


async def help_(message: Message, sender: Sender, backend: Backend, bot: Bot, t: Translator) -> None:
    me = await bot.me()
    text = t("help-text", bot=me.username or "")
    if backend.capabilities.simulated:
        text += "\n\n" + t("simulated-notice")
    await _answer(message, sender, text, html=True)


async def _answer(message: Message, sender: Sender, text: str, *, html: bool) -> None:
    await sender.call(
        SendMessage(
            chat_id=message.chat.id,
            message_thread_id=thread_of(message),
            text=text,
            parse_mode="HTML" if html else None,
        ),
        chat_id=message.chat.id,
    )


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    return router
