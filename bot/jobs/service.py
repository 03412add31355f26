"""The job service: one object handlers and the webhook app call, composed of the pieces of this package."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bot.backends.base import Backend
from bot.domain import BlendDimensions, Command, Job, JobKind, Requester, TaskUpdate
from bot.domain.buttons import ButtonPolicy
from bot.jobs.actions import ButtonActions
from bot.jobs.adoption import Adoption
from bot.jobs.ingest import JobIngest, OrphanUsage, SharedOrphans
from bot.jobs.inputs import InputFlow
from bot.jobs.outcomes import PressOutcome
from bot.jobs.policy import JobPolicy
from bot.jobs.poller import Poller
from bot.jobs.questions import Questions
from bot.jobs.recovery import Reconciler
from bot.jobs.submit import Submitter
from bot.jobs.writer import Ingest, JobHook, JobListener, JobWriter
from bot.preferences import PreferenceService
from bot.quotas import Limits, QuotaGuard, Usage
from bot.roster import Roster
from bot.storage.database import Database
from bot.storage.jobs import job_by_message, latest_active_job, recent_jobs


class JobService:
    """Owns every job's lifecycle; handlers and the webhook app only call into it."""

    def __init__(
        self,
        db: Database,
        backend: Backend,
        policy: JobPolicy,
        *,
        listeners: Sequence[JobListener] = (),
        clock: Callable[[], float] = time.time,
        quotas: QuotaGuard | None = None,
        preferences: PreferenceService | None = None,
        region_editing: bool = False,
        questions: Questions | None = None,
        roster: Roster | None = None,
        hooks: Sequence[JobHook] = (),
    ) -> None:
        self._db = db
        self._backend = backend
        self._policy = policy
        self._hooks = hooks
        self._clock = clock
        self._quotas = quotas or QuotaGuard(Limits(0, 0, 0), frozenset())
        buttons = ButtonPolicy(backend.capabilities, region_editing)
        self.writer = JobWriter(
            db, buttons, clock, listeners, hooks=hooks, submitter=roster.me if roster else None
        )
        # Replicas keep early reports in the database: the one recording the task id may be another.
        shared = SharedOrphans(db, backend.name, clock) if db.shared else None
        self._ingest = JobIngest(self.writer, backend.name, clock, shared)
        self.poller = Poller(db, backend, self.writer, self._ingest, policy, clock, roster)
        self.writer.listen(self.poller)
        self._submitter = Submitter(backend, self.writer, self._ingest, self._quotas, clock, preferences)
        self._inputs = InputFlow(backend, self.writer, self._submitter, clock, preferences)
        self._reconciler = Reconciler(backend, self.writer, self._ingest, self._submitter, clock)
        self._adoption = Adoption(db, backend.name, self.poller, self._reconciler, policy, clock, roster)
        self._actions = ButtonActions(db, backend, buttons, self._submitter, self._inputs, clock, preferences)
        self.questions = questions or Questions(db, clock)

    @property
    def backend(self) -> Backend:
        return self._backend

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Take updates from the backend, and resume every unfinished job (polls, input timeouts)."""
        await self._backend.start(self.ingest)
        await self._adoption.adopt()
        self.poller.start()
        self._adoption.start()

    async def stop(self) -> None:
        await self._adoption.stop()
        await self._ingest.flush()
        await self.poller.stop()

    # --- starting jobs ------------------------------------------------------------------------------

    def require(self, command: Command) -> None:
        """Refuse a command the backend cannot run, with an explanation rather than an error."""
        self._submitter.require(command)

    async def check_limits(self, requester: Requester, kind: JobKind) -> None:
        """Refuse early, before costly work (downloading and decoding pictures), what the limits and the
        hooks (credits) would refuse for a job of `kind`.

        Only a forecast: the job's creation checks again, inside its own transaction.
        """
        check = self._submitter.within_limits(requester.user_id, requester.chat_id, 1)
        async with self._db.read() as conn:
            await check(conn)
            for hook in self._hooks:
                await hook.forecast(conn, requester.user_id, kind)

    async def imagine(self, requester: Requester, text: str | None) -> Job:
        return await self._submitter.imagine(requester, text)

    async def describe(self, requester: Requester, image: bytes, mime_type: str) -> Job:
        return await self._submitter.describe(requester, image, mime_type)

    async def blend(
        self, requester: Requester, images: list[tuple[bytes, str]], dimensions: BlendDimensions
    ) -> Job:
        return await self._submitter.blend(requester, images, dimensions)

    async def shorten(self, requester: Requester, text: str | None) -> Job:
        return await self._submitter.shorten(requester, text)

    # --- buttons and answers ------------------------------------------------------------------------

    async def press(self, token: str, user_id: int, user_name: str, language: str) -> PressOutcome:
        """Record what a button starts; a `Started` job's backend call follows in `Started.submit`."""
        return await self._actions.press(token, user_id, user_name, language)

    async def seed(self, job: Job, user_id: int) -> str:
        """The seed of a job for `user_id`, who may ask only where they may press its Seed button."""
        return await self._actions.seed_for(job, user_id)

    async def cancel(self, job: Job, user_id: int) -> Job:
        return await self._actions.cancel(job, user_id)

    async def provide_input(
        self, job_id: str, user_id: int, text: str | None, *, mask_png: bytes | None = None
    ) -> Job:
        """The user's prompt for a job waiting for input (None: use the offered prompt as it is)."""
        return await self._inputs.provide(job_id, user_id, text, mask_png=mask_png)

    async def cancel_input(self, job_id: str, user_id: int) -> Job:
        return await self._inputs.cancel(job_id, user_id)

    # --- backend updates ----------------------------------------------------------------------------

    async def ingest(self, update: TaskUpdate) -> Ingest:
        """Fold a backend update into its job (from a webhook, the poller or an in-process backend)."""
        return await self._ingest.ingest(update)

    async def ingest_many(self, updates: Sequence[TaskUpdate]) -> list[Ingest]:
        return await self._ingest.ingest_many(updates)

    async def replay_orphans(self, task_id: str) -> None:
        """Fold in what arrived for `task_id` before any job knew it (done after each accepted submit)."""
        await self._ingest.replay_orphans(task_id)

    def orphan_usage(self) -> OrphanUsage:
        """What is held of reports about tasks no job knows (bounded in count, bytes and age)."""
        return self._ingest.orphan_usage()

    async def fail_unreadable_result(self, job_id: str, reason: str) -> None:
        """Delivery found a finished job's picture unreadable: the job fails (with 🔁 where it can)."""
        await self.writer.update(job_id, lambda job: job.result_unreadable(reason, self._clock()))

    async def check(self, job_id: str) -> Job | None:
        """Poll one unfinished job now."""
        return await self.poller.check(job_id)

    # --- reading ------------------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        return await self.writer.get(job_id)

    async def job_for_message(self, chat_id: int, message_id: int) -> Job | None:
        async with self._db.read() as conn:
            return await job_by_message(conn, chat_id, message_id)

    async def latest_active(self, user_id: int, chat_id: int) -> Job | None:
        async with self._db.read() as conn:
            return await latest_active_job(conn, user_id, chat_id)

    async def history(self, user_id: int, chat_id: int | None, limit: int) -> list[Job]:
        async with self._db.read() as conn:
            return await recent_jobs(conn, user_id, chat_id=chat_id, limit=limit)

    async def usage(self, user_id: int) -> Usage:
        async with self._db.read() as conn:
            return await self._quotas.usage(conn, user_id, self._clock())
