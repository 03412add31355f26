"""Operators' commands for the bot's admins: /stats, and /broadcast (as a reply) or /broadcast cancel."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.access import AccessControl
from bot.delivery.sender import Sender
from bot.handlers.context import answer, require_admin, thread_of
from bot.i18n import Translator
from bot.operators import Broadcaster, BroadcastUsage, StatsService
from bot.operators.stats import render_stats

CANCEL = "cancel"


async def stats_command(
    message: Message, access: AccessControl, stats: StatsService, sender: Sender, t: Translator
) -> None:
    require_admin(message, access)
    await answer(message, sender, render_stats(await stats.report(), t), quote=False)


async def broadcast_command(
    message: Message,
    command: CommandObject,
    access: AccessControl,
    broadcaster: Broadcaster,
    sender: Sender,
    t: Translator,
    language: str,
) -> None:
    require_admin(message, access)
    argument = (command.args or "").strip().lower()
    if argument == CANCEL:
        await broadcaster.cancel()
        await answer(message, sender, t("broadcast-cancelling"))
        return
    source = message.reply_to_message
    if argument or source is None:
        raise BroadcastUsage()
    recipients = await broadcaster.start(
        admin_chat_id=message.chat.id,
        admin_thread_id=thread_of(message),
        from_chat_id=source.chat.id,
        message_id=source.message_id,
        language=language,
    )
    await answer(message, sender, t("broadcast-started", recipients=recipients))


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="operators")
    router.message.register(stats_command, Command("stats"))
    router.message.register(broadcast_command, Command("broadcast"))
    return router
