"""Backend reports in: folded into their jobs in shared transactions; early ones kept until their job is."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.batching import GroupCommit
from bot.domain import TaskUpdate
from bot.jobs.writer import Ingest, JobWriter

ORPHAN_TTL = 120.0
ORPHAN_LIMIT = 2000
ORPHAN_UPDATES_PER_TASK = 16


class JobIngest:
    """Takes updates from the webhook, the poller or an in-process backend."""

    def __init__(self, writer: JobWriter, backend_name: str, clock: Callable[[], float]) -> None:
        self._writer = writer
        self._backend_name = backend_name
        self._clock = clock
        self._batches: GroupCommit[TaskUpdate, Ingest] = GroupCommit(self._apply)
        self._orphans = OrphanBuffer(clock)

    async def ingest(self, update: TaskUpdate) -> Ingest:
        """Fold one backend update into its job."""
        return await self._batches.submit(update)

    async def ingest_many(self, updates: Sequence[TaskUpdate]) -> list[Ingest]:
        """Several updates of one callback, folded in order in the same transaction."""
        return await self._batches.submit_many(updates)

    async def replay_orphans(self, task_id: str) -> None:
        """Fold in what the backend reported about `task_id` before its submit call returned."""
        for update in self._orphans.take(task_id):
            await self.ingest(update)

    async def flush(self) -> None:
        await self._batches.flush()

    async def _apply(self, updates: list[TaskUpdate]) -> list[Ingest]:
        """One transaction for every update that arrived while the previous batch was written."""
        outcomes = await self._writer.apply_updates(self._backend_name, updates)
        for update, outcome in zip(updates, outcomes, strict=True):
            if outcome is Ingest.UNKNOWN:
                self._orphans.keep(update)
        return outcomes


class OrphanBuffer:
    """Updates for tasks no job knows yet: a fast backend can report before its submit call returns."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._kept: dict[str, list[tuple[float, TaskUpdate]]] = {}

    def keep(self, update: TaskUpdate) -> None:
        now = self._clock()
        if len(self._kept) >= ORPHAN_LIMIT:
            self._kept = {k: v for k, v in self._kept.items() if v and now - v[-1][0] < ORPHAN_TTL}
            if len(self._kept) >= ORPHAN_LIMIT:
                return
        kept = self._kept.setdefault(update.task_id, [])
        kept.append((now, update))
        del kept[:-ORPHAN_UPDATES_PER_TASK]

    def take(self, task_id: str) -> list[TaskUpdate]:
        now = self._clock()
        return [u for at, u in self._kept.pop(task_id, []) if now - at < ORPHAN_TTL]
