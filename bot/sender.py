"""The one path for outgoing Telegram calls: per-chat and global rate limits, 429 pauses, retries."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)
RETRY_AFTER_MARGIN = 0.1
MAX_TRACKED_CHATS = 10_000


@dataclass(frozen=True, slots=True)
class DeliveryLimits:
    """Telegram's published pacing: ~1 message/s in a chat, 20/min in a group, 30/s overall."""

    global_per_second: int = 30
    chat_per_second: int = 1
    group_per_minute: int = 20


class SlidingWindow:
    """At most `limit` grants in any `period` seconds, as Telegram counts them."""

    def __init__(self, limit: int, period: float) -> None:
        self._limit = limit
        self._period = period
        self._grants: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until a grant is possible (0: now)."""
        while self._grants and self._grants[0] <= now - self._period:
            self._grants.popleft()
        return 0.0 if len(self._grants) < self._limit else self._grants[0] + self._period - now

    def grant(self, now: float) -> None:
        self._grants.append(now)

    def idle(self, now: float) -> bool:
        return not self._grants or self._grants[-1] <= now - self._period


class RateLimiter:
    """Per-chat windows inside a global one, and a global pause while Telegram says retry_after."""

    def __init__(self, limits: DeliveryLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._global = SlidingWindow(limits.global_per_second, 1.0)
        self._chats: dict[int, tuple[SlidingWindow, ...]] = {}
        self._paused_until = 0.0

    def _chat_windows(self, chat_id: int) -> tuple[SlidingWindow, ...]:
        windows = self._chats.get(chat_id)
        if windows is None:
            if len(self._chats) > MAX_TRACKED_CHATS:
                now = self._clock()
                self._chats = {k: w for k, w in self._chats.items() if not all(x.idle(now) for x in w)}
            windows = (SlidingWindow(self._limits.chat_per_second, 1.0),)
            if chat_id < 0:
                windows += (SlidingWindow(self._limits.group_per_minute, 60.0),)
            self._chats[chat_id] = windows
        return windows

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds + RETRY_AFTER_MARGIN)

    async def wait_pause(self) -> None:
        while True:
            delay = self._paused_until - self._clock()
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    def try_grant(self, chat_id: int) -> float:
        """Grant a send to `chat_id` now and return 0, or return how long to wait before asking again."""
        now = self._clock()
        windows = (*self._chat_windows(chat_id), self._global)
        delay = max(max(w.wait(now) for w in windows), self._paused_until - now)
        if delay > 0:
            return delay
        for window in windows:
            window.grant(now)
        return 0.0

    async def acquire(self, chat_id: int) -> None:
        # Checking and recording happen without an await in between, so concurrent senders never overshoot.
        while True:
            delay = self.try_grant(chat_id)
            if delay <= 0:
                return
            await asyncio.sleep(delay)


class Sender:
    """Executes Bot API methods under the limits; transient failures are retried, others raised."""

    def __init__(self, bot: Bot, limits: DeliveryLimits | None = None) -> None:
        self.bot = bot
        self.limiter = RateLimiter(limits or DeliveryLimits())
        self.retry_after_hits = 0

    async def call(self, method: TelegramMethod[T], *, chat_id: int | None) -> T:
        """Send `method`; `chat_id` None skips pacing (callback answers, getMe), not 429 pauses."""
        transient_failures = 0
        while True:
            if chat_id is None:
                await self.limiter.wait_pause()
            else:
                await self.limiter.acquire(chat_id)
            try:
                return await self.bot(method)
            except TelegramRetryAfter as exc:
                self.retry_after_hits += 1
                log.warning("Telegram asked to wait %ss (%s)", exc.retry_after, type(method).__name__)
                self.limiter.pause(exc.retry_after)
            except (TelegramNetworkError, TelegramServerError) as exc:
                if transient_failures >= len(TRANSIENT_BACKOFF):
                    raise
                delay = TRANSIENT_BACKOFF[transient_failures]
                transient_failures += 1
                log.warning(
                    "Telegram call %s failed (%s); retrying in %.1fs", type(method).__name__, exc, delay
                )
                await asyncio.sleep(delay)
