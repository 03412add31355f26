"""The audience: who opened a private chat with the bot, remembered as their messages arrive."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Message, TelegramObject

from bot.storage.audience import mark_blocked, record_seen
from bot.storage.database import Database

# A user's private messages are written down at most this often per process: /stats counts days, and a
# database write per message would cost every chat a transaction.
SEEN_REFRESH_SECONDS = 3600.0
MAX_REMEMBERED_USERS = 50_000

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class Audience:
    """Records users who write to the bot in private, and those Telegram says blocked it."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._recorded: dict[int, float] = {}  # user id -> when this process last wrote them down

    async def seen(self, user_id: int) -> None:
        """The user wrote in a private chat with the bot (/start or anything else)."""
        now = self._clock()
        last = self._recorded.get(user_id)
        if last is not None and now - last < SEEN_REFRESH_SECONDS:
            return
        async with self._db.write() as conn:
            await record_seen(conn, user_id, now)
        if len(self._recorded) >= MAX_REMEMBERED_USERS:
            self._recorded.clear()
        self._recorded[user_id] = now

    async def blocked(self, user_id: int) -> None:
        """Telegram answered 403 for the user: skip them until they write again."""
        async with self._db.write() as conn:
            await mark_blocked(conn, user_id, self._clock())
        self.forget(user_id)

    def forget(self, user_id: int) -> None:
        """The user was marked blocked: write their next message down at once (it clears the mark)."""
        self._recorded.pop(user_id, None)


class AudienceMiddleware(BaseMiddleware):
    """Writes down the sender of every private message before its handler runs."""

    def __init__(self, audience: Audience) -> None:
        self._audience = audience

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if (
            isinstance(event, Message)
            and event.chat.type == ChatType.PRIVATE
            and event.from_user is not None
            and not event.from_user.is_bot
        ):
            await self._audience.seen(event.from_user.id)
        return await handler(event, data)
