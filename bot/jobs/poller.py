"""Checks on jobs the backend has gone quiet about: poll, time out, and give up on lost tasks."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
from collections.abc import Callable

from bot.backends.base import Backend
from bot.domain import BackendError, FailureKind, Job, JobStatus, TaskUpdate
from bot.jobs.ingest import JobIngest
from bot.jobs.policy import JobPolicy
from bot.jobs.writer import JobWriter
from bot.roster import Roster, SoleReplica
from bot.storage.database import Database
from bot.storage.jobs import get_job

log = logging.getLogger(__name__)

LOST_AFTER_MISSES = 2
POLL_GROWTH = 1.5


class Poller:
    """Listens to job changes and schedules each unfinished job's next check; runs the checks."""

    def __init__(
        self,
        db: Database,
        backend: Backend,
        writer: JobWriter,
        ingest: JobIngest,
        policy: JobPolicy,
        clock: Callable[[], float],
        roster: Roster | None = None,
    ) -> None:
        self._db = db
        self._roster = roster or SoleReplica()
        self._backend = backend
        self._writer = writer
        self._ingest = ingest
        self._policy = policy
        self._clock = clock
        self._schedule = PollSchedule()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._misses: dict[str, int] = {}
        self._eager: set[str] = set()

    def job_changed(self, job: Job) -> None:
        """A new state: a job waiting for its prompt times out; a running one is checked if it goes quiet."""
        if job.status.is_final:
            self._misses.pop(job.id, None)
            self._eager.discard(job.id)
            self._schedule.forget(job.id)  # else its interval stayed for the life of the process
        elif job.status is JobStatus.NEEDS_INPUT and job.task_id is None:
            self.check_at(job.id, job.updated_at + self._policy.input_timeout)
        elif job.task_id is not None:
            self._misses.pop(job.id, None)
            at = job.updated_at + self._policy.input_timeout if job.status is JobStatus.NEEDS_INPUT else None
            self.check_at(job.id, at if at is not None else self._clock() + self._first_delay())

    def scheduled(self, job_id: str) -> bool:
        return self._schedule.has(job_id)

    def check_now(self, job_id: str) -> None:
        """Ask the backend about the job at once, even if news came lately (it may have missed some: the
        bot was down, or the replica the news reached died)."""
        self._eager.add(job_id)
        self.check_at(job_id, self._clock())

    def tracked(self) -> int:
        """How many jobs the poller keeps anything for (a schedule, an interval, missed polls)."""
        return self._schedule.tracked() + len(self._misses.keys() - self._schedule.job_ids())

    def check_at(self, job_id: str, at: float) -> None:
        if self._schedule.put(job_id, at, at - self._clock()):
            self._wakeup.set()  # only a new earliest check needs the loop to wake up early

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="job-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _first_delay(self) -> float:
        return self._policy.push_silence if self._backend.capabilities.push else self._policy.poll_interval

    def _next_delay(self, job: Job) -> float:
        if self._backend.capabilities.push:
            return self._policy.push_silence
        previous = self._schedule.interval(job.id) or self._policy.poll_interval
        return min(self._policy.max_poll_interval, previous * POLL_GROWTH)

    async def _loop(self) -> None:
        while True:
            due = self._schedule.pop_due(self._clock())
            if due and self._backend.capabilities.batch_fetch:
                # One call checks them all, so jobs due within the next interval come along at no cost:
                # however many run, the backend sees about one request per interval.
                due += self._schedule.pop_due(self._clock() + self._policy.poll_interval)
                try:
                    await self.check_many(due)
                except Exception:
                    log.exception("checking %d jobs failed", len(due))
                due = []
            for job_id in due:
                try:
                    await self.check(job_id)
                except Exception:
                    log.exception("checking job %s failed", job_id)
            wait = self._schedule.seconds_to_next(self._clock())
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=wait)

    async def check(self, job_id: str) -> Job | None:
        """Poll one unfinished job; fail it when it outlived the timeout or the backend lost it."""
        job, due = await self._due(job_id)
        if job is None or not due:
            return job
        assert job.task_id is not None
        try:
            update = await self._backend.fetch(job.task_id)
        except BackendError as exc:
            log.info("polling job %s failed: %s", job.id, exc)
            return await self._settle(job, None, missing=False)
        return await self._settle(job, update, missing=update is None)

    async def check_many(self, job_ids: list[str]) -> None:
        """Poll unfinished jobs with one call to a backend that reports many tasks at once."""
        jobs: list[Job] = []
        for job_id in job_ids:
            job, due = await self._due(job_id)
            if job is not None and due:
                jobs.append(job)
        if not jobs:
            return
        try:
            updates = await self._backend.fetch_many([job.task_id for job in jobs if job.task_id])
        except BackendError as exc:
            log.info("polling %d jobs failed: %s", len(jobs), exc)
            updates, answered = {}, False
        else:
            answered = True
        for job in jobs:
            update = updates.get(job.task_id or "")
            try:
                await self._settle(job, update, missing=answered and update is None)
            except Exception:
                log.exception("checking job %s failed", job.id)

    async def _due(self, job_id: str) -> tuple[Job | None, bool]:
        """The job, and whether the backend must be asked about it (a waiting or finished one is settled)."""
        async with self._db.read() as conn:
            job = await get_job(conn, job_id)
        if job is None or job.status.is_final:
            return job, False
        if not self._roster.owns(job.id):
            return job, False  # another live replica looks after it (see jobs.adoption)
        if job.status is JobStatus.NEEDS_INPUT:
            if self._clock() - job.updated_at >= self._policy.input_timeout:
                return await self._fail(job, FailureKind.CANCELLED), False
            self.check_at(job.id, job.updated_at + self._policy.input_timeout)
            return job, False
        if job.task_id is None:
            return job, False
        eager = job.id in self._eager
        self._eager.discard(job.id)
        quiet_for = self._clock() - job.updated_at
        if self._backend.capabilities.push and not eager and quiet_for < self._policy.push_silence:
            # News came meanwhile (maybe to another replica): not quiet yet, so no need to ask.
            self.check_at(job.id, job.updated_at + self._policy.push_silence)
            return job, False
        return job, True

    async def _settle(self, job: Job, update: TaskUpdate | None, *, missing: bool) -> Job:
        """Fold in the backend's answer; count a task it lost; time out; schedule the next check."""
        if update is not None:
            await self._ingest.ingest(update)
        async with self._db.read() as conn:
            job = await get_job(conn, job.id) or job
        if job.status.is_final:
            return job
        if missing:
            misses = self._misses.get(job.id, 0) + 1
            self._misses[job.id] = misses
            if misses >= LOST_AFTER_MISSES:
                return await self._fail(job, FailureKind.LOST)
        if self._clock() - job.created_at >= self._policy.timeout:
            return await self._fail(job, FailureKind.TIMEOUT)
        deadline = job.created_at + self._policy.timeout
        self.check_at(job.id, min(self._clock() + self._next_delay(job), deadline))
        return job

    async def _fail(self, job: Job, failure: FailureKind) -> Job:
        failed = await self._writer.update(
            job.id, lambda j: j.fail(failure, None, self._clock()), fallback=job, forget_questions=True
        )
        assert failed is not None
        return failed


