"""The operators' tables on SQLite and PostgreSQL: the audience, broadcasts and their recipients, /stats."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from bot.domain import FailureKind, JobKind, JobStatus
from bot.operators.stats import StatsService
from bot.storage.audience import audience_counts, is_blocked, mark_blocked, reachable_users, record_seen
from bot.storage.broadcasts import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    create_broadcast,
    finish_broadcast,
    get_broadcast,
    pending_recipients,
    recipient_counts,
    running_broadcast,
    set_progress_message,
    settle_recipient,
)
from bot.storage.database import Database
from bot.storage.jobs import insert_job
from bot.storage.stats import active_users, job_counts, stats_queries
from tests.factories import make_job

DAY = 86_400.0
NOW = 1_764_000_000.0 + 15 * 3600  # 15:00 UTC
TODAY = NOW - NOW % DAY


def broadcast(id_: str = "b1", created_at: float = NOW) -> Broadcast:
    return Broadcast(
        id=id_,
        from_chat_id=42,
        message_id=7,
        admin_chat_id=42,
        admin_thread_id=None,
        progress_message_id=None,
        language="en",
        status=BroadcastStatus.RUNNING,
        created_at=created_at,
        finished_at=None,
    )


async def test_the_audience_remembers_who_started_the_bot_and_who_blocked_it(database: Database) -> None:
    async with database.write() as conn:
        assert await record_seen(conn, 1, NOW - 3 * DAY) is True
        assert await record_seen(conn, 1, NOW) is False  # seen again: not new
        assert await record_seen(conn, 2, NOW) is True
        await mark_blocked(conn, 2, NOW)
    async with database.read() as conn:
        assert await is_blocked(conn, 1) is False
        assert await is_blocked(conn, 2) is True
        assert await is_blocked(conn, 3) is None
        assert sorted((await conn.execute(reachable_users())).scalars()) == [1]
        assert await audience_counts(conn, since=TODAY) == (1, 2)  # user 2 new today, both wrote today
    async with database.write() as conn:
        await record_seen(conn, 2, NOW + 1)  # wrote again: unblocked
    async with database.read() as conn:
        assert sorted((await conn.execute(reachable_users())).scalars()) == [1, 2]


async def test_a_broadcast_goes_to_the_reachable_audience_and_settles_each_recipient_once(
    database: Database,
) -> None:
    async with database.write() as conn:
        for user in range(1, 6):
            await record_seen(conn, user, NOW)
        await mark_blocked(conn, 4, NOW)
        assert await create_broadcast(conn, broadcast()) == 4
        await set_progress_message(conn, "b1", 99)
    async with database.read() as conn:
        running = await running_broadcast(conn)
        assert running is not None and running.progress_message_id == 99
        assert await pending_recipients(conn, "b1", 2) == [1, 2]
    async with database.write() as conn:
        assert await settle_recipient(conn, "b1", 1, Delivery.SENT, NOW) is True
        assert await settle_recipient(conn, "b1", 1, Delivery.FAILED, NOW) is False  # settled already
        assert await settle_recipient(conn, "b1", 2, Delivery.BLOCKED, NOW) is True
    async with database.read() as conn:
        assert await pending_recipients(conn, "b1", 10) == [3, 5]
        counts = await recipient_counts(conn, "b1")
    assert counts == {Delivery.PENDING: 2, Delivery.SENT: 1, Delivery.BLOCKED: 1, Delivery.FAILED: 0}
    async with database.write() as conn:
        assert await finish_broadcast(conn, "b1", BroadcastStatus.CANCELLED, NOW) is True
        assert await finish_broadcast(conn, "b1", BroadcastStatus.DONE, NOW) is False
    async with database.read() as conn:
        assert await running_broadcast(conn) is None
        stored = await get_broadcast(conn, "b1")
    assert stored is not None and stored.status is BroadcastStatus.CANCELLED and stored.finished_at == NOW


async def test_job_figures_count_today_and_the_week_apart(database: Database) -> None:
    jobs = [
        make_job(id="a", user_id=1, status=JobStatus.SUCCEEDED, created_at=NOW - 60),
        make_job(id="b", user_id=1, status=JobStatus.FAILED, failure=FailureKind.BANNED, created_at=NOW),
        make_job(id="c", user_id=2, kind=JobKind.UPSCALE, status=JobStatus.SUCCEEDED, created_at=NOW - DAY),
        make_job(
            id="d", user_id=3, status=JobStatus.FAILED, failure=FailureKind.TIMEOUT, created_at=NOW - DAY
        ),
        make_job(id="e", user_id=4, status=JobStatus.RUNNING, created_at=TODAY + 1),
        make_job(id="old", user_id=5, status=JobStatus.SUCCEEDED, created_at=NOW - 8 * DAY),
    ]
    async with database.write() as conn:
        for job in jobs:
            await insert_job(conn, job)
        await record_seen(conn, 1, NOW - 2 * DAY)
        await record_seen(conn, 2, NOW)
    async with database.read() as conn:
        counts = await job_counts(conn, period_start=NOW - 7 * DAY, today_start=TODAY)
        users = await active_users(conn, period_start=NOW - 7 * DAY, today_start=TODAY)
    found = {(c.kind, c.status, c.failure): (c.today, c.period) for c in counts}
    assert found == {
        ("imagine", "succeeded", None): (1, 1),
        ("imagine", "failed", "banned"): (1, 1),
        ("imagine", "failed", "timeout"): (0, 1),
        ("imagine", "running", None): (1, 1),
        ("upscale", "succeeded", None): (0, 1),
    }
    assert users == (2, 4)  # today users 1 and 4; in the week 1, 2, 3 and 4

    report = await StatsService(database, clock=lambda: NOW).report()
    assert (report.jobs.today, report.jobs.week) == (3, 5)
    assert report.failures["banned"].week == 1 and report.failures["timeout"].today == 0
    assert list(report.kinds) == ["imagine", "upscale"]  # the busiest kind first
    assert (report.new_users.today, report.new_users.week) == (1, 2)
    assert report.stars_received is None  # no Stars lines without the payments' totals


@pytest.mark.parametrize("received", [(50, 0)])
async def test_stars_lines_come_from_the_payments_totals_when_given(
    database: Database, received: tuple[int, int]
) -> None:
    asked: list[float] = []

    async def stars(_conn: object, since: float) -> tuple[int, int]:
        asked.append(since)
        return received if since >= TODAY else (received[0] * 3, 20)

    report = await StatsService(database, stars=stars, clock=lambda: NOW).report()
    assert asked == [TODAY, NOW - 7 * DAY]
    assert report.stars_received is not None and report.stars_refunded is not None
    assert (report.stars_received.today, report.stars_received.week) == (50, 150)
    assert (report.stars_refunded.today, report.stars_refunded.week) == (0, 20)


async def test_stats_read_an_index_range_of_the_jobs_table_not_all_of_it(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}")
    await db.open()
    try:
        async with db.read() as conn:
            plans = []
            for query in stats_queries(period_start=NOW - 7 * DAY, today_start=TODAY):
                sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
                plans += [row[3] for row in (await conn.execute(text("EXPLAIN QUERY PLAN " + sql))).all()]
    finally:
        await db.close()
    assert not [step for step in plans if step.startswith("SCAN jobs")], plans
