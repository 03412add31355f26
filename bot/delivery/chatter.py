"""Chatter: replies that are not a job's own message (refusals, hints, answers to commands), sent per chat in
the background, coalesced and capped, so a flood in one chat costs its handlers and other chats nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiogram.methods import TelegramMethod

log = logging.getLogger(__name__)

COALESCE_SECONDS = 10.0  # the same chatter goes to a chat at most once in this long
CHATTER_BACKLOG = 8  # chatter waiting per chat; more is dropped (a group drains about 10 a minute)
MAX_REMEMBERED_CHATS = 10_000

SendChatter = Callable[[TelegramMethod[Any], int], Awaitable[Any]]
OnSent = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Chatter:
    method: TelegramMethod[Any]
    key: str
    on_sent: OnSent | None


class ChatterQueue:
    """One background worker per chat with chatter waiting; `send` does the pacing."""

    def __init__(self, send: SendChatter, clock: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self._clock = clock
        self._waiting: dict[int, deque[Chatter]] = {}
        self._recent: dict[int, dict[str, float]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self.dropped = 0

    def put(self, chat_id: int, method: TelegramMethod[Any], key: str, on_sent: OnSent | None) -> bool:
        """Queue chatter for the chat; False (and nothing queued) for a repeat or a full backlog."""
        if self._closed:
            return False
        now = self._clock()
        recent = self._recent_in(chat_id, now)
        waiting = self._waiting.setdefault(chat_id, deque())
        if key in recent or len(waiting) >= CHATTER_BACKLOG:
            self.dropped += 1
            return False
        recent[key] = now
        waiting.append(Chatter(method, key, on_sent))
        self._idle.clear()
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._run(chat_id), name=f"chatter-{chat_id}")
        return True

    def waiting(self, chat_id: int) -> int:
        return len(self._waiting.get(chat_id, ()))

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        self._closed = True
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._idle.set()

    def _recent_in(self, chat_id: int, now: float) -> dict[str, float]:
        if chat_id not in self._recent and len(self._recent) >= MAX_REMEMBERED_CHATS:
            self._forget_quiet_chats(now)
        recent = self._recent.setdefault(chat_id, {})
        for key in [k for k, at in recent.items() if now - at >= COALESCE_SECONDS]:
            del recent[key]
        return recent

    def _forget_quiet_chats(self, now: float) -> None:
        self._recent = {
            chat: keys
            for chat, keys in self._recent.items()
            if chat in self._workers or any(now - at < COALESCE_SECONDS for at in keys.values())
        }

    async def _run(self, chat_id: int) -> None:
        waiting = self._waiting[chat_id]
        try:
            while waiting:
                await self._say(waiting[0], chat_id)
                waiting.popleft()
        finally:
            self._workers.pop(chat_id, None)
            if not waiting:
                self._waiting.pop(chat_id, None)
            if not self._workers:
                self._idle.set()

    async def _say(self, chatter: Chatter, chat_id: int) -> None:
        try:
            sent = await self._send(chatter.method, chat_id)
        except TelegramAPIError as exc:  # the chat is gone, the bot blocked, the replied-to message deleted
            log.warning("chatter to chat %s not sent (%s): %s", chat_id, type(chatter.method).__name__, exc)
            return
        if chatter.on_sent is not None:
            try:
                await chatter.on_sent(sent)
            except Exception:
                log.exception("after chatter to chat %s was sent", chat_id)
