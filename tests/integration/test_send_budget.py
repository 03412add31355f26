"""Telegram's overall limit shared by replicas through PostgreSQL: whoever has the work may use all of it,
together they never pass it, a dead replica's places come back, and a group's minute moves with the group."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage

from bot.delivery.budget import SharedBudget, SharedTicket
from bot.delivery.pacing import DeliveryLimits
from bot.delivery.sender import Sender
from bot.storage.database import Database
from bot.storage.sends import until_a_slot_frees
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.fakes.telegram.models import FloodLimits
from tests.fakes.telegram.server import LoopbackSession
from tests.harness import TOKEN
from tests.postgres import PostgresServer

REPLICAS = ("replica-a", "replica-b", "replica-c")
GROUP = -1001555000111


class Fleet:
    """Three replicas' budgets on one database, and who the roster says is alive."""

    def __init__(self, url: str) -> None:
        self.alive = list(REPLICAS)
        self.dbs = [Database(url) for _ in REPLICAS]
        self.budgets = [
            SharedBudget(db, me, DeliveryLimits(), lambda: tuple(self.alive))
            for db, me in zip(self.dbs, REPLICAS, strict=True)
        ]

    async def start(self) -> None:
        for db, budget in zip(self.dbs, self.budgets, strict=True):
            await db.open()
            await budget.start()

    async def close(self) -> None:
        for db, budget in zip(self.dbs, self.budgets, strict=True):
            await budget.close()
            await db.close()


@pytest.fixture
async def fleet(postgres: PostgresServer, request: pytest.FixtureRequest) -> AsyncIterator[Fleet]:
    name = "mjgram_budget_" + request.node.name.removeprefix("test_")[:40]
    fleet = Fleet(postgres.create_database(name))
    await fleet.start()
    yield fleet
    await fleet.close()


async def take_now(budget: SharedBudget) -> SharedTicket:
    """A slot taken without waiting for one to free (the bound only allows for a loaded machine)."""
    return await asyncio.wait_for(budget.take(), timeout=2.0)


async def waits(budget: SharedBudget, seconds: float) -> bool:
    try:
        ticket = await asyncio.wait_for(budget.take(), timeout=seconds)
    except TimeoutError:
        return True
    ticket.settle(0.0)
    return False


async def seconds_until_taken(budget: SharedBudget, *, within: float) -> float:
    """How long `budget` waited for a slot (which is answered at once)."""
    started = time.monotonic()
    ticket = await asyncio.wait_for(budget.take(), timeout=within)
    ticket.settle(0.0)
    return time.monotonic() - started


async def until(condition: Callable[[], Awaitable[bool]], *, within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_one_replica_with_all_the_work_may_use_the_whole_budget(fleet: Fleet) -> None:
    a, b, _ = fleet.budgets
    tickets = [await take_now(a) for _ in range(30)]  # the others have nothing to send
    assert len({t.slot for t in tickets}) == 30
    assert await waits(b, 0.3), "a 31st send in the second must wait, whichever replica asks"


async def test_a_freed_place_comes_back_a_second_after_telegrams_answer(fleet: Fleet) -> None:
    a, b, _ = fleet.budgets
    tickets = [await take_now(a) for _ in range(30)]
    tickets[0].settle(0.0)
    assert await seconds_until_taken(b, within=3.0) >= 0.95, "nobody may send within a second of the answer"


async def test_a_dead_replicas_unanswered_sends_give_their_places_back(fleet: Fleet) -> None:
    a, b, _ = fleet.budgets
    for _ in range(30):
        await take_now(a)  # a dies with all of them on their way
    assert await waits(b, 0.3)
    fleet.alive.remove("replica-a")  # its lease ran out
    assert len({(await take_now(b)).slot for _ in range(30)}) == 30


async def test_a_send_given_up_while_waiting_leaves_no_place_taken(fleet: Fleet) -> None:
    a, b, _ = fleet.budgets
    tickets = [await take_now(a) for _ in range(29)]
    (await take_now(b)).settle(0.0)  # the 30th, answered at once
    asked = asyncio.create_task(b.take())
    await asyncio.sleep(0.05)
    asked.cancel()
    await asyncio.gather(asked, return_exceptions=True)
    for ticket in tickets:
        ticket.settle(0.0)
    again = [await asyncio.wait_for(a.take(), timeout=5.0) for _ in range(30)]
    assert len({t.slot for t in again}) == 30, "every place is free again a second later"


async def test_a_retry_after_one_replica_got_holds_every_replica(fleet: Fleet) -> None:
    a, b, _ = fleet.budgets
    on_its_way = await take_now(a)
    a.pause(3.0)  # Telegram answered another of a's sends with retry_after 3
    db = fleet.dbs[1]

    async def written() -> bool:
        async with db.read() as conn:
            return await until_a_slot_frees(conn, count=30) > 2.0

    await until(written)
    on_its_way.settle(0.0)  # answered during the pause: its slot still waits the pause out
    assert await seconds_until_taken(b, within=6.0) >= 1.8, "another replica sent during Telegram's pause"


async def test_a_groups_next_owner_recalls_the_job_messages_others_sent_it(fleet: Fleet) -> None:
    a, b, _ = fleet.budgets
    for _ in range(3):
        (await take_now(a)).settle(0.0)
    (await a.take(GROUP)).settle(0.0)
    (await a.take(GROUP)).settle(0.0)
    recalled: list[float] = []

    async def b_recalls_both() -> bool:
        recalled.extend(await b.recall(GROUP))
        return len(recalled) == 2

    await until(b_recalls_both)
    assert all(0.0 <= age < 5.0 for age in recalled)
    assert await b.recall(GROUP) == [], "a send is recalled once, not again at the next claim"
    assert await a.recall(GROUP) == [], "a replica's own sends are in its own windows already"


async def test_three_replicas_sending_at_once_get_no_429(fleet: Fleet) -> None:
    user = FakeUser(id=1, first_name="Reader")
    async with FakeTelegram(TOKEN, flood=FloodLimits()) as tg:
        chats = [FakeChat(id=10_000 + n, type="private") for n in range(90)]
        for chat in chats:
            tg.register_chat(chat, user)
        bots = [Bot(TOKEN, session=LoopbackSession(tg.base_url)) for _ in REPLICAS]
        senders = [Sender(bot) for bot in bots]
        for sender, budget in zip(senders, fleet.budgets, strict=True):
            sender.limiter.share_through(budget)
            sender.limiter.share_among(len(REPLICAS))
        try:

            async def send_all(sender: Sender, mine: list[FakeChat]) -> None:
                await asyncio.gather(
                    *(
                        sender.call(SendMessage(chat_id=chat.id, text=f"{n}"), chat_id=chat.id)
                        for chat in mine
                        for n in range(2)
                    )
                )

            await asyncio.gather(*(send_all(s, chats[i::3]) for i, s in enumerate(senders)))
        finally:
            for sender, bot in zip(senders, bots, strict=True):
                await sender.close()
                await bot.session.close()
        assert tg.flood_hits == 0
        assert sum(s.retry_after_hits for s in senders) == 0
        assert sum(len(tg.chat_messages(chat.id)) for chat in chats) == 180
