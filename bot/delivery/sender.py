"""The one path for outgoing Telegram calls: per-chat and global rate limits, 429 pauses, retries, and
chatter (replies that are not a job's own message) sent in the background behind the jobs."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import Response, TelegramMethod

from bot.delivery.chatter import ChatterQueue

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)
RETRY_AFTER_MARGIN = 0.1
DEFAULT_REQUEST_TIMEOUT = 60  # aiogram's
SLOW_UPLINK_BYTES_PER_SECOND = 256 * 1024
UPLOAD_GRACE_SECONDS = 30
IN_FLIGHT_RECHECK = 0.02  # seconds; a window full of unanswered sends is asked again this often
MAX_TRACKED_CHATS = 10_000
CLAIM_RECHECK = 0.05  # seconds; chatter for a chat with job deliveries under way asks again this often


@dataclass(frozen=True, slots=True)
class DeliveryLimits:
    """Telegram's published pacing: ~1 message/s in a chat, 20/min in a group, 30/s overall.

    `chatter_share`: the part of each budget chatter may use, so jobs' progress and finals always find room.
    """

    global_per_second: int = 30
    chat_per_second: int = 1
    group_per_minute: int = 20
    chatter_share: float = 0.5


def share_of(limit: int, period: float, share: float) -> SlidingWindow:
    """A window allowing `share` of `limit` per `period`: fewer sends, or (below one) a longer period."""
    allowed = limit * share
    if allowed >= 1:
        return SlidingWindow(math.floor(allowed), period)
    return SlidingWindow(1, period / allowed)


def upload_timeout(size: int) -> int | None:
    """Seconds to allow a call that uploads `size` bytes; None keeps aiogram's default (60 s), which would
    cut off a 50 MB video on any uplink slower than about 7 Mbit/s."""
    if size <= 0:
        return None
    needed = UPLOAD_GRACE_SECONDS + math.ceil(size / SLOW_UPLINK_BYTES_PER_SECOND)
    return needed if needed > DEFAULT_REQUEST_TIMEOUT else None


class Slot:
    """One granted send in a window. Until Telegram answers, the send may still be on its way and be
    counted later than it was granted, so it stays in the window; Telegram's answer is the latest moment
    it can have been counted, and the window counts it from then."""

    __slots__ = ("counted_at",)

    def __init__(self) -> None:
        self.counted_at = math.inf

    def settle(self, now: float) -> None:
        self.counted_at = now


class SlidingWindow:
    """At most `limit` sends in any `period` seconds, as Telegram counts them."""

    def __init__(self, limit: int, period: float, *, even: bool = False) -> None:
        self._limit = limit
        self._period = period
        # Even: grants at least period/limit apart, so a full window never frees all at once and the
        # next second starts with a burst of `limit` sends (and their rendering) on the same tick.
        self._gap = period / limit if even else 0.0
        self._last_grant = -math.inf
        self._slots: list[Slot] = []

    def wait(self, now: float) -> float:
        """Seconds until a grant is possible (0: now)."""
        spacing = self._last_grant + self._gap - now
        horizon = now - self._period
        self._slots = [slot for slot in self._slots if slot.counted_at > horizon]
        if len(self._slots) < self._limit:
            return max(spacing, 0.0)
        oldest = min(slot.counted_at for slot in self._slots)
        return max(spacing, IN_FLIGHT_RECHECK if oldest == math.inf else oldest - horizon)

    def grant(self, now: float) -> Slot:
        self._last_grant = now
        slot = Slot()
        self._slots.append(slot)
        return slot

    def idle(self, now: float) -> bool:
        return all(slot.counted_at <= now - self._period for slot in self._slots)


class Permit:
    """A send granted in every window that applies; `settle` when Telegram has answered."""

    __slots__ = ("_slots",)

    def __init__(self, slots: list[Slot]) -> None:
        self._slots = slots

    def settle(self, now: float) -> None:
        for slot in self._slots:
            slot.settle(now)


class ChatWindows:
    """A chat's own windows, and the smaller ones its chatter must also fit in."""

    __slots__ = ("chatter", "claims", "own")

    def __init__(self, chat_id: int, limits: DeliveryLimits) -> None:
        share = limits.chatter_share
        self.own: tuple[SlidingWindow, ...] = (SlidingWindow(limits.chat_per_second, 1.0),)
        self.chatter: tuple[SlidingWindow, ...] = (share_of(limits.chat_per_second, 1.0, share),)
        if chat_id < 0:
            self.own += (SlidingWindow(limits.group_per_minute, 60.0),)
            self.chatter += (share_of(limits.group_per_minute, 60.0, share),)
        self.claims = 0  # job deliveries under way: while any is, chatter waits

    def idle(self, now: float) -> bool:
        return not self.claims and all(w.idle(now) for w in (*self.own, *self.chatter))


