"""Bot admins' commands: /allow, /ban, /unban a user or chat, and /access to see or close the bot."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.access import ALLOW, BAN, CHAT, USER, AccessControl
from bot.delivery.sender import Sender
from bot.domain.errors import AdminUsage
from bot.handlers.context import answer, require_admin
from bot.i18n import Translator

_ID = re.compile(r"-?[0-9]{1,15}")  # Telegram ids stay far below 10^15; anything longer is a typo


def _subject(message: Message, command: CommandObject) -> tuple[str, int]:
    """Whom a rule is about: an id argument (negative: a chat), the replied-to user, or this group."""
    argument = (command.args or "").strip()
    if argument:
        if not _ID.fullmatch(argument):
            raise AdminUsage()
        number = int(argument)
        return (CHAT if number < 0 else USER), number
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and not reply.from_user.is_bot:
        return USER, reply.from_user.id
    if message.chat.type != ChatType.PRIVATE:
        return CHAT, message.chat.id
    raise AdminUsage()


async def allow(
    message: Message, command: CommandObject, access: AccessControl, sender: Sender, t: Translator
) -> None:
    admin_id = require_admin(message, access)
    subject, subject_id = _subject(message, command)
    await access.set_rule(subject, subject_id, ALLOW, by=admin_id)
    await answer(message, sender, t("admin-allowed", subject=subject, id=str(subject_id)))


async def ban(
    message: Message, command: CommandObject, access: AccessControl, sender: Sender, t: Translator
) -> None:
    admin_id = require_admin(message, access)
    subject, subject_id = _subject(message, command)
    if subject == USER and access.is_admin(subject_id):
        raise AdminUsage()
    await access.set_rule(subject, subject_id, BAN, by=admin_id)
    await answer(message, sender, t("admin-banned", subject=subject, id=str(subject_id)))


async def unban(
    message: Message, command: CommandObject, access: AccessControl, sender: Sender, t: Translator
) -> None:
    require_admin(message, access)
    subject, subject_id = _subject(message, command)
    removed = await access.clear_rule(subject, subject_id)
    key = "admin-cleared" if removed else "admin-no-rule"
    await answer(message, sender, t(key, subject=subject, id=str(subject_id)))


async def access_status(
    message: Message, command: CommandObject, access: AccessControl, sender: Sender, t: Translator
) -> None:
    require_admin(message, access)
    mode = (command.args or "").strip().lower()
    if mode in ("open", "closed"):
        await access.set_closed(mode == "closed")
    elif mode:
        raise AdminUsage()
    await access.allows(0, None)  # refresh the cached rules before reporting them
    rules = await access.rules()
    lines = [t("admin-mode-closed") if access.allowlist_active else t("admin-mode-open")]
    lines += [t("admin-rule", rule=r.rule, subject=r.subject, id=str(r.subject_id)) for r in rules]
    await answer(message, sender, "\n".join(lines))


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="admin")
    router.message.register(allow, Command("allow"))
    router.message.register(ban, Command("ban"))
    router.message.register(unban, Command("unban"))
    router.message.register(access_status, Command("access"))
    return router
