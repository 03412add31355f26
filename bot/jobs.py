"""The job service: submit work, fold updates in, run buttons, poll the silent, resume after restart."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.backends.base import Backend, Cancellable
from bot.batching import GroupCommit
from bot.delivery import JobDelivery
from bot.domain import (
    Action,
    ActionKind,
    BackendBusy,
    BackendError,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Command,
    FailureKind,
    Job,
    JobKind,
    JobStatus,
    PromptRejected,
    Requester,
    Submission,
    TaskNotFound,
    TaskUpdate,
    buttons,
)
from bot.domain.buttons import ButtonPolicy
from bot.domain.errors import (
    BlendCount,
    ButtonExpired,
    ButtonUnavailable,
    CancelUnsupported,
    CommandUnsupported,
    InputNotExpected,
    InvalidZoom,
    MaskRequired,
    NothingToCancel,
    NotYourButton,
    SeedUnavailable,
)
from bot.preferences import PreferenceService
from bot.prompts import checked_prompt, normalize_prompt, numbered_prompts, with_zoom, zoom_is_valid
from bot.quotas import Limits, QuotaGuard, Usage
from bot.storage import repo
from bot.storage.database import Database

log = logging.getLogger(__name__)

JOB_ID_BYTES = 8
ORPHAN_TTL = 120.0
ORPHAN_LIMIT = 2000
ORPHAN_UPDATES_PER_TASK = 16
LOST_AFTER_MISSES = 2
POLL_GROWTH = 1.5
BLEND_IMAGES = (2, 5)


@dataclass(frozen=True, slots=True)
class JobPolicy:
    """Timings: how long a job may run, how often to poll, when push is deemed silent."""

    timeout: float = 900.0
    poll_interval: float = 3.0
    max_poll_interval: float = 20.0
    push_silence: float = 60.0
    input_timeout: float = 600.0


class Ingest(StrEnum):
    """What became of a backend update."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Started:
    """A button started a job (running, or waiting for the user's prompt)."""

    job: Job


@dataclass(frozen=True, slots=True)
class AlreadyDone:
    """The button's result exists already (a used U button): this is it."""

    job: Job


@dataclass(frozen=True, slots=True)
class SeedFound:
    job: Job
    seed: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    job: Job


PressOutcome = Started | AlreadyDone | SeedFound | Cancelled


