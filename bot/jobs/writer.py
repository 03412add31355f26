"""The one writer of job rows: load (locked) → pure change → save (buttons, hooks) → tell the listeners."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Job, JobKind, TaskUpdate
from bot.domain.buttons import ButtonPolicy
from bot.storage.buttons import create_buttons, job_buttons
from bot.storage.database import Database
from bot.storage.jobs import (
    find_jobs_by_tasks,
    get_job,
    insert_job,
    live_child,
    lock_owners,
    save_job,
    save_jobs,
)
from bot.storage.questions import delete_job_input_requests
from bot.storage.updates import settle_current_update

Change = Callable[[Job], Job]
"""A pure change of a job; returns the job itself when nothing changes."""

Check = Callable[[AsyncConnection], Awaitable[None]]
"""Run inside the creating transaction (a quota check); raises a DomainError to refuse."""


class Ingest(StrEnum):
    """What became of a backend update."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"
    UNKNOWN = "unknown"


class ResultExists(Exception):
    """A kept result's button was pressed again: `job` is the result it started the first time."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


class JobListener(Protocol):
    """Told, after commit, of every new state of a job (delivery, the poller; credits later)."""

    def job_changed(self, job: Job) -> None: ...


class JobHook(Protocol):
    """Runs inside the transaction that writes a job row, before commit (credits follow the job's states).

    Raising refuses the write: nothing is recorded (a DomainError reaches the user).
    """

    async def jobs_recorded(self, conn: AsyncConnection, jobs: Sequence[Job]) -> None:
        """New jobs were inserted."""

    async def job_changed(self, conn: AsyncConnection, before: Job, after: Job) -> None:
        """A stored job changed from `before` to `after`."""

    async def forecast(self, conn: AsyncConnection, user_id: int, kind: JobKind) -> None:
        """Raise what `jobs_recorded` would raise for a new job of `kind` by `user_id` now; writes nothing
        (a forecast before costly work: the recording checks again)."""


class JobWriter:
    """Every change of a job row goes through here, so listeners see each committed state exactly once."""

    def __init__(
        self,
        db: Database,
        buttons: ButtonPolicy,
        clock: Callable[[], float],
        listeners: Sequence[JobListener] = (),
        submitter: str | None = None,
        hooks: Sequence[JobHook] = (),
    ) -> None:
        """`submitter`: this replica's id, stored on the jobs it records (several replicas)."""
        self._db = db
        self._buttons = buttons
        self._clock = clock
        self._listeners = list(listeners)
        self._submitter = submitter
        self._hooks = tuple(hooks)
        self._lock = asyncio.Lock()

    def listen(self, listener: JobListener) -> None:
        self._listeners.append(listener)

    async def get(self, job_id: str) -> Job | None:
        async with self._db.read() as conn:
            return await get_job(conn, job_id)

    async def create(self, job: Job, *, check: Check | None = None, used_by: Job | None = None) -> Job:
        """Record a new job (after `check`), and mark the button that started it used on `used_by`.

        A button whose result is kept (U1, Animate) starts one job: when `used_by` has a live one for
        it already, ResultExists names it and nothing is recorded. Looking, checking and recording
        happen in one write transaction, so two quick presses cannot both start a job.
        """
        return (await self.create_all([job], check=check, used_by=used_by))[0]

    async def create_all(
        self, new: Sequence[Job], *, check: Check | None = None, used_by: Job | None = None
    ) -> list[Job]:
        """`create` for several jobs at once: all are recorded, or none (one check for all of them)."""
        marked: Job | None = None
        async with self._lock:
            async with self._db.write() as conn:
                # Another replica may be recording for the same people or the same button: take turns.
                await lock_owners(conn, [owner for job in new for owner in (job.user_id, job.chat_id)])
                if used_by is not None:
                    await get_job(conn, used_by.id, lock=True)
                for job in new:
                    await self._refuse_second_result(conn, job, used_by)
                if check is not None:
                    await check(conn)
                for job in new:
                    if used_by is not None and job.origin is not None:
                        marked = await self._mark_used(conn, used_by.id, job.origin.ref) or marked
                    await insert_job(conn, job, submitter=self._submitter)
                    await self._store_buttons(conn, job)
                for hook in self._hooks:
                    await hook.jobs_recorded(conn, new)
                await settle_current_update(conn)  # a replica taking the update over must not record it again
            if marked is not None:
                self._notify(marked)
            for job in new:
                self._notify(job)
        return list(new)

    async def mark_used(self, job_id: str, ref: str) -> None:
        """Remember that a button of the job was used (its label then shows ✅)."""
        async with self._lock:
            async with self._db.write() as conn:
                marked = await self._mark_used(conn, job_id, ref)
            if marked is not None:
                self._notify(marked)

    async def update(
        self,
        job_id: str,
        change: Change,
        *,
        fallback: Job | None = None,
        forget_questions: bool = False,
        check: Check | None = None,
    ) -> Job | None:
        """Apply `change` to the stored job (or to `fallback` if none is stored); the job as it now is.

        `check` runs in the same transaction before anything is written (a quota re-check).
        """
        async with self._lock:
            async with self._db.write() as conn:
                current = await get_job(conn, job_id, lock=True) or fallback
                if current is None:
                    return None
                changed = change(current)
                if changed is current:
                    return current
                if check is not None:
                    await check(conn)
                await save_job(conn, changed)
                if changed.status is not current.status or changed.actions != current.actions:
                    await self._store_buttons(conn, changed)
                if forget_questions:
                    await delete_job_input_requests(conn, changed.id)
                await self._changed(conn, current, changed)
            self._notify(changed)
        return changed

    async def apply_updates(self, backend: str, updates: Sequence[TaskUpdate]) -> list[Ingest]:
        """Fold backend updates into their jobs in one transaction, in order."""
        now = self._clock()
        outcomes: list[Ingest] = []
        changed: dict[str, Job] = {}
        before: dict[str, Job] = {}
        async with self._lock:
            async with self._db.write() as conn:
                by_task = await find_jobs_by_tasks(conn, backend, [u.task_id for u in updates], lock=True)
                for update in updates:
                    job = by_task.get(update.task_id)
                    if job is None:
                        outcomes.append(Ingest.UNKNOWN)
                        continue
                    updated = job.apply(update, now)
                    if updated is job:
                        outcomes.append(Ingest.UNCHANGED)
                        continue
                    before.setdefault(updated.id, job)
                    by_task[update.task_id] = changed[updated.id] = updated
                    outcomes.append(Ingest.APPLIED)
                await save_jobs(conn, list(changed.values()))
                for job in changed.values():
                    await self._store_buttons(conn, job)
                    await self._changed(conn, before[job.id], job)
            for job in changed.values():
                self._notify(job)
        return outcomes

    @staticmethod
    async def _refuse_second_result(conn: AsyncConnection, job: Job, used_by: Job | None) -> None:
        if used_by is None or job.origin is None or not job.origin.result_kept:
            return
        existing = await live_child(conn, used_by.id, job.origin.ref)
        if existing is not None:
            raise ResultExists(existing)

    async def _mark_used(self, conn: AsyncConnection, job_id: str, ref: str) -> Job | None:
        current = await get_job(conn, job_id, lock=True)
        if current is None:
            return None
        marked = current.mark_used(ref, self._clock())
        if marked is current:
            return None
        await save_job(conn, marked)
        await self._changed(conn, current, marked)
        return marked

    async def _changed(self, conn: AsyncConnection, before: Job, after: Job) -> None:
        for hook in self._hooks:
            await hook.job_changed(conn, before, after)

    async def _store_buttons(self, conn: AsyncConnection, job: Job) -> None:
        refs = self._buttons.refs(job)
        if not refs:
            return
        existing = await job_buttons(conn, job.id)
        await create_buttons(conn, job.id, [r for r in refs if r not in existing], self._clock())

    def _notify(self, job: Job) -> None:
        for listener in self._listeners:
            listener.job_changed(job)
