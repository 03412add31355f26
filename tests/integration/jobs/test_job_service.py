"""The job service without Telegram: the simulator, a temporary database, a listener recording states."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from bot.backends.simulator import SimulatorBackend
from bot.domain import ActionKind, FailureKind, Job, JobKind, JobStatus, Requester, TaskUpdate
from bot.domain.buttons import CANCEL_REF, CONFIRM_REF, SEED_REF
from bot.domain.errors import CancelNotYet, DailyQuotaReached, InputNotExpected, NotYourButton
from bot.jobs import AlreadyDone, Cancelled, Ingest, JobPolicy, JobService, Started
from bot.quotas import Limits, QuotaGuard
from bot.storage.buttons import job_buttons
from bot.storage.database import Database
from tests.factories import make_job

ALICE = Requester(chat_id=1001, user_id=1001, user_name="Alice", language="en")
BOB_ID = 1002
WAIT_SECONDS = 10.0


@dataclass
class RecordingListener:
    """Every committed state the writer announced, in order."""

    seen: list[Job] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def job_changed(self, job: Job) -> None:
        self.seen.append(job)
        self.changed.set()

    def states_of(self, job_id: str) -> list[JobStatus]:
        return [j.status for j in self.seen if j.id == job_id]

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_SECONDS):
            while not done():
                self.changed.clear()
                await self.changed.wait()


@dataclass
class Service:
    jobs: JobService
    listener: RecordingListener
    db: Database

    async def final(self, job_id: str) -> Job:
        await self.listener.until(
            lambda: any(j.id == job_id and j.status.is_final for j in self.listener.seen)
        )
        job = await self.jobs.get(job_id)
        assert job is not None
        return job

    async def tokens(self, job_id: str) -> dict[str, str]:
        """The job's stored buttons: ref → token."""
        async with self.db.read() as conn:
            return await job_buttons(conn, job_id)

    async def token(self, job_id: str, ref: str) -> str:
        return (await self.tokens(job_id))[ref]

    async def press(self, job_id: str, ref: str, user_id: int = ALICE.user_id) -> object:
        return await self.jobs.press(await self.token(job_id, ref), user_id, "Alice", "en")


def build(db: Database, quotas: QuotaGuard | None = None) -> Service:
    listener = RecordingListener()
    jobs = JobService(
        db,
        SimulatorBackend(step_seconds=0.0),
        JobPolicy(poll_interval=0.05),
        listeners=[listener],
        quotas=quotas,
    )
    return Service(jobs, listener, db)


@pytest.fixture
async def service(database: Database) -> AsyncIterator[Service]:
    built = build(database)
    await built.jobs.start()
    yield built
    await built.jobs.stop()
    await built.jobs.backend.aclose()


async def test_imagine_runs_to_a_grid_and_every_state_is_announced_once(service: Service) -> None:
    job = await service.jobs.imagine(ALICE, "a lighthouse at dusk")
    done = await service.final(job.id)

    assert done.status is JobStatus.SUCCEEDED
    assert {a.kind for a in done.actions} >= {ActionKind.UPSCALE, ActionKind.VARIATION, ActionKind.REROLL}
    states = service.listener.states_of(job.id)
    assert states[0] is JobStatus.QUEUED and states[-1] is JobStatus.SUCCEEDED
    versions = [j.version for j in service.listener.seen if j.id == job.id]
    assert versions == sorted(set(versions)), "each announced state is newer than the one before"
    assert set(await service.tokens(job.id)) == {a.ref for a in done.actions} | {SEED_REF}


async def test_a_press_is_recorded_before_the_backend_hears_of_it(service: Service) -> None:
    grid = await service.final((await service.jobs.imagine(ALICE, "a red fox")).id)
    u1 = next(a for a in grid.actions if a.kind is ActionKind.UPSCALE and a.index == 1)

    outcome = await service.press(grid.id, u1.ref)

    assert isinstance(outcome, Started)
    assert outcome.job.task_id is None, "the backend is called only in Started.submit"
    assert outcome.job.parent_id == grid.id and outcome.job.kind is JobKind.UPSCALE
    parent = await service.jobs.get(grid.id)
    assert parent is not None and u1.ref in parent.used, "the kept result's button is marked with the job"
    submitted = await outcome.submit()
    assert submitted.task_id is not None
    upscale = await service.final(submitted.id)
    assert upscale.status is JobStatus.SUCCEEDED

    assert await service.press(grid.id, u1.ref) == AlreadyDone(upscale)


async def test_someone_elses_button_is_refused_and_changes_nothing(service: Service) -> None:
    grid = await service.final((await service.jobs.imagine(ALICE, "a blue whale")).id)
    u2 = next(a for a in grid.actions if a.kind is ActionKind.UPSCALE and a.index == 2)
    seen = len(service.listener.seen)

    with pytest.raises(NotYourButton):
        await service.press(grid.id, u2.ref, user_id=BOB_ID)

    assert len(service.listener.seen) == seen
    assert await service.jobs.history(BOB_ID, None, 10) == []


