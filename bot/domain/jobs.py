"""A job and the backend reports folded into it (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.domain.actions import Action, ActionKind
from bot.domain.kinds import FailureKind, JobKind, JobStatus


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, and where the answer goes."""

    chat_id: int
    user_id: int
    user_name: str
    language: str
    thread_id: int | None = None
    reply_to_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """A backend's report on one task, normalised; fields left None were not reported."""

    task_id: str
    status: JobStatus
    progress: int | None = None
    preview_url: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    actions: tuple[Action, ...] | None = None
    text: str | None = None
    fail_reason: str | None = None
    failure: FailureKind | None = None
    queue_position: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One request from a chat and the single message that shows it."""

    id: str
    kind: JobKind
    prompt: str
    chat_id: int
    user_id: int
    user_name: str
    backend: str
    language: str = "en"
    thread_id: int | None = None
    status: JobStatus = JobStatus.QUEUED
    task_id: str | None = None
    parent_id: str | None = None
    origin: Action | None = None
    reply_to_message_id: int | None = None
    message_id: int | None = None
    progress: int = 0
    queue_position: int | None = None
    preview_url: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    actions: tuple[Action, ...] = ()
    text: str | None = None
    fail_reason: str | None = None
    failure: FailureKind | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    version: int = 0
    used: tuple[str, ...] = ()

    def mark_used(self, ref: str, now: float) -> Job:
        """Remember that a button of this job was used (its label then shows ✅)."""
        if ref in self.used:
            return self
        return replace(self, used=(*self.used, ref), version=self.version + 1, updated_at=now)

    def apply(self, update: TaskUpdate, now: float) -> Job:
        """Fold a backend update in; duplicates and late arrivals leave the job as it is."""
        if self.status.is_final or update.status.rank < self.status.rank:
            return self
        final = update.status.is_final
        progress = 100 if update.status is JobStatus.SUCCEEDED else max(self.progress, update.progress or 0)
        if (
            update.status is JobStatus.RUNNING
            and update.progress is not None
            and update.progress < self.progress
        ):
            # An older progress report arriving late: keep the newer picture too.
            return self
        changed = replace(
            self,
            status=update.status,
            progress=progress,
            queue_position=update.queue_position if update.status is JobStatus.QUEUED else None,
            preview_url=None if final else (update.preview_url or self.preview_url),
            image_url=update.image_url or self.image_url,
            video_url=update.video_url or self.video_url,
            actions=update.actions if update.actions is not None else self.actions,
            text=update.text or self.text,
            fail_reason=update.fail_reason if update.status is JobStatus.FAILED else None,
            failure=(update.failure or FailureKind.BACKEND) if update.status is JobStatus.FAILED else None,
        )
        if changed == self:
            return self
        return replace(changed, version=self.version + 1, updated_at=now)

    def fail(self, failure: FailureKind, reason: str | None, now: float) -> Job:
        """Mark the job failed from the bot's side (refusal, timeout, lost task)."""
        return self.apply(
            TaskUpdate(
                task_id=self.task_id or "", status=JobStatus.FAILED, fail_reason=reason, failure=failure
            ),
            now,
        )

    def result_unreadable(self, reason: str, now: float) -> Job:
        """A finished job whose picture turned out unreadable: failed after all, so its message says so."""
        if self.status is not JobStatus.SUCCEEDED:
            return self
        return replace(
            self,
            status=JobStatus.FAILED,
            failure=FailureKind.UNREADABLE_RESULT,
            fail_reason=reason,
            version=self.version + 1,
            updated_at=now,
        )

    def find_action(self, ref: str) -> Action | None:
        return next((a for a in self.actions if a.ref == ref), None)


def waits_for_mask(job: Job) -> bool:
    """A Vary (Region) job waiting for the editor's mask and prompt."""
    return (
        job.status is JobStatus.NEEDS_INPUT
        and job.origin is not None
        and job.origin.kind is ActionKind.VARY_REGION
    )


def counts_against_quota(job: Job) -> bool:
    """Whether a daily quota counts the job: from the moment it is recorded, unless it failed uncharged.

    Uncharged: a failure the backend never ran (`FailureKind.nothing_charged`), or a job cancelled before
    the backend had a task for it (a question left unanswered, Cancel on a job waiting for its prompt).
    """
    if job.status is not JobStatus.FAILED or job.failure is None:
        return True
    if job.failure.nothing_charged:
        return False
    return not (job.failure is FailureKind.CANCELLED and job.task_id is None)
