"""The SimulatorBackend adapter: submits and reads, and the timed runs that report each task's progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace

from bot.backends.simulator.canvas import MAX_IMAGE_SIDE
from bot.backends.simulator.drafts import ANIMATION_MOTION, HD_UPSCALES, VARIATION_JITTER, Drafts
from bot.backends.simulator.renders import Renders
from bot.backends.simulator.tasks import SimTask, TaskBook, image_url, parse_image_url
from bot.backends.simulator.text import strip_parameters
from bot.backends.simulator.themes import blend_theme, prompt_theme
from bot.backends.simulator.uploads import read_traits, read_upload
from bot.domain import (
    REMIX_ACTIONS,
    Action,
    ActionKind,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Capabilities,
    Command,
    FailureKind,
    ImageTooLarge,
    InvalidCallback,
    JobKind,
    JobStatus,
    PromptRejected,
    Submission,
    TaskNotFound,
    TaskUpdate,
    UpdateSink,
)

logger = logging.getLogger(__name__)

BLEND_MIN_IMAGES, BLEND_MAX_IMAGES = 2, 5
SEED_MODULUS = 2**32
BLEND_RATIOS: dict[BlendDimensions, float] = {
    BlendDimensions.PORTRAIT: 2 / 3,
    BlendDimensions.SQUARE: 1.0,
    BlendDimensions.LANDSCAPE: 3 / 2,
}
ZOOM_FACTORS: dict[ActionKind, float] = {ActionKind.ZOOM_OUT_2X: 2.0, ActionKind.ZOOM_OUT_1_5X: 1.5}
PAN_DIRECTIONS: dict[ActionKind, tuple[int, int]] = {
    ActionKind.PAN_LEFT: (-1, 0),
    ActionKind.PAN_RIGHT: (1, 0),
    ActionKind.PAN_UP: (0, -1),
    ActionKind.PAN_DOWN: (0, 1),
}


class SimulatorBackend:
    """A backend that needs nothing but Pillow: tasks progress on a timer and render abstract pictures."""

    name = "simulator"

    def __init__(
        self,
        *,
        step_seconds: float = 1.2,
        steps: tuple[int, ...] = (0, 25, 50, 75),
        tile_size: int = 512,
        max_prompt_length: int = 1500,
    ) -> None:
        if step_seconds < 0:
            raise ValueError("step_seconds must not be negative")
        if any(not 0 <= step < 100 for step in steps) or list(steps) != sorted(set(steps)):
            raise ValueError("steps must be increasing percentages below 100")
        if not 16 <= tile_size <= MAX_IMAGE_SIDE // 2:
            raise ValueError(f"tile_size must be between 16 and {MAX_IMAGE_SIDE // 2}")
        self.capabilities = Capabilities(
            commands=frozenset(Command),
            push=True,
            max_prompt_length=max_prompt_length,
            simulated=True,
            remix=REMIX_ACTIONS,
            animate=True,
            cancel=True,
            batch_fetch=True,  # its tasks are in memory: many cost no more than one
        )
        self._step_seconds = step_seconds
        self._steps = steps
        self._sink: UpdateSink | None = None
        self._tasks = TaskBook()
        self._drafts = Drafts(self._tasks, tile_size)
        self._renders = Renders()
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, sink: UpdateSink) -> None:
        self._sink = sink

    async def aclose(self) -> None:
        """Stop every running task; nothing is reported afterwards."""
        self._tasks.closed = True
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        self._running.clear()

    # -- submits ----------------------------------------------------------------------------------------

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return self._launch(
            self._drafts.grid(JobKind.IMAGINE, prompt, lambda seed: prompt_theme(prompt, seed))
        )

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        parent = self._tasks.finished_parent(task_id, action)
        kind, drafts = action.kind, self._drafts
        if kind is ActionKind.UPSCALE:
            return self._launch(drafts.upscale(parent, action.index))
        if kind in HD_UPSCALES:
            return self._launch(drafts.hd_upscale(parent, kind))
        if kind in VARIATION_JITTER:
            return self._launch(drafts.variation(parent, kind, action.index))
        if kind is ActionKind.REROLL:
            return self._launch(drafts.reroll(parent))
        if kind in ZOOM_FACTORS:
            return self._launch(drafts.zoom(parent, ZOOM_FACTORS[kind]))
        if kind in PAN_DIRECTIONS:
            return self._launch(drafts.pan(parent, PAN_DIRECTIONS[kind]))
        if kind in ANIMATION_MOTION:
            return self._launch(drafts.animation(parent, kind))
        if kind is ActionKind.PROMPT_PICK:
            return await self.imagine(parent.prompts[action.index - 1], job_id=job_id)
        if kind is ActionKind.IMAGINE_ALL:
            started = [await self.imagine(prompt, job_id=job_id) for prompt in parent.prompts]
            return replace(started[0], extra_task_ids=tuple(s.task_id for s in started[1:]))
        if kind is ActionKind.DESCRIBE_AGAIN and parent.upload is not None and parent.traits is not None:
            return self._launch(drafts.describe(parent.upload, parent.traits))
        if kind is ActionKind.SHOW_DETAILS:
            return self._launch(drafts.shorten(parent.prompt, details=True))
        raise BackendRefused(f"the simulator cannot do {kind.value}")

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """🔄, a variation or a pan drawn for the edited prompt (a rerolled grid takes its shape too)."""
        self._check_prompt(prompt)
        parent = self._tasks.finished_parent(task_id, action)
        kind = action.kind
        if kind is ActionKind.REROLL:
            return self._launch(self._drafts.reroll(parent, prompt))
        if kind in VARIATION_JITTER:
            return self._launch(self._drafts.variation(parent, kind, action.index, prompt))
        if kind in PAN_DIRECTIONS:
            return self._launch(self._drafts.pan(parent, PAN_DIRECTIONS[kind], prompt))
        raise BackendRefused(f"the simulator cannot remix {kind.value}")

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        """The simulator never asks for input; a confirmed prompt for a known task starts a new imagine."""
        if task_id not in self._tasks:
            raise TaskNotFound(f"no simulated task {task_id}")
        return await self.imagine(prompt, job_id=job_id)

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission:
        self._tasks.check_open()
        traits, upload = await asyncio.to_thread(read_upload, image)
        return self._launch(self._drafts.describe(upload, traits))

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        self._tasks.check_open()
        if not BLEND_MIN_IMAGES <= len(images) <= BLEND_MAX_IMAGES:
            raise BackendRefused(
                f"blend takes {BLEND_MIN_IMAGES} to {BLEND_MAX_IMAGES} images, got {len(images)}"
            )
        traits = [await asyncio.to_thread(read_traits, data) for data, _ in images]
        ratio = BLEND_RATIOS[dimensions]
        caption = f"blend of {len(images)} images"
        return self._launch(
            self._drafts.grid(JobKind.BLEND, caption, lambda seed: blend_theme(traits, ratio, seed))
        )

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return self._launch(self._drafts.shorten(prompt, details=False))

    async def cancel(self, task_id: str) -> None:
        """Stop a task that has not finished; it reports FAILED (cancelled)."""
        task = self._tasks.get(task_id)
        if task is None or task.latest.status.is_final:
            raise TaskNotFound(f"no running simulated task {task_id}")
        if task.runner is not None:
            task.runner.cancel()
            await asyncio.gather(task.runner, return_exceptions=True)
        await self._report(
            task,
            TaskUpdate(task.id, JobStatus.FAILED, fail_reason="cancelled", failure=FailureKind.CANCELLED),
        )

    # -- reads ------------------------------------------------------------------------------------------

    async def image_seed(self, task_id: str) -> str:
        task = self._tasks.get(task_id)
        if task is None or task.artwork is None or task.latest.status is not JobStatus.SUCCEEDED:
            raise TaskNotFound(f"no finished simulated image {task_id}")
        return str(task.seed % SEED_MODULUS)

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        task = self._tasks.get(task_id)
        return task.latest if task is not None else None

    async def fetch_many(self, task_ids: list[str]) -> dict[str, TaskUpdate]:
        """The simulator's tasks, from memory."""
        found = {task_id: self._tasks.get(task_id) for task_id in task_ids}
        return {task_id: task.latest for task_id, task in found.items() if task is not None}

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        raise InvalidCallback("the simulator sends no HTTP callbacks")

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        named = parse_image_url(url)
        task = self._tasks.get(named[0]) if named else None
        if named is None or task is None or named[1] not in task.published:
            raise BackendUnavailable(f"no simulated image at {url}")
        if url != image_url(task.id, named[1]):
            raise BackendUnavailable(f"no simulated image at {url}")
        data = await self._renders.render(task, named[1])
        if len(data) > max_bytes:
            raise ImageTooLarge(f"image is {len(data)} bytes, limit {max_bytes}")
        return data

    # -- running ----------------------------------------------------------------------------------------

    def _launch(self, task: SimTask) -> Submission:
        steps = self._steps[:1] if task.quick else self._steps
        runner = asyncio.get_running_loop().create_task(self._run(task, steps), name=f"simulator {task.id}")
        task.runner = runner
        self._running.add(runner)
        runner.add_done_callback(self._running.discard)
        return Submission(task_id=task.id, status=JobStatus.QUEUED)

    async def _run(self, task: SimTask, steps: tuple[int, ...]) -> None:
        try:
            for progress in steps:
                await asyncio.sleep(self._step_seconds)
                preview = None
                if progress > 0 and task.artwork is not None and task.artwork.is_grid:
                    preview = f"preview-{progress}"
                    task.published.add(preview)
                    await self._renders.render(task, preview)
                await self._report(
                    task,
                    TaskUpdate(
                        task.id,
                        JobStatus.RUNNING,
                        progress=progress,
                        preview_url=image_url(task.id, preview) if preview else None,
                    ),
                )
            await asyncio.sleep(self._step_seconds)
            done = TaskUpdate(
                task.id,
                JobStatus.SUCCEEDED,
                progress=100,
                image_url=await self._publish(task, task.image_name),
                video_url=await self._publish(task, task.video_name),
                actions=task.actions,
                text=task.text,
            )
            await self._report(task, done)
        except Exception:
            # A drawing bug must end the job visibly instead of leaving it running for ever.
            logger.exception("simulated %s task %s failed", task.kind, task.id)
            await self._report(
                task, TaskUpdate(task.id, JobStatus.FAILED, fail_reason="simulator render failed")
            )

    async def _publish(self, task: SimTask, name: str | None) -> str | None:
        """Render a result and make it downloadable; its URL."""
        if name is None:
            return None
        task.published.add(name)
        await self._renders.render(task, name)
        return image_url(task.id, name)

    async def _report(self, task: SimTask, update: TaskUpdate) -> None:
        task.latest = update
        if self._sink is None:
            return
        try:
            await self._sink(update)
        except Exception:
            # The sink is the bot's code; one failed delivery must not stop the task's later updates.
            logger.exception("update sink failed for simulated task %s", task.id)

    def _check_prompt(self, prompt: str) -> None:
        self._tasks.check_open()
        if not strip_parameters(prompt):
            raise PromptRejected("[Invalid parameter] the prompt is empty")
        if len(prompt) > self.capabilities.max_prompt_length:
            raise PromptRejected(
                f"[Invalid parameter] prompt longer than {self.capabilities.max_prompt_length}"
            )
