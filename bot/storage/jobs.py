"""Job rows: the job itself, what Telegram shows of it (delivery state), and the counts quotas ask for."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import FailureKind, Job, JobKind, JobStatus
from bot.storage.leases import holder_alive
from bot.storage.rows import action_from_wire, action_to_wire, from_row, to_values
from bot.storage.schema import OUTBOX_WHERE, USER_NAME_LENGTH, jobs

ACTIVE_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value, JobStatus.NEEDS_INPUT.value)


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """What Telegram currently shows for a job."""

    shown_version: int
    shown_media: str | None
    shown_caption: str | None
    photo_file_id: str | None
    document_sent: bool
    delivery_error: str | None


def _job_values(job: Job) -> dict[str, Any]:
    return to_values(
        job,
        # Telegram's first and last names may reach 129 characters together; PostgreSQL enforces lengths.
        user_name=lambda name: name[:USER_NAME_LENGTH],
        kind=lambda kind: kind.value,
        status=lambda status: status.value,
        origin=lambda origin: json.dumps(action_to_wire(origin)) if origin else None,
        actions=lambda actions: json.dumps([action_to_wire(a) for a in actions], ensure_ascii=False),
        failure=lambda failure: failure.value if failure else None,
        used=lambda used: json.dumps(list(used)),
    )


def _job_from_row(row: RowMapping) -> Job:
    return from_row(
        Job,
        row,
        kind=JobKind,
        status=JobStatus,
        origin=lambda raw: action_from_wire(json.loads(raw)) if raw else None,
        actions=lambda raw: tuple(action_from_wire(a) for a in json.loads(raw)),
        failure=lambda raw: FailureKind(raw) if raw else None,
        used=lambda raw: tuple(json.loads(raw)),
    )


async def _jobs(conn: AsyncConnection, query: Select[Any]) -> list[Job]:
    return [_job_from_row(r) for r in (await conn.execute(query)).mappings()]


async def _first_job(conn: AsyncConnection, query: Select[Any]) -> Job | None:
    row = (await conn.execute(query)).mappings().first()
    return _job_from_row(row) if row else None


# --- writing ------------------------------------------------------------------------------------------


async def insert_job(conn: AsyncConnection, job: Job, *, submitter: str | None = None) -> None:
    """Record a new job; `submitter`: the replica that is about to submit it (several replicas)."""
    await conn.execute(
        insert(jobs).values(**_job_values(job), shown_version=-1, document_sent=False, submitter=submitter)
    )


async def lost_submits(conn: AsyncConnection, backend: str, member_prefix: str, *, now: float) -> set[str]:
    """Jobs still waiting for their submit's answer whose submitting replica is dead (its membership lease
    `member_prefix` + submitter ran out)."""
    query = select(jobs.c.id).where(
        jobs.c.backend == backend,
        jobs.c.task_id.is_(None),
        jobs.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
        jobs.c.submitter.is_not(None),
        ~holder_alive(member_prefix, jobs.c.submitter, now=now),
    )
    return {str(row[0]) for row in await conn.execute(query)}


async def save_job(conn: AsyncConnection, job: Job) -> None:
    """Write the job's domain fields; delivery bookkeeping is left as it is."""
    values = _job_values(job)
    values.pop("id")
    await conn.execute(update(jobs).where(jobs.c.id == job.id).values(**values))


async def save_jobs(conn: AsyncConnection, changed: Sequence[Job]) -> None:
    """`save_job` for many jobs in one statement (executemany)."""
    if not changed:
        return
    rows = []
    for job in changed:
        values = _job_values(job)
        values["job_id"] = values.pop("id")
        rows.append(values)
    await conn.execute(update(jobs).where(jobs.c.id == bindparam("job_id")), rows)


async def set_message_id(conn: AsyncConnection, job_id: str, message_id: int | None) -> None:
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(message_id=message_id))


# --- reading ------------------------------------------------------------------------------------------


async def get_job(conn: AsyncConnection, job_id: str, *, lock: bool = False) -> Job | None:
    """The job; `lock`: hold its row until the transaction ends, so that another replica's writer waits
    and then reads this one's result (PostgreSQL; SQLite has one writer anyway and ignores it)."""
    query = select(jobs).where(jobs.c.id == job_id)
    return await _first_job(conn, query.with_for_update() if lock else query)


async def find_jobs_by_tasks(
    conn: AsyncConnection, backend: str, task_ids: Iterable[str], *, lock: bool = False
) -> dict[str, Job]:
    """The jobs of these backend tasks, by task id (tasks with no job are left out); `lock` as in
    `get_job`, rows taken in id order so that two replicas' batches cannot deadlock."""
    wanted = sorted(set(task_ids))
    if not wanted:
        return {}
    query = select(jobs).where(jobs.c.backend == backend, jobs.c.task_id.in_(wanted))
    if lock:
        query = query.order_by(jobs.c.id).with_for_update()
    found: dict[str, Job] = {}
    for job in await _jobs(conn, query):
        if job.task_id is not None:
            found.setdefault(job.task_id, job)
    return found


async def job_by_message(conn: AsyncConnection, chat_id: int, message_id: int) -> Job | None:
    query = select(jobs).where(jobs.c.chat_id == chat_id, jobs.c.message_id == message_id)
    return await _first_job(conn, query)


async def jobs_waiting_for_input(conn: AsyncConnection, chat_id: int, user_id: int) -> list[Job]:
    query = (
        select(jobs)
        .where(
            jobs.c.chat_id == chat_id, jobs.c.user_id == user_id, jobs.c.status == JobStatus.NEEDS_INPUT.value
        )
        .order_by(jobs.c.created_at.desc())
    )
    return await _jobs(conn, query)