class JobService:
    """Owns every job's lifecycle; handlers and the webhook app only call into it."""

    def __init__(
        self,
        db: Database,
        backend: Backend,
        delivery: JobDelivery,
        policy: JobPolicy,
        clock: Callable[[], float] = time.time,
        quotas: QuotaGuard | None = None,
        preferences: PreferenceService | None = None,
        region_editing: bool = False,
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
        self._ingest: GroupCommit[TaskUpdate, Ingest] = GroupCommit(self._ingest_batch)
        self._quotas = quotas or QuotaGuard(Limits(0, 0, 0), frozenset())
        self._preferences = preferences
        self._buttons = ButtonPolicy(backend.capabilities, region_editing)

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
            if job.status is JobStatus.NEEDS_INPUT:
                self._schedule(job.id, job.updated_at + self._policy.input_timeout)
            elif job.task_id is None:
                # Crashed between storing the job and hearing back from the backend: we can't know
                # whether it started, so say so instead of leaving it spinning.
                await self._fail(job, FailureKind.LOST, None)
            else:
                self._schedule(job.id, now)
        await self._delivery.resume()
        self._poller = asyncio.create_task(self._poll_loop(), name="job-poller")

    async def stop(self) -> None:
        await self._ingest.flush()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    # --- submitting ---------------------------------------------------------------------------------

    async def job_for_message(self, chat_id: int, message_id: int) -> Job | None:
        async with self._db.read() as conn:
            return await repo.job_by_message(conn, chat_id, message_id)

    def require(self, command: Command) -> None:
        """Refuse a command the backend cannot run, with an explanation rather than an error."""
        if command not in self._backend.capabilities.commands:
            raise CommandUnsupported(command=command.value)

    def _prompt(self, text: str | None) -> str:
        return checked_prompt(text, limit=self._backend.capabilities.max_prompt_length)

    async def imagine(self, requester: Requester, text: str | None) -> Job:
        """Start an /imagine job from a user's prompt, completed by their settings and presets."""
        if text is not None and self._preferences is not None:
            text = await self._preferences.effective_prompt(requester.user_id, requester.chat_id, text)
        return await self._imagine(requester, text)

    async def _imagine(
        self,
        requester: Requester,
        text: str | None,
        *,
        origin: Action | None = None,
        parent: Job | None = None,
    ) -> Job:
        """Submit a prompt as it is; invalid prompts raise DomainError before anything is stored."""
        prompt = self._prompt(text)
        job = await self._create(requester, JobKind.IMAGINE, prompt, parent=parent, origin=origin)
        return await self._submit(job, lambda: self._backend.imagine(prompt, job_id=job.id))

    async def describe(self, requester: Requester, image: bytes, mime_type: str) -> Job:
        """Start a /describe job for an image already checked and downscaled by the caller."""
        self.require(Command.DESCRIBE)
        job = await self._create(requester, JobKind.DESCRIBE, "")
        return await self._submit(job, lambda: self._backend.describe(image, mime_type, job_id=job.id))

    async def blend(
        self, requester: Requester, images: list[tuple[bytes, str]], dimensions: BlendDimensions
    ) -> Job:
        self.require(Command.BLEND)
        if not BLEND_IMAGES[0] <= len(images) <= BLEND_IMAGES[1]:
            raise BlendCount(count=len(images))
        job = await self._create(
            requester, JobKind.BLEND, f"/blend {len(images)} × {dimensions.value.lower()}"
        )
        return await self._submit(job, lambda: self._backend.blend(images, dimensions, job_id=job.id))

    async def shorten(self, requester: Requester, text: str | None) -> Job:
        self.require(Command.SHORTEN)
        prompt = self._prompt(text)
        job = await self._create(requester, JobKind.SHORTEN, prompt)
        return await self._submit(job, lambda: self._backend.shorten(prompt, job_id=job.id))

    async def seed(self, job: Job) -> str:
        """The seed of a finished image job, from the backend."""
        self.require(Command.SEED)
        if job.task_id is None or job.status is not JobStatus.SUCCEEDED or job.kind.makes_text:
            raise SeedUnavailable()
        try:
            return await self._backend.image_seed(job.task_id)
        except BackendError as exc:
            log.info("no seed for job %s: %s", job.id, exc)
            raise SeedUnavailable() from exc

    async def press(self, token: str, user_id: int, user_name: str, language: str) -> PressOutcome:
        """Run what a button stands for, on behalf of `user_id`."""
        async with self._db.read() as conn:
            button = await repo.get_button(conn, token)
            job = await repo.get_job(conn, button.job_id) if button else None
        if button is None or job is None:
            raise ButtonExpired()
        if job.user_id != user_id and not await self._open_to_everyone(job):
            raise NotYourButton()
        requester = Requester(
            chat_id=job.chat_id,
            user_id=user_id,
            user_name=user_name,
            language=language,
            thread_id=job.thread_id,
            reply_to_message_id=job.message_id,
        )
        match button.action_ref:
            case buttons.RETRY_REF:
                return Started(await self._retry(job, requester))
            case buttons.CONFIRM_REF:
                return Started(await self.provide_input(job.id, user_id, None))
            case buttons.CANCEL_REF:
                return Cancelled(await self.cancel_input(job.id, user_id))
            case buttons.SEED_REF:
                return SeedFound(job, await self.seed(job))
        action = job.find_action(button.action_ref)
        if action is None or not self._buttons.offers(action) or action.result_kind is None:
            raise ButtonUnavailable()
        if action.result_kept:
            existing = await self._existing_child(job, action)
            if existing is not None:
                return AlreadyDone(existing)
        return Started(await self._start_action(job, action, requester))

    async def _open_to_everyone(self, job: Job) -> bool:
        """A group's admins may let everyone use the buttons of anyone's jobs."""
        if self._preferences is None or job.chat_id == job.user_id:
            return False
        return await self._preferences.buttons_open(job.chat_id)

    async def _existing_child(self, parent: Job, action: Action) -> Job | None:
        async with self._db.read() as conn:
            children = await repo.child_jobs(conn, parent.id)
        alive = [
            c
            for c in children
            if c.origin and c.origin.ref == action.ref and c.status is not JobStatus.FAILED
        ]
        return alive[-1] if alive else None

    async def _start_action(self, parent: Job, action: Action, requester: Requester) -> Job:
        await self._mark_used(parent, action)
        match action.kind:
            case ActionKind.PROMPT_PICK:
                offered = numbered_prompts(parent.text).get(action.index)
                if offered is None:
                    raise ButtonUnavailable()
                return await self._ask_for_input(requester, JobKind.IMAGINE, offered, parent, action)
            case ActionKind.CUSTOM_ZOOM:
                return await self._ask_for_input(
                    requester, JobKind.ZOOM, with_zoom(parent.prompt), parent, action
                )
            case ActionKind.VARY_REGION:
                return await self._ask_for_input(requester, JobKind.INPAINT, parent.prompt, parent, action)
            case ActionKind.IMAGINE_ALL:
                return await self._imagine_all(parent, action, requester)
        assert action.result_kind is not None
        if parent.task_id is None:
            raise ButtonUnavailable()
        if await self._remixes(action, requester):
            return await self._ask_for_input(requester, action.result_kind, parent.prompt, parent, action)
        task_id = parent.task_id
        job = await self._create(requester, action.result_kind, parent.prompt, parent=parent, origin=action)
        return await self._submit(job, lambda: self._backend.act(task_id, action, job_id=job.id))

    async def _imagine_all(self, parent: Job, action: Action, requester: Requester) -> Job:
        prompts = list(numbered_prompts(parent.text).values())
        if not prompts:
            raise ButtonUnavailable()
        async with self._db.read() as conn:
            # All or nothing: don't start three of four because the limit allows only three.
            await self._quotas.check(
                conn, requester.user_id, requester.chat_id, self._clock(), jobs=len(prompts)
            )
        started = [await self._imagine(requester, p, origin=action, parent=parent) for p in prompts]
        return started[0]

    async def _mark_used(self, parent: Job, action: Action) -> None:
        if not action.result_kept:
            return
        async with self._jobs_lock:
            async with self._db.write() as conn:
                current = await repo.get_job(conn, parent.id) or parent
                marked = current.mark_used(action.ref, self._clock())
                if marked is current:
                    return
                await repo.save_job(conn, marked)
            self._delivery.notify(marked.id, marked.chat_id)

    # --- jobs waiting for the user's prompt (modals) ---------------------------------------------------

    async def _remixes(self, action: Action, requester: Requester) -> bool:
        """Whether this press asks for the prompt first: the presser's Remix is on and the backend can.

        The question comes before anything reaches the backend; the answer then starts the follow-up
        with the edited prompt in one go (`Backend.remix`: for midjourney-proxy the action with
        `enableRemix`, then the modal it opens). Asking only once the proxy's modal exists would leave a
        MODAL task behind on Cancel or timeout; this way nothing waits on the backend while the user
        writes, Cancel and the timeout have nothing to undo there, and a backend that starts the task
        without a modal leaves no question open: it was answered already.
        """
        if self._preferences is None or action.kind not in self._backend.capabilities.remix:
            return False
        return await self._preferences.remix(requester.user_id, requester.chat_id)

    def _asked_for_remix(self, job: Job) -> bool:
        """A job waiting for the prompt of a Remix press (the backend has not seen it yet)."""
        return (
            job.task_id is None
            and job.origin is not None
            and job.origin.kind in self._backend.capabilities.remix
        )

    async def _remix(self, job: Job, parent: Job, action: Action, prompt: str) -> Submission:
        assert parent.task_id is not None
        submission = await self._backend.remix(parent.task_id, action, prompt, job_id=job.id)
        if submission.prompt_ignored:
            # The backend ran the button with the parent's prompt: show the prompt the picture is from.
            log.info("the backend ignored the remixed prompt of job %s", job.id)
            await self._restore_prompt(job.id, parent.prompt)
        return submission

    async def _restore_prompt(self, job_id: str, prompt: str) -> None:
        async with self._jobs_lock:
            async with self._db.write() as conn:
                current = await repo.get_job(conn, job_id)
                if current is None or current.prompt == prompt:
                    return
                restored = replace(
                    current, prompt=prompt, version=current.version + 1, updated_at=self._clock()
                )
                await repo.save_job(conn, restored)
            self._delivery.notify(restored.id, restored.chat_id)

    async def _ask_for_input(
        self, requester: Requester, kind: JobKind, offered: str, parent: Job, action: Action
    ) -> Job:
        job = await self._create(
            requester, kind, offered, parent=parent, origin=action, status=JobStatus.NEEDS_INPUT
        )
        self._schedule(job.id, job.created_at + self._policy.input_timeout)
        return job

    async def provide_input(
        self, job_id: str, user_id: int, text: str | None, *, mask_png: bytes | None = None
    ) -> Job:
        """The user's prompt for a job waiting for input (None: use the offered prompt as it is)."""
        async with self._db.read() as conn:
            job = await repo.get_job(conn, job_id)
        if job is None or job.status is not JobStatus.NEEDS_INPUT:
            raise InputNotExpected()
        if job.user_id != user_id:
            raise NotYourButton()
        origin = job.origin
        offered = normalize_prompt(text if text is not None else job.prompt)
        if origin is not None and origin.kind is ActionKind.CUSTOM_ZOOM and not zoom_is_valid(offered):
            raise InvalidZoom()
        if origin is not None and origin.kind is ActionKind.VARY_REGION and mask_png is None:
            raise MaskRequired()
        if text is not None and self._preferences is not None and self._asked_for_remix(job):
            # A rewritten prompt is completed by the settings like a new one; the offered one already was.
            offered = await self._preferences.effective_prompt(user_id, job.chat_id, offered)
        prompt = self._prompt(offered)
        async with self._jobs_lock:
            async with self._db.write() as conn:
                current = await repo.get_job(conn, job_id)
                if current is None or current.status is not JobStatus.NEEDS_INPUT:
                    raise InputNotExpected()
                job = replace(
                    current,
                    prompt=prompt,
                    status=JobStatus.QUEUED,
                    version=current.version + 1,
                    updated_at=self._clock(),
                )
                await repo.save_job(conn, job)
                await repo.delete_job_input_requests(conn, job.id)
            self._delivery.notify(job.id, job.chat_id)
        return await self._submit(job, lambda: self._confirm(job, prompt, mask_png))

    async def _confirm(self, job: Job, prompt: str, mask_png: bytes | None = None) -> Submission:
        """Hand a confirmed prompt to the backend: the modal it opened, or the call the button stands for."""
        if job.task_id is not None:
            return await self._backend.submit_modal(job.task_id, prompt, job_id=job.id, mask_png=mask_png)
        origin = job.origin
        if origin is None or origin.kind is ActionKind.PROMPT_PICK:
            return await self._backend.imagine(prompt, job_id=job.id)
        async with self._db.read() as conn:
            parent = await repo.get_job(conn, job.parent_id) if job.parent_id else None
        if parent is None or parent.task_id is None:
            raise TaskNotFound("the image this button belongs to is gone")
        if self._asked_for_remix(job):
            return await self._remix(job, parent, origin, prompt)
        opened = await self._backend.act(parent.task_id, origin, job_id=job.id)
        if opened.status is JobStatus.NEEDS_INPUT:
            return await self._backend.submit_modal(opened.task_id, prompt, job_id=job.id, mask_png=mask_png)
        return opened

    async def cancel(self, job: Job, user_id: int) -> Job:
        """Stop a job that has not finished, where the backend allows it."""
        if job.user_id != user_id:
            raise NotYourButton()
        if job.status.is_final:
            raise NothingToCancel()
        if job.status is JobStatus.NEEDS_INPUT and job.task_id is None:
            return await self.cancel_input(job.id, user_id)
        if job.task_id is None or not isinstance(self._backend, Cancellable):
            raise CancelUnsupported()
        try:
            await self._backend.cancel(job.task_id)
        except TaskNotFound as exc:
            raise NothingToCancel() from exc
        except BackendError as exc:
            log.info("cancelling job %s failed: %s", job.id, exc)
            raise CancelUnsupported() from exc
        return await self._fail(job, FailureKind.CANCELLED, None)

    async def latest_active(self, user_id: int, chat_id: int) -> Job | None:
        async with self._db.read() as conn:
            return await repo.latest_active_job(conn, user_id, chat_id)

    async def history(self, user_id: int, chat_id: int | None, limit: int) -> list[Job]:
        async with self._db.read() as conn:
            return await repo.recent_jobs(conn, user_id, chat_id=chat_id, limit=limit)

    async def usage(self, user_id: int) -> Usage:
        async with self._db.read() as conn:
            return await self._quotas.usage(conn, user_id, self._clock())

    async def get(self, job_id: str) -> Job | None:
        async with self._db.read() as conn:
            return await repo.get_job(conn, job_id)

    async def cancel_input(self, job_id: str, user_id: int) -> Job:
        async with self._db.read() as conn:
            job = await repo.get_job(conn, job_id)
        if job is None or job.status is not JobStatus.NEEDS_INPUT:
            raise InputNotExpected()
        if job.user_id != user_id:
            raise NotYourButton()
        return await self._fail(job, FailureKind.CANCELLED, None)

    async def _retry(self, failed: Job, requester: Requester) -> Job:
        if failed.status is not JobStatus.FAILED:
            raise ButtonUnavailable()
        if failed.origin is not None and failed.parent_id is not None:
            async with self._db.read() as conn:
                parent = await repo.get_job(conn, failed.parent_id)
            if parent is None:
                raise ButtonUnavailable()
            return await self._start_action(parent, failed.origin, requester)
        if failed.kind is JobKind.IMAGINE:
            return await self._imagine(requester, failed.prompt)
        if failed.kind is JobKind.SHORTEN:
            return await self.shorten(requester, failed.prompt)
        raise ButtonUnavailable()

    async def _create(
        self,
        requester: Requester,
        kind: JobKind,
        prompt: str,
        *,
        parent: Job | None = None,
        origin: Action | None = None,
        status: JobStatus = JobStatus.QUEUED,
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
            status=status,
            created_at=now,
            updated_at=now,
        )
        async with self._db.write() as conn:
            await self._quotas.check(conn, requester.user_id, requester.chat_id, now)
            await repo.insert_job(conn, job)
            await self._store_buttons(conn, job)
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
        status = submission.status
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
                if status is JobStatus.NEEDS_INPUT:
                    # Remix mode turned the button into a modal: the user edits the prompt it offers.
                    accepted = replace(accepted, prompt=submission.modal_prompt or current.prompt)
                await repo.save_job(conn, accepted)
                await self._store_buttons(conn, accepted)
            self._delivery.notify(accepted.id, accepted.chat_id)
        for update in self._take_orphans(submission.task_id):
            await self.ingest(update)
        async with self._db.read() as conn:
            latest = await repo.get_job(conn, job.id) or accepted
        if latest.status is JobStatus.NEEDS_INPUT:
            self._schedule(latest.id, now + self._policy.input_timeout)
        elif not latest.status.is_final:
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
                await repo.delete_job_input_requests(conn, failed.id)
            self._delivery.notify(failed.id, failed.chat_id)
        return failed

    # --- updates ------------------------------------------------------------------------------------

    async def ingest(self, update: TaskUpdate) -> Ingest:
        """Fold a backend update into its job (from a webhook, the poller or an in-process backend)."""
        return await self._ingest.submit(update)

    async def ingest_many(self, updates: Sequence[TaskUpdate]) -> list[Ingest]:
        """Several updates of one callback, folded in order in the same transaction."""
        return await self._ingest.submit_many(updates)

    async def _ingest_batch(self, updates: list[TaskUpdate]) -> list[Ingest]:
        """One transaction for every update that arrived while the previous batch was written."""
        now = self._clock()
        outcomes: list[Ingest] = []
        changed: dict[str, Job] = {}
        async with self._jobs_lock:
            async with self._db.write() as conn:
                tasks = [u.task_id for u in updates]
                by_task = await repo.find_jobs_by_tasks(conn, self._backend.name, tasks)
                for update in updates:
                    job = by_task.get(update.task_id)
                    if job is None:
                        self._keep_orphan(update)
                        outcomes.append(Ingest.UNKNOWN)
                        continue
                    updated = job.apply(update, now)
                    if updated is job:
                        outcomes.append(Ingest.UNCHANGED)
                        continue
                    by_task[update.task_id] = changed[updated.id] = updated
                    outcomes.append(Ingest.APPLIED)
                await repo.save_jobs(conn, list(changed.values()))
                for job in changed.values():
                    await self._store_buttons(conn, job)
            for job in changed.values():
                self._delivery.notify(job.id, job.chat_id)
        for job in changed.values():
            self._misses.pop(job.id, None)
            if not job.status.is_final:
                self._schedule(job.id, now + self._next_delay(job, changed=True))
        return outcomes

    async def _store_buttons(self, conn: AsyncConnection, job: Job) -> None:
        refs = self._buttons.refs(job)
        if not refs:
            return
        existing = await repo.job_buttons(conn, job.id)
        await repo.create_buttons(conn, job.id, [r for r in refs if r not in existing], self._clock())

    def _keep_orphan(self, update: TaskUpdate) -> None:
        # A fast backend can report before its submit call has returned to us; keep it briefly.
        now = self._clock()
        if len(self._orphans) >= ORPHAN_LIMIT:
            self._orphans = {k: v for k, v in self._orphans.items() if v and now - v[-1][0] < ORPHAN_TTL}
            if len(self._orphans) >= ORPHAN_LIMIT:
                return
        kept = self._orphans.setdefault(update.task_id, [])
        kept.append((now, update))
        del kept[:-ORPHAN_UPDATES_PER_TASK]

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
        if self._poll.put(job_id, at, at - self._clock()):
            self._poll_wakeup.set()  # only a new earliest check needs the poller to wake up early

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
        if job is None or job.status.is_final:
            return job
        if job.status is JobStatus.NEEDS_INPUT:
            if self._clock() - job.updated_at >= self._policy.input_timeout:
                return await self._fail(job, FailureKind.CANCELLED, None)
            self._schedule(job.id, job.updated_at + self._policy.input_timeout)
            return job
        if job.task_id is None:
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

    def put(self, job_id: str, at: float, interval: float) -> bool:
        """Schedule `job_id` (replacing its earlier schedule); True when it is now the first one due."""
        self._drop_stale()
        earliest = self._heap[0][0] if self._heap else math.inf
        self._due[job_id] = at
        self._interval[job_id] = max(interval, 0.0)
        heapq.heappush(self._heap, (at, job_id))
        return at < earliest

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
        self._drop_stale()
        return max(0.0, self._heap[0][0] - now) if self._heap else None

    def _drop_stale(self) -> None:
        """Forget heap entries replaced by a later schedule of the same job."""
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
