"""The bot's own secrets: generated independently on first start, stored, the same for every process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.config import Settings
from bot.credentials import load_secrets
from bot.storage.database import Database

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
CONFIGURED = "configured-secret-0123456789abcdef"


def settings(tmp_path: Path, **overrides: object) -> Settings:
    url = f"sqlite:///{tmp_path / 'mjgram.db'}"
    return Settings(_env_file=None, telegram_bot_token=TOKEN, database_url=url, **overrides)  # type: ignore[arg-type]


async def test_two_processes_starting_on_one_database_get_the_same_secrets(tmp_path: Path) -> None:
    config = settings(tmp_path)
    databases = [Database(config.async_database_url) for _ in range(2)]
    try:
        for db in databases:
            await db.open()
        first, second = await asyncio.gather(*(load_secrets(config, db) for db in databases))
        assert first == second
        assert len({first.hook, first.telegram_path, first.telegram_header, first.region_link}) == 4
        assert await load_secrets(config, databases[0]) == first
    finally:
        for db in databases:
            await db.close()


async def test_configured_secrets_win_and_leave_the_others_independent(tmp_path: Path) -> None:
    generated_db = Database(settings(tmp_path).async_database_url)
    try:
        await generated_db.open()
        generated = await load_secrets(settings(tmp_path), generated_db)
        configured = await load_secrets(
            settings(tmp_path, webhook_secret=CONFIGURED, telegram_webhook_secret=CONFIGURED), generated_db
        )
    finally:
        await generated_db.close()
    assert (configured.hook, configured.telegram_header) == (CONFIGURED, CONFIGURED)
    assert (configured.telegram_path, configured.region_link) == (
        generated.telegram_path,
        generated.region_link,
    )
