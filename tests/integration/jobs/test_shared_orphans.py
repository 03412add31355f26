"""Early backend reports kept in the database for replicas: the one that records the task id folds them in,
whichever replica the report reached; the same TTL, counts and byte budget as the in-memory buffer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
from sqlalchemy import text

from bot.backends.simulator import SimulatorBackend
from bot.domain import Action, ActionKind, FailureKind, Job, JobKind, JobStatus, TaskUpdate
from bot.domain.buttons import ButtonPolicy
from bot.jobs import orphans
from bot.jobs.ingest import ORPHAN_TTL, ORPHAN_UPDATES_PER_TASK, JobIngest, SharedOrphans
from bot.jobs.writer import Ingest, JobWriter
from bot.storage.database import Database
from bot.storage.orphans import encode_update, insert_orphan

BACKEND = "simulator"
NOW = 1_000_000.0


def report(task_id: str, progress: int = 10, **extra: object) -> TaskUpdate:
    return TaskUpdate(task_id=task_id, status=JobStatus.RUNNING, progress=progress, **extra)  # type: ignore[arg-type]


def job_of(task_id: str, job_id: str = "j1") -> Job:
    return Job(
        id=job_id,
        kind=JobKind.IMAGINE,
        prompt="p",
        chat_id=1,
        user_id=1,
        user_name="A",
        backend=BACKEND,
        task_id=task_id,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
async def second(database_url: str, database: Database) -> AsyncIterator[Database]:
    """Another connection pool on the same database: another replica."""
    other = Database(database_url)
    await other.open()
    yield other
    await other.close()


def writer_on(db: Database) -> JobWriter:
    return JobWriter(db, ButtonPolicy(SimulatorBackend().capabilities, False), lambda: NOW)


def ingest_on(db: Database, writer: JobWriter | None = None) -> JobIngest:
    writer = writer or writer_on(db)
    return JobIngest(writer, BACKEND, lambda: NOW, SharedOrphans(db, BACKEND, lambda: NOW))


# --- the table's rules ----------------------------------------------------------------------------


async def test_kept_reports_come_back_once_oldest_first_as_they_were(database: Database) -> None:
    store = SharedOrphans(database, BACKEND, lambda: NOW)
    actions = (Action(ActionKind.UPSCALE, "MJ::JOB::upsample::1", 1, "U1", ""),)
    first = report("t1", 20, preview_url="https://cdn/p.webp")
    last = TaskUpdate("t1", JobStatus.FAILED, fail_reason="banned «word»", failure=FailureKind.BANNED)
    done = report("t2", 100, actions=actions, image_url="https://cdn/i.png", text="seed 1")
    assert await store.keep([first, done, last]) == [True, True, True]

    assert await store.take("t1") == [first, last]
    assert await store.take("t1") == []
    assert await store.take("t2") == [done]


async def test_reports_older_than_the_ttl_are_dropped(database: Database) -> None:
    now = [NOW]
    store = SharedOrphans(database, BACKEND, lambda: now[0])
    await store.keep([report("old")])
    now[0] += ORPHAN_TTL
    await store.keep([report("new")])
    assert (await store.usage()).updates == 1
    assert await store.take("old") == []


async def test_a_chatty_task_keeps_only_its_newest_reports(database: Database) -> None:
    store = SharedOrphans(database, BACKEND, lambda: NOW)
    for progress in range(ORPHAN_UPDATES_PER_TASK * 2):
        await store.keep([report("chatty", progress)])
    kept = await store.take("chatty")
    assert [u.progress for u in kept] == list(range(ORPHAN_UPDATES_PER_TASK, ORPHAN_UPDATES_PER_TASK * 2))


async def test_the_byte_budget_holds(database: Database) -> None:
    big = [report(f"big-{n}", fail_reason="x" * 300) for n in range(5)]
    budget = 3 * len(encode_update(big[0]).encode()) + 10  # the stored JSON counts
    store = SharedOrphans(database, BACKEND, lambda: NOW, max_bytes=budget)
    assert await store.keep(big) == [True, True, True, False, False]
    assert (await store.usage()).bytes <= budget


async def test_past_the_task_count_only_known_tasks_are_kept(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orphans, "ORPHAN_LIMIT", 2)
    store = SharedOrphans(database, BACKEND, lambda: NOW)
    assert await store.keep([report("t1"), report("t2"), report("t3"), report("t1", 20)]) == [
        True,
        True,
        False,
        True,
    ]
    assert (await store.usage()).tasks == 2


async def test_a_report_is_taken_by_one_replica_only(database: Database, second: Database) -> None:
    await SharedOrphans(database, BACKEND, lambda: NOW).keep([report("t1")])
    taken = [await SharedOrphans(db, BACKEND, lambda: NOW).take("t1") for db in (second, database)]
    assert taken == [[report("t1")], []]


# --- across replicas ------------------------------------------------------------------------------


async def test_a_report_reaching_one_replica_is_folded_in_by_the_one_recording_the_task(
    database: Database, second: Database
) -> None:
    recording, reached = ingest_on(database), ingest_on(second)
    assert await reached.ingest(report("t1", 40)) is Ingest.UNKNOWN

    writer = writer_on(database)
    await writer.create(job_of("t1"))
    await recording.replay_orphans("t1")

    stored = await writer.get("j1")
    assert stored is not None and stored.status is JobStatus.RUNNING and stored.progress == 40


class RecordedMeanwhile(JobWriter):
    """A writer that finds no job for the task, after which (before the report is stored) another
    replica records the task id and looks for early reports: it finds none yet."""

    meanwhile: Callable[[], Awaitable[None]] | None = None

    async def apply_updates(self, backend: str, updates: Sequence[TaskUpdate]) -> list[Ingest]:
        outcomes = await super().apply_updates(backend, updates)
        if self.meanwhile is not None:
            step, self.meanwhile = self.meanwhile, None
            await step()
        return outcomes


async def test_a_report_stored_just_after_the_task_was_recorded_elsewhere_is_folded_in(
    database: Database, second: Database
) -> None:
    recording = ingest_on(database)
    recorder = writer_on(database)

    async def record() -> None:
        await recorder.create(job_of("t1"))
        await recording.replay_orphans("t1")

    late = RecordedMeanwhile(second, ButtonPolicy(SimulatorBackend().capabilities, False), lambda: NOW)
    late.meanwhile = record
    outcome = await ingest_on(second, late).ingest(report("t1", 70))

    assert outcome is Ingest.APPLIED
    stored = await recorder.get("j1")
    assert stored is not None and stored.progress == 70


async def test_a_report_stored_by_another_version_is_skipped(database: Database) -> None:
    store = SharedOrphans(database, BACKEND, lambda: NOW)
    async with database.write() as conn:
        await insert_orphan(
            conn, BACKEND, "t1", '{"task_id": "t1", "status": "teleported"}', size=40, now=NOW
        )
    await store.keep([report("t1")])
    assert await store.take("t1") == [report("t1")]


async def test_a_task_is_recorded_even_when_its_early_reports_cannot_be_read(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with database.write() as conn:
        await conn.execute(text("DROP TABLE orphan_updates"))
    await ingest_on(database).replay_orphans("t1")  # no exception: the job is polled in time instead
    assert "could not read early reports of task t1" in caplog.text
