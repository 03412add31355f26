"""Each Telegram update is handled once, whichever replica (or retry) it reaches."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.storage.database import Database
from bot.storage.updates import first_sight, forget_seen_before

# Telegram keeps an unconfirmed update for up to 24 hours; a re-delivery can't come later than that.
UPDATE_MEMORY_SECONDS = 24 * 3600
PRUNE_EVERY = 1000
# One process (SQLite): the newest ids are enough, re-deliveries come within minutes.
REMEMBERED_IN_PROCESS = 10_000

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class SeenUpdates(Protocol):
    async def first_sight(self, update_id: int) -> bool:
        """Record the update; False when it was handled already."""


class SeenInProcess:
    """For one process: the newest update ids, in memory."""

    def __init__(self, size: int = REMEMBERED_IN_PROCESS) -> None:
        self._size = size
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def first_sight(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


class SeenInDatabase:
    """For several replicas: the ids in the shared database, pruned after Telegram's 24 hours."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._recorded = 0

    async def first_sight(self, update_id: int) -> bool:
        now = self._clock()
        async with self._db.write() as conn:
            first = await first_sight(conn, update_id, now)
            self._recorded += 1
            if self._recorded % PRUNE_EVERY == 0:
                await forget_seen_before(conn, now - UPDATE_MEMORY_SECONDS)
        return first


def seen_updates_for(db: Database) -> SeenUpdates:
    return SeenInDatabase(db) if db.shared else SeenInProcess()


class UpdateOnceMiddleware(BaseMiddleware):
    """Drops an update some replica (or an earlier delivery of it) took already."""

    def __init__(self, seen: SeenUpdates) -> None:
        self._seen = seen

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and not await self._seen.first_sight(event.update_id):
            return None
        return await handler(event, data)
