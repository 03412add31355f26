"""Blend drafts: the 2–5 pictures a user gathers for /blend before choosing the shape."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace

from bot.domain.drafts import BlendDraft
from bot.domain.errors import BlendExpired, BlendFull, NotYourButton
from bot.storage.database import Database
from bot.storage.drafts import (
    close_open_drafts,
    get_draft,
    insert_draft,
    move_draft,
    open_draft,
    set_draft_files,
    set_draft_message,
)

MAX_BLEND_IMAGES = 5
MIN_BLEND_IMAGES = 2
DRAFT_ID_BYTES = 8
DRAFT_OPEN = "open"
DRAFT_READY = "ready"
DRAFT_USED = "used"
DRAFT_CANCELLED = "cancelled"


class BlendService:
    """Stores drafts so a restart loses none; only the draft's owner may change it."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def open(
        self,
        chat_id: int,
        user_id: int,
        thread_id: int | None,
        reply_to: int | None,
        file_ids: list[str],
        *,
        ready: bool,
    ) -> BlendDraft:
        """A new draft; `ready` when it holds its pictures already (an album) and only lacks the shape."""
        if len(file_ids) > MAX_BLEND_IMAGES:
            raise BlendFull()
        draft = BlendDraft(
            id=secrets.token_urlsafe(DRAFT_ID_BYTES),
            chat_id=chat_id,
            user_id=user_id,
            thread_id=thread_id,
            message_id=None,
            reply_to_message_id=reply_to,
            file_ids=tuple(file_ids),
            status=DRAFT_READY if ready else DRAFT_OPEN,
            created_at=self._clock(),
        )
        async with self._db.write() as conn:
            if not ready:
                # One draft collecting pictures per user and chat: a new /blend replaces the older one.
                await close_open_drafts(conn, chat_id, user_id, DRAFT_CANCELLED)
            await insert_draft(conn, draft)
        return draft

    async def find_open(self, chat_id: int, user_id: int) -> BlendDraft | None:
        async with self._db.read() as conn:
            return await open_draft(conn, chat_id, user_id)

    async def owned(self, draft_id: str, user_id: int, *statuses: str) -> BlendDraft:
        async with self._db.read() as conn:
            draft = await get_draft(conn, draft_id)
        if draft is None or draft.status not in statuses:
            raise BlendExpired()
        if draft.user_id != user_id:
            raise NotYourButton()
        return draft

    async def add(self, draft: BlendDraft, file_ids: list[str]) -> BlendDraft:
        async with self._db.write() as conn:
            current = await get_draft(conn, draft.id)
            if current is None or current.status != DRAFT_OPEN:
                raise BlendExpired()
            fresh = [f for f in file_ids if f not in current.file_ids]
            if len(current.file_ids) + len(fresh) > MAX_BLEND_IMAGES:
                raise BlendFull()
            files = current.file_ids + tuple(fresh)
            await set_draft_files(conn, draft.id, files)
        return replace(current, file_ids=files)

    async def move(self, draft: BlendDraft, to_status: str) -> BlendDraft:
        """The draft in its next status; BlendExpired when someone (a double press) moved it first."""
        async with self._db.write() as conn:
            moved = await move_draft(conn, draft.id, draft.status, to_status)
        if not moved:
            raise BlendExpired()
        return replace(draft, status=to_status)

    async def set_message(self, draft: BlendDraft, message_id: int) -> BlendDraft:
        async with self._db.write() as conn:
            await set_draft_message(conn, draft.id, message_id)
        return replace(draft, message_id=message_id)
