"""After a restart: jobs recorded whose submit answer never got stored, reconciled with the backend."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from bot.backends.base import Backend, TaskFinder
from bot.domain import BackendError, FailureKind, Job, TaskUpdate
from bot.jobs.ingest import JobIngest
from bot.jobs.submit import Submitter
from bot.jobs.writer import JobWriter

log = logging.getLogger(__name__)


class Reconciler:
    """Finds out what became of a job whose submit was in flight when the bot stopped.

    The backend may have accepted it (and charged for it) without the bot storing the task id. A backend
    that can find tasks by job id (`TaskFinder`) tells: the job gets its task and carries on, or fails
    as INTERRUPTED (nothing started, 🔁 offered). Otherwise it fails as UNCERTAIN, without 🔁: a retry
    could run and charge it twice.
    """

    def __init__(
        self,
        backend: Backend,
        writer: JobWriter,
        ingest: JobIngest,
        submitter: Submitter,
        clock: Callable[[], float],
    ) -> None:
        self._backend = backend
        self._writer = writer
        self._ingest = ingest
        self._submitter = submitter
        self._clock = clock

    async def reconcile(self, job: Job) -> Job:
        """The job as it stands once the backend was asked about it."""
        backend = self._backend
        if not backend.capabilities.find_task or not isinstance(backend, TaskFinder):
            return await self._submitter.fail(job, FailureKind.UNCERTAIN, None)
        try:
            update = await backend.find_task(job.id, since=job.created_at)
        except BackendError as exc:
            log.warning("cannot tell whether job %s reached the backend: %s", job.id, exc)
            return await self._submitter.fail(job, FailureKind.UNCERTAIN, None)
        if update is None:
            return await self._submitter.fail(job, FailureKind.INTERRUPTED, None)
        log.info("job %s found on the backend as task %s", job.id, update.task_id)
        adopted = await self._writer.update(job.id, self._adopt(update), fallback=job)
        await self._ingest.replay_orphans(update.task_id)
        return await self._writer.get(job.id) or adopted or job

    def _adopt(self, update: TaskUpdate) -> Callable[[Job], Job]:
        now = self._clock()

        def adopt(current: Job) -> Job:
            if current.task_id is not None or current.status.is_final:
                return current
            with_task = replace(current, task_id=update.task_id, version=current.version + 1, updated_at=now)
            return with_task.apply(update, now)

        return adopt
