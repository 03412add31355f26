"""The SimulatorBackend adapter: task bookkeeping, timed progress, image URLs and the render cache."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bot.backends.simulator.buttons import describe_actions, grid_actions, shorten_actions, upscale_actions
from bot.backends.simulator.canvas import MAX_IMAGE_SIDE, pan_box, pan_ratio, scaled_pixels, tile_pixels
from bot.backends.simulator.drawing import (
    encode_png,
    paint_animation,
    paint_artwork,
    paint_preview,
    paint_upload,
    printable_caption,
)
from bot.backends.simulator.recipes import (
    GRID_TILES,
    Artwork,
    ImageTraits,
    Scene,
    Theme,
    ThemeFactory,
    stable_seed,
)
from bot.backends.simulator.scenes import pan_scene, theme_scene, variation_scene, zoom_scene
from bot.backends.simulator.text import describe_prompts, numbered, shorten_text, strip_parameters
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

URL_SCHEME = "sim://"
TASK_ID_PREFIX = "sim-"
TASK_ID_HEX_BYTES = 6
RENDER_CACHE_SIZE = 64
MAX_TASKS = 1024
BLEND_MIN_IMAGES, BLEND_MAX_IMAGES = 2, 5
UPSCALE_FACTOR = 2.0
SEED_MODULUS = 2**32
CAPTION_MAX_CHARS = 60

BLEND_RATIOS: dict[BlendDimensions, float] = {
    BlendDimensions.PORTRAIT: 2 / 3,
    BlendDimensions.SQUARE: 1.0,
    BlendDimensions.LANDSCAPE: 3 / 2,
}
ZOOM_FACTORS: dict[ActionKind, float] = {ActionKind.ZOOM_OUT_2X: 2.0, ActionKind.ZOOM_OUT_1_5X: 1.5}
# How far a variation strays from its source tile: positions, sizes, angles and colours.
VARIATION_JITTER: dict[ActionKind, float] = {
    ActionKind.VARIATION: 0.3,
    ActionKind.VARY_SUBTLE: 0.1,
    ActionKind.VARY_STRONG: 0.5,
}
PAN_DIRECTIONS: dict[ActionKind, tuple[int, int]] = {
    ActionKind.PAN_LEFT: (-1, 0),
    ActionKind.PAN_RIGHT: (1, 0),
    ActionKind.PAN_UP: (0, -1),
    ActionKind.PAN_DOWN: (0, 1),
}
HD_UPSCALES: dict[ActionKind, str] = {
    ActionKind.UPSCALE_SUBTLE: "Upscale (Subtle)",
    ActionKind.UPSCALE_CREATIVE: "Upscale (Creative)",
}
HD_CREATIVE_JITTER = 0.06
ANIMATION_MOTION: dict[ActionKind, str] = {ActionKind.ANIMATE_HIGH: "high", ActionKind.ANIMATE_LOW: "low"}
# How far an animation's shapes drift, as a share of the picture.
MOTION_AMOUNT: dict[str, float] = {"high": 0.06, "low": 0.02}
ANIMATION_PREFIX = "animation-"
PNG, GIF = "png", "gif"

_URL_RE = re.compile(rf"^{URL_SCHEME}({TASK_ID_PREFIX}[0-9a-f]+)/([a-z0-9-]+)\.({PNG}|{GIF})$")


@dataclass(slots=True)
class _Task:
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
    published: set[str] = field(default_factory=set)
    runner: asyncio.Task[None] | None = None


def _caption(prompt: str) -> str:
    return printable_caption(strip_parameters(prompt))[:CAPTION_MAX_CHARS]


def image_url(task_id: str, name: str) -> str:
    return f"{URL_SCHEME}{task_id}/{name}.{GIF if name.startswith(ANIMATION_PREFIX) else PNG}"


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
        )
        self._step_seconds = step_seconds
        self._steps = steps
        self._tile_size = tile_size
        self._sink: UpdateSink | None = None
        self._tasks: OrderedDict[str, _Task] = OrderedDict()
        self._renders: OrderedDict[str, bytes] = OrderedDict()
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self, sink: UpdateSink) -> None:
        self._sink = sink

    async def aclose(self) -> None:
        """Stop every running task; nothing is reported afterwards."""
        self._closed = True
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        self._running.clear()

    # -- submits ----------------------------------------------------------------------------------------

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return self._start_grid(JobKind.IMAGINE, prompt, lambda seed: prompt_theme(prompt, seed))

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        parent = self._finished_parent(task_id, action)
        kind = action.kind
        if kind is ActionKind.UPSCALE:
            return self._start_upscale(parent, action.index)
        if kind in HD_UPSCALES:
            return self._start_hd_upscale(parent, kind)
        if kind in VARIATION_JITTER:
            return self._start_variation(parent, kind, action.index)
        if kind is ActionKind.REROLL:
            return self._start_reroll(parent)
        if kind in ZOOM_FACTORS:
            return self._start_zoom(parent, ZOOM_FACTORS[kind])
        if kind in PAN_DIRECTIONS:
            return self._start_pan(parent, PAN_DIRECTIONS[kind])
        if kind in ANIMATION_MOTION:
            return self._start_animation(parent, kind)
        if kind is ActionKind.PROMPT_PICK:
            return await self.imagine(parent.prompts[action.index - 1], job_id=job_id)
        if kind is ActionKind.IMAGINE_ALL:
            started = [await self.imagine(prompt, job_id=job_id) for prompt in parent.prompts]
            return replace(started[0], extra_task_ids=tuple(s.task_id for s in started[1:]))
        if kind is ActionKind.DESCRIBE_AGAIN and parent.upload is not None and parent.traits is not None:
            return self._start_describe(parent.upload, parent.traits)
        if kind is ActionKind.SHOW_DETAILS:
            return self._start_shorten(parent.prompt, details=True)
        raise BackendRefused(f"the simulator cannot do {kind.value}")

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """🔄, a variation or a pan drawn for the edited prompt (a rerolled grid takes its shape too)."""
        self._check_prompt(prompt)
        parent = self._finished_parent(task_id, action)
        kind = action.kind
        if kind is ActionKind.REROLL:
            return self._start_reroll(parent, prompt)
        if kind in VARIATION_JITTER:
            return self._start_variation(parent, kind, action.index, prompt)
        if kind in PAN_DIRECTIONS:
            return self._start_pan(parent, PAN_DIRECTIONS[kind], prompt)
        raise BackendRefused(f"the simulator cannot remix {kind.value}")

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        """The simulator never asks for input; a confirmed prompt for a known task starts a new imagine."""
        if task_id not in self._tasks:
            raise TaskNotFound(f"no simulated task {task_id}")
        return await self.imagine(prompt, job_id=job_id)

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission:
        self._check_open()
        traits, upload = await asyncio.to_thread(read_upload, image)
        return self._start_describe(upload, traits)

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        self._check_open()
        if not BLEND_MIN_IMAGES <= len(images) <= BLEND_MAX_IMAGES:
            raise BackendRefused(
                f"blend takes {BLEND_MIN_IMAGES} to {BLEND_MAX_IMAGES} images, got {len(images)}"
            )
        traits = [await asyncio.to_thread(read_traits, data) for data, _ in images]
        ratio = BLEND_RATIOS[dimensions]
        caption = f"blend of {len(images)} images"
        return self._start_grid(JobKind.BLEND, caption, lambda seed: blend_theme(traits, ratio, seed))

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return self._start_shorten(prompt, details=False)

    async def image_seed(self, task_id: str) -> str:
        task = self._tasks.get(task_id)
        if task is None or task.artwork is None or task.latest.status is not JobStatus.SUCCEEDED:
            raise TaskNotFound(f"no finished simulated image {task_id}")
        return str(task.seed % SEED_MODULUS)

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        task = self._tasks.get(task_id)
        return task.latest if task is not None else None

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        raise InvalidCallback("the simulator sends no HTTP callbacks")

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        match = _URL_RE.match(url)
        task = self._tasks.get(match.group(1)) if match else None
        if match is None or task is None or match.group(2) not in task.published:
            raise BackendUnavailable(f"no simulated image at {url}")
        if url != image_url(task.id, match.group(2)):
            raise BackendUnavailable(f"no simulated image at {url}")
        data = await self._render(task, match.group(2))
        if len(data) > max_bytes:
            raise ImageTooLarge(f"image is {len(data)} bytes, limit {max_bytes}")
        return data

    # -- task starts ------------------------------------------------------------------------------------

    def _start_grid(self, kind: JobKind, prompt: str, make_theme: ThemeFactory) -> Submission:
        task = self._new_task(kind, prompt)
        task.theme = theme = make_theme(task.seed)
        rng = random.Random(task.seed)
        return self._launch_grid(task, [theme_scene(theme, rng) for _ in range(GRID_TILES)])

    def _start_reroll(self, parent: _Task, prompt: str | None = None) -> Submission:
        _, theme = self._picture(parent)
        task = self._new_task(JobKind.REROLL, prompt or parent.prompt, theme)
        if prompt is not None:
            task.theme = theme = prompt_theme(prompt, task.seed)
        rng = random.Random(task.seed)
        return self._launch_grid(task, [theme_scene(theme, rng) for _ in range(GRID_TILES)])

    def _start_variation(
        self, parent: _Task, kind: ActionKind, index: int, prompt: str | None = None
    ) -> Submission:
        artwork, theme = self._picture(parent)
        source = artwork.tiles[index - 1 if artwork.is_grid else 0]
        task = self._new_task(JobKind.VARIATION, prompt or parent.prompt, theme)
        rng = random.Random(task.seed)
        amount = VARIATION_JITTER[kind]
        return self._launch_grid(task, [variation_scene(source, rng, amount) for _ in range(GRID_TILES)])

    def _start_zoom(self, parent: _Task, factor: float) -> Submission:
        artwork, theme = self._picture(parent)
        task = self._new_task(JobKind.ZOOM, parent.prompt, theme)
        rng = random.Random(task.seed)
        source = artwork.tiles[0]
        return self._launch_grid(
            task, [zoom_scene(source, theme.style, rng, factor) for _ in range(GRID_TILES)]
        )

    def _start_pan(self, parent: _Task, direction: tuple[int, int], prompt: str | None = None) -> Submission:
        artwork, theme = self._picture(parent)
        ratio = pan_ratio(theme.ratio, direction)
        box = pan_box(theme.ratio, ratio, direction)
        task = self._new_task(JobKind.PAN, prompt or parent.prompt, replace(theme, ratio=ratio))
        rng = random.Random(task.seed)
        source = artwork.tiles[0]
        return self._launch_grid(task, [pan_scene(source, theme.style, rng, box) for _ in range(GRID_TILES)])

    def _start_upscale(self, parent: _Task, index: int) -> Submission:
        artwork, theme = self._picture(parent)
        task = self._new_task(JobKind.UPSCALE, parent.prompt, theme)
        size = scaled_pixels(artwork.size, UPSCALE_FACTOR)
        return self._launch_single(
            task, Artwork((artwork.tiles[index - 1],), size, artwork.caption, f"U{index}")
        )

    def _start_hd_upscale(self, parent: _Task, kind: ActionKind) -> Submission:
        artwork, theme = self._picture(parent)
        task = self._new_task(JobKind.UPSCALE, parent.prompt, theme)
        source = artwork.tiles[0]
        if kind is ActionKind.UPSCALE_CREATIVE:
            source = variation_scene(source, random.Random(task.seed), HD_CREATIVE_JITTER)
        size = scaled_pixels(artwork.size, UPSCALE_FACTOR)
        return self._launch_single(task, Artwork((source,), size, artwork.caption, HD_UPSCALES[kind]))

    def _start_animation(self, parent: _Task, kind: ActionKind) -> Submission:
        artwork, theme = self._picture(parent)
        task = self._new_task(JobKind.VIDEO, parent.prompt, theme)
        task.artwork = Artwork((artwork.tiles[0],), artwork.size, artwork.caption, artwork.badge)
        task.video_name = ANIMATION_PREFIX + ANIMATION_MOTION[kind]
        return self._launch(task, self._steps)

    def _start_describe(self, upload: bytes, traits: ImageTraits) -> Submission:
        task = self._new_task(JobKind.DESCRIBE, "")
        task.upload, task.traits = upload, traits
        task.prompts = describe_prompts(traits, task.seed)
        task.text = numbered(task.prompts)
        task.image_name = "upload"
        task.actions = describe_actions()
        return self._launch(task, self._steps[:1])

    def _start_shorten(self, prompt: str, *, details: bool) -> Submission:
        task = self._new_task(JobKind.SHORTEN, prompt)
        task.text, task.prompts = shorten_text(prompt, details)
        task.actions = shorten_actions(details)
        return self._launch(task, self._steps[:1])

    def _launch_grid(self, task: _Task, tiles: list[Scene]) -> Submission:
        assert task.theme is not None
        size = tile_pixels(task.theme.ratio, self._tile_size)
        task.artwork = Artwork(tuple(tiles), size, _caption(task.prompt))
        task.image_name = "grid"
        task.actions = grid_actions()
        return self._launch(task, self._steps)

    def _launch_single(self, task: _Task, artwork: Artwork) -> Submission:
        task.artwork = artwork
        task.image_name = "upscale"
        task.actions = upscale_actions()
        return self._launch(task, self._steps[:1])

    def _launch(self, task: _Task, steps: tuple[int, ...]) -> Submission:
        runner = asyncio.get_running_loop().create_task(self._run(task, steps), name=f"simulator {task.id}")
        task.runner = runner
        self._running.add(runner)
        runner.add_done_callback(self._running.discard)
        return Submission(task_id=task.id, status=JobStatus.QUEUED)

    # -- running ----------------------------------------------------------------------------------------

    async def _run(self, task: _Task, steps: tuple[int, ...]) -> None:
        try:
            for progress in steps:
                await asyncio.sleep(self._step_seconds)
                preview = None
                if progress > 0 and task.artwork is not None and task.artwork.is_grid:
                    preview = f"preview-{progress}"
                    task.published.add(preview)
                    await self._render(task, preview)
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

    async def _publish(self, task: _Task, name: str | None) -> str | None:
        """Render a result and make it downloadable; its URL."""
        if name is None:
            return None
        task.published.add(name)
        await self._render(task, name)
        return image_url(task.id, name)

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

    async def _report(self, task: _Task, update: TaskUpdate) -> None:
        task.latest = update
        if self._sink is None:
            return
        try:
            await self._sink(update)
        except Exception:
            # The sink is the bot's code; one failed delivery must not stop the task's later updates.
            logger.exception("update sink failed for simulated task %s", task.id)

    async def _render(self, task: _Task, name: str) -> bytes:
        key = image_url(task.id, name)
        cached = self._renders.get(key)
        if cached is not None:
            self._renders.move_to_end(key)
            return cached
        data = await asyncio.to_thread(self._paint, task.artwork, task.upload, name, task.seed)
        self._renders[key] = data
        while len(self._renders) > RENDER_CACHE_SIZE:
            self._renders.popitem(last=False)
        return data

    @staticmethod
    def _paint(artwork: Artwork | None, upload: bytes | None, name: str, seed: int) -> bytes:
        if name == "upload" and upload is not None:
            return encode_png(paint_upload(upload))
        if artwork is None:
            raise BackendUnavailable(f"simulated task has no image {name}")
        if name.startswith("preview-"):
            return encode_png(paint_preview(artwork, int(name.removeprefix("preview-")), seed))
        if name.startswith(ANIMATION_PREFIX):
            return paint_animation(artwork, MOTION_AMOUNT[name.removeprefix(ANIMATION_PREFIX)], seed)
        return encode_png(paint_artwork(artwork))

    # -- bookkeeping ------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise BackendUnavailable("the simulator is shut down")

    def _check_prompt(self, prompt: str) -> None:
        self._check_open()
        if not strip_parameters(prompt):
            raise PromptRejected("[Invalid parameter] the prompt is empty")
        if len(prompt) > self.capabilities.max_prompt_length:
            raise PromptRejected(
                f"[Invalid parameter] prompt longer than {self.capabilities.max_prompt_length}"
            )

    def _new_task(self, kind: JobKind, prompt: str, theme: Theme | None = None) -> _Task:
        self._check_open()
        task_id = TASK_ID_PREFIX + secrets.token_hex(TASK_ID_HEX_BYTES)
        seed = stable_seed(prompt, task_id)
        task = _Task(task_id, kind, prompt, seed, TaskUpdate(task_id, JobStatus.QUEUED), theme=theme)
        self._tasks[task_id] = task
        self._forget_old_tasks()
        return task

    def _forget_old_tasks(self) -> None:
        for task_id in list(self._tasks):
            if len(self._tasks) <= MAX_TASKS:
                return
            if self._tasks[task_id].latest.status.is_final:
                del self._tasks[task_id]

    def _finished_parent(self, task_id: str, action: Action) -> _Task:
        self._check_open()
        parent = self._tasks.get(task_id)
        if parent is None:
            raise TaskNotFound(f"no simulated task {task_id}")
        if parent.latest.status is not JobStatus.SUCCEEDED:
            raise BackendRefused(f"task {task_id} is {parent.latest.status.value}, not succeeded")
        if not any(offered.ref == action.ref and offered.kind is action.kind for offered in parent.actions):
            raise BackendRefused(f"task {task_id} does not offer {action.ref}")
        return parent

    @staticmethod
    def _picture(parent: _Task) -> tuple[Artwork, Theme]:
        if parent.artwork is None or parent.theme is None:
            raise BackendRefused(f"task {parent.id} has no picture to build on")
        return parent.artwork, parent.theme