class RateLimiter:
    """Per-chat windows inside a global one, and a global pause while Telegram says retry_after.

    Chatter gets at most `chatter_share` of every window and none while a chat's job deliveries are under way.
    """

    def __init__(self, limits: DeliveryLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self.clock = clock
        self._global = SlidingWindow(limits.global_per_second, 1.0, even=True)
        self._global_chatter = share_of(limits.global_per_second, 1.0, limits.chatter_share)
        self._chats: dict[int, ChatWindows] = {}
        self._paused_until = 0.0

    def _chat_windows(self, chat_id: int) -> ChatWindows:
        windows = self._chats.get(chat_id)
        if windows is None:
            if len(self._chats) > MAX_TRACKED_CHATS:
                now = self.clock()
                self._chats = {k: w for k, w in self._chats.items() if not w.idle(now)}
            windows = self._chats[chat_id] = ChatWindows(chat_id, self._limits)
        return windows

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds + RETRY_AFTER_MARGIN)

    async def wait_pause(self) -> None:
        while True:
            delay = self._paused_until - self.clock()
            if delay <= 0:
                return
            await asyncio.sleep(delay)

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until the chat's own windows (and any pause) would allow a send; nothing is granted."""
        now = self.clock()
        return max(max(w.wait(now) for w in self._chat_windows(chat_id).own), self._paused_until - now, 0.0)

    @contextmanager
    def claimed(self, chat_id: int) -> Iterator[None]:
        """Job deliveries to `chat_id` are under way: its chatter waits until they are done."""
        windows = self._chat_windows(chat_id)
        windows.claims += 1
        try:
            yield
        finally:
            windows.claims -= 1

    def try_grant(self, chat_id: int) -> Permit | float:
        """A permit to send to `chat_id` now, or how many seconds to wait before asking again."""
        return self._grant((*self._chat_windows(chat_id).own, self._global))

    def try_grant_chatter(self, chat_id: int) -> Permit | float:
        """Like `try_grant`, within chatter's share, and never while the chat's jobs are being delivered."""
        windows = self._chat_windows(chat_id)
        if windows.claims:
            return CLAIM_RECHECK
        return self._grant((*windows.own, *windows.chatter, self._global, self._global_chatter))

    def _grant(self, windows: tuple[SlidingWindow, ...]) -> Permit | float:
        now = self.clock()
        delay = max(max(w.wait(now) for w in windows), self._paused_until - now)
        if delay > 0:
            return delay
        return Permit([window.grant(now) for window in windows])

    async def acquire(self, chat_id: int) -> Permit:
        return await self._acquire(self.try_grant, chat_id)

    async def acquire_chatter(self, chat_id: int) -> Permit:
        return await self._acquire(self.try_grant_chatter, chat_id)

    @staticmethod
    async def _acquire(try_grant: Callable[[int], Permit | float], chat_id: int) -> Permit:
        # Checking and recording happen without an await in between, so concurrent senders never overshoot.
        while True:
            granted = try_grant(chat_id)
            if isinstance(granted, Permit):
                return granted
            await asyncio.sleep(granted)


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
