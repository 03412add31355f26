"""/start (also the deep link a group's Vary (Region) button opens) and /help."""

from __future__ import annotations

import time

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, WebAppInfo

from bot.delivery.sender import Sender
from bot.domain import Capabilities
from bot.handlers.context import answer, display_name, say
from bot.i18n import Translator
from bot.miniapp import RegionLinkInvalid, read_region_token
from bot.region_links import RegionLinks

REGION_PAYLOAD = "r"


async def start(
    message: Message,
    command: CommandObject,
    sender: Sender,
    capabilities: Capabilities,
    t: Translator,
    region_links: RegionLinks | None = None,
) -> None:
    payload = command.args or ""
    if payload.startswith(REGION_PAYLOAD) and region_links is not None and message.from_user is not None:
        await open_region_editor(message, payload[len(REGION_PAYLOAD) :], region_links, sender, t)
        return
    name = display_name(message.from_user) if message.from_user else ""
    text = t("start-greeting", name=name)
    if capabilities.simulated:
        text += "\n\n" + t("simulated-notice")
    await answer(message, sender, text, html=False, quote=False)


async def open_region_editor(
    message: Message, token: str, links: RegionLinks, sender: Sender, t: Translator
) -> None:
    """Arrived from a group's Vary (Region) button: offer the editor here, where Mini App buttons work."""
    assert message.from_user is not None
    try:
        grant = read_region_token(token, secret=links.secret, now=time.time())
    except RegionLinkInvalid:
        await answer(message, sender, t("region-error-gone"), quote=False)
        return
    if grant.user_id != message.from_user.id:
        await answer(message, sender, t("region-error-forbidden"), quote=False)
        return
    button = InlineKeyboardButton(
        text=t("region-open-button"), web_app=WebAppInfo(url=links.editor_url(token))
    )
    intro = SendMessage(
        chat_id=message.chat.id,
        text=t("region-private-intro"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )
    say(message, sender, intro)


async def help_(
    message: Message, sender: Sender, capabilities: Capabilities, bot: Bot, t: Translator
) -> None:
    me = await bot.me()
    text = t("help-text", bot=me.username or "")
    if capabilities.simulated:
        text += "\n\n" + t("simulated-notice")
    await answer(message, sender, text, html=True, quote=False)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    return router
