"""Quota rules against a real SQLite database: daily limits reset at midnight UTC, admins are exempt."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import FailureKind, Job, JobKind, JobStatus, counts_against_quota
from bot.domain.errors import ChatBusy, DailyQuotaReached, GroupPoolExhausted, TooManyActive
from bot.quotas import DAY_SECONDS, Limits, QuotaGuard, day_start, hours_minutes, resets_in
from bot.storage.database import Database
from bot.storage.jobs import counted_since, insert_job

NOON = 20_000 * DAY_SECONDS + 12 * 3600  # some day, 12:00 UTC
GROUP = -100


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'q.db'}")
    await database.open()
    yield database  # type: ignore[misc]
    await database.close()


async def add_job(db: Database, n: int, *, user: int, chat: int, at: float, status: JobStatus) -> None:
    job = Job(
        id=f"job{n:04d}",
        kind=JobKind.IMAGINE,
        prompt="p",
        chat_id=chat,
        user_id=user,
        user_name="u",
        backend="b",
        status=status,
        task_id=f"t{n}",
        created_at=at,
        updated_at=at,
    )
    async with db.write() as conn:
        await insert_job(conn, job)


def test_reset_time_is_the_next_midnight_utc() -> None:
    assert day_start(NOON) == NOON - 12 * 3600
    assert resets_in(NOON) == 12 * 3600
    assert hours_minutes(resets_in(NOON - 90)) == (12, 1)


async def test_daily_quota_counts_today_only_and_resets(db: Database) -> None:
    guard = QuotaGuard(Limits(daily_per_user=2, active_per_user=0, active_per_chat=0), admins=frozenset({9}))
    await add_job(db, 1, user=1, chat=1, at=NOON - DAY_SECONDS, status=JobStatus.SUCCEEDED)
    await add_job(db, 2, user=1, chat=1, at=NOON - 60, status=JobStatus.SUCCEEDED)
    async with db.read() as conn:
        await guard.check(conn, 1, 1, NOON)  # yesterday's job does not count
    await add_job(db, 3, user=1, chat=1, at=NOON - 30, status=JobStatus.SUCCEEDED)
    async with db.read() as conn:
        with pytest.raises(DailyQuotaReached) as info:
            await guard.check(conn, 1, 1, NOON)
        assert info.value.args_for_message == {"limit": 2, "hours": 12, "minutes": 0}
        await guard.check(conn, 1, 1, day_start(NOON) + DAY_SECONDS + 1)  # after midnight: a new day
        await guard.check(conn, 9, 1, NOON)  # admins are never limited
        usage = await guard.usage(conn, 1, NOON)
    assert (usage.used_today, usage.daily_limit) == (2, 2)


async def test_running_limits_and_group_pool(db: Database) -> None:
    pool = {GROUP: 2}

    async def pool_for(chat_id: int) -> int | None:
        return pool.get(chat_id)

    guard = QuotaGuard(
        Limits(0, active_per_user=2, active_per_chat=3), admins=frozenset({9}), pool_for=pool_for
    )
    await add_job(db, 1, user=1, chat=GROUP, at=NOON, status=JobStatus.RUNNING)
    await add_job(db, 2, user=1, chat=GROUP, at=NOON, status=JobStatus.QUEUED)
    async with db.read() as conn:
        with pytest.raises(TooManyActive):
            await guard.check(conn, 1, GROUP, NOON)
        with pytest.raises(GroupPoolExhausted):
            await guard.check(conn, 2, GROUP, NOON)  # another guest: the pool of 2 is used up
        await guard.check(conn, 2, 2, NOON)  # their private chat has no pool
    await add_job(db, 3, user=9, chat=GROUP, at=NOON, status=JobStatus.RUNNING)
    async with db.read() as conn:
        with pytest.raises(ChatBusy):
            await guard.check(conn, 3, GROUP, NOON)
        with pytest.raises(TooManyActive):
            await guard.check(conn, 1, GROUP, NOON, jobs=1)


async def test_the_daily_count_is_every_job_recorded_except_uncharged_failures(db: Database) -> None:
    """The SQL count agrees with the domain rule for every status, failure and task-id combination."""
    combos: list[tuple[JobStatus, FailureKind | None, str | None]] = [
        (status, None, task) for status in JobStatus if status is not JobStatus.FAILED for task in ("t", None)
    ] + [(JobStatus.FAILED, failure, task) for failure in FailureKind for task in ("t", None)]
    made: list[Job] = []
    for n, (status, failure, task) in enumerate(combos):
        job = Job(
            id=f"combo{n:03d}",
            kind=JobKind.IMAGINE,
            prompt="p",
            chat_id=1,
            user_id=n + 100,
            user_name="u",
            backend="b",
            status=status,
            failure=failure,
            task_id=task,
            created_at=NOON,
            updated_at=NOON,
        )
        made.append(job)
        async with db.write() as conn:
            await insert_job(conn, job)

    async with db.read() as conn:
        for job in made:
            counted = await counted_since(conn, day_start(NOON), user_id=job.user_id)
            assert counted == int(counts_against_quota(job)), (job.status, job.failure, job.task_id)
    in_flight = next(j for j in made if j.status is JobStatus.QUEUED and j.task_id is None)
    waiting = next(j for j in made if j.status is JobStatus.NEEDS_INPUT and j.task_id is None)
    assert counts_against_quota(in_flight) and counts_against_quota(waiting)
    free = {(j.failure, j.task_id) for j in made if not counts_against_quota(j)}
    assert free == {
        (FailureKind.BANNED, "t"),
        (FailureKind.BANNED, None),
        (FailureKind.QUEUE_FULL, "t"),
        (FailureKind.QUEUE_FULL, None),
        (FailureKind.INVALID, "t"),
        (FailureKind.INVALID, None),
        (FailureKind.INTERRUPTED, "t"),
        (FailureKind.INTERRUPTED, None),
        (FailureKind.OFFLINE, "t"),
        (FailureKind.OFFLINE, None),
        (FailureKind.REMIX_OFF, "t"),
        (FailureKind.REMIX_OFF, None),
        (FailureKind.ACCOUNT, "t"),
        (FailureKind.ACCOUNT, None),
        (FailureKind.CANCELLED, None),
    }
