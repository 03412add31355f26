"""The one path for outgoing Telegram calls: per-chat and global rate limits, 429 pauses, retries."""

from __future__ import annotations

import asyncio
import logging
import time
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


@dataclass(frozen=True, slots=True)
class DeliveryLimits:
    """Telegram's published pacing: ~1 message/s in a chat, 20/min in a group, 30/s overall."""

    global_per_second: float = 30.0
    private_per_second: float = 1.0
    group_per_minute: float = 20.0
    private_burst: float = 2.0
    group_burst: float = 3.0
    global_burst: float = 30.0


class TokenBucket:
    """Reservations against a refilling budget; `reserve` says how long to wait before using one."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._clock = clock
        self._stamp = clock()

    def reserve(self) -> float:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate

    def idle(self) -> bool:
        """True when the bucket is full again (safe to forget)."""
        elapsed = self._clock() - self._stamp
        return self._tokens + elapsed * self._rate >= self._capacity


class RateLimiter:
    """Per-chat buckets inside a global one, and a global pause while Telegram says retry_after."""

    def __init__(self, limits: DeliveryLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._global = TokenBucket(limits.global_per_second, limits.global_burst, clock)
        self._chats: dict[int, TokenBucket] = {}
        self._paused_until = 0.0

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:
                self._chats = {k: b for k, b in self._chats.items() if not b.idle()}
            if chat_id < 0:
                bucket = TokenBucket(
                    self._limits.group_per_minute / 60, self._limits.group_burst, self._clock
                )
            else:
                bucket = TokenBucket(self._limits.private_per_second, self._limits.private_burst, self._clock)
            self._chats[chat_id] = bucket
        return bucket

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds + RETRY_AFTER_MARGIN)

    async def wait_pause(self) -> None:
        while True:
            delay = self._paused_until - self._clock()
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    async def acquire(self, chat_id: int) -> None:
        await self.wait_pause()
        delay = self._chat_bucket(chat_id).reserve()
        if delay > 0:
            await asyncio.sleep(delay)
        delay = self._global.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
        await self.wait_pause()


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
