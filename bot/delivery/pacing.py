"""Telegram's pacing as the bot keeps it: sliding windows per chat inside a global one, a share of each for
chatter, and a global pause while Telegram says retry_after."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

RETRY_AFTER_MARGIN = 0.1
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


class Slot:
    """One granted send in a window. Until Telegram answers, the send may still be on its way and be
    counted later than it was granted, so it stays in the window; Telegram's answer is the latest moment
    it can have been counted, and the window counts it from then."""

    __slots__ = ("counted_at",)

    def __init__(self) -> None:
        self.counted_at = math.inf

    def settle(self, now: float) -> None:
        self.counted_at = now


class Settles(Protocol):
    def settle(self, now: float) -> None: ...


class SharedSends(Protocol):
    """The bot's overall budget when several replicas send (`bot/delivery/budget.py`)."""

    async def take(self, group: int | None = None) -> Settles:
        """Wait for a place among the bot's sends of the second; `group`: a job message's group."""
        ...

    async def recall(self, group: int) -> list[float]:
        """Ages of other replicas' job messages to `group` in its last minute not recalled before."""
        ...

    def pause(self, seconds: float) -> None:
        """Telegram asked the bot to wait: no replica sends until then."""


class SlidingWindow:
    """At most `limit` sends in any `period` seconds, as Telegram counts them."""

    def __init__(self, limit: int, period: float, *, even: bool = False) -> None:
        self.limit = limit
        self.period = period
        # Even: grants at least period/limit apart, so a full window never frees all at once and the
        # next second starts with a burst of `limit` sends (and their rendering) on the same tick.
        self._gap = period / limit if even else 0.0
        self._last_grant = -math.inf
        self._slots: list[Slot] = []

    def resize(self, limit: int, period: float) -> None:
        """A new allowance from now on; sends already granted stay counted."""
        self._gap = period / limit if self._gap else 0.0
        self.limit, self.period = limit, period

    def wait(self, now: float) -> float:
        """Seconds until a grant is possible (0: now)."""
        spacing = self._last_grant + self._gap - now
        horizon = now - self.period
        self._slots = [slot for slot in self._slots if slot.counted_at > horizon]
        if len(self._slots) < self.limit:
            return max(spacing, 0.0)
        oldest = min(slot.counted_at for slot in self._slots)
        return max(spacing, IN_FLIGHT_RECHECK if oldest == math.inf else oldest - horizon)

    def grant(self, now: float) -> Slot:
        self._last_grant = now
        slot = Slot()
        self._slots.append(slot)
        return slot

    def idle(self, now: float) -> bool:
        return all(slot.counted_at <= now - self.period for slot in self._slots)

    def remember(self, counted_at: float) -> None:
        """A send another sender made, counted by Telegram at `counted_at`."""
        slot = Slot()
        slot.settle(counted_at)
        self._slots.append(slot)


class Permit:
    """A send granted in every window that applies; `settle` when Telegram has answered."""

    __slots__ = ("_slots",)

    def __init__(self, slots: list[Settles]) -> None:
        self._slots = slots

    def add(self, slot: Settles) -> None:
        self._slots.append(slot)

    def settle(self, now: float) -> None:
        for slot in self._slots:
            slot.settle(now)


class ChatWindows:
    """A chat's own windows, and the smaller ones its chatter must also fit in.

    `replicas` None: one process sends everything. Otherwise the chat's job deliveries come from the one
    replica that owns the chat and take what chatter leaves of its windows, while chatter (answers to the
    updates each replica takes) gets its share split among the replicas: together they stay within the chat's
    limits.
    """

    __slots__ = ("chatter", "claims", "own")

    def __init__(self, chat_id: int, limits: DeliveryLimits, replicas: int | None = None) -> None:
        share = limits.chatter_share
        # Several replicas: chatter (rarer than job messages) keeps half its usual share, split among them.
        own_share = 1.0 if replicas is None else 1.0 - share / 2
        chatter_share = share if replicas is None else share / 2 / replicas
        self.own: tuple[SlidingWindow, ...] = (share_of(limits.chat_per_second, 1.0, own_share),)
        self.chatter: tuple[SlidingWindow, ...] = (share_of(limits.chat_per_second, 1.0, chatter_share),)
        if chat_id < 0:
            self.own += (share_of(limits.group_per_minute, 60.0, own_share),)
            self.chatter += (share_of(limits.group_per_minute, 60.0, chatter_share),)
        self.claims = 0  # job deliveries under way: while any is, chatter waits

    def idle(self, now: float) -> bool:
        return not self.claims and all(w.idle(now) for w in (*self.own, *self.chatter))


