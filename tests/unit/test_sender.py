"""Pacing rules of the sender: Telegram's windows per chat inside a global one, and pauses on retry_after."""

from __future__ import annotations

import gc
import itertools
import weakref
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.methods import GetMe, GetStarTransactions, GetUserChatBoosts, Response, TelegramMethod

from bot.delivery.sender import (
    DeliveryLimits,
    Permit,
    PinResponseModels,
    RateLimiter,
    Sender,
    SlidingWindow,
    upload_timeout,
)


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
        if answered_at_once(limiter.try_grant(chat_id), clock):
            granted.append(round(clock.now, 2))
        clock.now += step
    return granted


def answered_at_once(granted: Permit | float, clock: Clock) -> bool:
    """True when the send was granted; Telegram answers it in no time."""
    if isinstance(granted, Permit):
        granted.settle(clock.now)
        return True
    return False


def test_window_counts_grants_in_the_last_period() -> None:
    window = SlidingWindow(limit=2, period=1.0)
    window.grant(10.0).settle(10.0)
    window.grant(10.5).settle(10.5)
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
    window = SlidingWindow(limit=30, period=1.0)
    granted = 0
    for _ in range(100):
        if window.wait(10.0) == 0:
            window.grant(10.0).settle(10.0)
            granted += 1
    assert granted == 30
    assert window.wait(10.5) == pytest.approx(0.5)
    assert window.wait(11.0) == 0.0


def test_global_sends_are_spread_evenly_not_bursted() -> None:
    # Many chats asking all the time: 30 a second overall, never two closer than 1/30 s, so a
    # window that frees up never releases a burst of sends on one tick.
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    start, granted, chat = clock.now, [], 0
    while clock.now < start + 3.0:
        chat += 1
        if answered_at_once(limiter.try_grant(chat), clock):
            granted.append(clock.now)
        clock.now += 0.005
    assert 85 <= len(granted) <= 90
    assert min(b - a for a, b in itertools.pairwise(granted)) >= 1 / 30 - 1e-9
    assert all(sum(1 for t in granted if s <= t < s + 1.0) <= 30 for s in granted)


def test_retry_after_pauses_everything() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    limiter.pause(5)
    limiter.pause(2)
    delay = limiter.try_grant(1)
    assert not isinstance(delay, Permit) and delay >= 5, "a shorter pause never shortens a longer one"
    clock.now += 5.2
    assert isinstance(limiter.try_grant(1), Permit)


def test_a_send_counts_from_telegrams_answer_not_from_the_grant() -> None:
    # Telegram counts a send when it arrives; a slow upload arrives late, so its answer is the safe time.
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    first = limiter.try_grant(7)
    assert isinstance(first, Permit)
    clock.now += 1.5
    waiting = limiter.try_grant(7)
    assert not isinstance(waiting, Permit), "still in flight: it may be counted any moment"
    assert 0 < waiting < 0.1, "asked again soon, not a whole period later"
    first.settle(clock.now)
    clock.now += 0.9
    assert not isinstance(limiter.try_grant(7), Permit)
    clock.now += 0.1
    assert isinstance(limiter.try_grant(7), Permit), "one period after the answer"


def test_unanswered_sends_fill_the_global_window() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    permits = []
    for chat in range(1, 31):
        permits.append(limiter.try_grant(chat))
        clock.now += 0.04
    assert all(isinstance(p, Permit) for p in permits)
    clock.now += 5.0
    assert not isinstance(limiter.try_grant(99), Permit)
    settled = permits[0]
    assert isinstance(settled, Permit)
    settled.settle(clock.now - 2.0)  # answered long ago: out of the window
    assert isinstance(limiter.try_grant(99), Permit)


async def test_response_models_survive_the_garbage_collector() -> None:
    # aiogram parses answers with Response[...]; pydantic only caches those weakly, so a collection
    # would make the next call build the model again on the event loop. The two methods return types
    # no other method returns, so no other test's calls pin their models.
    def model_ref(method: type[TelegramMethod[Any]]) -> weakref.ref[type[Response[Any]]]:
        returning: Any = method.__returning__
        return weakref.ref(Response[returning])

    unpinned = model_ref(GetStarTransactions)
    gc.collect()
    assert unpinned() is None, "control: without a pin the collector takes the model"

    async def answer(bot: Any, method: TelegramMethod[Any]) -> Response[Any]:
        return Response[Any](ok=True, result=True)

    pin = PinResponseModels()
    await pin(answer, cast(Bot, None), GetUserChatBoosts(chat_id=1, user_id=2))
    pinned = model_ref(GetUserChatBoosts)
    gc.collect()
    assert pinned() is not None


class RecordingBot:
    """Stands in for aiogram's Bot: records the request timeout of each call."""

    def __init__(self) -> None:
        self.timeouts: list[int | None] = []

    async def __call__(self, method: TelegramMethod[Any], request_timeout: int | None = None) -> bool:
        self.timeouts.append(request_timeout)
        return True


def test_upload_timeout_grows_with_the_file() -> None:
    assert upload_timeout(0) is None
    assert upload_timeout(2 * 1024 * 1024) is None, "small files keep aiogram's 60 s"
    fifty_mb = upload_timeout(50 * 1024 * 1024)
    assert fifty_mb is not None and fifty_mb >= 200, "50 MB at a slow 2 Mbit/s needs over three minutes"
    twenty_mb = upload_timeout(20 * 1024 * 1024)
    assert twenty_mb is not None and twenty_mb < fifty_mb


