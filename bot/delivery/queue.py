"""Per-chat coalescing queue around `deliver(job_id)`: latest state wins, failures come back with backoff."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramNetworkError, TelegramServerError

from bot.delivery.claims import ChatClaims, LocalClaims
from bot.delivery.sender import Sender
from bot.roster import Roster, SoleReplica
from bot.storage.database import Database
from bot.storage.jobs import undelivered_jobs

log = logging.getLogger(__name__)

REDELIVERY_BACKOFF = (1.0, 3.0, 10.0, 30.0)
# Deliveries prepared at once (pictures downloaded and converted, waiting for their Telegram turn). Telegram
# takes 30 a second, and an upscale holds its place about a second (photo, then the file): 16 keep up.
DELIVERIES_IN_HAND = 16


class TransientDeliveryError(Exception):
    """Delivery could not finish now but may later (image not downloadable yet, network down)."""


class DeliveryQueue:
    """One worker per chat with dirty jobs; several marks of a job before its turn collapse into one.

    With several replicas, a chat's jobs are delivered by the replica the roster makes the chat's owner, under
    a claim that keeps any other out; the others' changes reach it through the outbox (`resume()`, run
    periodically: jobs whose newest state Telegram has not shown).
    """

    def __init__(
        self,
        sender: Sender,
        db: Database,
        deliver: Callable[[str], Awaitable[None]],
        *,
        in_hand: int = DELIVERIES_IN_HAND,
        roster: Roster | None = None,
        claims: ChatClaims | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sender = sender
        self._db = db
        self._deliver = deliver
        self._roster = roster or SoleReplica()
        self._claims = claims or LocalClaims()
        self._hand_over_late = claims is not None
        self._clock = clock
        self._queues: dict[int, OrderedDict[str, None]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._in_hand = asyncio.Semaphore(in_hand)

    def notify(self, job_id: str, chat_id: int) -> None:
        """Mark a job's message as stale; several marks before delivery collapse into one."""
        if self._closed or not self._roster.owns(chat_id):
            return  # another replica delivers this chat: it finds the job in the outbox
        queue = self._queues.setdefault(chat_id, OrderedDict())
        queue[job_id] = None
        self._idle.clear()
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._run_chat(chat_id), name=f"deliver-{chat_id}")

    async def resume(self) -> int:
        """Queue every job of this replica's chats whose newest state Telegram has not shown (after a
        restart, and periodically with several replicas); jobs waiting out a failure's backoff stay put."""
        async with self._db.read() as conn:
            pending = await undelivered_jobs(conn)
        now = self._clock()
        queued = 0
        for job_id, chat_id in pending:
            if self._retry_at.get(job_id, 0.0) <= now and self._roster.owns(chat_id):
                self.notify(job_id, chat_id)
                queued += 1
        return queued

    async def sweep(self, interval: float) -> None:
        """Run `resume()` every `interval` seconds until cancelled (several replicas share the outbox)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.resume()
            except Exception:
                log.exception("reading the delivery outbox failed")

    def depth(self) -> int:
        """Jobs whose message waits to be brought up to date."""
        return sum(len(queue) for queue in self._queues.values())

    def failed_attempts(self, job_id: str) -> int:
        """How many deliveries of the job in a row were postponed by a transient failure."""
        return self._failures.get(job_id, 0)

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        self._closed = True
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        await self._claims.close()

    async def _run_chat(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            if not await self._claims.claim(chat_id):
                queue.clear()  # another replica is still at it; the outbox brings what it leaves
                return
            try:
                await self._sender.limiter.recall(chat_id)  # what the chat's previous owner sent lately
                with self._sender.delivering_jobs(chat_id):  # the chat's chatter waits until these are out
                    await self._drain(chat_id, queue)
                    while self._hand_over_late:
                        # Another replica may claim the chat next, knowing nothing of this one's sends: keep
                        # it until the last one has left the chat's window (Telegram's second, at least).
                        await self._sender.until_chat_ready(chat_id)
                        if not queue or not self._roster.owns(chat_id):
                            break
                        await self._drain(chat_id, queue)
            finally:
                await self._claims.release(chat_id)
        finally:
            self._workers.pop(chat_id, None)
            if not queue:
                self._queues.pop(chat_id, None)
            if not self._workers:
                self._idle.set()

    async def _drain(self, chat_id: int, queue: OrderedDict[str, None]) -> None:
        while queue:
            if not self._roster.owns(chat_id):
                queue.clear()  # the chat moved to another replica, which takes it from the outbox
                return
            # Pictures are fetched and converted only once this chat may send, and only a few deliveries
            # at a time: when many jobs finish together, the rest wait as job ids (and keep coalescing)
            # instead of as downloaded images queued for Telegram's global limit.
            await self._sender.until_chat_ready(chat_id)
            async with self._in_hand:
                job_id = next(iter(queue))
                del queue[job_id]
                await self._deliver_with_retry(job_id, chat_id)

    async def _deliver_with_retry(self, job_id: str, chat_id: int) -> None:
        try:
            await self._deliver(job_id)
            self._failures.pop(job_id, None)
            self._retry_at.pop(job_id, None)
        except (TransientDeliveryError, TelegramNetworkError, TelegramServerError) as exc:
            delay = self._back_off(job_id)
            log.warning("delivery of job %s postponed %.0fs: %s", job_id, delay, exc)
            asyncio.get_running_loop().call_later(delay, self.notify, job_id, chat_id)
        except Exception:
            self._back_off(job_id)  # not retried here; the outbox tries again after the backoff
            log.exception("delivery of job %s failed", job_id)

    def _back_off(self, job_id: str) -> float:
        attempt = self._failures.get(job_id, 0)
        self._failures[job_id] = attempt + 1
        delay = REDELIVERY_BACKOFF[min(attempt, len(REDELIVERY_BACKOFF) - 1)]
        self._retry_at[job_id] = self._clock() + delay
        return delay
