"""Pacing rules of the sender: token buckets per chat inside a global one, and pauses on retry_after."""

from __future__ import annotations

from bot.sender import DeliveryLimits, RateLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_paces() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, capacity=2.0, clock=clock)
    assert [bucket.reserve(), bucket.reserve()] == [0.0, 0.0]
    assert bucket.reserve() == 1.0
    assert bucket.reserve() == 2.0, "reservations queue up behind each other"
    clock.now += 10
    assert bucket.reserve() == 0.0 and bucket.idle() is False


def test_bucket_refills_to_capacity_only() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, capacity=2.0, clock=clock)
    clock.now += 3600
    assert [bucket.reserve(), bucket.reserve(), bucket.reserve()] == [0.0, 0.0, 1.0]


async def test_groups_are_paced_per_minute_and_private_chats_per_second() -> None:
    clock = Clock()
    limits = DeliveryLimits(private_per_second=1, group_per_minute=20, private_burst=1, group_burst=1)
    limiter = RateLimiter(limits, clock)
    group_delays = [limiter._chat_bucket(-100).reserve() for _ in range(3)]
    private_delays = [limiter._chat_bucket(42).reserve() for _ in range(3)]
    assert group_delays == [0.0, 3.0, 6.0]
    assert private_delays == [0.0, 1.0, 2.0]


async def test_retry_after_pauses_everything() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    limiter.pause(5)
    limiter.pause(2)
    assert limiter._paused_until >= clock.now + 5, "a shorter pause never shortens a longer one"
    clock.now += 6
    await limiter.wait_pause()
