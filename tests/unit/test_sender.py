"""Pacing rules of the sender: Telegram's windows per chat inside a global one, and pauses on retry_after."""

from __future__ import annotations

import itertools

import pytest

from bot.sender import DeliveryLimits, RateLimiter, SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def grants_over(
    limiter: RateLimiter, clock: Clock, chat_id: int, seconds: float, step: float = 0.125
) -> list[float]:
    """Times at which `chat_id` was granted a send while asking every `step` for `seconds`."""
    granted, end = [], clock.now + seconds
    while clock.now < end:
        if limiter.try_grant(chat_id) == 0:
            granted.append(round(clock.now, 2))
        clock.now += step
    return granted


def test_window_counts_grants_in_the_last_period() -> None:
    window = SlidingWindow(limit=2, period=1.0)
    window.grant(10.0)
    window.grant(10.5)
    assert window.wait(10.6) == pytest.approx(0.4)
    assert window.wait(10.9) == pytest.approx(0.1)
    assert window.wait(11.0) == 0.0, "the grant at 10.0 has left the window"


def test_first_send_is_immediate_then_one_per_second_in_a_chat() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    start = clock.now
    offsets = [t - start for t in grants_over(limiter, clock, 42, 3.5)]
    assert offsets == [0.0, 1.0, 2.0, 3.0]


def test_groups_also_get_twenty_a_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    grants = grants_over(limiter, clock, -100, 90.0, step=0.25)
    in_first_minute = [t for t in grants if t < 1000.0 + 60]
    assert len(in_first_minute) == 20
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(grants))


def test_global_window_caps_all_chats_together() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    granted = [chat for chat in range(1, 100) if limiter.try_grant(chat) == 0]
    assert len(granted) == 30
    assert limiter.try_grant(500) > 0
    clock.now += 1.0
    assert limiter.try_grant(500) == 0


def test_retry_after_pauses_everything() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    limiter.pause(5)
    limiter.pause(2)
    assert limiter.try_grant(1) >= 5, "a shorter pause never shortens a longer one"
    clock.now += 5.2
    assert limiter.try_grant(1) == 0
