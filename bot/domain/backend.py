"""What the job service and a backend adapter exchange: commands, capabilities, submissions, typed errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.actions import ActionKind
from bot.domain.jobs import TaskUpdate
from bot.domain.kinds import JobStatus

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
    cancel: bool = False  # can stop a queued or running task
    # Can find the task a submit started by the job id sent with it (TaskFinder.find_task), so a job
    # whose submit answer was lost in a restart is reconciled instead of declared lost.
    find_task: bool = False
    batch_fetch: bool = False  # reports many tasks in one call (Backend.fetch_many)
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


class BackendOffline(BackendUnavailable):
    """The backend answered, but has nothing to run jobs on now (no live account); nothing was started."""


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


class RemixUnavailable(BackendRefused):
    """The backend cannot take an edited prompt with this button (its account's Remix is off, or none)."""


class NotPermitted(BackendRefused):
    """The backend lets only its administrators do this (the bot's key is not one)."""


class AccountProblem(StrEnum):
    """What is wrong with the bot's own account at the backend (the operator's to fix, not the user's)."""

    BALANCE = "balance"  # used up: nothing more can be charged
    TOKEN = "token"  # wrong, expired or missing credential
    DISABLED = "disabled"


class AccountRefused(BackendRefused):
    """The backend refuses the bot's account itself; every job fails the same way until an operator acts."""

    def __init__(self, message: str, *, problem: AccountProblem) -> None:
        super().__init__(message)
        self.problem = problem


class InvalidCallback(ValueError):
    """A callback body that is not a well-formed report of this backend."""


class ImageTooLarge(BackendError):
    """A downloaded image went over the size cap."""
