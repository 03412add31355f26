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
from webhook.app import TelegramWebhook

# Updates handled at once (polling or webhook): a burst of commands (getUpdates hands out 100 at a time)
# queues here instead of all being handled, and held in memory, at the same moment. High enough that a
# hung backend call (up to its 30 s timeout) leaves plenty of room for everyone else's updates.
UPDATE_CONCURRENCY = 128


class TelegramIntake:
    """Feeds Telegram's updates to the dispatcher, by polling or through the HTTP app's webhook route."""

    def __init__(self, settings: Settings, bot: Bot, dispatcher: Dispatcher, secrets: BotSecrets) -> None:
        self._settings = settings
        self._bot = bot
        self._dispatcher = dispatcher
        self._secrets = secrets
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
        self._polling = asyncio.create_task(self._poll(), name="telegram-polling")

    async def stop_polling(self) -> None:
        if self._polling is None:
            return
        with contextlib.suppress(RuntimeError):  # polling had not started (or already stopped)
            await self._dispatcher.stop_polling()

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
        # Telegram waits for the answer before it sends more on this connection: a full house pushes back.
        await self._slots.acquire()
        task = asyncio.create_task(self._dispatcher.feed_update(self._bot, update))
        self.handling.add(task)
        task.add_done_callback(self._handled)

    def _handled(self, task: asyncio.Task[Any]) -> None:
        self.handling.discard(task)
        self._slots.release()
