"""The simulator's pictures, painted on demand in a thread and kept in a small cache."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from bot.backends.simulator.drawing import (
    encode_png,
    paint_animation,
    paint_artwork,
    paint_preview,
    paint_upload,
)
from bot.backends.simulator.recipes import Artwork
from bot.backends.simulator.tasks import ANIMATION_PREFIX, SimTask, image_url
from bot.domain import BackendUnavailable

RENDER_CACHE_SIZE = 64
# How far an animation's shapes drift, as a share of the picture.
MOTION_AMOUNT: dict[str, float] = {"high": 0.06, "low": 0.02}


class Renders:
    """Encoded images by URL; the least recently used are dropped beyond RENDER_CACHE_SIZE."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    async def render(self, task: SimTask, name: str) -> bytes:
        key = image_url(task.id, name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        data = await asyncio.to_thread(_paint, task.artwork, task.upload, name, task.seed)
        self._cache[key] = data
        while len(self._cache) > RENDER_CACHE_SIZE:
            self._cache.popitem(last=False)
        return data


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
