"""Canvas geometry: aspect ratios from prompts, tile and upscale sizes, where a pan puts its source."""

from __future__ import annotations

import re

from bot.backends.simulator.recipes import Box

MIN_RATIO, MAX_RATIO = 1 / 3, 3.0
MAX_IMAGE_SIDE = 2048
PAN_EXTENSION = 1.5
_ASPECT_RE = re.compile(r"--(?:ar|aspect)\s+(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def aspect_ratio(prompt: str) -> float:
    """Width / height from `--ar W:H`, clamped to what the simulator draws; 1 when absent or invalid."""
    match = _ASPECT_RE.search(prompt)
    if match is None:
        return 1.0
    width, height = float(match.group(1)), float(match.group(2))
    if width <= 0 or height <= 0:
        return 1.0
    return min(MAX_RATIO, max(MIN_RATIO, width / height))


def tile_pixels(ratio: float, longer_side: int) -> tuple[int, int]:
    """Pixel size with the given ratio whose longer side is `longer_side` (even numbers)."""
    ratio = min(MAX_RATIO, max(MIN_RATIO, ratio))
    width: float
    height: float
    if ratio >= 1:
        width, height = longer_side, longer_side / ratio
    else:
        width, height = longer_side * ratio, longer_side
    return max(2, round(width / 2) * 2), max(2, round(height / 2) * 2)


def scaled_pixels(size: tuple[int, int], factor: float) -> tuple[int, int]:
    """`size` times `factor`, with the longer side capped at MAX_IMAGE_SIDE."""
    width, height = size
    factor = min(factor, MAX_IMAGE_SIDE / max(width, height))
    return max(2, round(width * factor / 2) * 2), max(2, round(height * factor / 2) * 2)


def pan_box(source_ratio: float, canvas_ratio: float, direction: tuple[int, int]) -> Box:
    """Where the source sits in a canvas extended towards `direction` (the opposite side keeps it)."""
    dx, dy = direction
    if dx:
        width = min(1.0, source_ratio / canvas_ratio)
        left = 1 - width if dx < 0 else 0.0
        return left, 0.0, left + width, 1.0
    height = min(1.0, canvas_ratio / source_ratio)
    top = 1 - height if dy < 0 else 0.0
    return 0.0, top, 1.0, top + height


def pan_ratio(source_ratio: float, direction: tuple[int, int]) -> float:
    dx, _ = direction
    ratio = source_ratio * PAN_EXTENSION if dx else source_ratio / PAN_EXTENSION
    return min(MAX_RATIO, max(MIN_RATIO, ratio))
