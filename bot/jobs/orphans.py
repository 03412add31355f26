"""Reports about tasks no job knows yet: a fast backend can report before its submit call returns.

One process keeps them in memory (`OrphanBuffer`); replicas keep them in the shared database
(`SharedOrphans`), because the report may reach one replica while another records the task id.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.domain import TaskUpdate
from bot.storage.database import Database
from bot.storage.jobs import find_jobs_by_tasks
from bot.storage.orphans import (
    delete_orphans,
    encode_update,
    expire_orphans,
    insert_orphan,
    orphan_counts,
    take_orphans,
    task_orphan_sizes,
)

ORPHAN_TTL = 120.0
ORPHAN_LIMIT = 2000
ORPHAN_UPDATES_PER_TASK = 16
ORPHAN_BYTES = 8 * 1024 * 1024
UPDATE_OVERHEAD = 64  # bookkeeping around each kept update (its entry, the deques' slots)


@dataclass(frozen=True, slots=True)
class OrphanUsage:
    """What the orphan buffer holds now."""

    tasks: int
    updates: int
    bytes: int


@dataclass(slots=True)
class _Kept:
    at: float
    size: int
    update: TaskUpdate
    gone: bool = False  # taken, or dropped for a newer update of its task


class OrphanBuffer:
    """Updates for tasks no job knows yet: a fast backend can report before its submit call returns.

    Each kept update lives ORPHAN_TTL seconds, checked on every keep and take; at most ORPHAN_LIMIT
    tasks, ORPHAN_UPDATES_PER_TASK updates per task (the newest) and ORPHAN_BYTES of estimated size
    are held. Past a limit, a report about a new task is dropped: its job, if any, is polled anyway.
    """

    def __init__(self, clock: Callable[[], float], *, max_bytes: int = ORPHAN_BYTES) -> None:
        self._clock = clock
        self._max_bytes = max_bytes
        self._arrivals: deque[tuple[str, _Kept]] = deque()  # oldest first, so expiry pops the front
        self._by_task: dict[str, deque[_Kept]] = {}
        self._bytes = 0  # estimated size of the updates held now
        self._held = 0

    def usage(self) -> OrphanUsage:
        return OrphanUsage(tasks=len(self._by_task), updates=self._held, bytes=self._bytes)

    def keep(self, update: TaskUpdate) -> bool:
        """Hold `update` for its task's job; False when it was dropped (over a limit)."""
        now = self._clock()
        self._expire(now)
        size = update_size(update)
        kept = self._by_task.get(update.task_id)
        if kept is None and len(self._by_task) >= ORPHAN_LIMIT:
            return False
        if kept is not None and len(kept) >= ORPHAN_UPDATES_PER_TASK:
            self._forget(kept.popleft())  # a newer report of the same task makes the oldest one moot
        if self._bytes + size > self._max_bytes:
            if kept is not None and not kept:
                del self._by_task[update.task_id]
            return False
        entry = _Kept(now, size, update)
        self._by_task.setdefault(update.task_id, deque()).append(entry)
        self._arrivals.append((update.task_id, entry))
        self._bytes += size
        self._held += 1
        if len(self._arrivals) > 2 * self._held + ORPHAN_UPDATES_PER_TASK:
            # Updates dropped for newer ones of their task still sit in the arrival order: drop them
            # there too, or a flood about one task would grow it for a whole ORPHAN_TTL.
            self._arrivals = deque(item for item in self._arrivals if not item[1].gone)
        return True

    def take(self, task_id: str) -> list[TaskUpdate]:
        now = self._clock()
        self._expire(now)
        kept = self._by_task.pop(task_id, deque())
        for entry in kept:
            self._forget(entry)
        return [entry.update for entry in kept]

    def _expire(self, now: float) -> None:
        while self._arrivals:
            task_id, entry = self._arrivals[0]
            if not entry.gone and now - entry.at < ORPHAN_TTL:
                return
            self._arrivals.popleft()
            if entry.gone:
                continue
            kept = self._by_task[task_id]
            kept.popleft()  # arrivals are in time order, so a task's expired update is its oldest
            self._forget(entry)
            if not kept:
                del self._by_task[task_id]

    def _forget(self, entry: _Kept) -> None:
        entry.gone = True
        self._bytes -= entry.size
        self._held -= 1


def update_size(update: TaskUpdate) -> int:
    """An estimate of the memory an update holds: the object, its strings and its actions."""
    size = sys.getsizeof(update) + UPDATE_OVERHEAD
    for value in (
        update.task_id,
        update.preview_url,
        update.image_url,
        update.video_url,
        update.text,
        update.fail_reason,
    ):
        if value is not None:
            size += sys.getsizeof(value)
    for action in update.actions or ():
        size += sys.getsizeof(action) + sum(
            sys.getsizeof(text) for text in (action.ref, action.label, action.emoji) if text
        )
    return size


class SharedOrphans:
    """The orphan buffer in a table every replica reads, with the same TTL, counts and byte budget.

    The byte budget counts the stored JSON. Replicas keeping reports at the same moment may each pass
    a limit once; the next keep sees their rows.
    """

    def __init__(
        self,
        db: Database,
        backend: str,
        clock: Callable[[], float] = time.time,  # wall time: every replica reads the same ages
        *,
        max_bytes: int = ORPHAN_BYTES,
    ) -> None:
        self._db = db
        self._backend = backend
        self._clock = clock
        self._max_bytes = max_bytes

    async def keep(self, updates: Sequence[TaskUpdate]) -> list[bool]:
        """Store each update for its task's job; False for one dropped over a limit."""
        now = self._clock()
        kept: list[bool] = []
        async with self._db.write() as conn:
            await expire_orphans(conn, before=now - ORPHAN_TTL)
            counts = await orphan_counts(conn)
            tasks, held = counts.tasks, counts.bytes
            for update in updates:
                payload = encode_update(update)
                size = len(payload.encode())
                sizes = await task_orphan_sizes(conn, self._backend, update.task_id)
                if not sizes and tasks >= ORPHAN_LIMIT:
                    kept.append(False)
                    continue
                if len(sizes) >= ORPHAN_UPDATES_PER_TASK:
                    # A newer report of the same task makes the oldest one moot.
                    oldest, oldest_size = sizes[0]
                    await delete_orphans(conn, [oldest])
                    held -= oldest_size
                if held + size > self._max_bytes:
                    kept.append(False)
                    continue
                await insert_orphan(conn, self._backend, update.task_id, payload, size=size, now=now)
                tasks += not sizes
                held += size
                kept.append(True)
        return kept

    async def take(self, task_id: str) -> list[TaskUpdate]:
        """The task's kept reports, oldest first, removed: one replica takes each."""
        async with self._db.write() as conn:
            await expire_orphans(conn, before=self._clock() - ORPHAN_TTL)
            return await take_orphans(conn, self._backend, task_id)

    async def known(self, task_ids: Sequence[str]) -> set[str]:
        """Which of these tasks a job has recorded by now."""
        async with self._db.read() as conn:
            return set(await find_jobs_by_tasks(conn, self._backend, task_ids))

    async def usage(self) -> OrphanUsage:
        async with self._db.read() as conn:
            counts = await orphan_counts(conn)
        return OrphanUsage(tasks=counts.tasks, updates=counts.updates, bytes=counts.bytes)
