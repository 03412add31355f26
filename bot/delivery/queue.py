"""Per-chat coalescing queue around `deliver(job_id)`: latest state wins, failures come back with backoff."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiogram.exceptions import TelegramNetworkError, TelegramServerError

from bot.delivery.sender import Sender
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
    """One worker per chat with dirty jobs; several marks of a job before its turn collapse into one."""

    def __init__(
        self,
        sender: Sender,
        db: Database,
        deliver: Callable[[str], Awaitable[None]],
        *,
        in_hand: int = DELIVERIES_IN_HAND,
    ) -> None:
        self._sender = sender
        self._db = db
        self._deliver = deliver
        self._queues: dict[int, OrderedDict[str, None]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._failures: dict[str, int] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._in_hand = asyncio.Semaphore(in_hand)

    def notify(self, job_id: str, chat_id: int) -> None:
        """Mark a job's message as stale; several marks before delivery collapse into one."""
        if self._closed:
            return
        queue = self._queues.setdefault(chat_id, OrderedDict())
        queue[job_id] = None
        self._idle.clear()
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._run_chat(chat_id), name=f"deliver-{chat_id}")

    async def resume(self) -> int:
        """Queue every job whose newest state Telegram has not shown (after a restart)."""
        async with self._db.read() as conn:
            pending = await undelivered_jobs(conn)
        for job_id, chat_id in pending:
            self.notify(job_id, chat_id)
        return len(pending)

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

    async def _run_chat(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            with self._sender.delivering_jobs(chat_id):  # the chat's chatter waits until these are out
                await self._drain(chat_id, queue)
        finally:
            self._workers.pop(chat_id, None)
            if not queue:
                self._queues.pop(chat_id, None)
            if not self._workers:
                self._idle.set()

    async def _drain(self, chat_id: int, queue: OrderedDict[str, None]) -> None:
        while queue:
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
        except (TransientDeliveryError, TelegramNetworkError, TelegramServerError) as exc:
            attempt = self._failures.get(job_id, 0)
            self._failures[job_id] = attempt + 1
            delay = REDELIVERY_BACKOFF[min(attempt, len(REDELIVERY_BACKOFF) - 1)]
            log.warning("delivery of job %s postponed %.0fs: %s", job_id, delay, exc)
            asyncio.get_running_loop().call_later(delay, self.notify, job_id, chat_id)
        except Exception:
            log.exception("delivery of job %s failed", job_id)