class PollSchedule:
    """When each unfinished job is next checked (one entry per job; the latest schedule wins)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._due: dict[str, float] = {}
        self._interval: dict[str, float] = {}

    def put(self, job_id: str, at: float, interval: float) -> bool:
        """Schedule `job_id` (replacing its earlier schedule); True when it is now the first one due."""
        self._drop_stale()
        earliest = self._heap[0][0] if self._heap else math.inf
        self._due[job_id] = at
        self._interval[job_id] = max(interval, 0.0)
        heapq.heappush(self._heap, (at, job_id))
        return at < earliest

    def has(self, job_id: str) -> bool:
        return job_id in self._due

    def interval(self, job_id: str) -> float | None:
        return self._interval.get(job_id)

    def forget(self, job_id: str) -> None:
        """A finished job: no more checks (its heap entry, now stale, is dropped when it comes up)."""
        self._due.pop(job_id, None)
        self._interval.pop(job_id, None)

    def job_ids(self) -> set[str]:
        return self._due.keys() | self._interval.keys()

    def tracked(self) -> int:
        return len(self.job_ids())

    def pop_due(self, now: float) -> list[str]:
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            at, job_id = heapq.heappop(self._heap)
            if self._due.get(job_id) == at:
                del self._due[job_id]
                due.append(job_id)
        return due

    def seconds_to_next(self, now: float) -> float | None:
        self._drop_stale()
        return max(0.0, self._heap[0][0] - now) if self._heap else None

    def _drop_stale(self) -> None:
        """Forget heap entries replaced by a later schedule of the same job."""
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
