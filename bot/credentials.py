"""The webhook secret backends call back with, and the secrets derived from it."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.config import Settings
from bot.storage.database import Database
from bot.storage.kv import kv_get, kv_set

WEBHOOK_SECRET_KEY = "webhook_secret"


def derived_secret(hook_secret: str, label: bytes) -> str:
    """A secret of its own for one purpose, derived from the stored webhook secret (HMAC-SHA256)."""
    return hmac.new(hook_secret.encode(), label, hashlib.sha256).hexdigest()


def notify_url(settings: Settings, hook_secret: str) -> str | None:
    if settings.public_url is None:
        return None
    return f"{settings.public_url}/hooks/{settings.mj_backend}/{hook_secret}"


async def load_hook_secret(settings: Settings, db: Database) -> str:
    """WEBHOOK_SECRET if set, else one generated on first start and kept in the database."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    async with db.write() as conn:
        stored = await kv_get(conn, WEBHOOK_SECRET_KEY)
        if stored is None:
            stored = secrets.token_urlsafe(24)
            await kv_set(conn, WEBHOOK_SECRET_KEY, stored)
    return stored
