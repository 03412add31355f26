"""The job service: submit work, fold updates in, run buttons, poll the silent, resume after restart."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.backends.base import (
    Backend,
    BackendBusy,
    BackendError,
    BackendRefused,
    BackendUnavailable,
    PromptRejected,
    Submission,
    TaskNotFound,
)
from bot.delivery import JobDelivery
from bot.domain import Action, FailureKind, Job, JobKind, JobStatus, TaskUpdate
from bot.errors import ButtonExpired, ButtonUnavailable, NotYourButton
from bot.keyboards import RETRY_REF, is_servable
from bot.prompts import checked_prompt
from bot.storage import repo
from bot.storage.database import Database

log = logging.getLogger(__name__)

JOB_ID_BYTES = 8
ORPHAN_TTL = 120.0
ORPHAN_LIMIT = 2000
LOST_AFTER_MISSES = 2
POLL_GROWTH = 1.5


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, and where the answer goes."""

    chat_id: int
    user_id: int
    user_name: str
    language: str
    thread_id: int | None = None
    reply_to_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class JobPolicy:
    """Timings: how long a job may run, how often to poll, when push is deemed silent."""

    timeout: float = 900.0
    poll_interval: float = 3.0
    max_poll_interval: float = 20.0
    push_silence: float = 60.0


