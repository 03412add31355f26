"""Where a job stands, what it produces and why it failed: the enums every layer shares."""

from __future__ import annotations

import math
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
    OFFLINE = "offline"  # the backend answered but had nothing to run the job on
    REMIX_OFF = "remix_off"  # the backend can't take the edited prompt with this button
    ACCOUNT = "account"  # the bot's own account at the backend: no balance, a wrong token, disabled
    BACKEND = "backend"
    # The bot stopped between recording a job and storing the backend's answer to its submit:
    INTERRUPTED = "interrupted"  # ...and the backend says it has no such task
    UNCERTAIN = "uncertain"  # ...and the backend cannot tell; retrying could run (and charge) it twice
    UNREADABLE_RESULT = "unreadable_result"  # the backend finished, but its picture cannot be read

    @property
    def nothing_charged(self) -> bool:
        """True where the backend never ran the job, so no credit was spent."""
        return self in (
            FailureKind.BANNED,
            FailureKind.QUEUE_FULL,
            FailureKind.INVALID,
            FailureKind.INTERRUPTED,
            FailureKind.OFFLINE,
            FailureKind.REMIX_OFF,
            FailureKind.ACCOUNT,
        )