class RateLimiter:
    """Per-chat windows inside a global one, and a global pause while Telegram says retry_after.

    Chatter gets at most `chatter_share` of every window and none while a chat's job deliveries are under way.
    """

    def __init__(self, limits: DeliveryLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._global = SlidingWindow(limits.global_per_second, 1.0, even=True)
        self._global_chatter = share_of(limits.global_per_second, 1.0, limits.chatter_share)
        self._chats: dict[int, ChatWindows] = {}
        self._paused_until = 0.0
        self._replicas: int | None = None
        self._ready: asyncio.Event | None = None
        self._shared: SharedSends | None = None

    def hold_until(self, ready: asyncio.Event) -> None:
        """Grant nothing paced before `ready` is set (a joining replica, until the others count it)."""
        self._ready = ready

    def share_through(self, shared: SharedSends) -> None:
        """Several replicas send for the bot: every send also takes its place in the bot's shared budget."""
        self._shared = shared

    def share_among(self, replicas: int) -> None:
        """`replicas` send for the bot: chatter's part of the global budget and of the chats' windows is
        split among them (see ChatWindows); the rest is the shared budget's."""
        self._replicas = max(1, replicas)
        chatter = share_of(self.limits.global_per_second, 1.0, self.limits.chatter_share / self._replicas)
        self._global_chatter.resize(chatter.limit, chatter.period)
        # The chats' windows are kept: they remember this replica's recent sends (chats made from now on get
        # the new split; the old ones keep theirs until they idle out).

    async def recall(self, chat_id: int) -> None:
        """This replica takes over `chat_id`'s job messages: count what others sent to it (groups: their
        minute) in its windows."""
        if self._shared is None or chat_id >= 0:
            return
        ages = await self._shared.recall(chat_id)
        now = self.clock()
        for window in self._chat_windows(chat_id).own:
            for age in ages:
                if age < window.period:
                    window.remember(now - age)

    def _chat_windows(self, chat_id: int) -> ChatWindows:
        windows = self._chats.get(chat_id)
        if windows is None:
            if len(self._chats) > MAX_TRACKED_CHATS:
                now = self.clock()
                self._chats = {k: w for k, w in self._chats.items() if not w.idle(now)}
            windows = self._chats[chat_id] = ChatWindows(chat_id, self.limits, self._replicas)
        return windows

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds + RETRY_AFTER_MARGIN)
        if self._shared is not None:
            self._shared.pause(seconds + RETRY_AFTER_MARGIN)

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
        return await self._acquire(self.try_grant, chat_id, chat_id if chat_id < 0 else None)

    async def acquire_chatter(self, chat_id: int) -> Permit:
        return await self._acquire(self.try_grant_chatter, chat_id, None)

    async def _acquire(
        self, try_grant: Callable[[int], Permit | float], chat_id: int, group: int | None
    ) -> Permit:
        if self._ready is not None:
            await self._ready.wait()
        # Checking and recording happen without an await in between, so concurrent senders never overshoot.
        while True:
            granted = try_grant(chat_id)
            if isinstance(granted, Permit):
                break
            await asyncio.sleep(granted)
        if self._shared is not None:
            try:
                granted.add(await self._shared.take(group))
            except BaseException:
                granted.settle(self.clock())  # nothing was sent
                raise
        return granted
