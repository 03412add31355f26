"""Jobs waiting for the user's prompt: Custom Zoom, Vary (Region), describe/shorten picks, Remix edits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.backends.base import Backend
from bot.domain import (
    Action,
    ActionKind,
    FailureKind,
    Job,
    JobKind,
    JobStatus,
    Requester,
    Submission,
    TaskNotFound,
)
from bot.domain.errors import InputNotExpected, InvalidZoom, MaskRequired, NotYourButton
from bot.jobs.outcomes import Started
from bot.jobs.submit import Submitter
from bot.jobs.writer import JobWriter
from bot.preferences import PreferenceService
from bot.prompts import normalize_prompt, zoom_is_valid

log = logging.getLogger(__name__)


class InputFlow:
    """Asks for a prompt, takes the answer (or Cancel, or the timeout), then submits what it stands for."""

    def __init__(
        self,
        backend: Backend,
        writer: JobWriter,
        submitter: Submitter,
        clock: Callable[[], float],
        preferences: PreferenceService | None = None,
    ) -> None:
        self._backend = backend
        self._writer = writer
        self._submitter = submitter
        self._clock = clock
        self._preferences = preferences

    async def ask(
        self, requester: Requester, kind: JobKind, offered: str, parent: Job, action: Action
    ) -> Job:
        """Record a job that waits for the user's prompt (`offered` is shown to edit)."""
        return await self._submitter.create(
            requester, kind, offered, parent=parent, origin=action, status=JobStatus.NEEDS_INPUT
        )

    async def remixes(self, action: Action, requester: Requester) -> bool:
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

    async def provide(
        self, job_id: str, user_id: int, text: str | None, *, mask_png: bytes | None = None
    ) -> Job:
        """The user's prompt for a job waiting for input (None: use the offered prompt as it is)."""
        return await (await self.take(job_id, user_id, text, mask_png=mask_png)).submit()

    async def take(
        self, job_id: str, user_id: int, text: str | None, *, mask_png: bytes | None = None
    ) -> Started:
        """Record the answer (the job is queued again); the backend call follows in `Started.submit`."""
        job = await self._writer.get(job_id)
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
        prompt = self._submitter.prompt(offered)

        def answered(current: Job) -> Job:
            if current.status is not JobStatus.NEEDS_INPUT:
                raise InputNotExpected()
            return replace(
                current,
                prompt=prompt,
                status=JobStatus.QUEUED,
                version=current.version + 1,
                updated_at=self._clock(),
            )

        # The job is counted from the moment it was recorded, so this re-check adds nothing (jobs=0):
        # it refuses only a job that was not counted when it was made (recorded before waiting jobs
        # counted) or no longer fits limits lowered since. Same transaction as the answer: no race.
        still_fits = self._submitter.within_limits(job.user_id, job.chat_id, 0)
        queued = await self._writer.update(job_id, answered, forget_questions=True, check=still_fits)
        if queued is None:
            raise InputNotExpected()
        return Started(
            queued, lambda: self._submitter.submit(queued, lambda: self._confirm(queued, prompt, mask_png))
        )

    async def cancel(self, job_id: str, user_id: int) -> Job:
        """Cancel a job waiting for the user's prompt."""
        job = await self._writer.get(job_id)
        if job is None or job.status is not JobStatus.NEEDS_INPUT:
            raise InputNotExpected()
        if job.user_id != user_id:
            raise NotYourButton()
        return await self._submitter.fail(job, FailureKind.CANCELLED, None)

    def _asked_for_remix(self, job: Job) -> bool:
        """A job waiting for the prompt of a Remix press (the backend has not seen it yet)."""
        return (
            job.task_id is None
            and job.origin is not None
            and job.origin.kind in self._backend.capabilities.remix
        )

    async def _confirm(self, job: Job, prompt: str, mask_png: bytes | None = None) -> Submission:
        """Hand a confirmed prompt to the backend: the modal it opened, or the call the button stands for."""
        if job.task_id is not None:
            return await self._backend.submit_modal(job.task_id, prompt, job_id=job.id, mask_png=mask_png)
        origin = job.origin
        if origin is None or origin.kind is ActionKind.PROMPT_PICK:
            return await self._backend.imagine(prompt, job_id=job.id)
        parent = await self._writer.get(job.parent_id) if job.parent_id else None
        if parent is None or parent.task_id is None:
            raise TaskNotFound("the image this button belongs to is gone")
        if self._asked_for_remix(job):
            return await self._remix(job, parent, origin, prompt)
        opened = await self._backend.act(parent.task_id, origin, job_id=job.id)
        if opened.status is JobStatus.NEEDS_INPUT:
            return await self._backend.submit_modal(opened.task_id, prompt, job_id=job.id, mask_png=mask_png)
        return opened

    async def _remix(self, job: Job, parent: Job, action: Action, prompt: str) -> Submission:
        assert parent.task_id is not None
        submission = await self._backend.remix(parent.task_id, action, prompt, job_id=job.id)
        if submission.prompt_ignored:
            # The backend ran the button with the parent's prompt: show the prompt the picture is from.
            log.info("the backend ignored the remixed prompt of job %s", job.id)
            await self._restore_prompt(job.id, parent.prompt)
        return submission

    async def _restore_prompt(self, job_id: str, prompt: str) -> None:
        def restored(current: Job) -> Job:
            if current.prompt == prompt:
                return current
            return replace(current, prompt=prompt, version=current.version + 1, updated_at=self._clock())

        await self._writer.update(job_id, restored)
