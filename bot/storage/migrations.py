"""Upgrade steps from one schema version to the next, in SQL both SQLite and PostgreSQL run."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import SCHEMA_VERSION, kv

log = logging.getLogger(__name__)

SCHEMA_VERSION_KEY = "schema_version"

# version → statements that take a database of that version to the next one.
STEPS: Mapping[int, tuple[str, ...]] = {
    1: ("ALTER TABLE jobs ADD COLUMN video_url TEXT",),
    2: (
        "CREATE INDEX IF NOT EXISTS ix_jobs_user_created ON jobs (user_id, created_at)",
        "CREATE INDEX IF NOT EXISTS ix_jobs_chat_created ON jobs (chat_id, created_at)",
        "CREATE INDEX IF NOT EXISTS ix_jobs_parent ON jobs (parent_id)",
        "CREATE INDEX IF NOT EXISTS ix_jobs_message ON jobs (chat_id, message_id)",
    ),
    3: (
        "CREATE INDEX IF NOT EXISTS ix_jobs_outbox ON jobs (updated_at)"
        " WHERE shown_version < version AND delivery_error IS NULL",
        "DROP INDEX IF EXISTS ix_jobs_pending_delivery",
        "ALTER TABLE jobs ADD COLUMN submitter VARCHAR(64)",
        "CREATE INDEX IF NOT EXISTS ix_jobs_created ON jobs (created_at)",
        "CREATE INDEX IF NOT EXISTS ix_jobs_status_updated ON jobs (status, updated_at, id)",
    ),
}


async def upgrade(conn: AsyncConnection, found: int) -> int:
    """Bring a database of schema `found` up to SCHEMA_VERSION inside the caller's transaction."""
    version = found
    while version < SCHEMA_VERSION:
        for statement in STEPS[version]:
            await conn.execute(text(statement))
        version += 1
        log.info("database schema upgraded to %d", version)
    if version != found:
        await conn.execute(update(kv).where(kv.c.key == SCHEMA_VERSION_KEY).values(value=str(version)))
    return version
