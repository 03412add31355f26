"""Updates a replica took and died before handling: another replica handles them.

Telegram counts an update delivered once a replica answered its webhook (or asked getUpdates past it), and
does not send it again. Each replica keeps the updates it is handling in the database's inbox; when one dies,
its membership lease runs out and a live replica takes its unfinished updates over and handles them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.roster import MEMBER_PREFIX
from bot.storage.database import Database
from bot.storage.updates import held_by_the_dead, take_over
from bot.update_once import UpdateOnceMiddleware

log = logging.getLogger(__name__)

INBOX_SWEEP_SECONDS = 2.0


class InboxKeeper:
    """Looks for updates whose holder died, and handles them here."""

    def __init__(
        self,
        db: Database,
        me: str,
        bot: Bot,
        dispatcher: Dispatcher,
        once: UpdateOnceMiddleware,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._me = me
        self._bot = bot
        self._dispatcher = dispatcher
        self._once = once
        self._clock = clock
        self.taken_over = 0

    async def run(self, interval: float = INBOX_SWEEP_SECONDS) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.take_over_orphans()
            except Exception:
                log.exception("taking over a dead replica's updates failed")

    async def take_over_orphans(self) -> int:
        """Handle every update a dead replica left unfinished; how many this replica took."""
        async with self._db.read() as conn:
            orphans = await held_by_the_dead(conn, MEMBER_PREFIX, now=self._clock())
        taken = 0
        for orphan in orphans:
            async with self._db.write() as conn:
                if not await take_over(conn, orphan.update_id, orphan.holder, self._me, self._clock()):
                    continue  # another replica was first
            log.info("handling update %d, left unfinished by %s", orphan.update_id, orphan.holder)
            update = Update.model_validate_json(orphan.body, context={"bot": self._bot})
            self._once.adopt(update.update_id)
            await self._dispatcher.feed_update(self._bot, update)
            taken += 1
        self.taken_over += taken
        return taken
