"""The one path for outgoing Telegram calls: per-chat and global rate limits, 429 pauses, retries, and
chatter (replies that are not a job's own message) sent in the background behind the jobs."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod

from bot.delivery.chatter import ChatterQueue
from bot.delivery.pacing import DeliveryLimits, Permit, RateLimiter, SlidingWindow

__all__ = [
    "DeliveryLimits",
    "Permit",
    "PinResponseModels",
    "RateLimiter",
    "Sender",
    "SlidingWindow",
    "chatter_key",
    "upload_timeout",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)
DEFAULT_REQUEST_TIMEOUT = 60  # aiogram's
SLOW_UPLINK_BYTES_PER_SECOND = 256 * 1024
UPLOAD_GRACE_SECONDS = 30


def upload_timeout(size: int) -> int | None:
    """Seconds to allow a call that uploads `size` bytes; None keeps aiogram's default (60 s), which would
    cut off a 50 MB video on any uplink slower than about 7 Mbit/s."""
    if size <= 0:
        return None
    needed = UPLOAD_GRACE_SECONDS + math.ceil(size / SLOW_UPLINK_BYTES_PER_SECOND)
    return needed if needed > DEFAULT_REQUEST_TIMEOUT else None


class Sender:
    """Executes Bot API methods under the limits; transient failures are retried, others raised.

    `call` waits for its turn; `say` queues chatter and returns at once, so no update handler waits for a
    pacing window.
    """

    def __init__(self, bot: Bot, limits: DeliveryLimits | None = None) -> None:
        self.bot = bot
        self.limiter = RateLimiter(limits or DeliveryLimits())
        self.retry_after_hits = 0
        self.chatter = ChatterQueue(self._send_chatter)

    async def call(self, method: TelegramMethod[T], *, chat_id: int | None, uploading: int = 0) -> T:
        """Send `method`; `chat_id` None skips pacing (callback answers, getMe), not 429 pauses.

        `uploading`: bytes the call uploads, so a large file gets the time it needs on a slow link.
        """
        if chat_id is None:
            return await self._call(method, self._unpaced, upload_timeout(uploading))
        return await self._call(method, lambda: self.limiter.acquire(chat_id), upload_timeout(uploading))

    def say(
        self,
        method: TelegramMethod[T],
        *,
        chat_id: int,
        key: str | None = None,
        on_sent: Callable[[T], Awaitable[None]] | None = None,
    ) -> bool:
        """Queue chatter for `chat_id` (a reply that is not a job's message); False when it was dropped.

        The same `key` (by default the method's content without its reply target) goes to a chat at most once
        per coalescing window; `on_sent` gets Telegram's answer once it went out.
        """
        return self.chatter.put(chat_id, method, key or chatter_key(method), on_sent)

    async def call_as_chatter(self, method: TelegramMethod[T], *, chat_id: int) -> T:
        """Send `method` within chatter's share of the limits and wait for Telegram's answer (a broadcast:
        its sends must leave the jobs' deliveries their room, and it needs each answer to record it)."""
        return await self._call(method, lambda: self.limiter.acquire_chatter(chat_id), None)

    def delivering_jobs(self, chat_id: int) -> AbstractContextManager[None]:
        """While held, job deliveries to `chat_id` are under way and its chatter waits."""
        return self.limiter.claimed(chat_id)

    async def close(self) -> None:
        await self.chatter.close()

    async def _send_chatter(self, method: TelegramMethod[Any], chat_id: int) -> Any:
        return await self._call(method, lambda: self.limiter.acquire_chatter(chat_id), None)

    async def _unpaced(self) -> None:
        await self.limiter.wait_pause()

    async def _call(
        self,
        method: TelegramMethod[T],
        acquire: Callable[[], Awaitable[Permit | None]],
        request_timeout: int | None,
    ) -> T:
        transient_failures = 0
        while True:
            permit = await acquire()
            try:
                return await self._send(method, permit, request_timeout)
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

    async def until_chat_ready(self, chat_id: int) -> None:
        """Wait until `chat_id` may be sent to as far as its own limits go (the global one aside)."""
        while True:
            delay = self.limiter.chat_delay(chat_id)
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    async def _send(self, method: TelegramMethod[T], permit: Permit | None, request_timeout: int | None) -> T:
        try:
            return await self.bot(method, request_timeout=request_timeout)
        finally:
            if permit is not None:
                permit.settle(self.limiter.clock())


def chatter_key(method: TelegramMethod[Any]) -> str:
    """What makes two chatter messages the same: everything but the message they reply to."""
    return method.model_dump_json(
        exclude={"reply_parameters", "reply_to_message_id"}, exclude_none=True, fallback=repr
    )


class PinResponseModels(BaseRequestMiddleware):
    """Keeps aiogram's `Response[...]` model of each method alive for the life of the bot.

    aiogram parses every answer with `Response[method.__returning__]`, and pydantic caches such
    parametrised models in a weak dictionary: once the collector frees one, the next call builds the
    model again (milliseconds of schema work, on the event loop). Pinning them keeps that to once
    per method.
    """

    def __init__(self) -> None:
        self._models: dict[type[TelegramMethod[Any]], type[Response[Any]]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[T],
        bot: Bot,
        method: TelegramMethod[T],
    ) -> Response[T]:
        kind = type(method)
        if kind not in self._models:
            returning: Any = method.__returning__
            self._models[kind] = Response[returning]
        return await make_request(bot, method)
