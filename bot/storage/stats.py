"""Figures for the operators' /stats: jobs of a period grouped by kind, outcome and failure, and users.

Both read the jobs created in the last 7 days by `created_at`, an index range over `ix_jobs_created` (schema
4): two grouped reads per /stats, never one per line.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.schema import jobs


@dataclass(frozen=True, slots=True)
class JobCount:
    """Jobs of one kind, status and failure: how many were created today and in the whole period."""

    kind: str
    status: str
    failure: str | None
    today: int
    period: int


def _counts_query(period_start: float, today_start: float) -> Select[str, str, str | None, int, int]:
    created_today = case((jobs.c.created_at >= today_start, 1), else_=0)
    return (
        select(jobs.c.kind, jobs.c.status, jobs.c.failure, func.sum(created_today), func.count())
        .where(jobs.c.created_at >= period_start)
        .group_by(jobs.c.kind, jobs.c.status, jobs.c.failure)
    )


def _users_query(period_start: float, today_start: float) -> Select[int, int]:
    today_user = case((jobs.c.created_at >= today_start, jobs.c.user_id), else_=None)
    return select(func.count(distinct(today_user)), func.count(distinct(jobs.c.user_id))).where(
        jobs.c.created_at >= period_start
    )


def stats_queries(
    *, period_start: float, today_start: float
) -> tuple[Select[str, str, str | None, int, int], Select[int, int]]:
    """Both queries /stats runs on the jobs table (for checking their plans)."""
    return _counts_query(period_start, today_start), _users_query(period_start, today_start)


async def job_counts(conn: AsyncConnection, *, period_start: float, today_start: float) -> list[JobCount]:
    """One grouped query over the jobs created since `period_start`, counting today's apart."""
    query = _counts_query(period_start, today_start)
    return [
        JobCount(kind, status, failure, int(today or 0), int(period))
        for kind, status, failure, today, period in (await conn.execute(query)).all()
    ]


async def active_users(conn: AsyncConnection, *, period_start: float, today_start: float) -> tuple[int, int]:
    """(users with a job today, users with a job in the period)."""
    row = (await conn.execute(_users_query(period_start, today_start))).one()
    return int(row[0] or 0), int(row[1] or 0)
