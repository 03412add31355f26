"""Stored preferences of users and chats: each change is one read-modify-write transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Unpack

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.owners import Scope
from bot.preferences.completion import effective_prompt, merged
from bot.preferences.model import DEFAULT_PREFERENCES, PreferenceChanges, Preferences
from bot.storage import profiles
from bot.storage.database import Database

# --- the service --------------------------------------------------------------------------------------------

Change = Callable[[Preferences], Preferences]


class PreferenceService:
    """Stored preferences of users and chats; each change is one read-modify-write transaction."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def user(self, user_id: int) -> Preferences:
        return await self._get(Scope.USER, user_id)

    async def chat(self, chat_id: int) -> Preferences:
        return await self._get(Scope.CHAT, chat_id)

    async def update_user(self, user_id: int, **changes: Unpack[PreferenceChanges]) -> Preferences:
        return await self.change_user(user_id, lambda prefs: replace(prefs, **changes))

    async def update_chat(self, chat_id: int, **changes: Unpack[PreferenceChanges]) -> Preferences:
        return await self.change_chat(chat_id, lambda prefs: replace(prefs, **changes))

    async def change_user(self, user_id: int, change: Change) -> Preferences:
        """Apply `change` to the user's current preferences and store the result."""
        return await self._change(Scope.USER, user_id, change)

    async def change_chat(self, chat_id: int, change: Change) -> Preferences:
        return await self._change(Scope.CHAT, chat_id, change)

    async def effective_prompt(self, user_id: int, chat_id: int, prompt: str) -> str:
        """`effective_prompt` with the user's preferences and, in groups, the chat's defaults."""
        async with self._db.read() as conn:
            user = await self._load(conn, Scope.USER, user_id)
            chat = None if chat_id == user_id else await self._load(conn, Scope.CHAT, chat_id)
        return effective_prompt(prompt, user, chat)

    async def remix(self, user_id: int, chat_id: int) -> bool:
        """Whether the user's remix-able buttons ask for the prompt first (Remix mode)."""
        async with self._db.read() as conn:
            user = await self._load(conn, Scope.USER, user_id)
            chat = None if chat_id == user_id else await self._load(conn, Scope.CHAT, chat_id)
        return merged(user, chat).remix

    async def language_override(self, user_id: int) -> str | None:
        return (await self.user(user_id)).language

    async def buttons_open(self, chat_id: int) -> bool:
        return (await self.chat(chat_id)).buttons_open

    async def daily_pool(self, chat_id: int) -> int | None:
        return (await self.chat(chat_id)).daily_pool

    async def _get(self, scope: Scope, owner_id: int) -> Preferences:
        async with self._db.read() as conn:
            return await self._load(conn, scope, owner_id)

    @staticmethod
    async def _load(conn: AsyncConnection, scope: Scope, owner_id: int) -> Preferences:
        profile = await profiles.get_profile(conn, scope, owner_id)
        return Preferences.from_data(profile.data) if profile else DEFAULT_PREFERENCES

    async def _change(self, scope: Scope, owner_id: int, change: Change) -> Preferences:
        async with self._db.write() as conn:
            current = await self._load(conn, scope, owner_id)
            changed = change(current)
            if changed != current:
                await profiles.save_profile(conn, scope, owner_id, changed.to_data(), self._clock())
        return changed
