"""Domain objects for tests, with plain defaults a test overrides by name."""

from __future__ import annotations

from typing import Any

from bot.domain import Job, JobKind

JOB_DEFAULTS: dict[str, Any] = {
    "id": "j",
    "kind": JobKind.IMAGINE,
    "prompt": "p",
    "chat_id": 1,
    "user_id": 1,
    "user_name": "u",
    "backend": "b",
}


def make_job(**overrides: Any) -> Job:
    """A job with the defaults above, changed where the test says."""
    return Job(**{**JOB_DEFAULTS, **overrides})
