"""JobDelivery: the queue, the message sync and the media resolver put together behind one object."""

from __future__ import annotations

import asyncio

from bot.delivery.claims import ChatClaims
from bot.delivery.media import Download, MediaResolver
from bot.delivery.questions import InputQuestions, QuestionBook
from bot.delivery.queue import DELIVERIES_IN_HAND, DeliveryQueue
from bot.delivery.render import WaitingReason
from bot.delivery.sender import Sender
from bot.delivery.sync import FailResult, MessageSync
from bot.domain import Job
from bot.i18n import Locales
from bot.media import ImageDecoder
from bot.region_links import RegionLinks
from bot.roster import Roster
from bot.storage.database import Database


class JobDelivery:
    """Per-chat workers that render dirty jobs and make Telegram show them, nothing lost or repeated."""

    def __init__(
        self,
        sender: Sender,
        db: Database,
        locales: Locales,
        *,
        download: Download,
        fail_result: FailResult,
        questions: QuestionBook,
        simulated: bool,
        max_image_bytes: int,
        timeout_minutes: int,
        region_links: RegionLinks | None = None,
        waiting: WaitingReason | None = None,
        in_hand: int = DELIVERIES_IN_HAND,
        decoder: ImageDecoder | None = None,
        roster: Roster | None = None,
        claims: ChatClaims | None = None,
        credits_back: bool = False,
    ) -> None:
        self._queue = DeliveryQueue(sender, db, self.deliver, in_hand=in_hand, roster=roster, claims=claims)
        self._sweeping: asyncio.Task[None] | None = None
        media = MediaResolver(
            db,
            download,
            simulated=simulated,
            max_image_bytes=max_image_bytes,
            failed_attempts=self._queue.failed_attempts,
            decoder=decoder or ImageDecoder(),
        )
        self._sync = MessageSync(
            sender,
            db,
            locales,
            media,
            InputQuestions(sender, db, locales, questions),
            fail_result=fail_result,
            simulated=simulated,
            timeout_minutes=timeout_minutes,
            region_links=region_links,
            waiting=waiting,
            credits_back=credits_back,
        )
        self.delivered_states = 0

    def notify(self, job_id: str, chat_id: int) -> None:
        """Mark a job's message as stale; several marks before delivery collapse into one."""
        self._queue.notify(job_id, chat_id)

    def job_changed(self, job: Job) -> None:
        """Listener hook for the job service: the job's stored state changed, show it."""
        self._queue.notify(job.id, job.chat_id)

    def queue_depth(self) -> int:
        """Jobs waiting for their message to be brought up to date (for /metrics)."""
        return self._queue.depth()

    async def resume(self) -> int:
        """Queue every job whose newest state Telegram has not shown (after a restart)."""
        return await self._queue.resume()

    def sweep_outbox(self, interval: float) -> None:
        """With several replicas: look for other replicas' changes to this one's chats every `interval` s."""
        self._sweeping = asyncio.create_task(self._queue.sweep(interval), name="delivery-outbox")

    async def wait_idle(self) -> None:
        await self._queue.wait_idle()

    async def close(self) -> None:
        if self._sweeping is not None:
            self._sweeping.cancel()
            await asyncio.gather(self._sweeping, return_exceptions=True)
        await self._queue.close()

    async def deliver(self, job_id: str) -> None:
        """Bring the job's message up to date with its stored state."""
        if await self._sync.deliver(job_id):
            self.delivered_states += 1

    async def send_copy(self, job: Job, chat_id: int, thread_id: int | None, reply_to: int | None) -> bool:
        """Post a finished job's result again, with its live buttons; False when there is none to post."""
        return await self._sync.send_copy(job, chat_id, thread_id, reply_to)
