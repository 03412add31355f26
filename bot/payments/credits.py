"""Credits follow the job: reserved in the transaction that records it, given back when it fails uncharged."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Job, JobKind, JobStatus, counts_against_quota
from bot.domain.payments import JobPrices, OutOfCredits
from bot.quotas import day_start
from bot.storage.credits import Entry, Reason, add_entry, balance, free_jobs_since, job_entries

_GIVE_BACK = {Reason.JOB: Reason.JOB_BACK, Reason.FREE: Reason.FREE_BACK}


@dataclass(frozen=True, slots=True)
class CreditRules:
    """What a job costs: `free_daily` jobs a day cost nothing, then each its price; admins never pay."""

    prices: JobPrices
    free_daily: int
    admins: frozenset[int]


class CreditHook:
    """The job writer's hook (`bot.jobs.writer.JobHook`) that keeps each job's credits in the ledger."""

    def __init__(self, rules: CreditRules, clock: Callable[[], float] = time.time) -> None:
        self._rules = rules
        self._clock = clock

    async def jobs_recorded(self, conn: AsyncConnection, jobs: Sequence[Job]) -> None:
        """Reserve each new job's cost; OutOfCredits (and nothing recorded) when the user lacks it."""
        for job in jobs:
            await self._reserve(conn, job)

    async def job_changed(self, conn: AsyncConnection, before: Job, after: Job) -> None:
        """A job that just failed with nothing charged gets its credits (or its free job) back."""
        if after.status is not JobStatus.FAILED or before.status is JobStatus.FAILED:
            return
        if counts_against_quota(after):
            return
        entries = await job_entries(conn, after.id)
        reasons = {entry.reason for entry in entries}
        now = self._clock()
        for entry in entries:
            back = _GIVE_BACK.get(entry.reason)
            if back is not None and back not in reasons:
                await add_entry(conn, Entry(entry.user_id, -entry.amount, back, now, job_id=after.id))

    async def forecast(self, conn: AsyncConnection, user_id: int, kind: JobKind) -> None:
        """OutOfCredits now if a job of `kind` would be refused for want of credits."""
        await self._charge_for(conn, user_id, kind, self._clock())

    async def _reserve(self, conn: AsyncConnection, job: Job) -> None:
        now = self._clock()
        charge = await self._charge_for(conn, job.user_id, job.kind, now)
        if charge is not None:
            reason = Reason.FREE if charge == 0 else Reason.JOB
            await add_entry(conn, Entry(job.user_id, -charge, reason, now, job_id=job.id))

    async def _charge_for(self, conn: AsyncConnection, user_id: int, kind: JobKind, now: float) -> int | None:
        """What a new job of `kind` takes from the ledger: None nothing (admins, free kinds), 0 one of the
        day's free jobs, else its price. OutOfCredits when the balance lacks it."""
        rules = self._rules
        price = rules.prices.price_of(kind)
        if user_id in rules.admins or price == 0:
            return None
        if rules.free_daily and await free_jobs_since(conn, user_id, day_start(now)) < rules.free_daily:
            return 0
        have = await balance(conn, user_id)
        if have < price:
            raise OutOfCredits(price=price, balance=have)
        return price
