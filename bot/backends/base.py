"""The contract every image backend adapter fulfils, and the typed errors it may raise."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.domain import Action, ActionKind, JobStatus, TaskUpdate

UpdateSink = Callable[[TaskUpdate], Awaitable[object]]


class Command(StrEnum):
    """User commands a backend may support."""

    IMAGINE = "imagine"
    DESCRIBE = "describe"
    BLEND = "blend"
    SHORTEN = "shorten"
    SEED = "seed"


class BlendDimensions(StrEnum):
    PORTRAIT = "PORTRAIT"
    SQUARE = "SQUARE"
    LANDSCAPE = "LANDSCAPE"


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do; drives which commands and buttons the bot offers."""

    commands: frozenset[Command]
    push: bool
    max_prompt_length: int
    simulated: bool = False
    animate: bool = False  # runs the Animate buttons it offers and reports the video (TaskUpdate.video_url)
    # Buttons whose follow-up can take an edited prompt (Remix mode); empty: the backend can't remix.
    remix: frozenset[ActionKind] = frozenset()


@dataclass(frozen=True, slots=True)
class Submission:
    """A backend's answer to a submit: the task it started and where it stands."""

    task_id: str
    status: JobStatus = JobStatus.QUEUED
    queue_position: int | None = None
    modal_prompt: str | None = None
    extra_task_ids: tuple[str, ...] = field(default=())
    # A remix the backend ran with the parent's prompt instead of the edited one it was given.
    prompt_ignored: bool = False


class BackendError(Exception):
    """Base of every error an adapter raises; never an httpx error."""


class BackendUnavailable(BackendError):
    """Network failure, timeout or a 5xx: the backend could not be reached or broke."""


class BackendBusy(BackendError):
    """The backend's queue is full; nothing was started."""


class PromptRejected(BackendError):
    """The backend refused the prompt (banned word or invalid parameter)."""

    def __init__(self, message: str, *, banned_word: str | None = None) -> None:
        super().__init__(message)
        self.banned_word = banned_word


class TaskNotFound(BackendError):
    """The backend does not know the task (or the parent of an action)."""


class BackendRefused(BackendError):
    """The backend refused the request for another stated reason (validation, auth, unsupported)."""


class InvalidCallback(ValueError):
    """A callback body that is not a well-formed report of this backend."""


class ImageTooLarge(BackendError):
    """A downloaded image went over the size cap."""


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
