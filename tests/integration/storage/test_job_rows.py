"""Job rows on SQLite and PostgreSQL: what the domain allows fits the columns, and reads back the same."""

from __future__ import annotations

from bot.domain import Action, ActionKind, FailureKind, JobStatus
from bot.storage.database import Database
from bot.storage.jobs import find_jobs_by_tasks, get_job, insert_job, save_job
from tests.factories import make_job

LONGEST_TELEGRAM_NAME = "N" * 64 + " " + "M" * 64  # first and last name at Telegram's 64 characters each


async def test_a_job_reads_back_as_it_was_written(database: Database) -> None:
    job = make_job(
        id="j-rows",
        prompt="a 🦊 in the snow --ar 3:2",
        chat_id=-1001234567890,
        user_id=7_000_000_001,
        task_id="1763772345001001",
        status=JobStatus.FAILED,
        failure=FailureKind.UNAVAILABLE,
        fail_reason="<b>down</b>",
        actions=(Action(ActionKind.UPSCALE, "MJ::JOB::upsample::1::h", 1, "U1"),),
        used=("MJ::JOB::upsample::1::h",),
        created_at=1_764_000_000.25,
        updated_at=1_764_000_001.5,
        version=3,
    )
    async with database.write() as conn:
        await insert_job(conn, job)
    async with database.read() as conn:
        assert await get_job(conn, job.id) == job
        assert await find_jobs_by_tasks(conn, "b", [job.task_id or ""]) == {job.task_id: job}


async def test_the_longest_telegram_name_is_kept_within_its_column(database: Database) -> None:
    job = make_job(id="j-name", user_name=LONGEST_TELEGRAM_NAME)
    async with database.write() as conn:
        await insert_job(conn, job)
        await save_job(conn, job)
    async with database.read() as conn:
        stored = await get_job(conn, job.id)
    assert stored is not None and LONGEST_TELEGRAM_NAME.startswith(stored.user_name)
    assert len(stored.user_name) == 128
