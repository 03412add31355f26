"""What each kind of simulated task draws: a new task record with its artwork and buttons, ready to run."""

from __future__ import annotations

import random
from dataclasses import replace

from bot.backends.simulator.buttons import describe_actions, grid_actions, shorten_actions, upscale_actions
from bot.backends.simulator.canvas import pan_box, pan_ratio, scaled_pixels, tile_pixels
from bot.backends.simulator.recipes import GRID_TILES, Artwork, ImageTraits, Scene, Theme, ThemeFactory
from bot.backends.simulator.scenes import pan_scene, theme_scene, variation_scene, zoom_scene
from bot.backends.simulator.tasks import ANIMATION_PREFIX, SimTask, TaskBook, caption
from bot.backends.simulator.text import describe_prompts, numbered, shorten_text
from bot.backends.simulator.themes import prompt_theme
from bot.domain import ActionKind, BackendRefused, JobKind

UPSCALE_FACTOR = 2.0
HD_UPSCALES: dict[ActionKind, str] = {
    ActionKind.UPSCALE_SUBTLE: "Upscale (Subtle)",
    ActionKind.UPSCALE_CREATIVE: "Upscale (Creative)",
}
HD_CREATIVE_JITTER = 0.06
# How far a variation strays from its source tile: positions, sizes, angles and colours.
VARIATION_JITTER: dict[ActionKind, float] = {
    ActionKind.VARIATION: 0.3,
    ActionKind.VARY_SUBTLE: 0.1,
    ActionKind.VARY_STRONG: 0.5,
}
ANIMATION_MOTION: dict[ActionKind, str] = {ActionKind.ANIMATE_HIGH: "high", ActionKind.ANIMATE_LOW: "low"}


class Drafts:
    """Prepares the simulator's tasks; the backend runs them."""

    def __init__(self, book: TaskBook, tile_size: int) -> None:
        self._book = book
        self._tile_size = tile_size

    def grid(self, kind: JobKind, prompt: str, make_theme: ThemeFactory) -> SimTask:
        task = self._book.new(kind, prompt)
        task.theme = theme = make_theme(task.seed)
        rng = random.Random(task.seed)
        return self._grid(task, [theme_scene(theme, rng) for _ in range(GRID_TILES)])

    def reroll(self, parent: SimTask, prompt: str | None = None) -> SimTask:
        _, theme = _picture(parent)
        task = self._book.new(JobKind.REROLL, prompt or parent.prompt, theme)
        if prompt is not None:
            task.theme = theme = prompt_theme(prompt, task.seed)
        rng = random.Random(task.seed)
        return self._grid(task, [theme_scene(theme, rng) for _ in range(GRID_TILES)])

    def variation(self, parent: SimTask, kind: ActionKind, index: int, prompt: str | None = None) -> SimTask:
        artwork, theme = _picture(parent)
        source = artwork.tiles[index - 1 if artwork.is_grid else 0]
        task = self._book.new(JobKind.VARIATION, prompt or parent.prompt, theme)
        rng = random.Random(task.seed)
        amount = VARIATION_JITTER[kind]
        return self._grid(task, [variation_scene(source, rng, amount) for _ in range(GRID_TILES)])

    def zoom(self, parent: SimTask, factor: float) -> SimTask:
        artwork, theme = _picture(parent)
        task = self._book.new(JobKind.ZOOM, parent.prompt, theme)
        rng = random.Random(task.seed)
        source = artwork.tiles[0]
        return self._grid(task, [zoom_scene(source, theme.style, rng, factor) for _ in range(GRID_TILES)])

    def pan(self, parent: SimTask, direction: tuple[int, int], prompt: str | None = None) -> SimTask:
        artwork, theme = _picture(parent)
        ratio = pan_ratio(theme.ratio, direction)
        box = pan_box(theme.ratio, ratio, direction)
        task = self._book.new(JobKind.PAN, prompt or parent.prompt, replace(theme, ratio=ratio))
        rng = random.Random(task.seed)
        source = artwork.tiles[0]
        return self._grid(task, [pan_scene(source, theme.style, rng, box) for _ in range(GRID_TILES)])

    def upscale(self, parent: SimTask, index: int) -> SimTask:
        artwork, theme = _picture(parent)
        task = self._book.new(JobKind.UPSCALE, parent.prompt, theme)
        size = scaled_pixels(artwork.size, UPSCALE_FACTOR)
        return _single(task, Artwork((artwork.tiles[index - 1],), size, artwork.caption, f"U{index}"))

    def hd_upscale(self, parent: SimTask, kind: ActionKind) -> SimTask:
        artwork, theme = _picture(parent)
        task = self._book.new(JobKind.UPSCALE, parent.prompt, theme)
        source = artwork.tiles[0]
        if kind is ActionKind.UPSCALE_CREATIVE:
            source = variation_scene(source, random.Random(task.seed), HD_CREATIVE_JITTER)
        size = scaled_pixels(artwork.size, UPSCALE_FACTOR)
        return _single(task, Artwork((source,), size, artwork.caption, HD_UPSCALES[kind]))

    def animation(self, parent: SimTask, kind: ActionKind) -> SimTask:
        artwork, theme = _picture(parent)
        task = self._book.new(JobKind.VIDEO, parent.prompt, theme)
        task.artwork = Artwork((artwork.tiles[0],), artwork.size, artwork.caption, artwork.badge)
        task.video_name = ANIMATION_PREFIX + ANIMATION_MOTION[kind]
        return task

    def describe(self, upload: bytes, traits: ImageTraits) -> SimTask:
        task = self._book.new(JobKind.DESCRIBE, "")
        task.upload, task.traits = upload, traits
        task.prompts = describe_prompts(traits, task.seed)
        task.text = numbered(task.prompts)
        task.image_name = "upload"
        task.actions = describe_actions()
        task.quick = True
        return task

    def shorten(self, prompt: str, *, details: bool) -> SimTask:
        task = self._book.new(JobKind.SHORTEN, prompt)
        task.text, task.prompts = shorten_text(prompt, details)
        task.actions = shorten_actions(details)
        task.quick = True
        return task

    def _grid(self, task: SimTask, tiles: list[Scene]) -> SimTask:
        assert task.theme is not None
        size = tile_pixels(task.theme.ratio, self._tile_size)
        task.artwork = Artwork(tuple(tiles), size, caption(task.prompt))
        task.image_name = "grid"
        task.actions = grid_actions()
        return task


def _single(task: SimTask, artwork: Artwork) -> SimTask:
    task.artwork = artwork
    task.image_name = "upscale"
    task.actions = upscale_actions()
    task.quick = True
    return task


def _picture(parent: SimTask) -> tuple[Artwork, Theme]:
    if parent.artwork is None or parent.theme is None:
        raise BackendRefused(f"task {parent.id} has no picture to build on")
    return parent.artwork, parent.theme
