"""The simulator's task records and their bookkeeping: ids, image URLs, finished parents, forgetting."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from bot.backends.simulator.drawing import printable_caption
from bot.backends.simulator.recipes import Artwork, ImageTraits, Theme, stable_seed
from bot.backends.simulator.text import strip_parameters
from bot.domain import (
    Action,
    BackendRefused,
    BackendUnavailable,
    JobKind,
    JobStatus,
    TaskNotFound,
    TaskUpdate,
)

URL_SCHEME = "sim://"
TASK_ID_PREFIX = "sim-"
TASK_ID_HEX_BYTES = 6
MAX_TASKS = 1024
CAPTION_MAX_CHARS = 60
ANIMATION_PREFIX = "animation-"
PNG, GIF = "png", "gif"

_URL_RE = re.compile(rf"^{URL_SCHEME}({TASK_ID_PREFIX}[0-9a-f]+)/([a-z0-9-]+)\.({PNG}|{GIF})$")


@dataclass(slots=True)
class SimTask:
    """The simulator's record of one task."""

    id: str
    kind: JobKind
    prompt: str
    seed: int
    latest: TaskUpdate
    theme: Theme | None = None
    artwork: Artwork | None = None
    image_name: str | None = None
    video_name: str | None = None
    upload: bytes | None = None
    traits: ImageTraits | None = None
    prompts: tuple[str, ...] = ()
    text: str | None = None
    actions: tuple[Action, ...] = ()
    quick: bool = False  # finishes after the first progress step (single images and text)
    published: set[str] = field(default_factory=set)
    runner: asyncio.Task[None] | None = None


def caption(prompt: str) -> str:
    return printable_caption(strip_parameters(prompt))[:CAPTION_MAX_CHARS]


def image_url(task_id: str, name: str) -> str:
    return f"{URL_SCHEME}{task_id}/{name}.{GIF if name.startswith(ANIMATION_PREFIX) else PNG}"


def parse_image_url(url: str) -> tuple[str, str] | None:
    """(task id, image name) of a simulated image URL; None for any other URL."""
    match = _URL_RE.match(url)
    return (match.group(1), match.group(2)) if match else None


class TaskBook:
    """The tasks the simulator knows, newest last; finished ones are forgotten beyond MAX_TASKS."""

    def __init__(self) -> None:
        self._tasks: OrderedDict[str, SimTask] = OrderedDict()
        self.closed = False

    def get(self, task_id: str) -> SimTask | None:
        return self._tasks.get(task_id)

    def __contains__(self, task_id: str) -> bool:
        return task_id in self._tasks

    def check_open(self) -> None:
        if self.closed:
            raise BackendUnavailable("the simulator is shut down")

    def new(self, kind: JobKind, prompt: str, theme: Theme | None = None) -> SimTask:
        self.check_open()
        task_id = TASK_ID_PREFIX + secrets.token_hex(TASK_ID_HEX_BYTES)
        seed = stable_seed(prompt, task_id)
        task = SimTask(task_id, kind, prompt, seed, TaskUpdate(task_id, JobStatus.QUEUED), theme=theme)
        self._tasks[task_id] = task
        self._forget_old_tasks()
        return task

    def _forget_old_tasks(self) -> None:
        for task_id in list(self._tasks):
            if len(self._tasks) <= MAX_TASKS:
                return
            if self._tasks[task_id].latest.status.is_final:
                del self._tasks[task_id]

    def finished_parent(self, task_id: str, action: Action) -> SimTask:
        """The finished task `action` was offered on."""
        self.check_open()
        parent = self._tasks.get(task_id)
        if parent is None:
            raise TaskNotFound(f"no simulated task {task_id}")
        if parent.latest.status is not JobStatus.SUCCEEDED:
            raise BackendRefused(f"task {task_id} is {parent.latest.status.value}, not succeeded")
        if not any(offered.ref == action.ref and offered.kind is action.kind for offered in parent.actions):
            raise BackendRefused(f"task {task_id} does not offer {action.ref}")
        return parent
