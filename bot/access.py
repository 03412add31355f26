"""Who may use the bot: the configured lists plus the rules admins set at runtime (/allow, /ban)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.storage.access import AccessRule, access_rule_list, clear_access_rule, set_access_rule
from bot.storage.database import Database
from bot.storage.kv import kv_get, kv_set

RULES_REFRESH_SECONDS = 30.0  # another replica may have changed the rules
CLOSED_MODE_KEY = "access_closed"
USER = "user"
CHAT = "chat"
ALLOW = "allow"
BAN = "ban"


@dataclass(frozen=True, slots=True)
class AccessConfig:
    admins: frozenset[int]
    users: frozenset[int]
    chats: frozenset[int]


class AccessControl:
    """Admins always pass; banned users and chats never; with an allowlist only listed users or chats pass."""

    def __init__(
        self, db: Database, config: AccessConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._rules: dict[tuple[str, int], str] = {}
        self._closed = False
        self._loaded_at = float("-inf")

    def is_admin(self, user_id: int) -> bool:
        return user_id in self._config.admins

    @property
    def admins(self) -> frozenset[int]:
        return self._config.admins

    async def allows(self, user_id: int, chat_id: int | None, sender_chat_id: int | None = None) -> bool:
        """`sender_chat_id`: the chat a message was posted as (a channel, or the group for its anonymous
        admins); Telegram then names a stand-in user, so that chat's ban must hold as well."""
        if self.is_admin(user_id):
            return True
        await self._refresh()
        rule_of_user = self._rules.get((USER, user_id))
        rule_of_chat = self._rules.get((CHAT, chat_id)) if chat_id is not None else None
        rule_of_sender_chat = self._rules.get((CHAT, sender_chat_id)) if sender_chat_id is not None else None
        if BAN in (rule_of_user, rule_of_chat, rule_of_sender_chat):
            return False
        if not self.allowlist_active:
            return True
        return (
            user_id in self._config.users
            or (chat_id is not None and chat_id in self._config.chats)
            or ALLOW in (rule_of_user, rule_of_chat)
        )

    @property
    def allowlist_active(self) -> bool:
        return bool(self._config.users or self._config.chats) or self._closed

    async def set_rule(self, subject: str, subject_id: int, rule: str, *, by: int) -> None:
        async with self._db.write() as conn:
            await set_access_rule(conn, AccessRule(subject, subject_id, rule), by=by, at=time.time())
        self._loaded_at = float("-inf")

    async def clear_rule(self, subject: str, subject_id: int) -> bool:
        async with self._db.write() as conn:
            removed = await clear_access_rule(conn, subject, subject_id)
        self._loaded_at = float("-inf")
        return removed

    async def set_closed(self, closed: bool) -> None:
        async with self._db.write() as conn:
            await kv_set(conn, CLOSED_MODE_KEY, "1" if closed else "0")
        self._loaded_at = float("-inf")

    async def rules(self) -> list[AccessRule]:
        async with self._db.read() as conn:
            return await access_rule_list(conn)

    async def _refresh(self) -> None:
        if self._clock() - self._loaded_at < RULES_REFRESH_SECONDS:
            return
        async with self._db.read() as conn:
            rules = await access_rule_list(conn)
            closed = await kv_get(conn, CLOSED_MODE_KEY)
        self._rules = {(r.subject, r.subject_id): r.rule for r in rules}
        self._closed = closed == "1"
        self._loaded_at = self._clock()
