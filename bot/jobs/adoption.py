"""Taking charge of unfinished jobs: all of them at start; with several replicas, the ones each one owns.

A job's polling, its input timeout and the reconciling of a submit that never got its answer belong to the
replica the roster makes the job's owner. When a replica dies, its jobs' owners change: the survivors look
again whenever the roster changes, and every few seconds for jobs other replicas recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.domain import JobStatus
from bot.jobs.policy import JobPolicy
from bot.jobs.poller import Poller
from bot.jobs.recovery import Reconciler
from bot.roster import MEMBER_PREFIX, Roster, SoleReplica
from bot.storage.database import Database
from bot.storage.jobs import lost_submits, unfinished_jobs

log = logging.getLogger(__name__)

# A job still without its task id this long after it was recorded lost its submit: a live replica's submit
# has answered or failed by then (the backend call times out after 30 s). Jobs that name their submitter
# are reconciled as soon as it is seen dead; this is for those recorded before schema 4.
SUBMIT_GRACE_SECONDS = 120.0
ADOPT_EVERY_SECONDS = 5.0


class Adoption:
    """Schedules this replica's unfinished jobs with the poller; reconciles those whose submit was lost."""

    def __init__(
        self,
        db: Database,
        backend_name: str,
        poller: Poller,
        reconciler: Reconciler,
        policy: JobPolicy,
        clock: Callable[[], float],
        roster: Roster | None = None,
    ) -> None:
        self._db = db
        self._backend_name = backend_name
        self._poller = poller
        self._reconciler = reconciler
        self._policy = policy
        self._clock = clock
        self._roster = roster or SoleReplica()
        self._shared = roster is not None
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def adopt(self) -> None:
        """Take charge of every unfinished job this replica owns and does not look after yet."""
        now = self._clock()
        async with self._db.read() as conn:
            unfinished = await unfinished_jobs(conn, self._backend_name)
            lost = (
                await lost_submits(conn, self._backend_name, MEMBER_PREFIX, now=now) if self._shared else None
            )
        for job in unfinished:
            if not self._roster.owns(job.id) or self._poller.scheduled(job.id):
                continue
            if job.status is JobStatus.NEEDS_INPUT:
                self._poller.check_at(job.id, job.updated_at + self._policy.input_timeout)
            elif job.task_id is not None:
                self._poller.check_now(job.id)
            elif lost is None or job.id in lost or now - job.updated_at >= SUBMIT_GRACE_SECONDS:
                # Stopped between recording the job and storing the backend's answer: ask the backend.
                await self._reconciler.reconcile(job)

    def start(self) -> None:
        """With several replicas: adopt again every few seconds and whenever the roster changes."""
        if self._shared:
            self._roster.on_change(lambda _count: self._changed.set())
            self._task = asyncio.create_task(self._run(), name="job-adoption")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=ADOPT_EVERY_SECONDS)
            try:
                await self.adopt()
            except Exception:
                log.exception("adopting unfinished jobs failed")
