"""Telegram's overall limit for several replicas: one budget in PostgreSQL that every send takes a slot of.

The budget is a ring of `global_per_second` slots (`bot/storage/sends.py`). A send takes a free slot just
before it leaves and holds it until Telegram has answered and a second more, as the one-process window
counts it, so the replicas together never have more sends in any second than the ring has slots, whichever
of them has the work. A dead replica's slots free when its lease runs out. Each replica asks through one
connection it keeps, one send at a time; answers are written back in batches.

Job messages to groups are also remembered for a minute, so a group's next owner (after a hand-over or a
death) counts the previous owner's sends within the group's 20 a minute. A retry_after Telegram gives one
replica holds every slot until it is over, so all replicas wait it out.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence

from bot.delivery.pacing import DeliveryLimits
from bot.storage.database import Database
from bot.storage.own_connection import OwnConnection
from bot.storage.sends import (
    forget_group_sends,
    others_group_sends,
    pause_slots,
    provide_slots,
    settle_slots,
    take_slot,
    until_a_slot_frees,
)

log = logging.getLogger(__name__)

PERIOD = 1.0  # Telegram's second
ALL_ON_THEIR_WAY_RECHECK = 0.02  # seconds; every slot's send is unanswered: ask again this often
LONGEST_WAIT = 0.25  # seconds; a waiting send asks again at least this often (another may have died)
FAILURE_PAUSE = 0.5  # seconds before asking again after the database failed
GROUP_MINUTE = 60.0
FORGET_EVERY = 30.0  # seconds between deletions of group sends older than two minutes


class SharedTicket:
    """A taken slot; `settle` once Telegram has answered (or the send failed)."""

    __slots__ = ("_budget", "group", "number", "slot")

    def __init__(self, budget: SharedBudget, number: int, slot: int, group: int | None) -> None:
        self._budget = budget
        self.number = number
        self.slot = slot
        self.group = group

    def settle(self, now: float) -> None:
        self._budget.answered(self)


class SharedBudget:
    """`alive`: the replicas the roster counts alive now (a slot held by any other is free)."""

    def __init__(
        self, db: Database, me: str, limits: DeliveryLimits, alive: Callable[[], Sequence[str]]
    ) -> None:
        self._conn = OwnConnection(db)
        self._me = me
        self._count = limits.global_per_second
        self._alive = alive
        self._numbers = itertools.count(1)
        self._asking = asyncio.Lock()  # this replica's sends ask one at a time
        self._answered: list[SharedTicket] = []
        self._unsure: list[int] = []  # tickets whose taking was cut short: maybe taken, so freed
        self._pause = 0.0  # seconds Telegram asked the bot to wait, not yet written
        self._flush_wanted = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._recalled: dict[int, float] = {}  # group → the clock of its last recall

    async def start(self) -> None:
        async with self._conn.use() as conn:
            await provide_slots(conn, self._count)
        self._flusher = asyncio.create_task(self._flush_forever(), name="send-budget")

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        try:
            await self._flush()
        except Exception:
            log.warning("freeing the last send slots failed; they free when this replica's lease ends")
        await self._conn.close()

    async def take(self, group: int | None = None) -> SharedTicket:
        """Wait for a slot of the bot's budget. `group`: the group a job message goes to, to remember."""
        async with self._asking:
            while True:
                number = next(self._numbers)
                try:
                    async with self._conn.use() as conn:
                        slot = await take_slot(
                            conn, holder=self._me, ticket=number, count=self._count, alive=self._alive()
                        )
                        wait = 0.0 if slot is not None else await until_a_slot_frees(conn, count=self._count)
                except asyncio.CancelledError:
                    self._free_later(number)
                    raise
                except Exception:
                    log.exception("taking a Telegram send slot failed")
                    self._free_later(number)
                    await asyncio.sleep(FAILURE_PAUSE)
                    continue
                if slot is not None:
                    return SharedTicket(self, number, slot, group)
                await asyncio.sleep(min(wait, LONGEST_WAIT) or ALL_ON_THEIR_WAY_RECHECK)

    def answered(self, ticket: SharedTicket) -> None:
        self._answered.append(ticket)
        self._flush_wanted.set()

    def pause(self, seconds: float) -> None:
        """Telegram answered one replica with retry_after: every replica waits it out."""
        self._pause = max(self._pause, seconds)
        self._flush_wanted.set()

    async def recall(self, group: int) -> list[float]:
        """Ages (seconds) of the job messages other replicas sent to `group` in its last minute that this
        one has not recalled yet."""
        since = self._recalled.get(group, 0.0)
        try:
            async with self._conn.use() as conn:
                now, ages = await others_group_sends(
                    conn, group, me=self._me, since=since, period=GROUP_MINUTE
                )
        except Exception:
            log.exception("reading group %s's recent sends failed", group)
            return []
        self._recalled[group] = now
        return ages

    def _free_later(self, number: int) -> None:
        self._unsure.append(number)
        self._flush_wanted.set()

    async def _flush_forever(self) -> None:
        forgotten = asyncio.get_running_loop().time()
        while True:
            await self._flush_wanted.wait()
            self._flush_wanted.clear()
            try:
                await self._flush()
                now = asyncio.get_running_loop().time()
                if now - forgotten > FORGET_EVERY:
                    forgotten = now
                    await self._forget()
            except Exception:
                log.exception("freeing Telegram send slots failed")
                self._flush_wanted.set()
                await asyncio.sleep(FAILURE_PAUSE)

    async def _flush(self) -> None:
        if self._pause:
            async with self._conn.use() as conn:
                await pause_slots(conn, seconds=self._pause, count=self._count)
            self._pause = 0.0
        answered, self._answered = self._answered, []
        unsure, self._unsure = self._unsure, []
        if not answered and not unsure:
            return
        tickets = [t.number for t in answered] + unsure
        groups = [t.group for t in answered if t.group is not None]
        try:
            async with self._conn.use() as conn:
                await settle_slots(conn, holder=self._me, tickets=tickets, period=PERIOD, groups=groups)
        except BaseException:
            self._answered[:0] = answered
            self._unsure[:0] = unsure
            raise

    async def _forget(self) -> None:
        async with self._conn.use() as conn:
            await forget_group_sends(conn, older_than=2 * GROUP_MINUTE)
        recalled_at = max(self._recalled.values(), default=0.0)
        self._recalled = {g: at for g, at in self._recalled.items() if recalled_at - at < 2 * GROUP_MINUTE}
