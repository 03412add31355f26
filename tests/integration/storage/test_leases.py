"""Leases on SQLite and PostgreSQL: one holder at a time, taken over once the holder stops renewing."""

from __future__ import annotations

import asyncio

from bot.replicas import LEASE_TTL, Lease
from bot.storage.database import Database
from bot.storage.leases import lease_holder

POLLING = "telegram-polling"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_one_replica_holds_a_lease_until_it_stops_renewing(database: Database) -> None:
    clock = Clock()
    first = Lease(database, POLLING, "replica-a", clock=clock)
    second = Lease(database, POLLING, "replica-b", clock=clock)

    assert await first.claim() is True
    assert await second.claim() is False
    clock.now += LEASE_TTL - 1
    assert await first.claim() is True, "the holder renews"
    clock.now += LEASE_TTL - 1
    assert await second.claim() is False, "a renewed lease is still running"

    clock.now += LEASE_TTL  # the holder died: no renewal for a whole TTL
    assert await second.claim() is True
    assert await first.claim() is False
    async with database.read() as conn:
        assert await lease_holder(conn, POLLING, now=clock.now) == "replica-b"


async def test_a_released_lease_is_taken_at_once(database: Database) -> None:
    clock = Clock()
    first = Lease(database, POLLING, "replica-a", clock=clock)
    second = Lease(database, POLLING, "replica-b", clock=clock)
    assert await first.claim()

    await first.release()

    assert await second.claim() is True


async def test_replicas_racing_for_a_new_lease_get_exactly_one_holder(database: Database) -> None:
    racers = [Lease(database, "new-lease", f"replica-{i}") for i in range(6)]

    won = await asyncio.gather(*(lease.claim() for lease in racers))

    assert sorted(won) == [False] * 5 + [True]


async def test_keeping_a_lease_reports_taking_and_losing_it(database: Database) -> None:
    clock = Clock()
    seen: list[bool] = []
    changed = asyncio.Event()

    async def on_change(held: bool) -> None:
        seen.append(held)
        changed.set()

    lease = Lease(database, POLLING, "replica-a", ttl=0.3, clock=clock)
    keeper = asyncio.create_task(lease.keep(on_change))
    await asyncio.wait_for(changed.wait(), timeout=5)
    changed.clear()
    async with database.write() as conn:  # another replica took it over meanwhile
        from bot.storage.leases import claim_lease, release_lease

        await release_lease(conn, POLLING, "replica-a")
        assert await claim_lease(conn, POLLING, "replica-b", now=clock.now, ttl=60)
    await asyncio.wait_for(changed.wait(), timeout=5)
    keeper.cancel()
    await asyncio.gather(keeper, return_exceptions=True)

    assert seen == [True, False]
