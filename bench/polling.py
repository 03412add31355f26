"""Polling without PUBLIC_URL: backend requests per running job per minute, one fetch per job vs one batch.

The bot's own JobService (poller, ingest, writer, SQLite) polls the fake midjourney-proxy, which counts the
requests; the jobs sit in the database as running, as after a restart. The policy's timings run SPEED times
faster so a bench minute takes a few seconds; the figures are per real minute of the default timings.

For Ace Data Cloud the jobs are submitted through the adapter first (a submit is where a connection would be
held open for the job's whole life), then polled the same way; the fake counts the connections held open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence, Sized
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bot.backends.acedata import AceDataBackend
from bot.backends.base import Backend
from bot.backends.mjproxy import MjProxyBackend
from bot.domain import Job, JobKind, JobStatus
from bot.jobs.policy import JobPolicy
from bot.jobs.service import JobService
from bot.storage.database import Database
from bot.storage.jobs import insert_job
from tests.fakes.acedata import FakeAceData
from tests.fakes.mjproxy import FakeMjProxy

SPEED = 10.0  # the default poll interval (3 s, growing to 20 s) runs ten times faster
MINUTE = 60.0 / SPEED  # one minute of the default timings, in bench seconds
SECRET = "bench-poll-secret"
SUBMITS_IN_FLIGHT = 16  # users' /imagine arrive spread out; a thousand at once only measures httpx's pool
SUBMIT_DEADLINE = 60.0  # seconds; a submit held open for its job's life would never be answered here


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


@dataclass(frozen=True, slots=True)
class AceDataFigure:
    """Ace Data Cloud without a callback URL: connections held open, and one (scaled) minute of polling."""

    jobs: int
    most_open: int  # the most connections held open at once, from the first submit to the last poll
    requests: int
    batches: int  # of which retrieve_batch reads

    @property
    def open_per_job(self) -> float:
        return self.most_open / self.jobs

    @property
    def per_job_per_minute(self) -> float:
        return self.requests / self.jobs


async def measure_polling(jobs: int, data_dir: Path) -> Polling:
    before = await _one_mode(jobs, data_dir, batch=False)
    after = await _one_mode(jobs, data_dir, batch=True)
    return Polling(before, after)


def _policy() -> JobPolicy:
    default = JobPolicy()
    return JobPolicy(
        timeout=3600.0,
        poll_interval=default.poll_interval / SPEED,
        max_poll_interval=default.max_poll_interval / SPEED,
        push_silence=default.push_silence / SPEED,
    )


async def _one_mode(jobs: int, data_dir: Path, *, batch: bool) -> PollingFigure:
    db = Database(f"sqlite+aiosqlite:///{data_dir / f'polling-{batch}.db'}")
    await db.open()
    try:
        async with FakeMjProxy(api_secret=SECRET) as proxy, httpx.AsyncClient() as client:
            backend = MjProxyBackend(client, proxy.base_url, api_key=SECRET, notify_url=None)
            if not batch:
                backend.capabilities = replace(backend.capabilities, batch_fetch=False)
            tasks = []
            for n in range(jobs):
                task = proxy.new_task("IMAGINE", f"bench poll {n}", "", {})
                task.status, task.start_time = "SUBMITTED", int(time.time() * 1000)
                tasks.append(task.id)
            await _store_jobs(db, "mjproxy", tasks, JobStatus.RUNNING)
            [minute] = await _poll_minute(db, backend, proxy.requests)
            window = proxy.requests[minute]
    finally:
        await db.close()
    fetches = sum(1 for r in window if r.path.endswith("/fetch"))
    lists = sum(1 for r in window if r.path.endswith("/list-by-condition"))
    return PollingFigure(jobs, batch, len(window), fetches, lists)


async def measure_acedata_polling(jobs: int, data_dir: Path) -> AceDataFigure:
    """Submit `jobs` imagines through the adapter with no callback URL, then let the bot poll them."""
    db = Database(f"sqlite+aiosqlite:///{data_dir / 'polling-acedata.db'}")
    await db.open()
    try:
        async with FakeAceData(SECRET) as fake, httpx.AsyncClient() as client:
            backend = AceDataBackend(client, fake.base_url, api_key=SECRET, callback_url=None)
            async with asyncio.timeout(SUBMIT_DEADLINE):
                task_ids = await _submit_all(backend, jobs)
            await _store_jobs(db, "acedata", task_ids, JobStatus.QUEUED)
            requests, posts = await _poll_minute(db, backend, fake.requests, fake.submissions)
            batches = sum(1 for _, body in fake.submissions[posts] if body.get("action") == "retrieve_batch")
            return AceDataFigure(jobs, fake.most_open_connections, len(fake.requests[requests]), batches)
    finally:
        await db.close()


async def _submit_all(backend: AceDataBackend, jobs: int) -> list[str]:
    gate = asyncio.Semaphore(SUBMITS_IN_FLIGHT)

    async def submit(n: int) -> str:
        async with gate:
            return (await backend.imagine(f"bench poll {n}", job_id=f"poll{n:012d}")).task_id

    return list(await asyncio.gather(*(submit(n) for n in range(jobs))))


async def _poll_minute(db: Database, backend: Backend, *logs: Sized) -> list[slice]:
    """Where each of the fake's `logs` grew in one (scaled) minute of the bot's polling, after a warm-up."""
    service = JobService(db, backend, _policy())
    await service.start()
    try:
        await asyncio.sleep(MINUTE)  # warm-up: the restart's first checks and the intervals' growth
        seen = [len(log) for log in logs]
        await asyncio.sleep(MINUTE)
        return [slice(start, len(log)) for log, start in zip(logs, seen, strict=True)]
    finally:
        await service.stop()


async def _store_jobs(db: Database, backend: str, task_ids: Sequence[str], status: JobStatus) -> None:
    now = time.time()
    async with db.write() as conn:
        for n, task_id in enumerate(task_ids):
            job = Job(
                id=f"poll{n:012d}",
                kind=JobKind.IMAGINE,
                prompt=f"bench poll {n}",
                chat_id=10_000 + n,
                user_id=10_000 + n,
                user_name="bench",
                backend=backend,
                status=status,
                task_id=task_id,
                created_at=now,
                updated_at=now,
            )
            await insert_job(conn, job)
