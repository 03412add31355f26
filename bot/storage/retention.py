"""Retention: what a finished job's row no longer needs after RESULTS_RETENTION_DAYS, cleared in batches.

Field by field, for a job that finished (succeeded or failed) and whose message shows its newest state:

cleared
- `preview_url`: a progress picture, shown only while a job runs (the backends delete previews once a task
  completes). Finishing already drops it; rows finished by older versions of the bot may still hold one.
- `queue_position`: shown only while a job is queued.
- `fail_reason` beyond REASON_KEEP characters: a failed job's caption shows at most that much of it
  (bot.delivery.render.REASON_LIMIT); a backend's reason can be a whole error document.
- button tokens for CONFIRM and CANCEL: they act only on jobs that have not finished (a prompt still awaited,
  a task still running), so on a finished job they can only be refused.

kept, because a button press, a re-delivery or a copy of the result reads it
- `task_id`, `actions`, `used`, `origin`, `parent_id`, `prompt`, `kind`, `status`: every action button
  (upscale, vary, zoom, pan, reroll, retry, seed) starts from the job's task, its action refs, its prompt,
  or for retry the action and parent that made the failed job (bot.jobs.actions); the backend decides how long
  it still accepts actions on an old task.
- `text`: a describe or shorten result; its prompt buttons (1️⃣… and "Imagine all") read the prompts from it.
- `image_url`, `video_url`, `photo_file_id`, `shown_media`, `document_sent`, `shown_caption`: a pressed
  button that finds its result already made shows that job again, and marking a button used re-renders the
  message; without these the picture would be fetched again from a link that has long expired.
- `delivery_error`: it stops delivery from retrying a message Telegram refused for good.
- ids, chat, user, times, `version`, `shown_version`: who may press, where the message is, what is shown.

Clearing these is not a change of the job's state: no field anyone sees or any button reads changes, so the
rows are updated here directly instead of through bot.jobs.writer, and neither `version` nor `updated_at`
moves (nothing is re-delivered, and the sweep's order stays stable).

The sweep reads the next batch in a read transaction and clears it in a short write transaction. Each
batch is one range read per final status on an index over (status, updated_at, id); without that index
(schema 3 has none on updated_at) each batch sorts every finished job after the cursor:
    CREATE INDEX ix_jobs_status_updated ON jobs (status, updated_at, id);
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import JobStatus
from bot.domain.buttons import CANCEL_REF, CONFIRM_REF
from bot.storage.kv import kv_get, kv_set
from bot.storage.schema import buttons, jobs

REASON_KEEP = 300  # bot.delivery.render.REASON_LIMIT: the most of a failure reason a caption shows
CURSOR_KEY = "retention_cursor"
FINAL_STATUSES = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value)
UNFINISHED_ONLY_REFS = (CONFIRM_REF, CANCEL_REF)


@dataclass(frozen=True, slots=True)
class SweepCursor:
    """Where the sweep stopped: the last job it looked at, in (updated_at, id) order."""

    updated_at: float
    job_id: str

    def encode(self) -> str:
        return f"{self.updated_at!r} {self.job_id}"

    @classmethod
    def decode(cls, text: str | None) -> SweepCursor:
        if not text:
            return START
        at, _, job_id = text.partition(" ")
        try:
            return cls(float(at), job_id)
        except ValueError:
            return START


START = SweepCursor(float("-inf"), "")


@dataclass(frozen=True, slots=True)
class BatchResult:
    looked_at: int  # finished jobs older than the cut-off that the batch went over
    cleared: int  # of which rows that held something to clear
    tokens: int  # button tokens deleted

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.looked_at + other.looked_at, self.cleared + other.cleared, self.tokens + other.tokens
        )


async def load_cursor(conn: AsyncConnection) -> SweepCursor:
    return SweepCursor.decode(await kv_get(conn, CURSOR_KEY))


async def pick_finished(
    conn: AsyncConnection, cursor: SweepCursor, before: float, limit: int
) -> list[SweepCursor]:
    """The next `limit` finished jobs last changed before `before`, after `cursor`, oldest first.

    One query per final status, so that an index on (status, updated_at, id) serves each as one range
    read in order (see the module's note); a job changed again later (a button of it marked used) moves past
    the cursor and is picked again then, which clears nothing twice.
    """
    after_cursor = or_(
        jobs.c.updated_at > cursor.updated_at,
        and_(jobs.c.updated_at == cursor.updated_at, jobs.c.id > cursor.job_id),
    )
    picked: list[SweepCursor] = []
    for status in FINAL_STATUSES:
        query = (
            select(jobs.c.id, jobs.c.updated_at)
            .where(jobs.c.status == status, jobs.c.updated_at < before, after_cursor)
            .order_by(jobs.c.updated_at, jobs.c.id)
            .limit(limit)
        )
        picked += [SweepCursor(float(row.updated_at), str(row.id)) for row in await conn.execute(query)]
    return sorted(picked, key=lambda c: (c.updated_at, c.job_id))[:limit]


async def clear_finished(conn: AsyncConnection, picked: list[SweepCursor]) -> BatchResult:
    """Clear the picked jobs (those whose message shows their newest state) and move the cursor past them."""
    if not picked:
        return BatchResult(0, 0, 0)
    ids = [c.job_id for c in picked]
    cleared = await conn.execute(
        update(jobs)
        .where(jobs.c.id.in_(ids), jobs.c.shown_version >= jobs.c.version, _holds_bulk())
        .values(
            preview_url=None,
            queue_position=None,
            fail_reason=case(
                (
                    func.length(jobs.c.fail_reason) > REASON_KEEP,
                    func.substr(jobs.c.fail_reason, 1, REASON_KEEP),
                ),
                else_=jobs.c.fail_reason,
            ),
        )
    )
    tokens = await conn.execute(
        delete(buttons).where(buttons.c.job_id.in_(ids), buttons.c.action_ref.in_(UNFINISHED_ONLY_REFS))
    )
    await kv_set(conn, CURSOR_KEY, picked[-1].encode())
    return BatchResult(len(ids), int(cleared.rowcount or 0), int(tokens.rowcount or 0))


def _holds_bulk() -> ColumnElement[bool]:
    return or_(
        jobs.c.preview_url.is_not(None),
        jobs.c.queue_position.is_not(None),
        func.length(jobs.c.fail_reason) > REASON_KEEP,
    )
