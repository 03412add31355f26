"""Attacks on the limits through the job service: submits in flight, waiting jobs, double presses, /seed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.backends.simulator import SimulatorBackend
from bot.domain import ActionKind, Job, JobKind, JobStatus, Submission
from bot.domain.errors import DailyQuotaReached, SeedNotYours
from bot.jobs import AlreadyDone, JobPolicy, JobService, Started
from bot.quotas import Limits, QuotaGuard
from bot.storage.database import Database
from tests.integration.jobs.test_job_service import ALICE, BOB_ID, RecordingListener, Service

WAIT_SECONDS = 10.0
ATTEMPTS = 5


class GatedSimulator(SimulatorBackend):
    """The simulator with a slow submit: every imagine waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__(step_seconds=0.0)
        self.gate = asyncio.Event()
        self.moved = asyncio.Event()  # a submit arrived, or an attempt ended
        self.waiting = 0

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        self.waiting += 1
        self.moved.set()
        await self.gate.wait()
        return await super().imagine(prompt, job_id=job_id)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await db.open()
    yield db
    await db.close()


@asynccontextmanager
async def started(database: Database, backend: SimulatorBackend, limits: Limits) -> AsyncIterator[Service]:
    """A started job service with these limits (admins: none)."""
    listener = RecordingListener()
    jobs = JobService(
        database,
        backend,
        JobPolicy(poll_interval=0.05),
        listeners=[listener],
        quotas=QuotaGuard(limits, frozenset()),
    )
    await jobs.start()
    try:
        yield Service(jobs, listener, database)
    finally:
        await jobs.stop()
        await backend.aclose()


async def test_submits_in_flight_count_against_the_daily_limit(database: Database) -> None:
    backend = GatedSimulator()
    async with started(database, backend, Limits(daily_per_user=1, active_per_user=0)) as service:
        attempts = [asyncio.create_task(service.jobs.imagine(ALICE, f"attempt {n}")) for n in range(ATTEMPTS)]
        for attempt in attempts:
            attempt.add_done_callback(lambda _: backend.moved.set())
        async with asyncio.timeout(WAIT_SECONDS):
            while backend.waiting + sum(a.done() for a in attempts) < ATTEMPTS:
                backend.moved.clear()
                await backend.moved.wait()
        refused = [a for a in attempts if a.done() and isinstance(a.exception(), DailyQuotaReached)]
        in_flight = backend.waiting
        backend.gate.set()
        await asyncio.gather(*attempts, return_exceptions=True)

        assert (in_flight, len(refused)) == (1, ATTEMPTS - 1), "one submit, however slow the backend"
        assert len(await service.jobs.history(ALICE.user_id, None, 10)) == 1


async def test_jobs_waiting_for_a_prompt_count_and_a_cancelled_one_gives_its_unit_back(
    database: Database,
) -> None:
    async with started(database, SimulatorBackend(step_seconds=0.0), Limits(daily_per_user=2)) as service:
        analysis = await service.final((await service.jobs.shorten(ALICE, "a castle on a hill")).id)
        picks = [a for a in analysis.actions if a.kind is ActionKind.PROMPT_PICK]

        first = await service.press(analysis.id, picks[0].ref)
        assert isinstance(first, Started) and first.job.status is JobStatus.NEEDS_INPUT
        with pytest.raises(DailyQuotaReached):
            await service.press(analysis.id, picks[1].ref)
        await service.jobs.cancel_input(first.job.id, ALICE.user_id)
        second = await service.press(analysis.id, picks[1].ref)

        assert isinstance(second, Started), "a job cancelled before the backend saw it is not counted"
        usage = await service.jobs.usage(ALICE.user_id)
        assert usage.used_today == 2


async def test_a_waiting_job_recorded_uncounted_is_checked_when_its_prompt_arrives(
    database: Database,
) -> None:
    async with started(database, SimulatorBackend(step_seconds=0.0), Limits(daily_per_user=1)) as service:
        done = await service.final((await service.jobs.imagine(ALICE, "the one job of today")).id)
        # A job left waiting from before waiting jobs were counted (recorded without a check).
        waiting = Job(
            id="j-old-wait",
            kind=JobKind.IMAGINE,
            prompt="offered",
            chat_id=ALICE.chat_id,
            user_id=ALICE.user_id,
            user_name="Alice",
            backend="simulator",
            status=JobStatus.NEEDS_INPUT,
            created_at=done.created_at,
            updated_at=done.created_at,
        )
        await service.jobs.writer.create(waiting)

        with pytest.raises(DailyQuotaReached):
            await service.jobs.provide_input(waiting.id, ALICE.user_id, "a second picture")

        still = await service.jobs.get(waiting.id)
        assert still is not None and still.status is JobStatus.NEEDS_INPUT and still.task_id is None


async def test_two_quick_presses_of_u1_start_one_upscale(database: Database) -> None:
    async with started(database, SimulatorBackend(step_seconds=0.0), Limits(0, 0, 0)) as service:
        grid = await service.final((await service.jobs.imagine(ALICE, "a red fox")).id)
        u1 = next(a for a in grid.actions if a.kind is ActionKind.UPSCALE and a.index == 1)

        outcomes = await asyncio.gather(service.press(grid.id, u1.ref), service.press(grid.id, u1.ref))

        started_jobs = [o.job for o in outcomes if isinstance(o, Started)]
        again = [o.job for o in outcomes if isinstance(o, AlreadyDone)]
        assert len(started_jobs) == 1 and again == started_jobs, outcomes
        upscales = [j for j in await service.jobs.history(ALICE.user_id, None, 10) if j.parent_id]
        assert [j.id for j in upscales] == [started_jobs[0].id]


async def test_seed_by_reply_follows_the_seed_buttons_rule(database: Database) -> None:
    async with started(database, SimulatorBackend(step_seconds=0.0), Limits(0, 0, 0)) as service:
        grid = await service.final((await service.jobs.imagine(ALICE, "a green owl")).id)

        with pytest.raises(SeedNotYours):
            await service.jobs.seed(grid, BOB_ID)
        assert await service.jobs.seed(grid, ALICE.user_id)
