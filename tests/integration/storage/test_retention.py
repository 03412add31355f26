"""RESULTS_RETENTION_DAYS on SQLite and PostgreSQL: what a finished job's row loses, what it keeps, in
batches, on one replica at a time."""

from __future__ import annotations

from dataclasses import replace

from bot.domain import Action, ActionKind, FailureKind, Job, JobStatus
from bot.domain.buttons import CANCEL_REF, CONFIRM_REF, RETRY_REF
from bot.jobs.retention import RETENTION_LEASE, RetentionSweep
from bot.quotas import DAY_SECONDS as DAY
from bot.replicas import Lease
from bot.storage.buttons import create_buttons, job_buttons
from bot.storage.database import Database
from bot.storage.jobs import DeliveryState, get_job, get_job_with_delivery, insert_job, save_delivery
from bot.storage.retention import REASON_KEEP
from tests.factories import make_job

NOW = 1_800_000_000.0
OLD = NOW - 31 * DAY
UPSCALE = Action(ActionKind.UPSCALE, "MJ::JOB::upsample::1::h", 1, "U1")
SHOWN = DeliveryState(
    shown_version=0,
    shown_media="final:https://cdn.example/grid.png",
    shown_caption="c",
    photo_file_id="AgAD-photo",
    document_sent=False,
    delivery_error=None,
)


def clock() -> float:
    return NOW


async def store(
    database: Database, job: Job, *, shown: int | None = None, refs: tuple[str, ...] = ()
) -> None:
    """The job as delivery left it: shown up to `shown` (default: its version)."""
    async with database.write() as conn:
        await insert_job(conn, job)
        state = replace(SHOWN, shown_version=job.version if shown is None else shown)
        await save_delivery(conn, job.id, state, message_id=job.message_id)
        await create_buttons(conn, job.id, refs, job.created_at)


def old_grid(job_id: str, **changes: object) -> Job:
    values: dict[str, object] = {
        "id": job_id,
        "status": JobStatus.SUCCEEDED,
        "task_id": f"task-{job_id}",
        "prompt": "a fox --ar 3:2",
        "text": "1️⃣ a fox\n\n2️⃣ a vixen",
        "image_url": "https://cdn.example/grid.png",
        "preview_url": "https://cdn.example/preview.webp?ex=1&hm=" + "h" * 200,
        "queue_position": 3,
        "message_id": 100,
        "actions": (UPSCALE,),
        "used": (UPSCALE.ref,),
        "created_at": OLD - 60,
        "updated_at": OLD,
        "version": 4,
    }
    values.update(changes)
    return make_job(**values)


async def test_a_finished_job_past_retention_keeps_what_its_buttons_and_message_need(
    database: Database,
) -> None:
    grid = old_grid("j-grid")
    failed = make_job(
        id="j-failed",
        status=JobStatus.FAILED,
        failure=FailureKind.UNAVAILABLE,
        fail_reason="x" * 5000,
        task_id="task-f",
        created_at=OLD - 60,
        updated_at=OLD,
        version=2,
    )
    await store(database, grid, refs=(UPSCALE.ref,))
    await store(database, failed, refs=(CONFIRM_REF, CANCEL_REF, RETRY_REF))

    sweep = await RetentionSweep(database, 30, clock=clock).sweep()

    assert (sweep.looked_at, sweep.cleared, sweep.tokens) == (2, 2, 2)
    async with database.read() as conn:
        kept_grid = await get_job_with_delivery(conn, grid.id)
        kept_failed = await get_job(conn, failed.id)
        failed_tokens = await job_buttons(conn, failed.id)
        grid_tokens = await job_buttons(conn, grid.id)
    assert kept_grid is not None and kept_failed is not None
    assert kept_grid[0] == replace(grid, preview_url=None, queue_position=None)
    assert kept_grid[1] == replace(SHOWN, shown_version=grid.version), "delivery's bookkeeping stays"
    assert kept_failed == replace(failed, fail_reason="x" * REASON_KEEP)
    assert set(failed_tokens) == {RETRY_REF}, "confirm and cancel act only on unfinished jobs"
    assert set(grid_tokens) == {UPSCALE.ref}


async def test_running_recent_and_undelivered_jobs_are_left_alone(database: Database) -> None:
    running = old_grid("j-running", status=JobStatus.RUNNING, image_url=None, used=())
    recent = old_grid("j-recent", updated_at=NOW - 29 * DAY)
    undelivered = old_grid("j-undelivered")
    await store(database, running, refs=(CANCEL_REF,))
    await store(database, recent, refs=(CANCEL_REF,))
    await store(database, undelivered, shown=undelivered.version - 1)

    sweep = await RetentionSweep(database, 30, clock=clock).sweep()

    assert (sweep.looked_at, sweep.cleared, sweep.tokens) == (1, 0, 0)
    async with database.read() as conn:
        for job in (running, recent, undelivered):
            assert await get_job(conn, job.id) == job
        assert set(await job_buttons(conn, running.id)) == {CANCEL_REF}
        assert set(await job_buttons(conn, recent.id)) == {CANCEL_REF}


async def test_the_sweep_goes_in_batches_and_continues_where_it_stopped(database: Database) -> None:
    # Seven jobs finished in the same second, succeeded and failed: the cursor orders them by id as well.
    statuses = (JobStatus.SUCCEEDED, JobStatus.FAILED)
    jobs = [old_grid(f"j-{n}", status=statuses[n % 2]) for n in range(7)]
    for job in jobs:
        await store(database, job)

    sweep = RetentionSweep(database, 30, clock=clock, batch=3)
    sizes = [(await sweep.sweep_batch(NOW - 30 * DAY)).looked_at for _ in range(4)]
    assert sizes == [3, 3, 1, 0]
    async with database.read() as conn:
        for job in jobs:
            stored = await get_job(conn, job.id)
            assert stored is not None and stored.preview_url is None

    later = old_grid("j-later", updated_at=OLD + 1)  # finished after the cursor: the next sweep finds it
    await store(database, later)
    assert (await RetentionSweep(database, 30, clock=clock, batch=3).sweep()).cleared == 1


async def test_one_replica_sweeps_at_a_time(database: Database) -> None:
    await store(database, old_grid("j-shared"))
    other = Lease(database, RETENTION_LEASE, "replica-b", clock=clock)
    assert await other.claim() is True

    mine = Lease(database, RETENTION_LEASE, "replica-a", clock=clock)
    blocked = await RetentionSweep(database, 30, lease=mine, clock=clock).sweep()
    assert blocked.looked_at == 0, "another replica holds the sweep"

    await other.release()
    swept = await RetentionSweep(database, 30, lease=mine, clock=clock).sweep()
    assert swept.cleared == 1
    assert mine.held is False, "the lease is given up after the sweep"


async def test_zero_days_keeps_everything(database: Database) -> None:
    await store(database, old_grid("j-forever"))
    sweep = await RetentionSweep(database, 0, clock=clock).sweep()
    assert sweep.looked_at == 0
    async with database.read() as conn:
        assert await get_job(conn, "j-forever") == old_grid("j-forever")
