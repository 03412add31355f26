"""Flood control: Telegram's per-chat, per-group and global sending limits."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from tests.fakes.telegram.models import FakeChat, FloodLimits


class SlidingWindow:
    """At most `capacity` events in any `seconds`-long window."""

    def __init__(self, capacity: int, seconds: float) -> None:
        self._capacity = capacity
        self._seconds = seconds
        self._events: deque[float] = deque()

    @classmethod
    def for_rate(cls, per_second: float) -> SlidingWindow:
        capacity = max(1, math.floor(per_second))
        return cls(capacity, capacity / per_second)

    def is_full(self, now: float) -> bool:
        while self._events and now - self._events[0] >= self._seconds:
            self._events.popleft()
        return len(self._events) >= self._capacity

    def add(self, now: float) -> None:
        self._events.append(now)


class FloodGate:
    """Telegram's per-chat, per-group and global sending limits."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._global = SlidingWindow.for_rate(limits.global_per_second)
        self._per_chat: dict[int, SlidingWindow] = {}
        self._per_group: dict[int, SlidingWindow] = {}

    def admit(self, chat: FakeChat) -> bool:
        """Count one message-producing call to `chat`; False (and nothing counted) when over a limit."""
        now = self._clock()
        windows = [self._global, self._chat_window(chat.id)]
        if chat.type != "private":
            windows.append(self._group_window(chat.id))
        if any(window.is_full(now) for window in windows):
            return False
        for window in windows:
            window.add(now)
        return True

    def _chat_window(self, chat_id: int) -> SlidingWindow:
        if chat_id not in self._per_chat:
            self._per_chat[chat_id] = SlidingWindow.for_rate(self.limits.per_chat_per_second)
        return self._per_chat[chat_id]

    def _group_window(self, chat_id: int) -> SlidingWindow:
        if chat_id not in self._per_group:
            self._per_group[chat_id] = SlidingWindow(self.limits.per_group_per_minute, 60.0)
        return self._per_group[chat_id]
