"""Starting jobs: record them (within the user's limits), hand them to the backend, take its answer."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.backends.base import Backend
from bot.domain import (
    AccountRefused,
    Action,
    BackendBusy,
    BackendError,
    BackendOffline,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Command,
    FailureKind,
    Job,
    JobKind,
    JobStatus,
    PromptRejected,
    RemixUnavailable,
    Requester,
    Submission,
    TaskNotFound,
)
from bot.domain.errors import BlendCount, CommandUnsupported
from bot.jobs.ingest import JobIngest
from bot.jobs.outcomes import Started, Submitting
from bot.jobs.writer import Check, JobWriter
from bot.preferences import PreferenceService
from bot.prompts import checked_prompt
from bot.quotas import QuotaGuard

log = logging.getLogger(__name__)

JOB_ID_BYTES = 8
BLEND_IMAGES = (2, 5)

SubmitCall = Callable[[], Awaitable[Submission]]


class Submitter:
    """Records new jobs and submits them; a refusal becomes the job's failure, shown in its message."""

    def __init__(
        self,
        backend: Backend,
        writer: JobWriter,
        ingest: JobIngest,
        quotas: QuotaGuard,
        clock: Callable[[], float],
        preferences: PreferenceService | None = None,
    ) -> None:
        self._backend = backend
        self._writer = writer
        self._ingest = ingest
        self._quotas = quotas
        self._clock = clock
        self._preferences = preferences

    def require(self, command: Command) -> None:
        """Refuse a command the backend cannot run, with an explanation rather than an error."""
        if command not in self._backend.capabilities.commands:
            raise CommandUnsupported(command=command.value)

    def prompt(self, text: str | None) -> str:
        return checked_prompt(text, limit=self._backend.capabilities.max_prompt_length)

    async def imagine(self, requester: Requester, text: str | None) -> Job:
        """Start an /imagine job from a user's prompt, completed by their settings and presets."""
        if text is not None and self._preferences is not None:
            text = await self._preferences.effective_prompt(requester.user_id, requester.chat_id, text)
        return await self.imagine_as_is(requester, text)

    async def imagine_as_is(
        self,
        requester: Requester,
        text: str | None,
        *,
        origin: Action | None = None,
        parent: Job | None = None,
    ) -> Job:
        """Submit a prompt as it is; invalid prompts raise DomainError before anything is stored."""
        return await (await self.record_imagine(requester, text, origin=origin, parent=parent)).submit()

    async def record_imagine(
        self,
        requester: Requester,
        text: str | None,
        *,
        origin: Action | None = None,
        parent: Job | None = None,
    ) -> Started:
        """Record an imagine job; its backend call follows in `Started.submit`."""
        prompt = self.prompt(text)
        job = await self.create(requester, JobKind.IMAGINE, prompt, parent=parent, origin=origin)
        return Started(job, self._imagine_call(job, prompt))

    async def describe(self, requester: Requester, image: bytes, mime_type: str) -> Job:
        """Start a /describe job for an image already checked and downscaled by the caller."""
        self.require(Command.DESCRIBE)
        job = await self.create(requester, JobKind.DESCRIBE, "")
        return await self.submit(job, lambda: self._backend.describe(image, mime_type, job_id=job.id))

    async def blend(
        self, requester: Requester, images: list[tuple[bytes, str]], dimensions: BlendDimensions
    ) -> Job:
        self.require(Command.BLEND)
        if not BLEND_IMAGES[0] <= len(images) <= BLEND_IMAGES[1]:
            raise BlendCount(count=len(images))
        job = await self.create(
            requester, JobKind.BLEND, f"/blend {len(images)} × {dimensions.value.lower()}"
        )
        return await self.submit(job, lambda: self._backend.blend(images, dimensions, job_id=job.id))

    async def shorten(self, requester: Requester, text: str | None) -> Job:
        return await (await self.record_shorten(requester, text)).submit()

    async def record_shorten(self, requester: Requester, text: str | None) -> Started:
        """Record a /shorten job; its backend call follows in `Started.submit`."""
        self.require(Command.SHORTEN)
        prompt = self.prompt(text)
        job = await self.create(requester, JobKind.SHORTEN, prompt)
        return Started(job, lambda: self.submit(job, lambda: self._backend.shorten(prompt, job_id=job.id)))

    async def record_imagines(
        self, requester: Requester, texts: list[str], *, origin: Action, parent: Job
    ) -> list[Started]:
        """Record several imagine jobs all or none (Imagine all: not three of four because of a limit)."""
        prompts = [self.prompt(text) for text in texts]
        new = [self._new_job(requester, JobKind.IMAGINE, p, parent=parent, origin=origin) for p in prompts]
        check = self.within_limits(requester.user_id, requester.chat_id, len(new))
        recorded = await self._writer.create_all(new, check=check)
        return [
            Started(job, self._imagine_call(job, prompt))
            for job, prompt in zip(recorded, prompts, strict=True)
        ]

    async def create(
        self,
        requester: Requester,
        kind: JobKind,
        prompt: str,
        *,
        parent: Job | None = None,
        origin: Action | None = None,
        status: JobStatus = JobStatus.QUEUED,
    ) -> Job:
        """Record a job within the requester's limits (a kept result also marks its button used).

        Raises ResultExists when the kept result's button already started a job that has not failed.
        """
        job = self._new_job(requester, kind, prompt, parent=parent, origin=origin, status=status)
        used_by = parent if origin is not None and origin.result_kept else None
        check = self.within_limits(requester.user_id, requester.chat_id, 1)
        return await self._writer.create(job, check=check, used_by=used_by)

    def within_limits(self, user_id: int, chat_id: int, jobs: int) -> Check:
        """A check, for the writer's transaction, that `jobs` more jobs of the user fit their limits."""
        now = self._clock()

        async def check(conn: AsyncConnection) -> None:
            await self._quotas.check(conn, user_id, chat_id, now, jobs=jobs)

        return check

    def _imagine_call(self, job: Job, prompt: str) -> Submitting:
        return lambda: self.submit(job, lambda: self._backend.imagine(prompt, job_id=job.id))

    def _new_job(
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
        return Job(
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

    async def submit(self, job: Job, call: SubmitCall) -> Job:
        """Hand the job to the backend; a refusal becomes the job's failure, shown in its message."""
        try:
            submission = await call()
        except PromptRejected as exc:
            return await self.fail(job, FailureKind.BANNED, exc.banned_word or str(exc) or None)
        except BackendBusy:
            return await self.fail(job, FailureKind.QUEUE_FULL, None)
        except TaskNotFound:
            return await self.fail(job, FailureKind.LOST, None)
        except AccountRefused as exc:
            return await self.fail(job, FailureKind.ACCOUNT, exc.problem)
        except RemixUnavailable:
            return await self.fail(job, FailureKind.REMIX_OFF, None)
        except BackendRefused as exc:
            return await self.fail(job, FailureKind.INVALID, str(exc))
        except BackendOffline as exc:
            log.warning("backend has nothing to run job %s on: %s", job.id, exc)
            return await self.fail(job, FailureKind.OFFLINE, None)
        except BackendUnavailable as exc:
            log.warning("backend unavailable for job %s: %s", job.id, exc)
            return await self.fail(job, FailureKind.UNAVAILABLE, None)
        except BackendError as exc:
            return await self.fail(job, FailureKind.BACKEND, str(exc))
        return await self._accepted(job, submission)

    async def fail(self, job: Job, failure: FailureKind, reason: str | None) -> Job:
        failed = await self._writer.update(
            job.id, lambda j: j.fail(failure, reason, self._clock()), fallback=job, forget_questions=True
        )
        assert failed is not None
        return failed

    async def _accepted(self, job: Job, submission: Submission) -> Job:
        now = self._clock()

        def accept(current: Job) -> Job:
            status = submission.status
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
            return accepted

        accepted = await self._writer.update(job.id, accept, fallback=job)
        assert accepted is not None
        await self._ingest.replay_orphans(submission.task_id)
        return await self._writer.get(job.id) or accepted
