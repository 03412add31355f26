"""/broadcast: copy an admin's message to the whole audience, paced behind the jobs, resumable.

Each recipient's state is in the database and is set in the transaction that follows Telegram's answer to
its copy, so a restart resumes with those still pending. The one window left is between Telegram's answer
and that commit: a replica killed right there sends that one user a second copy when the broadcast
resumes (at least once, for at most the few sends in flight). With several replicas on one database the
`broadcast` lease picks the one that runs it; another takes over within a lease's TTL when it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable

from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import CopyMessage

from bot.delivery.sender import Sender
from bot.domain.errors import DomainError
from bot.i18n import Locales
from bot.operators.audience import Audience
from bot.operators.progress import Progress
from bot.replicas import Lease
from bot.storage.audience import mark_blocked
from bot.storage.broadcasts import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    create_broadcast,
    finish_broadcast,
    get_broadcast,
    pending_recipients,
    running_broadcast,
    settle_recipient,
)
from bot.storage.database import Database

log = logging.getLogger(__name__)

BROADCAST_LEASE = "broadcast"
BATCH = 30  # recipients read per round; the running broadcast's status is re-read between rounds
IN_FLIGHT = 8  # copies waiting for Telegram's answer at once (hides its latency; the pacing sets the rate)
PROGRESS_SECONDS = 3.0  # the progress message is edited at most this often
IDLE_RECHECK_SECONDS = 2.0  # the lease holder looks this often for a broadcast another replica recorded
STOP_GRACE_SECONDS = 5.0  # on shutdown, copies already on their way get this long to be answered and recorded
# 403s: the user blocked the bot, deleted their account ("user is deactivated"), or never started it. Not
# 400 "chat not found": copyMessage says that of a missing source chat too, and nobody is to blame for it.
SOURCE_GONE = "message to copy not found"


class BroadcastAlreadyRunning(DomainError):
    message_id = "broadcast-already-running"


class NobodyToBroadcastTo(DomainError):
    message_id = "broadcast-nobody"


class NoBroadcastRunning(DomainError):
    message_id = "broadcast-none-running"


def delivery_for(exc: TelegramAPIError) -> Delivery:
    """What a failed copy means for its recipient."""
    return Delivery.BLOCKED if isinstance(exc, TelegramForbiddenError) else Delivery.FAILED


class Broadcaster:
    """Records broadcasts (any replica) and runs them (the one holding the lease)."""

    def __init__(
        self,
        db: Database,
        sender: Sender,
        locales: Locales,
        audience: Audience,
        *,
        lease: Lease | None,
        clock: Callable[[], float] = time.time,
        progress_seconds: float = PROGRESS_SECONDS,
    ) -> None:
        self._db = db
        self._sender = sender
        self._locales = locales
        self._audience = audience
        self._lease = lease
        self._clock = clock
        self._progress_seconds = progress_seconds
        self._wake = asyncio.Event()
        self._cancelled: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self.copies_sent = 0

    # ------------------------------------------------------------------ what admins ask for
    async def start(
        self,
        *,
        admin_chat_id: int,
        admin_thread_id: int | None,
        from_chat_id: int,
        message_id: int,
        language: str,
    ) -> int:
        """Record a broadcast of the message to every reachable user; how many it goes to."""
        broadcast = Broadcast(
            id=secrets.token_hex(8),
            from_chat_id=from_chat_id,
            message_id=message_id,
            admin_chat_id=admin_chat_id,
            admin_thread_id=admin_thread_id,
            progress_message_id=None,
            language=language,
            status=BroadcastStatus.RUNNING,
            created_at=self._clock(),
            finished_at=None,
        )
        async with self._db.write() as conn:
            if await running_broadcast(conn) is not None:
                raise BroadcastAlreadyRunning()
            recipients = await create_broadcast(conn, broadcast)
            if recipients == 0:
                raise NobodyToBroadcastTo()  # rolls the record back
        self._wake.set()
        return recipients

    async def cancel(self) -> None:
        """Stop the running broadcast; whoever runs it sees that before its next round."""
        async with self._db.write() as conn:
            running = await running_broadcast(conn)
            if running is None:
                raise NoBroadcastRunning()
            await finish_broadcast(conn, running.id, BroadcastStatus.CANCELLED, self._clock())
        self._cancelled.add(running.id)
        self._wake.set()

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        """Start taking turns at running broadcasts (in the background)."""
        if self._task is None:
            self._task = asyncio.create_task(self._keep(), name="broadcasts")

    async def close(self) -> None:
        """Start no more copies, let those on their way be answered and recorded, then stop."""
        self._stopping = True
        self._wake.set()
        if self._worker is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._worker), STOP_GRACE_SECONDS)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._holding(False)
        if self._lease is not None:
            with contextlib.suppress(Exception):
                await self._lease.release()

    async def _keep(self) -> None:
        if self._lease is None:  # the only process on its database
            await self._holding(True)
            await asyncio.Event().wait()
        else:
            await self._lease.keep(self._holding)

    async def _holding(self, held: bool) -> None:
        if held and self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="broadcast-worker")
        elif not held and self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    async def _work(self) -> None:
        while not self._stopping:
            try:
                async with self._db.read() as conn:
                    broadcast = await running_broadcast(conn)
                if broadcast is not None:
                    await self._run(broadcast)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("running broadcasts failed; trying again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_RECHECK_SECONDS)

    async def _run(self, broadcast: Broadcast) -> None:
        progress = Progress(self._db, self._sender, self._locales, broadcast)
        await progress.open()
        reporter = asyncio.create_task(progress.every(self._progress_seconds), name="broadcast-progress")
        try:
            while not self._stopping and await self._still_running(broadcast.id):
                async with self._db.read() as conn:
                    batch = await pending_recipients(conn, broadcast.id, BATCH)
                if not batch:
                    async with self._db.write() as conn:
                        await finish_broadcast(conn, broadcast.id, BroadcastStatus.DONE, self._clock())
                    break
                in_flight = asyncio.Semaphore(IN_FLIGHT)
                await asyncio.gather(*(self._copy(broadcast, user, in_flight) for user in batch))
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
        await progress.final()

    async def _still_running(self, broadcast_id: str) -> bool:
        if broadcast_id in self._cancelled:
            return False
        async with self._db.read() as conn:
            stored = await get_broadcast(conn, broadcast_id)
        return stored is not None and stored.status is BroadcastStatus.RUNNING

    async def _copy(self, broadcast: Broadcast, user_id: int, in_flight: asyncio.Semaphore) -> None:
        async with in_flight:
            if self._stopping or broadcast.id in self._cancelled:
                return
            method = CopyMessage(
                chat_id=user_id, from_chat_id=broadcast.from_chat_id, message_id=broadcast.message_id
            )
            try:
                await self._sender.call_as_chatter(method, chat_id=user_id)
                outcome = Delivery.SENT
            except TelegramAPIError as exc:
                outcome = delivery_for(exc)
                log.info("broadcast %s to %s: %s", broadcast.id, user_id, exc)
                if isinstance(exc, TelegramBadRequest) and SOURCE_GONE in str(exc).lower():
                    await self._give_up(broadcast)  # nobody else would get it either
            # Telegram has answered: record it at once (a kill before this commit re-sends this one copy).
            async with self._db.write() as conn:
                await settle_recipient(conn, broadcast.id, user_id, outcome, self._clock())
                if outcome is Delivery.BLOCKED:
                    await mark_blocked(conn, user_id, self._clock())
            if outcome is Delivery.SENT:
                self.copies_sent += 1
            elif outcome is Delivery.BLOCKED:
                self._audience.forget(user_id)

    async def _give_up(self, broadcast: Broadcast) -> None:
        log.warning("broadcast %s: the message to copy is gone; cancelling", broadcast.id)
        self._cancelled.add(broadcast.id)
        async with self._db.write() as conn:
            await finish_broadcast(conn, broadcast.id, BroadcastStatus.CANCELLED, self._clock())


class BroadcastUsage(DomainError):
    message_id = "broadcast-usage"
