"""Domain model: jobs, their states, backend actions and normalised task updates (pure, no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum


def as_percent(value: float | None) -> int | None:
    """A reported progress number as 0–100; None when absent or not a finite number."""
    if value is None or not math.isfinite(value):
        return None
    return max(0, min(int(value), 100))


class JobStatus(StrEnum):
    """Where a job stands; the backends' own status words are mapped onto these."""

    QUEUED = "queued"
    NEEDS_INPUT = "needs_input"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def rank(self) -> int:
        """Order used to drop late updates: a job never moves to a lower rank."""
        return _STATUS_RANK[self]


_STATUS_RANK = {
    JobStatus.QUEUED: 0,
    JobStatus.NEEDS_INPUT: 0,
    JobStatus.RUNNING: 1,
    JobStatus.SUCCEEDED: 2,
    JobStatus.FAILED: 2,
}


class JobKind(StrEnum):
    """What a job produces; decides how its result is shown."""

    IMAGINE = "imagine"
    VARIATION = "variation"
    REROLL = "reroll"
    UPSCALE = "upscale"
    ZOOM = "zoom"
    PAN = "pan"
    INPAINT = "inpaint"
    BLEND = "blend"
    DESCRIBE = "describe"
    SHORTEN = "shorten"
    VIDEO = "video"

    @property
    def makes_single_image(self) -> bool:
        return self is JobKind.UPSCALE

    @property
    def makes_video(self) -> bool:
        return self is JobKind.VIDEO

    @property
    def makes_text(self) -> bool:
        return self in (JobKind.DESCRIBE, JobKind.SHORTEN)


class FailureKind(StrEnum):
    """Why a job failed, as far as the bot can tell; picks the message shown to the user."""

    BANNED = "banned"
    QUEUE_FULL = "queue_full"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    LOST = "lost"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    BACKEND = "backend"

    @property
    def nothing_charged(self) -> bool:
        """True where the backend never ran the job, so no credit was spent."""
        return self in (FailureKind.BANNED, FailureKind.QUEUE_FULL, FailureKind.INVALID)


class ActionKind(StrEnum):
    """Backend-independent meaning of a button."""

    UPSCALE = "upscale"
    VARIATION = "variation"
    REROLL = "reroll"
    UPSCALE_SUBTLE = "upscale_subtle"
    UPSCALE_CREATIVE = "upscale_creative"
    UPSCALE_2X = "upscale_2x"
    UPSCALE_4X = "upscale_4x"
    VARY_SUBTLE = "vary_subtle"
    VARY_STRONG = "vary_strong"
    VARY_REGION = "vary_region"
    ZOOM_OUT_2X = "zoom_out_2x"
    ZOOM_OUT_1_5X = "zoom_out_1_5x"
    CUSTOM_ZOOM = "custom_zoom"
    MAKE_SQUARE = "make_square"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    PAN_UP = "pan_up"
    PAN_DOWN = "pan_down"
    PROMPT_PICK = "prompt_pick"
    IMAGINE_ALL = "imagine_all"
    DESCRIBE_AGAIN = "describe_again"
    SHOW_DETAILS = "show_details"
    ANIMATE_HIGH = "animate_high"
    ANIMATE_LOW = "animate_low"
    ANIMATE = "animate"  # other video buttons (extend a video, pick one of several): not served
    BOOKMARK = "bookmark"
    UNKNOWN = "unknown"


_ACTION_RESULT: dict[ActionKind, JobKind] = {
    ActionKind.UPSCALE: JobKind.UPSCALE,
    ActionKind.VARIATION: JobKind.VARIATION,
    ActionKind.REROLL: JobKind.REROLL,
    ActionKind.UPSCALE_SUBTLE: JobKind.UPSCALE,
    ActionKind.UPSCALE_CREATIVE: JobKind.UPSCALE,
    ActionKind.UPSCALE_2X: JobKind.UPSCALE,
    ActionKind.UPSCALE_4X: JobKind.UPSCALE,
    ActionKind.VARY_SUBTLE: JobKind.VARIATION,
    ActionKind.VARY_STRONG: JobKind.VARIATION,
    ActionKind.VARY_REGION: JobKind.INPAINT,
    ActionKind.ZOOM_OUT_2X: JobKind.ZOOM,
    ActionKind.ZOOM_OUT_1_5X: JobKind.ZOOM,
    ActionKind.CUSTOM_ZOOM: JobKind.ZOOM,
    ActionKind.MAKE_SQUARE: JobKind.ZOOM,
    ActionKind.PAN_LEFT: JobKind.PAN,
    ActionKind.PAN_RIGHT: JobKind.PAN,
    ActionKind.PAN_UP: JobKind.PAN,
    ActionKind.PAN_DOWN: JobKind.PAN,
    ActionKind.PROMPT_PICK: JobKind.IMAGINE,
    ActionKind.IMAGINE_ALL: JobKind.IMAGINE,
    ActionKind.DESCRIBE_AGAIN: JobKind.DESCRIBE,
    ActionKind.SHOW_DETAILS: JobKind.SHORTEN,
    ActionKind.ANIMATE_HIGH: JobKind.VIDEO,
    ActionKind.ANIMATE_LOW: JobKind.VIDEO,
}

# Actions that always open a backend modal (need user input the bot must collect first).
ALWAYS_MODAL = frozenset({ActionKind.CUSTOM_ZOOM, ActionKind.VARY_REGION, ActionKind.PROMPT_PICK})
# Actions whose result is made once: pressing one again points at that result instead of redoing it.
RESULT_KEPT = frozenset({ActionKind.UPSCALE, ActionKind.ANIMATE_HIGH, ActionKind.ANIMATE_LOW})
ANIMATIONS = frozenset({ActionKind.ANIMATE_HIGH, ActionKind.ANIMATE_LOW})
# Buttons Midjourney's Remix mode turns into a prompt edit before the follow-up runs.
REMIX_ACTIONS = frozenset(
    {
        ActionKind.REROLL,
        ActionKind.VARIATION,
        ActionKind.VARY_SUBTLE,
        ActionKind.VARY_STRONG,
        ActionKind.PAN_LEFT,
        ActionKind.PAN_RIGHT,
        ActionKind.PAN_UP,
        ActionKind.PAN_DOWN,
    }
)


@dataclass(frozen=True, slots=True)
class Action:
    """One button a backend offers on a finished task."""

    kind: ActionKind
    ref: str
    index: int = 0
    label: str = ""
    emoji: str = ""

    @property
    def result_kind(self) -> JobKind | None:
        """The kind of job pressing this starts; None for buttons the bot cannot serve."""
        return _ACTION_RESULT.get(self.kind)

    @property
    def needs_input(self) -> bool:
        return self.kind in ALWAYS_MODAL

    @property
    def result_kept(self) -> bool:
        """Pressed again, this button brings back the job it started rather than starting another."""
        return self.kind in RESULT_KEPT

    @property
    def animates(self) -> bool:
        return self.kind in ANIMATIONS


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

    def find_action(self, ref: str) -> Action | None:
        return next((a for a in self.actions if a.ref == ref), None)
