"""What running as one of several replicas on one PostgreSQL adds to a process; nothing for a lone one.

The roster (who is alive, so who owns each chat and job), the chat claims delivery takes, the send budget
they share (Telegram's overall limit), Telegram updates recorded before Telegram hears they arrived, and the
inbox keeper that handles a dead replica's unfinished updates.
"""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher

from bot.delivery import JobDelivery
from bot.delivery.budget import SharedBudget
from bot.delivery.claims import AdvisoryClaims
from bot.delivery.sender import Sender
from bot.inbox import InboxKeeper
from bot.replicas import replica_id
from bot.roster import SharedRoster
from bot.storage.database import Database
from bot.update_once import RecordBeforeConfirming, UpdateOnceMiddleware, seen_updates_for

# How often each replica looks in the outbox for other replicas' changes to its chats.
OUTBOX_SWEEP_SECONDS = 0.5


class Replication:
    """Built before the services that use it; `start` after they started, `stop` before they close."""

    def __init__(self, db: Database, bot: Bot, sender: Sender) -> None:
        self._db = db
        self._bot = bot
        self.me = replica_id()
        self.shared = db.shared
        self.roster = SharedRoster(db, self.me) if db.shared else None
        self.claims = AdvisoryClaims(db) if db.shared else None
        self.once = UpdateOnceMiddleware(seen_updates_for(db, self.me))
        self._inbox: InboxKeeper | None = None
        self._keeping: asyncio.Task[None] | None = None
        self._budget: SharedBudget | None = None
        if self.roster is not None:
            roster = self.roster
            self._budget = SharedBudget(db, self.me, sender.limiter.limits, lambda: roster.members)
            sender.limiter.share_through(self._budget)
            sender.limiter.hold_until(roster.settled)  # until the others count this replica in
            roster.on_change(sender.limiter.share_among)
            bot.session.middleware(RecordBeforeConfirming(self.once))  # recorded before getUpdates confirms

    @property
    def intake_once(self) -> UpdateOnceMiddleware | None:
        """For the webhook: record each update before answering Telegram (several replicas only)."""
        return self.once if self.shared else None

    async def join(self) -> None:
        """Count this replica in; before the job service takes charge of the jobs it owns."""
        if self.roster is not None and self._budget is not None:
            await self._budget.start()
            await self.roster.start()

    def start(self, delivery: JobDelivery, dispatcher: Dispatcher) -> None:
        """Look for other replicas' changes to this one's chats, and for a dead one's unfinished updates."""
        if self.roster is None:
            return
        delivery.sweep_outbox(OUTBOX_SWEEP_SECONDS)
        self._inbox = InboxKeeper(self._db, self.me, self._bot, dispatcher, self.once)
        self._keeping = asyncio.create_task(self._inbox.run(), name="inbox")

    def stop_taking_over(self) -> None:
        """First thing on shutdown: take no more of a dead replica's updates."""
        if self._keeping is not None:
            self._keeping.cancel()

    async def leave(self) -> None:
        """Last: hand this replica's share over at once (a clean stop)."""
        if self._keeping is not None:
            await asyncio.gather(self._keeping, return_exceptions=True)
        if self.roster is not None:
            await self.roster.stop()

    async def close(self) -> None:
        """After the last send: free this replica's places in the bot's send budget."""
        if self._budget is not None:
            await self._budget.close()
