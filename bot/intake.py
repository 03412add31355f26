"""Telegram's updates in: long polling, or Telegram's webhook with its own secrets."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from pydantic import ValidationError

from bot.config import Settings
from bot.credentials import BotSecrets
from bot.domain import InvalidCallback
from bot.replicas import Lease
from bot.update_once import UpdateOnceMiddleware
from webhook.app import TelegramWebhook

# Updates handled at once (polling or webhook): a burst of commands (getUpdates hands out 100 at a time)
# queues here instead of all being handled, and held in memory, at the same moment. High enough that a
# hung backend call (up to its 30 s timeout) leaves plenty of room for everyone else's updates.
UPDATE_CONCURRENCY = 128


class TelegramIntake:
    """Feeds Telegram's updates to the dispatcher, by polling or through the HTTP app's webhook route."""

    def __init__(
        self,
        settings: Settings,
        bot: Bot,
        dispatcher: Dispatcher,
        secrets: BotSecrets,
        *,
        lease: Lease | None = None,
        once: UpdateOnceMiddleware | None = None,
    ) -> None:
        """`lease`: with several replicas, only its holder polls (Telegram answers 409 to a second poller)."""
        self._settings = settings
        self._bot = bot
        self._dispatcher = dispatcher
        self._secrets = secrets
        self._lease = lease
        self._once = once
        self._keeping: asyncio.Task[None] | None = None
        self._polling: asyncio.Task[None] | None = None
        self.handling: set[asyncio.Task[Any]] = set()
        self._slots = asyncio.Semaphore(UPDATE_CONCURRENCY)  # webhook mode; polling has aiogram's own

    @property
    def by_webhook(self) -> bool:
        return self._settings.telegram_mode == "webhook"

    def webhook(self) -> TelegramWebhook | None:
        """The HTTP app's Telegram route, in webhook mode."""
        if not self.by_webhook:
            return None
        return TelegramWebhook(self._secrets.telegram_path, self._secrets.telegram_header, self._feed_update)

    async def start(self) -> None:
        if self.by_webhook:
            assert self._settings.public_url is not None
            await self._bot.set_webhook(
                f"{self._settings.public_url}/telegram/{self._secrets.telegram_path}",
                secret_token=self._secrets.telegram_header,
                allowed_updates=self._dispatcher.resolve_used_update_types(),
            )
            return
        await self._bot.delete_webhook(drop_pending_updates=False)
        if self._lease is None:
            self._start_polling()
        else:
            self._keeping = asyncio.create_task(self._lease.keep(self._lease_changed), name="polling-lease")

    async def stop_polling(self) -> None:
        """Stop taking updates; a replica holding the polling lease gives it up for another to take."""
        if self._keeping is not None:
            self._keeping.cancel()  # keep() stops polling on its way out
            await asyncio.gather(self._keeping, return_exceptions=True)
            self._keeping = None
            assert self._lease is not None
            await self._lease.release()
        await self._stop_polling()

    @property
    def polls(self) -> bool:
        """Whether this replica is calling getUpdates now."""
        return self._polling is not None and not self._polling.done()

    async def _lease_changed(self, held: bool) -> None:
        if held:
            self._start_polling()
        else:
            await self._stop_polling()

    def _start_polling(self) -> None:
        if not self.polls:
            self._polling = asyncio.create_task(self._poll(), name="telegram-polling")

    async def _stop_polling(self) -> None:
        if not self.polls:
            return
        with contextlib.suppress(RuntimeError):  # polling had not started (or already stopped)
            await self._dispatcher.stop_polling()
        assert self._polling is not None
        await asyncio.gather(self._polling, return_exceptions=True)

    @property
    def polling(self) -> asyncio.Task[None] | None:
        return self._polling

    async def _poll(self) -> None:
        await self._dispatcher.start_polling(
            self._bot,
            handle_signals=False,
            close_bot_session=False,
            allowed_updates=self._dispatcher.resolve_used_update_types(),
            tasks_concurrency_limit=UPDATE_CONCURRENCY,
        )

    async def _feed_update(self, body: bytes) -> None:
        try:
            update = Update.model_validate_json(body, context={"bot": self._bot})
        except ValidationError as exc:
            raise InvalidCallback(f"not a Telegram update ({exc.error_count()} errors)") from exc
        if self._once is not None:
            await self._once.take([update])  # recorded before Telegram hears it arrived
        # Telegram waits for the answer before it sends more on this connection: a full house pushes back.
        await self._slots.acquire()
        task = asyncio.create_task(self._dispatcher.feed_update(self._bot, update))
        self.handling.add(task)
        task.add_done_callback(self._handled)

    def _handled(self, task: asyncio.Task[Any]) -> None:
        self.handling.discard(task)
        self._slots.release()
