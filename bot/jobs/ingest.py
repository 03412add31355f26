"""Backend reports in: folded into their jobs in shared transactions; early ones kept until their job is."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot.batching import GroupCommit
from bot.domain import TaskUpdate
from bot.jobs.orphans import (
    ORPHAN_BYTES,
    ORPHAN_LIMIT,
    ORPHAN_TTL,
    ORPHAN_UPDATES_PER_TASK,
    OrphanBuffer,
    OrphanUsage,
    SharedOrphans,
)
from bot.jobs.writer import Ingest, JobWriter

log = logging.getLogger(__name__)

__all__ = [
    "ORPHAN_BYTES",
    "ORPHAN_LIMIT",
    "ORPHAN_TTL",
    "ORPHAN_UPDATES_PER_TASK",
    "JobIngest",
    "OrphanBuffer",
    "OrphanUsage",
    "SharedOrphans",
]


class JobIngest:
    """Takes updates from the webhook, the poller or an in-process backend.

    Reports about tasks no job knows yet are kept in memory, or with `shared` in the database, where the
    replica that records the task id finds them (`replay_orphans`).
    """

    def __init__(
        self,
        writer: JobWriter,
        backend_name: str,
        clock: Callable[[], float],
        shared: SharedOrphans | None = None,
    ) -> None:
        self._writer = writer
        self._backend_name = backend_name
        self._clock = clock
        self._batches: GroupCommit[TaskUpdate, Ingest] = GroupCommit(self._apply)
        self._orphans = OrphanBuffer(clock)
        self._shared = shared

    async def ingest(self, update: TaskUpdate) -> Ingest:
        """Fold one backend update into its job."""
        return (await self.ingest_many([update]))[0]

    async def ingest_many(self, updates: Sequence[TaskUpdate]) -> list[Ingest]:
        """Several updates of one callback, folded in order in the same transaction."""
        outcomes = await self._batches.submit_many(updates)
        if self._shared is None or Ingest.UNKNOWN not in outcomes:
            return outcomes
        unknown = [i for i, outcome in enumerate(outcomes) if outcome is Ingest.UNKNOWN]
        parked = await self._park(self._shared, [updates[i] for i in unknown])
        for i, outcome in zip(unknown, parked, strict=True):
            outcomes[i] = outcome
        return outcomes

    async def replay_orphans(self, task_id: str) -> None:
        """Fold in what the backend reported about `task_id` before its submit call returned."""
        if self._shared is None:
            kept = self._orphans.take(task_id)
        else:
            try:
                kept = await self._shared.take(task_id)
            except SQLAlchemyError:
                # The task id is recorded already; without its early reports the job is polled in time.
                log.warning("could not read early reports of task %s", task_id, exc_info=True)
                return
        for update in kept:
            await self.ingest(update)

    async def flush(self) -> None:
        await self._batches.flush()

    def orphan_usage(self) -> OrphanUsage:
        """What this process holds in memory (with `shared`: nothing; see `SharedOrphans.usage`)."""
        return self._orphans.usage()

    async def _apply(self, updates: list[TaskUpdate]) -> list[Ingest]:
        """One transaction for every update that arrived while the previous batch was written."""
        outcomes = await self._writer.apply_updates(self._backend_name, updates)
        if self._shared is None:
            for update, outcome in zip(updates, outcomes, strict=True):
                if outcome is Ingest.UNKNOWN:
                    self._orphans.keep(update)
        return outcomes

    async def _park(self, shared: SharedOrphans, updates: list[TaskUpdate]) -> list[Ingest]:
        """Store reports about unknown tasks for whichever replica records the task id.

        That replica looks for them right after recording it. If it recorded the task between our lookup
        and our store, it looked too early: then the task is known now, and we fold them in ourselves.
        """
        await shared.keep(updates)
        known = await shared.known([update.task_id for update in updates])
        for task_id in known:
            await self.replay_orphans(task_id)
        return [Ingest.APPLIED if u.task_id in known else Ingest.UNKNOWN for u in updates]
