"""Button presses: who may press, what each button starts, and the bot's own buttons (retry, seed, …)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.backends.base import Backend, Cancellable
from bot.domain import (
    Action,
    ActionKind,
    BackendError,
    Command,
    FailureKind,
    Job,
    JobKind,
    JobStatus,
    NotPermitted,
    Requester,
    TaskNotFound,
)
from bot.domain import buttons as own
from bot.domain.buttons import ButtonPolicy
from bot.domain.errors import (
    ButtonExpired,
    ButtonUnavailable,
    CancelNotPermitted,
    CancelNotYet,
    CancelUnsupported,
    NothingToCancel,
    NotYourButton,
    SeedNotYours,
    SeedUnavailable,
)
from bot.jobs.inputs import InputFlow
from bot.jobs.outcomes import AlreadyDone, Cancelled, PressOutcome, SeedFound, Started
from bot.jobs.submit import Submitter
from bot.jobs.writer import ResultExists
from bot.preferences import PreferenceService
from bot.prompts import numbered_prompts, with_zoom
from bot.storage.buttons import get_button
from bot.storage.database import Database
from bot.storage.jobs import get_job

log = logging.getLogger(__name__)


class ButtonActions:
    """Runs what a button stands for, on behalf of the presser."""

    def __init__(
        self,
        db: Database,
        backend: Backend,
        buttons: ButtonPolicy,
        submitter: Submitter,
        inputs: InputFlow,
        clock: Callable[[], float],
        preferences: PreferenceService | None = None,
    ) -> None:
        self._db = db
        self._backend = backend
        self._buttons = buttons
        self._submitter = submitter
        self._inputs = inputs
        self._clock = clock
        self._preferences = preferences

    async def press(self, token: str, user_id: int, user_name: str, language: str) -> PressOutcome:
        """Record what the button starts; a started job's backend call follows in `Started.submit`."""
        async with self._db.read() as conn:
            button = await get_button(conn, token)
            job = await get_job(conn, button.job_id) if button else None
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
            case own.RETRY_REF:
                return await self._retry(job, requester)
            case own.CONFIRM_REF:
                return await self._inputs.take(job.id, user_id, None)
            case own.CANCEL_REF:
                return Cancelled(await self._inputs.cancel(job.id, user_id))
            case own.SEED_REF:
                return SeedFound(job, await self.seed(job))
        action = job.find_action(button.action_ref)
        if action is None or not self._buttons.offers(action) or action.result_kind is None:
            raise ButtonUnavailable()
        return await self._start(job, action, requester)

    async def seed_for(self, job: Job, user_id: int) -> str:
        """The seed of a job, for whoever may press its Seed button (the rule of `press`)."""
        if job.user_id != user_id and not await self._open_to_everyone(job):
            raise SeedNotYours()
        return await self.seed(job)

    async def seed(self, job: Job) -> str:
        """The seed of a finished image job, from the backend."""
        self._submitter.require(Command.SEED)
        if job.task_id is None or job.status is not JobStatus.SUCCEEDED or job.kind.makes_text:
            raise SeedUnavailable()
        try:
            return await self._backend.image_seed(job.task_id)
        except BackendError as exc:
            log.info("no seed for job %s: %s", job.id, exc)
            raise SeedUnavailable() from exc

    async def cancel(self, job: Job, user_id: int) -> Job:
        """Stop a job that has not finished, where the backend allows it."""
        if job.user_id != user_id:
            raise NotYourButton()
        if job.status.is_final:
            raise NothingToCancel()
        if job.status is JobStatus.NEEDS_INPUT and job.task_id is None:
            return await self._inputs.cancel(job.id, user_id)
        if not isinstance(self._backend, Cancellable):
            raise CancelUnsupported()
        if job.task_id is None:
            raise CancelNotYet()
        try:
            await self._backend.cancel(job.task_id)
        except TaskNotFound as exc:
            raise NothingToCancel() from exc
        except NotPermitted as exc:
            log.warning("the backend refused to cancel job %s: %s", job.id, exc)
            raise CancelNotPermitted() from exc
        except BackendError as exc:
            log.info("cancelling job %s failed: %s", job.id, exc)
            raise CancelUnsupported() from exc
        return await self._submitter.fail(job, FailureKind.CANCELLED, None)

    async def _open_to_everyone(self, job: Job) -> bool:
        """A group's admins may let everyone use the buttons of anyone's jobs."""
        if self._preferences is None or job.chat_id == job.user_id:
            return False
        return await self._preferences.buttons_open(job.chat_id)

    async def _start(self, parent: Job, action: Action, requester: Requester) -> Started | AlreadyDone:
        """Record what `action` starts; a kept result's button pressed again brings back its job."""
        try:
            return await self._record(parent, action, requester)
        except ResultExists as exists:
            return AlreadyDone(exists.job)

    async def _record(self, parent: Job, action: Action, requester: Requester) -> Started:
        match action.kind:
            case ActionKind.PROMPT_PICK:
                offered = numbered_prompts(parent.text).get(action.index)
                if offered is None:
                    raise ButtonUnavailable()
                return Started(await self._inputs.ask(requester, JobKind.IMAGINE, offered, parent, action))
            case ActionKind.CUSTOM_ZOOM:
                zoomed = with_zoom(parent.prompt)
                return Started(await self._inputs.ask(requester, JobKind.ZOOM, zoomed, parent, action))
            case ActionKind.VARY_REGION:
                return Started(
                    await self._inputs.ask(requester, JobKind.INPAINT, parent.prompt, parent, action)
                )
            case ActionKind.IMAGINE_ALL:
                return await self._imagine_all(parent, action, requester)
        kind = action.result_kind
        assert kind is not None
        if parent.task_id is None:
            raise ButtonUnavailable()
        if await self._inputs.remixes(action, requester):
            return Started(await self._inputs.ask(requester, kind, parent.prompt, parent, action))
        task_id = parent.task_id
        job = await self._submitter.create(requester, kind, parent.prompt, parent=parent, origin=action)
        return Started(
            job,
            lambda: self._submitter.submit(job, lambda: self._backend.act(task_id, action, job_id=job.id)),
        )

    async def _imagine_all(self, parent: Job, action: Action, requester: Requester) -> Started:
        prompts = list(numbered_prompts(parent.text).values())
        if not prompts:
            raise ButtonUnavailable()
        started = await self._submitter.record_imagines(requester, prompts, origin=action, parent=parent)

        async def submit_all() -> Job:
            for each in started:
                await each.submit()
            return started[0].job

        return Started(started[0].job, submit_all)

    async def _retry(self, failed: Job, requester: Requester) -> Started | AlreadyDone:
        if failed.status is not JobStatus.FAILED:
            raise ButtonUnavailable()
        if failed.origin is not None and failed.parent_id is not None:
            async with self._db.read() as conn:
                parent = await get_job(conn, failed.parent_id)
            if parent is None:
                raise ButtonUnavailable()
            return await self._start(parent, failed.origin, requester)
        if failed.kind is JobKind.IMAGINE:
            return await self._submitter.record_imagine(requester, failed.prompt)
        if failed.kind is JobKind.SHORTEN:
            return await self._submitter.record_shorten(requester, failed.prompt)
        raise ButtonUnavailable()
