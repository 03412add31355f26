"""Telegram intake in webhook mode: updates are handled a bounded number at a time, the rest push back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.types import Update

from bot.config import Settings
from bot.credentials import BotSecrets
from bot.intake import UPDATE_CONCURRENCY, TelegramIntake
from tests.harness import TOKEN


class SlowDispatcher:
    """Handles every update until released, as a handler stuck on a slow call would."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.full = asyncio.Event()
        self.handling = 0
        self.most = 0

    async def feed_update(self, bot: Bot, update: Update) -> None:
        self.handling += 1
        self.most = max(self.most, self.handling)
        if self.handling >= UPDATE_CONCURRENCY:
            self.full.set()
        await self.release.wait()
        self.handling -= 1


def update_body(n: int) -> bytes:
    message = {"message_id": n, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "/me"}
    return json.dumps({"update_id": n, "message": message}).encode()


async def test_webhook_updates_are_handled_at_most_update_concurrency_at_a_time(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_mode="webhook",
        public_url="https://bot.example.org",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
    )
    dispatcher = SlowDispatcher()
    bot = Bot(TOKEN)
    secrets = BotSecrets(*(f"{name}-secret-" + "x" * 32 for name in ("hook", "path", "header", "link")))
    intake = TelegramIntake(settings, bot, dispatcher, secrets)  # type: ignore[arg-type]
    hook = intake.webhook()
    assert hook is not None
    feeds: list[asyncio.Task[Any]] = [
        asyncio.create_task(hook.feed(update_body(n))) for n in range(UPDATE_CONCURRENCY + 50)
    ]
    await asyncio.wait_for(dispatcher.full.wait(), 5)
    _, waiting = await asyncio.wait(feeds, timeout=0.2)  # a while for any further update to be taken on
    assert dispatcher.handling == UPDATE_CONCURRENCY
    assert len(waiting) == 50, "the rest wait (and Telegram with them) before they are taken on"
    dispatcher.release.set()
    await asyncio.wait_for(asyncio.gather(*feeds, *intake.handling), 5)
    assert dispatcher.most == UPDATE_CONCURRENCY
    await bot.session.close()
