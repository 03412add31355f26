"""A process's edges: the HTTP socket it listens on, and shutdown steps that may not hold the exit up."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeDefault, User

from bot.i18n import Locales

log = logging.getLogger(__name__)

SHUTDOWN_STEP_SECONDS = 10.0


class StartupError(Exception):
    """Something the operator must fix before the bot can run; the message is one line."""


async def bounded(step: Awaitable[Any], what: str) -> None:
    """Await one shutdown step for a limited time; on overrun, say which tasks were still busy."""
    try:
        await asyncio.wait_for(step, timeout=SHUTDOWN_STEP_SECONDS)
    except TimeoutError:
        busy = sorted(t.get_name() for t in asyncio.all_tasks() if not t.done())
        log.error("%s took over %ss; tasks still running: %s", what, SHUTDOWN_STEP_SECONDS, ", ".join(busy))


def bind_http(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only then, and without it every reply waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port} (HTTP_HOST/HTTP_PORT): {exc.strerror}") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def check_telegram(bot: Bot) -> User:
    """The bot's own account; a bad token or an unreachable Bot API is the operator's to fix."""
    try:
        return await bot.get_me()
    except TelegramUnauthorizedError as exc:
        raise StartupError("Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized)") from exc
    except TelegramNetworkError as exc:
        # Not the URL: it may carry credentials.
        raise StartupError("cannot reach the Telegram Bot API at TELEGRAM_API_URL") from exc


async def set_commands(bot: Bot, locales: Locales, names: list[str]) -> None:
    """The command menu in every language the bot speaks."""
    for language, t in locales.all_translators().items():
        commands = [BotCommand(command=c, description=t(f"cmd-{c}")) for c in names]
        code = None if language == "en" else language.split("-")[0]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