async def test_a_pick_waits_for_the_askers_prompt_and_cancel_ends_it(service: Service) -> None:
    analysis = await service.final((await service.jobs.shorten(ALICE, "a castle on a hill at dawn")).id)
    pick = next(a for a in analysis.actions if a.kind is ActionKind.PROMPT_PICK)

    started = await service.press(analysis.id, pick.ref)

    assert isinstance(started, Started)
    waiting = started.job
    assert waiting.status is JobStatus.NEEDS_INPUT and waiting.task_id is None
    assert set(await service.tokens(waiting.id)) == {CONFIRM_REF, CANCEL_REF}
    with pytest.raises(NotYourButton):
        await service.jobs.provide_input(waiting.id, BOB_ID, "a castle")
    cancel = await service.press(waiting.id, CANCEL_REF)

    assert isinstance(cancel, Cancelled)
    assert cancel.job.status is JobStatus.FAILED and cancel.job.failure is FailureKind.CANCELLED
    with pytest.raises(InputNotExpected):
        await service.jobs.provide_input(waiting.id, ALICE.user_id, "a castle")


async def test_an_update_that_comes_before_its_job_is_known_is_folded_in_later(service: Service) -> None:
    early = TaskUpdate(task_id="task-early", status=JobStatus.RUNNING, progress=40)
    assert await service.jobs.ingest(early) is Ingest.UNKNOWN
    job = Job(
        id="j-early",
        kind=JobKind.IMAGINE,
        prompt="p",
        chat_id=1,
        user_id=1,
        user_name="A",
        backend="simulator",
        task_id="task-early",
    )
    await service.jobs.writer.create(job)

    await service.jobs.replay_orphans("task-early")

    stored = await service.jobs.get(job.id)
    assert stored is not None and stored.status is JobStatus.RUNNING and stored.progress == 40
    assert service.listener.states_of(job.id) == [JobStatus.QUEUED, JobStatus.RUNNING]


async def test_an_unchanged_job_is_not_announced_again(service: Service) -> None:
    job = await service.final((await service.jobs.imagine(ALICE, "a quiet lake")).id)
    seen = len(service.listener.seen)

    again = await service.jobs.writer.update(job.id, lambda j: j.fail(FailureKind.TIMEOUT, None, 0.0))
    late = await service.jobs.ingest(
        TaskUpdate(task_id=job.task_id or "", status=JobStatus.RUNNING, progress=10)
    )

    assert again == job and late is Ingest.UNCHANGED
    assert len(service.listener.seen) == seen


async def test_the_daily_limit_refuses_before_anything_is_recorded(database: Database) -> None:
    limited = build(database, quotas=QuotaGuard(Limits(daily_per_user=1), frozenset()))
    await limited.jobs.start()
    try:
        first = await limited.jobs.imagine(ALICE, "one")
        await limited.final(first.id)
        with pytest.raises(DailyQuotaReached):
            await limited.jobs.imagine(ALICE, "two")
        assert [j.prompt for j in await limited.jobs.history(ALICE.user_id, None, 10)] == [first.prompt]
    finally:
        await limited.jobs.stop()
        await limited.jobs.backend.aclose()


async def test_a_question_left_unanswered_is_cancelled_by_the_poller(database: Database) -> None:
    now = [1_000.0]
    listener = RecordingListener()
    jobs = JobService(
        database,
        SimulatorBackend(step_seconds=0.0),
        JobPolicy(input_timeout=5.0),
        listeners=[listener],
        clock=lambda: now[0],
    )
    waiting = Job(
        id="j-wait",
        kind=JobKind.ZOOM,
        prompt="p --zoom 2",
        chat_id=1,
        user_id=1,
        user_name="A",
        backend="simulator",
        status=JobStatus.NEEDS_INPUT,
        created_at=now[0],
        updated_at=now[0],
    )
    await jobs.writer.create(waiting)

    assert (await jobs.check(waiting.id)) == waiting, "not due yet"
    now[0] += 5.0
    cancelled = await jobs.check(waiting.id)

    assert cancelled is not None and cancelled.failure is FailureKind.CANCELLED
    assert listener.states_of(waiting.id) == [JobStatus.NEEDS_INPUT, JobStatus.FAILED]
    await jobs.backend.aclose()


async def test_cancel_while_the_submit_is_on_its_way_says_to_try_again(service: Service) -> None:
    in_flight = make_job(id="j-in-flight", chat_id=ALICE.chat_id, user_id=ALICE.user_id, backend="simulator")
    await service.jobs.writer.create(in_flight)

    with pytest.raises(CancelNotYet):
        await service.jobs.cancel(in_flight, ALICE.user_id)

    stored = await service.jobs.get(in_flight.id)
    assert stored is not None and stored.status is JobStatus.QUEUED, "nothing changed"


async def test_finished_jobs_leave_nothing_behind_in_the_poller(service: Service) -> None:
    # Each running job has a schedule in the poller; a finished one must not keep any of it for the rest of
    # the process's life (that grew by a dictionary entry per job ever run).
    started = [await service.jobs.imagine(ALICE, f"a lighthouse, take {n}") for n in range(3)]
    assert service.jobs.poller.tracked() > 0
    for job in started:
        await service.final(job.id)
    assert service.jobs.poller.tracked() == 0