class Ingest(StrEnum):
    """What became of a backend update."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PressResult:
    """A started follow-up job, for the callback answer."""

    job: Job
    action_label_key: str | None = None


class JobService:
    """Owns every job's lifecycle; handlers and the webhook app only call into it."""

    def __init__(
        self,
        db: Database,
        backend: Backend,
        delivery: JobDelivery,
        policy: JobPolicy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._backend = backend
        self._delivery = delivery
        self._policy = policy
        self._clock = clock
        self._orphans: dict[str, list[tuple[float, TaskUpdate]]] = {}
        self._poll = _PollSchedule()
        self._poll_wakeup = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._misses: dict[str, int] = {}
        self._jobs_lock = asyncio.Lock()

    @property
    def backend(self) -> Backend:
        return self._backend

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._backend.start(self.ingest)
        async with self._db.read() as conn:
            unfinished = await repo.unfinished_jobs(conn, self._backend.name)
        now = self._clock()
        for job in unfinished:
            if job.task_id is None:
                # Crashed between storing the job and hearing back from the backend: we can't know
                # whether it started, so say so instead of leaving it spinning.
                await self._fail(job, FailureKind.LOST, None)
            else:
                self._schedule(job.id, now)
        await self._delivery.resume()
        self._poller = asyncio.create_task(self._poll_loop(), name="job-poller")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    # --- submitting ---------------------------------------------------------------------------------

    async def imagine(self, requester: Requester, text: str | None) -> Job:
        """Start an /imagine job; invalid prompts raise DomainError before anything is stored."""
        prompt = checked_prompt(text, limit=self._backend.capabilities.max_prompt_length)
        job = await self._create(requester, JobKind.IMAGINE, prompt)
        return await self._submit(job, lambda: self._backend.imagine(prompt, job_id=job.id))

    async def press(self, token: str, user_id: int, user_name: str, language: str) -> Job:
        """Run the action behind a button token for `user_id`."""
        async with self._db.read() as conn:
            button = await repo.get_button(conn, token)
            parent = await repo.get_job(conn, button.job_id) if button else None
        if button is None or parent is None:
            raise ButtonExpired()
        if parent.user_id != user_id:
            raise NotYourButton()
        requester = Requester(
            chat_id=parent.chat_id,
            user_id=user_id,
            user_name=user_name,
            language=language,
            thread_id=parent.thread_id,
            reply_to_message_id=parent.message_id,
        )
        if button.action_ref == RETRY_REF:
            return await self._retry(parent, requester)
        action = parent.find_action(button.action_ref)
        if action is None or not is_servable(action) or action.result_kind is None or parent.task_id is None:
            raise ButtonUnavailable()
        return await self._start_action(parent, action, requester)

    async def _start_action(self, parent: Job, action: Action, requester: Requester) -> Job:
        assert action.result_kind is not None and parent.task_id is not None
        task_id = parent.task_id
        job = await self._create(requester, action.result_kind, parent.prompt, parent=parent, origin=action)
        return await self._submit(job, lambda: self._act(task_id, action, job))

    async def _act(self, task_id: str, action: Action, job: Job) -> Submission:
        submission = await self._backend.act(task_id, action, job_id=job.id)
        if submission.status is JobStatus.NEEDS_INPUT and not action.needs_input:
            # Remix mode turns ordinary buttons into modals; confirm with the prompt offered.
            prompt = submission.modal_prompt or job.prompt
            submission = await self._backend.submit_modal(submission.task_id, prompt, job_id=job.id)
        return submission

    async def _retry(self, failed: Job, requester: Requester) -> Job:
        if failed.status is not JobStatus.FAILED:
            raise ButtonUnavailable()
        if failed.origin is not None and failed.parent_id is not None:
            async with self._db.read() as conn:
                grandparent = await repo.get_job(conn, failed.parent_id)
            if grandparent is None or grandparent.task_id is None:
                raise ButtonUnavailable()
            return await self._start_action(grandparent, failed.origin, requester)
        if failed.kind is not JobKind.IMAGINE:
            raise ButtonUnavailable()
        return await self.imagine(requester, failed.prompt)

    async def _create(
        self,
        requester: Requester,
        kind: JobKind,
        prompt: str,
        *,
        parent: Job | None = None,
        origin: Action | None = None,
    ) -> Job:
        now = self._clock()
        job = Job(
            id=secrets.token_hex(JOB_ID_BYTES),
            kind=kind,
            prompt=prompt,
            chat_id=requester.chat_id,
            thread_id=requester.thread_id,
            user_id=requester.user_id,
            user_name=requester.user_name,
            language=requester.language,
            backend=self._backend.name,
            parent_id=parent.id if parent else None,
            origin=origin,
            reply_to_message_id=requester.reply_to_message_id,
            created_at=now,
            updated_at=now,
        )
        async with self._db.write() as conn:
            await repo.insert_job(conn, job)
        self._delivery.notify(job.id, job.chat_id)
        return job

    async def _submit(self, job: Job, call: Callable[[], Awaitable[Submission]]) -> Job:
        """Hand the job to the backend; a refusal becomes the job's failure, shown in its message."""
        try:
            submission = await call()
        except PromptRejected as exc:
            return await self._fail(job, FailureKind.BANNED, exc.banned_word or str(exc) or None)
        except BackendBusy:
            return await self._fail(job, FailureKind.QUEUE_FULL, None)
        except TaskNotFound:
            return await self._fail(job, FailureKind.LOST, None)
        except BackendRefused as exc:
            return await self._fail(job, FailureKind.INVALID, str(exc))
        except BackendUnavailable as exc:
            log.warning("backend unavailable for job %s: %s", job.id, exc)
            return await self._fail(job, FailureKind.UNAVAILABLE, None)
        except BackendError as exc:
            return await self._fail(job, FailureKind.BACKEND, str(exc))
        return await self._accepted(job, submission)

    async def _accepted(self, job: Job, submission: Submission) -> Job:
        now = self._clock()
        status = submission.status if submission.status is not JobStatus.NEEDS_INPUT else JobStatus.QUEUED
        async with self._jobs_lock:
            async with self._db.write() as conn:
                current = await repo.get_job(conn, job.id) or job
                accepted = replace(
                    current,
                    task_id=submission.task_id,
                    status=current.status if current.status.rank > status.rank else status,
                    queue_position=submission.queue_position,
                    version=current.version + 1,
                    updated_at=now,
                )
                await repo.save_job(conn, accepted)
            self._delivery.notify(accepted.id, accepted.chat_id)
        for update in self._take_orphans(submission.task_id):
            await self.ingest(update)
        async with self._db.read() as conn:
            latest = await repo.get_job(conn, job.id) or accepted
        if not latest.status.is_final:
            self._schedule(latest.id, now + self._first_poll_delay())
        return latest

    async def _fail(self, job: Job, failure: FailureKind, reason: str | None) -> Job:
        async with self._jobs_lock:
            async with self._db.write() as conn:
                current = await repo.get_job(conn, job.id) or job
                failed = current.fail(failure, reason, self._clock())
                if failed is current:
                    return current
                await repo.save_job(conn, failed)
                await self._store_buttons(conn, failed)
            self._delivery.notify(failed.id, failed.chat_id)
        return failed

    # --- updates ------------------------------------------------------------------------------------

    async def ingest(self, update: TaskUpdate) -> Ingest:
        """Fold a backend update into its job (from a webhook, the poller or an in-process backend)."""
        async with self._jobs_lock:
            async with self._db.write() as conn:
                job = await repo.find_job_by_task(conn, self._backend.name, update.task_id)
                if job is None:
                    self._keep_orphan(update)
                    return Ingest.UNKNOWN
                updated = job.apply(update, self._clock())
                if updated is job:
                    return Ingest.UNCHANGED
                await repo.save_job(conn, updated)
                await self._store_buttons(conn, updated)
            self._delivery.notify(updated.id, updated.chat_id)
        self._misses.pop(updated.id, None)
        if not updated.status.is_final:
            self._schedule(updated.id, self._clock() + self._next_delay(updated, changed=True))
        return Ingest.APPLIED

    async def _store_buttons(self, conn: AsyncConnection, job: Job) -> None:
        if job.status is JobStatus.SUCCEEDED:
            refs = [a.ref for a in job.actions if is_servable(a)]
        elif job.status is JobStatus.FAILED and self._retryable(job):
            refs = [RETRY_REF]
        else:
            return
        existing = await repo.job_buttons(conn, job.id)
        await repo.create_buttons(conn, job.id, [r for r in refs if r not in existing], self._clock())

    @staticmethod
    def _retryable(job: Job) -> bool:
        if job.failure is FailureKind.BANNED:
            return False
        return job.kind is JobKind.IMAGINE or job.origin is not None

    def _keep_orphan(self, update: TaskUpdate) -> None:
        # A fast backend can report before its submit call has returned to us; keep it briefly.
        now = self._clock()
        if len(self._orphans) >= ORPHAN_LIMIT:
            self._orphans = {k: v for k, v in self._orphans.items() if v and now - v[-1][0] < ORPHAN_TTL}
            if len(self._orphans) >= ORPHAN_LIMIT:
                return
        self._orphans.setdefault(update.task_id, []).append((now, update))

    def _take_orphans(self, task_id: str) -> list[TaskUpdate]:
        now = self._clock()
        return [u for at, u in self._orphans.pop(task_id, []) if now - at < ORPHAN_TTL]

    # --- polling and timeouts ---------------------------------------------------------------------------

    def _first_poll_delay(self) -> float:
        return self._policy.push_silence if self._backend.capabilities.push else self._policy.poll_interval

    def _next_delay(self, job: Job, *, changed: bool) -> float:
        if self._backend.capabilities.push:
            return self._policy.push_silence
        if changed:
            return self._policy.poll_interval
        previous = self._poll.interval(job.id) or self._policy.poll_interval
        return min(self._policy.max_poll_interval, previous * POLL_GROWTH)

    def _schedule(self, job_id: str, at: float) -> None:
        self._poll.put(job_id, at, at - self._clock())
        self._poll_wakeup.set()

    async def _poll_loop(self) -> None:
        while True:
            due = self._poll.pop_due(self._clock())
            for job_id in due:
                try:
                    await self.check(job_id)
                except Exception:
                    log.exception("checking job %s failed", job_id)
            wait = self._poll.seconds_to_next(self._clock())
            self._poll_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poll_wakeup.wait(), timeout=wait)

    async def check(self, job_id: str) -> Job | None:
        """Poll one unfinished job; fail it when it outlived the timeout or the backend lost it."""
        async with self._db.read() as conn:
            job = await repo.get_job(conn, job_id)
        if job is None or job.status.is_final or job.task_id is None:
            return job
        try:
            update = await self._backend.fetch(job.task_id)
        except BackendError as exc:
            log.info("polling job %s failed: %s", job.id, exc)
            update = None
            missing = False
        else:
            missing = update is None
        if update is not None:
            await self.ingest(update)
        async with self._db.read() as conn:
            job = await repo.get_job(conn, job_id) or job
        if job.status.is_final:
            return job
        if missing:
            misses = self._misses.get(job.id, 0) + 1
            self._misses[job.id] = misses
            if misses >= LOST_AFTER_MISSES:
                return await self._fail(job, FailureKind.LOST, None)
        if self._clock() - job.created_at >= self._policy.timeout:
            return await self._fail(job, FailureKind.TIMEOUT, None)
        delay = self._next_delay(job, changed=False)
        deadline = job.created_at + self._policy.timeout
        self._schedule(job.id, min(self._clock() + delay, deadline))
        return job


class _PollSchedule:
    """When each unfinished job is next checked (one entry per job; the latest schedule wins)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._due: dict[str, float] = {}
        self._interval: dict[str, float] = {}

    def put(self, job_id: str, at: float, interval: float) -> None:
        self._due[job_id] = at
        self._interval[job_id] = max(interval, 0.0)
        heapq.heappush(self._heap, (at, job_id))

    def interval(self, job_id: str) -> float | None:
        return self._interval.get(job_id)

    def pop_due(self, now: float) -> list[str]:
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            at, job_id = heapq.heappop(self._heap)
            if self._due.get(job_id) == at:
                del self._due[job_id]
                due.append(job_id)
        return due

    def seconds_to_next(self, now: float) -> float | None:
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return max(0.0, self._heap[0][0] - now) if self._heap else None
