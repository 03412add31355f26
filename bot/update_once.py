"""Each Telegram update is handled once, whichever replica (or retry) it reaches."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar, cast

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.types import TelegramObject, Update

from bot.storage.database import Database
from bot.storage.updates import HANDLING, first_sight, forget_seen_before, let_go, take_in

# Telegram keeps an unconfirmed update for up to 24 hours; a re-delivery can't come later than that.
UPDATE_MEMORY_SECONDS = 24 * 3600
PRUNE_EVERY = 1000
# One process (SQLite): the newest ids are enough, re-deliveries come within minutes.
REMEMBERED_IN_PROCESS = 10_000

T = TypeVar("T")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RecordBeforeConfirming(BaseRequestMiddleware):
    """Polling: records the updates getUpdates returned before aiogram's next call confirms them."""

    def __init__(self, once: UpdateOnceMiddleware) -> None:
        self._once = once

    async def __call__(
        self, make_request: NextRequestMiddlewareType[T], bot: Bot, method: TelegramMethod[T]
    ) -> Response[T]:
        # aiogram's innermost step hands back the method's result, not the Response its types promise.
        result: Any = await make_request(bot, method)
        if isinstance(method, GetUpdates) and result:
            await self._once.take(cast(list[Update], result))
        return cast(Response[T], result)


class SeenUpdates(Protocol):
    async def first_sights(self, updates: Sequence[Update]) -> list[bool]:
        """Record the updates; for each, False when it was taken already."""

    async def finished(self, update_id: int) -> None:
        """This replica is done with the update."""


class SeenInProcess:
    """For one process: the newest update ids, in memory."""

    def __init__(self, size: int = REMEMBERED_IN_PROCESS) -> None:
        self._size = size
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def first_sights(self, updates: Sequence[Update]) -> list[bool]:
        return [self._first_sight(update.update_id) for update in updates]

    def _first_sight(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True

    async def finished(self, update_id: int) -> None:
        return None


class SeenInDatabase:
    """For several replicas: the ids in the shared database, pruned after Telegram's 24 hours; and each
    update in the inbox until handled, so that another replica handles it if this one dies meanwhile."""

    def __init__(self, db: Database, holder: str, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._holder = holder
        self._clock = clock
        self._recorded = 0

    async def first_sights(self, updates: Sequence[Update]) -> list[bool]:
        now = self._clock()
        found = []
        async with self._db.write() as conn:
            for update in updates:
                first = await first_sight(conn, update.update_id, now)
                if first:
                    body = update.model_dump_json(exclude_unset=True)
                    await take_in(conn, update.update_id, self._holder, body, now)
                found.append(first)
                self._recorded += 1
                if self._recorded % PRUNE_EVERY == 0:
                    await forget_seen_before(conn, now - UPDATE_MEMORY_SECONDS)
        return found

    async def finished(self, update_id: int) -> None:
        async with self._db.write() as conn:
            await let_go(conn, update_id)


def seen_updates_for(db: Database, holder: str) -> SeenUpdates:
    return SeenInDatabase(db, holder) if db.shared else SeenInProcess()


class UpdateOnceMiddleware(BaseMiddleware):
    """Drops an update some replica (or an earlier delivery of it) took already.

    Updates are recorded as they arrive, before Telegram is told they did (`take`: before the webhook's
    answer, or before the getUpdates call that confirms them), so that an update a replica dies with is in
    the inbox for another to handle. `adopt` lets through once an update so recorded or taken over.
    """

    def __init__(self, seen: SeenUpdates) -> None:
        self._seen = seen
        self._adopted: set[int] = set()
        self._refused: set[int] = set()

    def adopt(self, update_id: int) -> None:
        self._adopted.add(update_id)

    async def take(self, updates: Sequence[Update]) -> None:
        """Record arriving updates; the first sightings are let through, the others dropped, when fed."""
        for update, first in zip(updates, await self._seen.first_sights(updates), strict=True):
            (self._adopted if first else self._refused).add(update.update_id)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        if event.update_id in self._adopted:
            self._adopted.discard(event.update_id)
        elif event.update_id in self._refused:
            self._refused.discard(event.update_id)
            return None
        elif not (await self._seen.first_sights([event]))[0]:
            return None
        handling = HANDLING.set(event.update_id)
        try:
            return await handler(event, data)
        finally:
            HANDLING.reset(handling)
            await self._seen.finished(event.update_id)
