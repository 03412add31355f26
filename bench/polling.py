"""Polling without PUBLIC_URL: backend requests per running job per minute, one fetch per job vs one batch.

The bot's own JobService (poller, ingest, writer, SQLite) polls the fake midjourney-proxy, which counts the
requests; the jobs sit in the database as running, as after a restart. The policy's timings run SPEED times
faster so a bench minute takes a few seconds; the figures are per real minute of the default timings.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bot.backends.mjproxy import MjProxyBackend
from bot.domain import Job, JobKind, JobStatus
from bot.jobs.policy import JobPolicy
from bot.jobs.service import JobService
from bot.storage.database import Database
from bot.storage.jobs import insert_job
from tests.fakes.mjproxy import FakeMjProxy

SPEED = 10.0  # the default poll interval (3 s, growing to 20 s) runs ten times faster
MINUTE = 60.0 / SPEED  # one minute of the default timings, in bench seconds
SECRET = "bench-poll-secret"


@dataclass(frozen=True, slots=True)
class PollingFigure:
    """Backend requests over one (scaled) minute of polling, after one minute of warm-up."""

    jobs: int
    batch: bool
    requests: int
    fetches: int
    lists: int

    @property
    def per_job_per_minute(self) -> float:
        return self.requests / self.jobs


@dataclass(frozen=True, slots=True)
class Polling:
    before: PollingFigure  # one fetch per job per interval
    after: PollingFigure  # one list-by-condition per interval for all jobs


async def measure_polling(jobs: int, data_dir: Path) -> Polling:
    before = await _one_mode(jobs, data_dir, batch=False)
    after = await _one_mode(jobs, data_dir, batch=True)
    return Polling(before, after)


async def _one_mode(jobs: int, data_dir: Path, *, batch: bool) -> PollingFigure:
    default = JobPolicy()
    policy = JobPolicy(
        timeout=3600.0,
        poll_interval=default.poll_interval / SPEED,
        max_poll_interval=default.max_poll_interval / SPEED,
        push_silence=default.push_silence / SPEED,
    )
    db = Database(f"sqlite+aiosqlite:///{data_dir / f'polling-{batch}.db'}")
    await db.open()
    try:
        async with FakeMjProxy(api_secret=SECRET) as proxy, httpx.AsyncClient() as client:
            backend = MjProxyBackend(client, proxy.base_url, api_key=SECRET, notify_url=None)
            if not batch:
                backend.capabilities = replace(backend.capabilities, batch_fetch=False)
            await _running_jobs(proxy, db, jobs)
            service = JobService(db, backend, policy)
            await service.start()
            try:
                await asyncio.sleep(MINUTE)  # warm-up: the restart's first checks and the intervals' growth
                seen = len(proxy.requests)
                await asyncio.sleep(MINUTE)
                window = proxy.requests[seen:]
            finally:
                await service.stop()
    finally:
        await db.close()
    fetches = sum(1 for r in window if r.path.endswith("/fetch"))
    lists = sum(1 for r in window if r.path.endswith("/list-by-condition"))
    return PollingFigure(jobs, batch, len(window), fetches, lists)


async def _running_jobs(proxy: FakeMjProxy, db: Database, count: int) -> None:
    now = time.time()
    async with db.write() as conn:
        for n in range(count):
            task = proxy.new_task("IMAGINE", f"bench poll {n}", "", {})
            task.status, task.start_time = "SUBMITTED", int(now * 1000)
            job = Job(
                id=f"poll{n:012d}",
                kind=JobKind.IMAGINE,
                prompt=task.prompt,
                chat_id=10_000 + n,
                user_id=10_000 + n,
                user_name="bench",
                backend="mjproxy",
                status=JobStatus.RUNNING,
                task_id=task.id,
                created_at=now,
                updated_at=now,
            )
            await insert_job(conn, job)