async def test_the_sender_gives_large_uploads_their_time() -> None:
    bot = RecordingBot()
    sender = Sender(cast(Bot, bot))
    await sender.call(GetMe(), chat_id=None)
    await sender.call(GetMe(), chat_id=1, uploading=500_000)
    await sender.call(GetMe(), chat_id=2, uploading=50 * 1024 * 1024)
    assert bot.timeouts == [None, None, upload_timeout(50 * 1024 * 1024)]


def chatter_grants_over(
    limiter: RateLimiter, clock: Clock, chat_id: int, seconds: float, step: float = 0.125
) -> list[float]:
    granted, end = [], clock.now + seconds
    while clock.now < end:
        if answered_at_once(limiter.try_grant_chatter(chat_id), clock):
            granted.append(round(clock.now, 2))
        clock.now += step
    return granted


def test_chatter_gets_half_of_a_private_chats_window() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    start = clock.now
    assert [t - start for t in chatter_grants_over(limiter, clock, 42, 5.5)] == [0.0, 2.0, 4.0]


def test_chatter_gets_half_of_a_groups_minute_and_jobs_keep_the_rest() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    assert len(chatter_grants_over(limiter, clock, -100, 59.0, step=0.5)) == 10
    clock.now += 0.5
    jobs = grants_over(limiter, clock, -100, 0.5)
    assert jobs, "a job's final finds room in a minute chatter has used all it may"


def test_chatter_waits_while_the_chats_jobs_are_delivered() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    with limiter.claimed(42):
        assert not isinstance(limiter.try_grant_chatter(42), Permit)
        assert answered_at_once(limiter.try_grant(42), clock), "the job itself goes"
        clock.now += 1 / 30  # the global window spaces all sends evenly
        assert answered_at_once(limiter.try_grant_chatter(43), clock), "other chats' chatter goes on"
    clock.now += 2.0
    assert isinstance(limiter.try_grant_chatter(42), Permit)


def test_chatter_takes_half_the_global_window() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    granted = sum(1 for chat in range(100) if answered_at_once(limiter.try_grant_chatter(chat), clock))
    assert granted == 1, "global sends are spread evenly, chatter's too"
    start, granted_times, chat = clock.now, [], 100
    while clock.now < start + 2.0:
        chat += 1
        if answered_at_once(limiter.try_grant_chatter(chat), clock):
            granted_times.append(clock.now)
        clock.now += 0.005
    assert all(sum(1 for t in granted_times if s <= t < s + 1.0) <= 15 for s in granted_times)


def sends_in_a_second(limiter: RateLimiter, clock: Clock, *, chats: int, chatter: bool = False) -> int:
    """How many sends the limiter grants over one second to `chats` chats that always have something."""
    granted = 0
    end = clock.now + 1.0
    while clock.now < end:
        for chat in range(1, chats + 1):
            try_grant = limiter.try_grant_chatter if chatter else limiter.try_grant
            permit = try_grant(chat)
            if not isinstance(permit, float):
                permit.settle(clock.now)
                granted += 1
        clock.now += 0.001
    return granted


def test_replicas_split_chatters_part_of_the_overall_budget() -> None:
    totals = []
    for replicas in (1, 2, 3, 4):
        clock = Clock()
        limiter = RateLimiter(DeliveryLimits(), clock)
        limiter.share_among(replicas)
        totals.append(sends_in_a_second(limiter, clock, chats=100, chatter=True) * replicas)
    assert totals == [15, 14, 15, 12], "N replicas' chatter together never passes its half of 30 a second"


class Recalled:
    """A shared budget that only answers what other replicas sent to a group."""

    def __init__(self, ages: list[float]) -> None:
        self.ages = ages

    async def take(self, group: int | None = None) -> Permit:
        return Permit([])

    async def recall(self, group: int) -> list[float]:
        ages, self.ages = self.ages, []
        return ages

    def pause(self, seconds: float) -> None:
        return None


async def test_a_groups_new_owner_counts_the_previous_owners_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(DeliveryLimits(), clock)
    limiter.share_among(2)
    limiter.share_through(Recalled([50.0 - n for n in range(15)]))  # 15 sends, 36 to 50 s ago
    await limiter.recall(-100)
    assert limiter.chat_delay(-100) == pytest.approx(10.0), "the oldest leaves the minute in 10 s"
    clock.now += 10.0
    assert limiter.chat_delay(-100) == 0.0
    await limiter.recall(42)  # a private chat: its owner's claim covers its second, nothing to recall
    assert limiter.chat_delay(42) == 0.0


def test_with_replicas_a_chats_jobs_and_everyones_chatter_fit_its_limits_together() -> None:
    clock = Clock()
    owner = RateLimiter(DeliveryLimits(), clock)
    owner.share_among(3)
    others = [RateLimiter(DeliveryLimits(), clock) for _ in range(3)]
    for limiter in others:
        limiter.share_among(3)
    group = -100
    in_a_minute = 0
    end = clock.now + 60.0
    while clock.now < end:
        for ask in [owner.try_grant, *(o.try_grant_chatter for o in others)]:
            permit = ask(group)
            if not isinstance(permit, float):
                permit.settle(clock.now)
                in_a_minute += 1
        clock.now += 0.01
    assert in_a_minute <= 20, f"{in_a_minute} messages to one group in a minute from 4 senders"
    assert in_a_minute >= 15, "the split still uses most of the group's budget"
