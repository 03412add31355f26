"""The contract every image backend adapter fulfils, and the typed errors it may raise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from bot.domain.actions import Action
from bot.domain.backend import BlendDimensions, Capabilities, Submission, UpdateSink
from bot.domain.jobs import TaskUpdate


@runtime_checkable
class Cancellable(Protocol):
    """A backend that can stop a queued or running task."""

    async def cancel(self, task_id: str) -> None:
        """Stop the task; raises TaskNotFound when the backend no longer knows it."""


@runtime_checkable
class Backend(Protocol):
    """One image backend; adapters speak its wire format and return domain values."""

    name: str
    capabilities: Capabilities

    async def start(self, sink: UpdateSink) -> None:
        """Begin work; backends that produce updates by themselves hand them to `sink`."""

    async def aclose(self) -> None: ...

    async def imagine(self, prompt: str, *, job_id: str) -> Submission: ...

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        """Press `action` on the finished task `task_id`."""

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        """Confirm a task waiting for input (a modal) with the user's prompt."""

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """Press `action` (one of `capabilities.remix`) on `task_id`, the follow-up using `prompt`."""

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission: ...

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission: ...

    async def shorten(self, prompt: str, *, job_id: str) -> Submission: ...

    async def image_seed(self, task_id: str) -> str: ...

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        """The task's current state; None when the backend does not know it."""

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        """Parse a pushed report; raises InvalidCallback for anything malformed."""

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """Fetch an image the backend produced; raises ImageTooLarge or BackendUnavailable."""
