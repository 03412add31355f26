"""What a button press came to; a started job's backend call runs after the press is answered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain import Job

Submitting = Callable[[], Awaitable[Job]]
"""The rest of a start: hand the recorded job to the backend; the job as it then stands."""


@dataclass(frozen=True, slots=True)
class Started:
    """A button started a job (recorded; running, or waiting for the user's prompt)."""

    job: Job
    submitting: Submitting | None = None

    async def submit(self) -> Job:
        """Hand the recorded job to the backend (nothing to do for a job waiting for input)."""
        return await self.submitting() if self.submitting is not None else self.job


@dataclass(frozen=True, slots=True)
class AlreadyDone:
    """The button's result exists already (a used U button): this is it."""

    job: Job


@dataclass(frozen=True, slots=True)
class SeedFound:
    job: Job
    seed: str


@dataclass(frozen=True, slots=True)
class Cancelled:
    job: Job


PressOutcome = Started | AlreadyDone | SeedFound | Cancelled
