"""The secrets the bot keeps for itself: each generated with its own random bytes and stored once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from pydantic import SecretStr

from bot.config import Settings
from bot.storage.database import Database
from bot.storage.kv import kv_setdefault

WEBHOOK_SECRET_KEY = "webhook_secret"
TELEGRAM_PATH_SECRET_KEY = "telegram_path_secret"
TELEGRAM_HEADER_SECRET_KEY = "telegram_header_secret"
REGION_LINK_KEY = "region_link_key"

# URL-safe base64 of 24 random bytes: 32 characters, within Telegram's alphabet for secret_token.
SECRET_BYTES = 24
LINK_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class BotSecrets:
    """Independent secrets, one per party that must present or verify one; none follows from another.

    Backends see `hook` in their callback URL, so nothing else may be derived from it."""

    hook: str
    telegram_path: str
    telegram_header: str
    region_link: str


def notify_url(settings: Settings, hook_secret: str) -> str | None:
    if settings.public_url is None:
        return None
    return f"{settings.public_url}/hooks/{settings.mj_backend}/{hook_secret}"


async def load_secrets(settings: Settings, db: Database) -> BotSecrets:
    """The configured secrets where set, else ones generated on first start and kept in the database.

    Every process on one database gets the same values: the first to store a key wins."""
    generated = {
        WEBHOOK_SECRET_KEY: secrets.token_urlsafe(SECRET_BYTES),
        TELEGRAM_PATH_SECRET_KEY: secrets.token_urlsafe(SECRET_BYTES),
        TELEGRAM_HEADER_SECRET_KEY: secrets.token_urlsafe(SECRET_BYTES),
        REGION_LINK_KEY: secrets.token_hex(LINK_KEY_BYTES),
    }
    async with db.write() as conn:
        stored = {key: await kv_setdefault(conn, key, value) for key, value in generated.items()}
    return BotSecrets(
        hook=_configured(settings.webhook_secret) or stored[WEBHOOK_SECRET_KEY],
        telegram_path=stored[TELEGRAM_PATH_SECRET_KEY],
        telegram_header=_configured(settings.telegram_webhook_secret) or stored[TELEGRAM_HEADER_SECRET_KEY],
        region_link=stored[REGION_LINK_KEY],
    )


async def load_hook_secret(settings: Settings, db: Database) -> str:
    """WEBHOOK_SECRET if set, else the one generated on first start and kept in the database."""
    return (await load_secrets(settings, db)).hook


def _configured(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
