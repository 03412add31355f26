"""The contract every image backend adapter fulfils, and how it declines what it does not offer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol, runtime_checkable

from bot.domain import (
    Action,
    BackendRefused,
    BlendDimensions,
    Capabilities,
    Command,
    PromptRejected,
    Submission,
    TaskUpdate,
    UpdateSink,
)


@runtime_checkable
class Cancellable(Protocol):
    """A backend that can stop a queued or running task (one whose Capabilities declare `cancel`)."""

    async def cancel(self, task_id: str) -> None:
        """Stop the task; raises TaskNotFound when the backend no longer knows it."""


@runtime_checkable
class BatchFetching(Protocol):
    """A backend that reads many tasks in one call (one whose Capabilities declare `batch_fetch`)."""

    async def fetch_many(self, task_ids: Sequence[str]) -> dict[str, TaskUpdate]:
        """The current state of each task the backend knows, by task id; unknown ids are left out."""


@runtime_checkable
class Backend(Protocol):
    """One image backend; adapters speak its wire format and return domain values.

    The optional abilities (describe, blend, shorten, seed, remix, cancel) are declared by `capabilities`;
    the bot offers nothing else, and an adapter inherits `Declines` for what it leaves out.
    """

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


class Declines:
    """The answers an adapter inherits for the optional abilities its Capabilities leave out: each refuses."""

    label: ClassVar[str]
    """The backend's name in refusals ("ImagineAPI.dev")."""

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        raise BackendRefused(f"{self.label} has no actions that ask for input")

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        raise BackendRefused(f"{self.label} takes no edited prompt with this action")

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission:
        raise BackendRefused(f"{self.label} does not offer describe")

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        raise BackendRefused(f"{self.label} does not offer blend")

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        raise BackendRefused(f"{self.label} does not offer shorten")

    async def image_seed(self, task_id: str) -> str:
        raise BackendRefused(f"{self.label} does not report seeds")


def declined(backend: Backend) -> frozenset[str]:
    """The optional methods `backend` leaves to Declines."""
    return frozenset(
        name for name in vars(Declines) if callable(getattr(Declines, name)) and _inherits(backend, name)
    )


def _inherits(backend: Backend, name: str) -> bool:
    return getattr(type(backend), name, None) is getattr(Declines, name)


def check_capabilities(backend: Backend) -> None:
    """Refuse an adapter whose Capabilities offer what it only declines (checked once, when it is built)."""
    capabilities = backend.capabilities
    offered = {
        "describe": Command.DESCRIBE in capabilities.commands,
        "blend": Command.BLEND in capabilities.commands,
        "shorten": Command.SHORTEN in capabilities.commands,
        "image_seed": Command.SEED in capabilities.commands,
        "remix": bool(capabilities.remix),
    }
    wrong = sorted(name for name in declined(backend) if offered.get(name, False))
    if capabilities.cancel != isinstance(backend, Cancellable):
        wrong.append("cancel")
    if capabilities.batch_fetch != isinstance(backend, BatchFetching):
        wrong.append("fetch_many")
    if wrong:
        raise TypeError(f"{backend.name}: capabilities disagree with the methods for {', '.join(wrong)}")


def check_prompt(prompt: str, capabilities: Capabilities) -> None:
    """Refuse a prompt over the backend's length limit before anything is sent."""
    limit = capabilities.max_prompt_length
    if len(prompt) > limit:
        raise PromptRejected(f"prompt is {len(prompt)} characters, limit {limit}")
