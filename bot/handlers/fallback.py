"""Last-resort handlers: unknown commands addressed to us, and plain messages in a private chat."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import Message

from bot.delivery.sender import Sender
from bot.handlers.context import answer
from bot.i18n import Translator


async def _addressed_command(message: Message, bot: Bot) -> bool:
    """A /command meant for us: any in private; in groups only /cmd@ourbot (others may be other bots')."""
    text = message.text or message.caption or ""
    if not text.startswith("/"):
        return False
    if message.chat.type == ChatType.PRIVATE:
        return True
    command = text.split(maxsplit=1)[0]
    me = await bot.me()
    return "@" in command and command.split("@", 1)[1].lower() == (me.username or "").lower()


async def unknown_command(message: Message, sender: Sender, t: Translator) -> None:
    await answer(message, sender, t("unknown-command"), quote=False, refusal=True)


async def private_hint(message: Message, sender: Sender, t: Translator) -> None:
    await answer(message, sender, t("private-text-hint"), quote=False)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="fallback")
    router.message.register(unknown_command, _addressed_command)
    router.message.register(private_hint, F.chat.type == ChatType.PRIVATE)
    return router