async def unfinished_jobs(conn: AsyncConnection, backend: str) -> list[Job]:
    final = [JobStatus.SUCCEEDED.value, JobStatus.FAILED.value]
    query = (
        select(jobs).where(jobs.c.backend == backend, jobs.c.status.not_in(final)).order_by(jobs.c.created_at)
    )
    return await _jobs(conn, query)


async def recent_jobs(conn: AsyncConnection, user_id: int, *, chat_id: int | None, limit: int) -> list[Job]:
    query = select(jobs).where(jobs.c.user_id == user_id)
    if chat_id is not None:
        query = query.where(jobs.c.chat_id == chat_id)
    query = query.order_by(jobs.c.created_at.desc()).limit(limit)
    return await _jobs(conn, query)


async def latest_active_job(conn: AsyncConnection, user_id: int, chat_id: int) -> Job | None:
    query = (
        select(jobs)
        .where(jobs.c.user_id == user_id, jobs.c.chat_id == chat_id, jobs.c.status.in_(ACTIVE_STATUSES))
        .order_by(jobs.c.created_at.desc())
    )
    return await _first_job(conn, query)


# --- counts (statistics, quotas) ---------------------------------------------------------------------


async def count_jobs(conn: AsyncConnection, statuses: Sequence[JobStatus] | None = None) -> int:
    query = select(func.count()).select_from(jobs)
    if statuses:
        query = query.where(jobs.c.status.in_([s.value for s in statuses]))
    return int((await conn.execute(query)).scalar_one())


async def active_jobs(
    conn: AsyncConnection, *, user_id: int | None = None, chat_id: int | None = None
) -> int:
    """Jobs still queued, running or waiting for input, of a user or in a chat."""
    query = select(func.count()).select_from(jobs).where(jobs.c.status.in_(ACTIVE_STATUSES))
    if user_id is not None:
        query = query.where(jobs.c.user_id == user_id)
    if chat_id is not None:
        query = query.where(jobs.c.chat_id == chat_id)
    return int((await conn.execute(query)).scalar_one())


async def counted_since(
    conn: AsyncConnection,
    since: float,
    *,
    user_id: int | None = None,
    chat_id: int | None = None,
    exclude_users: frozenset[int] = frozenset(),
) -> int:
    """Jobs recorded since `since` that a daily quota counts (`bot.domain.counts_against_quota` in SQL).

    Every job counts from the moment it is recorded (submit still in flight, waiting for the user's
    prompt, running, done), except one that failed without the backend charging for it.
    """
    free = [kind.value for kind in FailureKind if kind.nothing_charged]
    not_free = or_(
        jobs.c.status != JobStatus.FAILED.value,
        and_(
            func.coalesce(jobs.c.failure, "").not_in(free),
            or_(jobs.c.failure != FailureKind.CANCELLED.value, jobs.c.task_id.is_not(None)),
        ),
    )
    query = select(func.count()).select_from(jobs).where(jobs.c.created_at >= since, not_free)
    if user_id is not None:
        query = query.where(jobs.c.user_id == user_id)
    if chat_id is not None:
        query = query.where(jobs.c.chat_id == chat_id)
    if exclude_users:
        query = query.where(jobs.c.user_id.not_in(list(exclude_users)))
    return int((await conn.execute(query)).scalar_one())


async def live_child(conn: AsyncConnection, parent_id: str, ref: str) -> Job | None:
    """The newest job a button (`ref`) of `parent_id` started that has not failed."""
    query = (
        select(jobs)
        .where(jobs.c.parent_id == parent_id, jobs.c.status != JobStatus.FAILED.value)
        .order_by(jobs.c.created_at)
    )
    alive = [c for c in await _jobs(conn, query) if c.origin is not None and c.origin.ref == ref]
    return alive[-1] if alive else None


# --- delivery state -----------------------------------------------------------------------------------


async def get_job_with_delivery(conn: AsyncConnection, job_id: str) -> tuple[Job, DeliveryState] | None:
    row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).mappings().first()
    return (_job_from_row(row), from_row(DeliveryState, row, document_sent=bool)) if row else None


async def undelivered_jobs(conn: AsyncConnection) -> list[tuple[str, int]]:
    """(job id, chat id) of jobs whose newest state Telegram has not shown yet, oldest first."""
    query = (
        select(jobs.c.id, jobs.c.chat_id)
        .where(OUTBOX_WHERE)  # exactly the partial index's condition, so the index serves it
        .order_by(jobs.c.updated_at)
    )
    return [(r.id, r.chat_id) for r in await conn.execute(query)]


async def save_delivery(
    conn: AsyncConnection, job_id: str, state: DeliveryState, *, message_id: int | None
) -> None:
    values = to_values(state)
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values, message_id=message_id))


# Advisory lock space for the users and chats whose limits a new job is checked against ("mjq").
OWNER_LOCK_SPACE = 0x6D6A71
INT4_KEYS = 2_147_483_647


async def lock_owners(conn: AsyncConnection, owner_ids: Iterable[int]) -> None:
    """Hold, until the transaction ends, a lock for each user and chat id, so that two replicas checking
    the same limits take turns (PostgreSQL; SQLite has one writer anyway). Ids sharing a key only wait."""
    if conn.dialect.name != "postgresql":
        return
    for key in sorted({owner % INT4_KEYS for owner in owner_ids}):  # one order everywhere: no deadlock
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": OWNER_LOCK_SPACE, "key": key}
        )
