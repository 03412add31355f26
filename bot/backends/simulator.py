"""The built-in simulator backend: Midjourney-like tasks rendered locally with Pillow, marked as simulated."""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import io
import logging
import math
import random
import re
import secrets
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from bot.backends.base import (
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Capabilities,
    Command,
    ImageTooLarge,
    InvalidCallback,
    PromptRejected,
    Submission,
    TaskNotFound,
    UpdateSink,
)
from bot.domain import Action, ActionKind, JobKind, JobStatus, TaskUpdate
from bot.media import NotAnImage, open_image

logger = logging.getLogger(__name__)

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]

URL_SCHEME = "sim://"
TASK_ID_PREFIX = "sim-"
TASK_ID_HEX_BYTES = 6
RENDER_CACHE_SIZE = 64
MAX_TASKS = 1024
MIN_RATIO, MAX_RATIO = 1 / 3, 3.0
MAX_IMAGE_SIDE = 2048
UPLOAD_MAX_SIDE = 512
UPLOAD_JPEG_QUALITY = 88
PNG_COMPRESS_LEVEL = 4
SUPERSAMPLE = 2
RADIAL_EDGE = 181  # Image.radial_gradient's value where its circle touches the square's edge
INSET_MAX_DEPTH = 4
INSET_MIN_SIDE = 8
BLEND_MIN_IMAGES, BLEND_MAX_IMAGES = 2, 5
PAN_EXTENSION = 1.5
UPSCALE_FACTOR = 2.0
SEED_MODULUS = 2**32
CAPTION_MAX_CHARS = 60
KEYCAPS = ("1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", "4\ufe0f\u20e3", "5\ufe0f\u20e3")
WATERMARK = "SIMULATED"

GRID_TILES = 4
TRAIT_COLOURS = 6
MIN_COLOUR_SHARE = 0.03
DESCRIBE_COLOURS = 4
DESCRIBE_PROMPTS = 4
SHORTEN_PROMPTS = 5
SHORTEN_BOLD_TOKENS = 3
SHORTEN_DETAIL_BARS = 6
SHORTEN_KEEP_FRACTIONS = (1.0, 0.75, 0.5, 0.35, 0.2)

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

_URL_RE = re.compile(rf"^{URL_SCHEME}({TASK_ID_PREFIX}[0-9a-f]+)/([a-z0-9-]+)\.png$")
_ASPECT_RE = re.compile(r"--(?:ar|aspect)\s+(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_PARAMETER_RE = re.compile(r"(?:^|\s)--[a-z][\w-]*(?:\s+(?!--)[^\s,]+)*", re.IGNORECASE)
_WORD_EDGE_RE = re.compile(r"^\W+|\W+$")


# ----------------------------------------------------------------------------------------------------
# Recipes: everything a picture is drawn from, small and frozen so a cache miss draws the same pixels again.


class ShapeKind(StrEnum):
    DISC = "disc"
    GLOW = "glow"
    RING = "ring"
    RECT = "rect"
    TRIANGLE = "triangle"
    HALF = "half"
    HILL = "hill"
    BAND = "band"


class Style(StrEnum):
    """The kind of composition every tile of one prompt shares."""

    LANDSCAPE = "landscape"
    BAUHAUS = "bauhaus"
    ORBS = "orbs"
    WAVES = "waves"


@dataclass(frozen=True, slots=True)
class Shape:
    """One element of a composition; positions are fractions of the canvas, `size` of its shorter side.

    `angle` is a rotation in degrees, or for hills and bands the wave's phase in radians; `aux` is a ring's
    thickness, a rectangle's aspect, or a wave's frequency.
    """

    kind: ShapeKind
    x: float
    y: float
    size: float
    colour: int
    alpha: float = 1.0
    blur: float = 0.0
    angle: float = 0.0
    aux: float = 1.0


@dataclass(frozen=True, slots=True)
class Inset:
    """An earlier picture drawn inside a new canvas (zoom out, pan); `box` is in canvas fractions."""

    scene: Scene
    box: Box


@dataclass(frozen=True, slots=True)
class Scene:
    """One tile's composition: palette roles are sky top, sky bottom, three accents, highlight."""

    palette: tuple[RGB, ...]
    shapes: tuple[Shape, ...]
    inset: Inset | None = None


@dataclass(frozen=True, slots=True)
class Theme:
    """What a prompt (or a blend's images) decides for all its grids: colours, style and aspect ratio."""

    colours: tuple[RGB, ...]
    style: Style
    ratio: float


ThemeFactory = Callable[[int], Theme]


@dataclass(frozen=True, slots=True)
class Artwork:
    """A task's picture: four tiles for a grid, one for a single image; `size` is one tile in pixels."""

    tiles: tuple[Scene, ...]
    size: tuple[int, int]
    caption: str
    badge: str = ""

    @property
    def is_grid(self) -> bool:
        return len(self.tiles) == GRID_TILES


@dataclass(frozen=True, slots=True)
class ImageTraits:
    """What describe and blend read from an uploaded picture."""

    width: int
    height: int
    colours: tuple[RGB, ...]
    brightness: float


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
    upload: bytes | None = None
    traits: ImageTraits | None = None
    prompts: tuple[str, ...] = ()
    text: str | None = None
    actions: tuple[Action, ...] = ()
    published: set[str] = field(default_factory=set)


# ----------------------------------------------------------------------------------------------------
# Seeds, prompts and themes.


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from the parts, the same in every process (unlike hash())."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def strip_parameters(prompt: str) -> str:
    """The prompt without `--name value` parameters, whitespace collapsed."""
    return " ".join(_PARAMETER_RE.sub(" ", prompt).split())


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


def _hls(hue: float, lightness: float, saturation: float) -> RGB:
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def _to_hls(colour: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(channel / 255 for channel in colour))


def _shift_hue(colour: RGB, shift: float) -> RGB:
    hue, lightness, saturation = _to_hls(colour)
    return _hls(hue + shift, lightness, saturation)


def _luminance(colour: RGB) -> float:
    red, green, blue = colour
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


# Colour words steer a prompt's base hue, so "a red fox" is painted warm.
HUE_WORDS: dict[str, float] = {
    "red": 0.0, "crimson": 0.97, "fire": 0.03, "sunset": 0.05, "orange": 0.07, "autumn": 0.08, "desert": 0.1,
    "gold": 0.12, "golden": 0.12, "yellow": 0.15, "lime": 0.22, "green": 0.33, "forest": 0.3, "jungle": 0.32,
    "emerald": 0.38, "teal": 0.47, "cyan": 0.5, "ice": 0.53, "ocean": 0.55, "sea": 0.55, "sky": 0.57,
    "blue": 0.61, "night": 0.65, "indigo": 0.7, "violet": 0.75, "purple": 0.78, "magenta": 0.85, "pink": 0.92,
    "rose": 0.95, "snow": 0.58, "winter": 0.58, "galaxy": 0.72, "space": 0.68, "lavender": 0.76,
}  # fmt: skip
STYLE_WORDS: dict[str, Style] = {
    **dict.fromkeys(
        (
            "landscape", "mountain", "mountains", "sunset", "sunrise", "sea", "ocean", "beach", "forest",
            "valley", "desert", "lake", "river", "field", "hills", "city", "skyline", "horizon", "island",
        ),
        Style.LANDSCAPE,
    ),
    **dict.fromkeys(
        (
            "night", "space", "galaxy", "star", "stars", "moon", "planet", "cosmic", "neon", "lights",
            "bokeh", "dream", "dreamy", "portrait",
        ),
        Style.ORBS,
    ),
    **dict.fromkeys(
        ("water", "wave", "waves", "flow", "fluid", "silk", "smoke", "wind", "river", "aurora", "abstract"),
        Style.WAVES,
    ),
    **dict.fromkeys(
        (
            "poster", "geometric", "bauhaus", "minimal", "minimalist", "logo", "pattern", "architecture",
            "shapes",
        ),
        Style.BAUHAUS,
    ),
}  # fmt: skip
# Hue offsets of the accents relative to the base hue: analogous, complementary, triadic, split-complementary.
HUE_SCHEMES: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.07, -0.07),
    (0.0, 0.5, 0.04),
    (0.0, 1 / 3, 2 / 3),
    (0.0, 0.42, 0.58),
)


def _prompt_words(prompt: str) -> list[str]:
    return [_WORD_EDGE_RE.sub("", word).lower() for word in strip_parameters(prompt).split()]


def prompt_theme(prompt: str, seed: int) -> Theme:
    """Colours, style and ratio for a prompt: colour and subject words steer them, the seed does the rest."""
    rng = random.Random(seed)
    words = _prompt_words(prompt)
    hues = [HUE_WORDS[word] for word in words if word in HUE_WORDS]
    base = hues[0] if hues else rng.random()
    styles = [STYLE_WORDS[word] for word in words if word in STYLE_WORDS]
    style = styles[0] if styles else rng.choice(list(Style))
    scheme = rng.choice(HUE_SCHEMES)
    colours = (
        _hls(base + 0.04, rng.uniform(0.12, 0.2), rng.uniform(0.35, 0.55)),
        _hls(base - 0.03, rng.uniform(0.32, 0.45), rng.uniform(0.45, 0.65)),
        _hls(base + scheme[0], rng.uniform(0.5, 0.62), rng.uniform(0.6, 0.85)),
        _hls(base + scheme[1], rng.uniform(0.45, 0.6), rng.uniform(0.5, 0.8)),
        _hls(base + scheme[2], rng.uniform(0.58, 0.7), rng.uniform(0.55, 0.8)),
        _hls(base + 0.1, rng.uniform(0.82, 0.9), rng.uniform(0.6, 0.9)),
    )
    return Theme(colours=colours, style=style, ratio=aspect_ratio(prompt))


def blend_theme(traits: Sequence[ImageTraits], ratio: float, seed: int) -> Theme:
    """A theme mixing the dominant colours of the blended pictures, livened up a little."""
    rng = random.Random(seed)
    found = [colour for trait in traits for colour in trait.colours[:3]]
    by_light = sorted(found, key=_luminance)
    by_colour = sorted(found, key=lambda colour: _to_hls(colour)[2], reverse=True)

    def tuned(colour: RGB, lightness: tuple[float, float], min_saturation: float) -> RGB:
        hue, light, saturation = _to_hls(colour)
        return _hls(hue, min(max(light, lightness[0]), lightness[1]), max(saturation, min_saturation))

    colours = (
        tuned(by_light[0], (0.1, 0.22), 0.3),
        tuned(by_light[1], (0.28, 0.45), 0.35),
        tuned(by_colour[0], (0.45, 0.65), 0.55),
        tuned(by_colour[1], (0.45, 0.65), 0.5),
        tuned(by_colour[2 % len(by_colour)], (0.5, 0.7), 0.5),
        tuned(by_light[-1], (0.8, 0.9), 0.4),
    )
    return Theme(colours=colours, style=rng.choice(list(Style)), ratio=ratio)


def tile_palette(theme: Theme, rng: random.Random) -> tuple[RGB, ...]:
    """The theme's colours nudged per tile, so the four tiles are related but distinct."""
    shift = rng.uniform(-0.05, 0.05)
    accents = list(theme.colours[2:5])
    rng.shuffle(accents)
    sky = theme.colours[:2] if rng.random() < 0.75 else theme.colours[1::-1]
    return tuple(_shift_hue(colour, shift) for colour in (*sky, *accents, theme.colours[5]))


def nudge_palette(palette: tuple[RGB, ...], rng: random.Random, amount: float) -> tuple[RGB, ...]:
    """A variation's palette: the source's colours, hue-shifted by up to `amount` / 6."""
    shift = rng.uniform(-amount, amount) / 6
    return tuple(_shift_hue(colour, shift) for colour in palette)


# ----------------------------------------------------------------------------------------------------
# Compositions.


def _compose_landscape(rng: random.Random) -> list[Shape]:
    sun_x, sun_y, sun_r = rng.uniform(0.2, 0.8), rng.uniform(0.18, 0.42), rng.uniform(0.09, 0.16)
    shapes = [
        Shape(ShapeKind.GLOW, sun_x, sun_y, sun_r * 3.2, 5, alpha=0.55),
        Shape(ShapeKind.DISC, sun_x, sun_y, sun_r, 5, alpha=0.95, blur=0.004),
    ]
    if rng.random() < 0.5:
        shapes.append(Shape(ShapeKind.RING, sun_x, sun_y, sun_r * 1.6, 4, alpha=0.5, aux=0.06))
    layers = rng.randint(3, 4)
    for layer in range(layers):
        depth = layer / (layers - 1)
        shapes.append(
            Shape(
                ShapeKind.HILL,
                0.0,
                0.5 + 0.32 * depth + rng.uniform(-0.04, 0.04),
                rng.uniform(0.03, 0.1) * (1.2 - 0.5 * depth),
                (3, 2, 4, 0)[layer % 4] if layer < layers - 1 else 0,
                alpha=0.55 + 0.45 * depth,
                blur=0.006 * (1 - depth),
                angle=rng.uniform(0, 2 * math.pi),
                aux=rng.uniform(0.8, 2.6),
            )
        )
    return shapes


def _compose_bauhaus(rng: random.Random) -> list[Shape]:
    shapes = [Shape(ShapeKind.GLOW, rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), 0.9, 5, alpha=0.25)]
    cells = [(column, row) for column in range(3) for row in range(3)]
    rng.shuffle(cells)
    kinds = [
        ShapeKind.DISC,
        ShapeKind.HALF,
        ShapeKind.RECT,
        ShapeKind.TRIANGLE,
        ShapeKind.RING,
        ShapeKind.DISC,
    ]
    rng.shuffle(kinds)
    for (column, row), kind in zip(cells, kinds[: rng.randint(4, 6)], strict=False):
        shapes.append(
            Shape(
                kind,
                0.2 + 0.3 * column + rng.uniform(-0.08, 0.08),
                0.2 + 0.3 * row + rng.uniform(-0.08, 0.08),
                rng.uniform(0.12, 0.26),
                rng.choice((2, 3, 4, 5)),
                alpha=rng.uniform(0.85, 1.0),
                angle=rng.choice((0.0, 45.0, 90.0, 180.0, 270.0)) + rng.uniform(-8, 8),
                aux=rng.uniform(0.12, 0.3) if kind is ShapeKind.RING else rng.uniform(0.5, 1.0),
            )
        )
    return shapes


def _compose_orbs(rng: random.Random) -> list[Shape]:
    def anywhere() -> tuple[float, float]:
        return rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)

    shapes = [
        Shape(
            ShapeKind.GLOW,
            *anywhere(),
            rng.uniform(0.35, 0.7),
            rng.choice((2, 3, 4)),
            alpha=rng.uniform(0.7, 0.95),
        )
        for _ in range(rng.randint(3, 4))
    ]
    shapes += [
        Shape(
            ShapeKind.DISC,
            *anywhere(),
            rng.uniform(0.02, 0.08),
            rng.choice((2, 4, 5, 5)),
            alpha=rng.uniform(0.25, 0.65),
            blur=rng.choice((0.002, 0.004, 0.012)),
        )
        for _ in range(rng.randint(7, 12))
    ]
    if rng.random() < 0.6:
        shapes.append(Shape(ShapeKind.RING, *anywhere(), rng.uniform(0.15, 0.28), 5, alpha=0.7, aux=0.03))
    return shapes


def _compose_waves(rng: random.Random) -> list[Shape]:
    shapes = [Shape(ShapeKind.GLOW, rng.uniform(0.2, 0.8), rng.uniform(0.15, 0.4), 0.45, 5, alpha=0.5)]
    bands = rng.randint(4, 6)
    phase, frequency = rng.uniform(0, 2 * math.pi), rng.uniform(0.6, 1.6)
    for band in range(bands):
        shapes.append(
            Shape(
                ShapeKind.BAND,
                0.0,
                0.25 + 0.65 * band / bands + rng.uniform(-0.03, 0.03),
                rng.uniform(0.08, 0.16),
                2 + band % 4,
                alpha=rng.uniform(0.6, 0.9),
                blur=0.01 if band == 0 else 0.0,
                angle=phase + band * rng.uniform(0.3, 0.8),
                aux=frequency * rng.uniform(0.85, 1.15),
            )
        )
    return shapes


COMPOSERS = {
    Style.LANDSCAPE: _compose_landscape,
    Style.BAUHAUS: _compose_bauhaus,
    Style.ORBS: _compose_orbs,
    Style.WAVES: _compose_waves,
}


def compose(style: Style, rng: random.Random) -> tuple[Shape, ...]:
    return tuple(COMPOSERS[style](rng))


def jitter(shapes: Sequence[Shape], rng: random.Random, amount: float) -> tuple[Shape, ...]:
    """The same composition moved about by `amount` (0 = identical): the heart of a variation."""
    accents = (2, 3, 4)
    moved = []
    for shape in shapes:
        colour = shape.colour
        if colour in accents and rng.random() < amount * 0.6:
            colour = rng.choice(accents)
        moved.append(
            replace(
                shape,
                x=shape.x + rng.gauss(0, amount * 0.12),
                y=shape.y
                + rng.gauss(0, amount * (0.03 if shape.kind in (ShapeKind.HILL, ShapeKind.BAND) else 0.12)),
                size=shape.size * math.exp(rng.gauss(0, amount * 0.4)),
                colour=colour,
                angle=shape.angle
                + rng.gauss(0, amount * (1.5 if shape.kind in (ShapeKind.HILL, ShapeKind.BAND) else 40)),
                aux=shape.aux * math.exp(rng.gauss(0, amount * 0.2)),
            )
        )
    return tuple(moved)


def theme_scene(theme: Theme, rng: random.Random) -> Scene:
    return Scene(palette=tile_palette(theme, rng), shapes=compose(theme.style, rng))


def variation_scene(source: Scene, rng: random.Random, amount: float) -> Scene:
    return Scene(
        palette=nudge_palette(source.palette, rng, amount),
        shapes=jitter(source.shapes, rng, amount),
        inset=source.inset,
    )


def zoom_scene(source: Scene, style: Style, rng: random.Random, factor: float) -> Scene:
    """A new surrounding in the source's colours with the source shown 1/factor as large in the middle."""
    margin = (1 - 1 / factor) / 2
    return Scene(
        palette=nudge_palette(source.palette, rng, 0.2),
        shapes=compose(style, rng),
        inset=Inset(source, (margin, margin, 1 - margin, 1 - margin)),
    )


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


def pan_scene(source: Scene, style: Style, rng: random.Random, box: Box) -> Scene:
    return Scene(
        palette=nudge_palette(source.palette, rng, 0.1), shapes=compose(style, rng), inset=Inset(source, box)
    )


# ----------------------------------------------------------------------------------------------------
# Painting (runs in worker threads; pure functions of the recipes).


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _vignette(image: Image.Image, strength: float = 0.35) -> None:
    mask = Image.radial_gradient("L").resize(image.size, Image.Resampling.BILINEAR)
    mask = mask.point(lambda value: int(value * strength))
    image.paste((0, 0, 0), (0, 0, *image.size), mask)


def _wave_points(
    shape: Shape, width: int, height: int, offset: float, phase_shift: float
) -> list[tuple[float, float]]:
    steps = 48
    amplitude = shape.size * height
    points = []
    for step in range(steps + 1):
        x = width * step / steps
        t = step / steps * 2 * math.pi * shape.aux + shape.angle + phase_shift
        wobble = math.sin(t) + 0.35 * math.sin(2.3 * t + 1.7)
        points.append((x, (shape.y + offset) * height + amplitude * wobble))
    return points


def _rotated(
    cx: float, cy: float, points: Sequence[tuple[float, float]], degrees: float
) -> list[tuple[float, float]]:
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in points]


def _shape_mask(shape: Shape, size: tuple[int, int]) -> Image.Image:
    """The shape's coverage at `size`, drawn supersampled for clean edges, then blurred as asked."""
    width, height = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy, radius = shape.x * width, shape.y * height, shape.size * min(width, height)
    opacity = round(255 * min(1.0, max(0.0, shape.alpha)))
    ellipse = (cx - radius, cy - radius, cx + radius, cy + radius)
    match shape.kind:
        case ShapeKind.DISC:
            draw.ellipse(ellipse, fill=opacity)
        case ShapeKind.GLOW:
            side = max(2, round(2 * radius))
            glow = Image.radial_gradient("L").resize((side, side), Image.Resampling.BILINEAR)
            glow = glow.point(
                [round(opacity * max(0.0, 1 - value / RADIAL_EDGE) ** 1.6) for value in range(256)]
            )
            mask.paste(glow, (round(cx - radius), round(cy - radius)))
        case ShapeKind.RING:
            draw.ellipse(ellipse, outline=opacity, width=max(1, round(radius * shape.aux)))
        case ShapeKind.RECT:
            half_w, half_h = radius, radius * shape.aux
            rectangle = ((-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h))
            draw.polygon(_rotated(cx, cy, rectangle, shape.angle), fill=opacity)
        case ShapeKind.TRIANGLE:
            corners = [
                (radius * math.cos(a), radius * math.sin(a))
                for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)
            ]
            draw.polygon(_rotated(cx, cy, corners, shape.angle), fill=opacity)
        case ShapeKind.HALF:
            draw.pieslice(ellipse, shape.angle, shape.angle + 180, fill=opacity)
        case ShapeKind.HILL:
            points = _wave_points(shape, width, height, 0.0, 0.0)
            draw.polygon([*points, (width, height), (0, height)], fill=opacity)
        case ShapeKind.BAND:
            top = _wave_points(shape, width, height, 0.0, 0.0)
            bottom = _wave_points(shape, width, height, shape.size, 0.6)
            draw.polygon([*top, *reversed(bottom)], fill=opacity)
    mask = mask.reduce(SUPERSAMPLE)
    if shape.blur > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(shape.blur * min(size)))
    return mask


def paint_scene(scene: Scene, size: tuple[int, int], depth: int = 0) -> Image.Image:
    """Draw a tile's composition (no labels) at `size`."""
    palette = scene.palette
    image = _gradient(size, palette[0], palette[1])
    for shape in scene.shapes:
        image.paste(palette[shape.colour % len(palette)], (0, 0, *size), _shape_mask(shape, size))
    _vignette(image)
    if scene.inset is not None:
        _paint_inset(image, scene.inset, depth)
    return image


def _paint_inset(image: Image.Image, inset: Inset, depth: int) -> None:
    left, top, right, bottom = (
        round(inset.box[0] * image.width),
        round(inset.box[1] * image.height),
        round(inset.box[2] * image.width),
        round(inset.box[3] * image.height),
    )
    size = (right - left, bottom - top)
    if depth >= INSET_MAX_DEPTH or min(size) < INSET_MIN_SIDE:
        return
    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).rectangle((left, top, right, bottom), fill=150)
    image.paste(
        (0, 0, 0), (0, 0, *image.size), shadow.filter(ImageFilter.GaussianBlur(min(image.size) * 0.03))
    )
    image.paste(paint_scene(inset.scene, size, depth + 1), (left, top))


def _text_layer(image: Image.Image) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def draw_watermark(image: Image.Image) -> Image.Image:
    """The diagonal "SIMULATED" mark every simulated picture carries."""
    side = min(image.size)
    font = _font(side // 7)
    left, top, right, bottom = font.getbbox(WATERMARK)
    stroke = max(1, side // 160)
    text = Image.new("RGBA", (int(right - left) + 4 * stroke, int(bottom - top) + 4 * stroke), (0, 0, 0, 0))
    ImageDraw.Draw(text).text(
        (2 * stroke - left, 2 * stroke - top),
        WATERMARK,
        font=font,
        fill=(255, 255, 255, 64),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 40),
    )
    text = text.rotate(
        math.degrees(math.atan2(image.height, image.width)), Image.Resampling.BICUBIC, expand=True
    )
    canvas = image.convert("RGBA")
    canvas.alpha_composite(text, ((image.width - text.width) // 2, (image.height - text.height) // 2))
    return canvas.convert("RGB")


def printable_caption(text: str) -> str:
    """The caption as the built-in font can draw it (Latin letters only), or "" when too little survives."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    kept = "".join(c if c.isascii() and c.isprintable() else " " for c in stripped)
    kept = " ".join(kept.split())
    letters = sum(c.isalnum() for c in text)
    return kept if letters and sum(c.isalnum() for c in kept) * 2 >= letters else ""


def _fit(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip(" ,;") + "…" if text else ""


def draw_labels(image: Image.Image, badge: str, caption: str) -> Image.Image:
    """A badge in the top-left corner and a caption along the bottom, on a soft shade."""
    side = min(image.size)
    canvas = image.convert("RGBA")
    layer, draw = _text_layer(image)
    margin = side * 0.04
    if caption:
        shade_height = max(8, round(side * 0.16))
        shade = Image.linear_gradient("L").resize((image.width, shade_height)).point(lambda v: v * 150 // 255)
        layer.paste((0, 0, 0, 255), (0, image.height - shade_height, image.width, image.height), shade)
        font = _font(round(side * 0.045))
        text = _fit(caption, font, image.width - 2 * margin)
        draw.text((margin, image.height - margin), text, font=font, fill=(255, 255, 255, 225), anchor="ls")
    if badge:
        font = _font(round(side * 0.06))
        left, top, right, bottom = draw.textbbox((0, 0), badge, font=font)
        pad = side * 0.02
        box = (margin, margin, margin + right - left + 2 * pad, margin + bottom - top + 2 * pad)
        draw.rounded_rectangle(box, radius=pad * 1.5, fill=(0, 0, 0, 130))
        draw.text((margin + pad - left, margin + pad - top), badge, font=font, fill=(255, 255, 255, 235))
    canvas.alpha_composite(layer)
    return canvas.convert("RGB")


def paint_tile(scene: Scene, size: tuple[int, int], badge: str, caption: str) -> Image.Image:
    return draw_watermark(draw_labels(paint_scene(scene, size), badge, caption))


def _assemble(tiles: Sequence[Image.Image]) -> Image.Image:
    width, height = tiles[0].size
    grid = Image.new("RGB", (2 * width, 2 * height))
    for index, tile in enumerate(tiles):
        grid.paste(tile, ((index % 2) * width, (index // 2) * height))
    return grid


def paint_artwork(artwork: Artwork) -> Image.Image:
    """The finished picture: a labelled 2×2 grid, or one labelled single image."""
    if not artwork.is_grid:
        return paint_tile(artwork.tiles[0], artwork.size, artwork.badge, artwork.caption)
    return _assemble(
        [
            paint_tile(scene, artwork.size, str(number), artwork.caption)
            for number, scene in enumerate(artwork.tiles, 1)
        ]
    )


def _degrade(tile: Image.Image, size: tuple[int, int], progress: int, seed: int) -> Image.Image:
    """A diffusion-like preview: coarse, blurred, grainy and greyish early, closer to the result later."""
    done = progress / 100
    image = tile.resize(size, Image.Resampling.BICUBIC)
    image = image.filter(ImageFilter.GaussianBlur(min(size) * 0.025 * (1 - done)))
    image = ImageEnhance.Color(image).enhance(0.45 + 0.55 * done)
    rng = random.Random(seed)
    grain_size = (max(1, size[0] // 6), max(1, size[1] // 6))
    grain = Image.frombytes("L", grain_size, rng.randbytes(grain_size[0] * grain_size[1]))
    grain = grain.resize(size, Image.Resampling.BILINEAR).convert("RGB")
    return Image.blend(image, grain, 0.22 * (1 - done))


def paint_preview(artwork: Artwork, progress: int, seed: int) -> Image.Image:
    """The partial render shown at `progress` percent: the grid drawn coarsely and degraded."""
    detail = 0.04 + 0.22 * (progress / 100) ** 1.5
    coarse = (max(4, round(artwork.size[0] * detail)), max(4, round(artwork.size[1] * detail)))
    tiles = [
        draw_watermark(
            _degrade(paint_scene(scene, coarse), artwork.size, progress, stable_seed(seed, progress, index))
        )
        for index, scene in enumerate(artwork.tiles)
    ]
    return tiles[0] if len(tiles) == 1 else _assemble(tiles)


def paint_upload(data: bytes) -> Image.Image:
    """The stored copy of an uploaded picture, marked like every other simulated image."""
    image = open_image(data).convert("RGB")
    side = min(image.size)
    canvas = image.convert("RGBA")
    layer, draw = _text_layer(image)
    font = _font(round(side * 0.05))
    left, top, right, bottom = draw.textbbox((0, 0), WATERMARK, font=font)
    pad, margin = side * 0.015, side * 0.03
    box = (
        image.width - margin - (right - left) - 2 * pad,
        margin,
        image.width - margin,
        margin + bottom - top + 2 * pad,
    )
    draw.rounded_rectangle(box, radius=pad * 1.5, fill=(0, 0, 0, 140))
    draw.text((box[0] + pad - left, box[1] + pad - top), WATERMARK, font=font, fill=(255, 255, 255, 230))
    canvas.alpha_composite(layer)
    return canvas.convert("RGB")


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


# ----------------------------------------------------------------------------------------------------
# Reading uploaded pictures.


def decode_upload(data: bytes) -> tuple[Image.Image, tuple[int, int]]:
    """An uploaded picture as RGB (JPEGs decoded at reduced scale) and its original size."""
    try:
        image = open_image(data)
        size = image.size
        image.draft("RGB", (UPLOAD_MAX_SIDE, UPLOAD_MAX_SIDE))
        return image.convert("RGB"), size
    except (NotAnImage, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BackendRefused(f"not a readable image: {exc}") from exc


def image_traits(image: Image.Image, size: tuple[int, int]) -> ImageTraits:
    """Size, dominant colours (most frequent first) and brightness of a decoded picture."""
    small = image.copy()
    small.thumbnail((96, 96))
    # Octree keeps small vivid areas (a sun, a flower) that median cut merges into the big ones.
    quantized = small.quantize(colors=TRAIT_COLOURS, method=Image.Quantize.FASTOCTREE)
    palette = quantized.getpalette() or []
    counts = sorted(
        ((count, index) for count, index in quantized.getcolors() or [] if isinstance(index, int)),
        reverse=True,
    )
    total = max(1, sum(count for count, _ in counts))
    colours = [(count, tuple(palette[3 * i : 3 * i + 3])) for count, i in counts]
    brightness = sum(_luminance((r, g, b)) * count for count, (r, g, b) in colours) / total
    # Specks (edges, noise) would otherwise name colours nobody sees.
    visible = [(r, g, b) for count, (r, g, b) in colours if count >= total * MIN_COLOUR_SHARE] or [(0, 0, 0)]
    return ImageTraits(*size, tuple(visible), brightness)


def read_traits(data: bytes) -> ImageTraits:
    return image_traits(*decode_upload(data))


def read_upload(data: bytes) -> tuple[ImageTraits, bytes]:
    """What describe needs from an upload: its traits and a small JPEG copy to show with the result."""
    image, size = decode_upload(data)
    traits = image_traits(image, size)
    image.thumbnail((UPLOAD_MAX_SIDE, UPLOAD_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=UPLOAD_JPEG_QUALITY)
    return traits, out.getvalue()


# ----------------------------------------------------------------------------------------------------
# Describe and shorten texts.

GREY_NAMES = ((0.12, "black"), (0.3, "charcoal"), (0.6, "grey"), (0.85, "silver"), (1.01, "white"))
HUE_NAMES = (
    (0.04, "red"), (0.1, "orange"), (0.14, "amber"), (0.19, "yellow"), (0.25, "lime"), (0.42, "green"),
    (0.5, "teal"), (0.55, "cyan"), (0.6, "azure"), (0.69, "blue"), (0.75, "indigo"), (0.8, "violet"),
    (0.87, "purple"), (0.92, "magenta"), (0.97, "pink"), (1.01, "red"),
)  # fmt: skip
FILLER_COLOURS = ("ivory", "charcoal", "silver")
COMMON_RATIOS = ((1, 1), (5, 4), (4, 5), (4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (9, 16), (2, 1), (1, 2))
DESCRIBE_TEMPLATES = (
    "a {mood} landscape bathed in {c1} light, {c2} accents, {style}",
    "abstract {shapes} in {c1}, {c2} and {c3}, {style}, {mood} atmosphere",
    "a {mood} still life with {c1} tones and {c2} highlights, {light}, {style}",
    "{c1} and {c2} color field painting, {light}, {style}",
    "a dreamlike {c1} cityscape at dusk, {c2} reflections, {light}",
    "macro photograph of {c1} petals, {c2} background, {light}, {mood} mood",
)
DESCRIBE_STYLES = (
    "minimalist poster", "soft gradient art", "risograph print", "matte painting", "digital illustration",
    "mid-century modern", "watercolor wash", "cinematic still",
)  # fmt: skip
DESCRIBE_SHAPES = ("circles", "overlapping discs", "flowing ribbons", "geometric forms", "soft orbs")
DESCRIBE_LIGHT = (
    "soft diffuse light",
    "golden hour glow",
    "studio lighting",
    "hazy backlight",
    "moody shadows",
)
DARK_MOODS = ("moody", "nocturnal", "mysterious", "quiet")
BRIGHT_MOODS = ("serene", "airy", "joyful", "luminous")

STOP_WORDS = frozenset(
    (
        "a", "an", "the", "of", "in", "on", "at", "to", "for", "with", "and", "or", "by", "from", "into",
        "onto", "over", "under", "as", "is", "are", "be", "this", "that", "its", "it", "very", "some", "few",
        "many", "much", "more", "most", "style",
    )
)  # fmt: skip
ADJECTIVE_SUFFIXES = (
    "ful",
    "ous",
    "ive",
    "ic",
    "ical",
    "less",
    "ish",
    "able",
    "ible",
    "esque",
    "like",
    "ly",
    "ary",
)


def colour_name(colour: RGB) -> str:
    hue, lightness, saturation = _to_hls(colour)
    if saturation < 0.15 or lightness < 0.06 or lightness > 0.95:
        return next(name for limit, name in GREY_NAMES if lightness < limit)
    name = next(name for limit, name in HUE_NAMES if hue < limit)
    if lightness < 0.3:
        return f"deep {name}"
    if lightness > 0.75:
        return f"pale {name}"
    return f"muted {name}" if saturation < 0.35 else name


def nearest_ratio(width: int, height: int) -> str:
    ratio = width / height
    best = min(COMMON_RATIOS, key=lambda pair: abs(math.log(ratio * pair[1] / pair[0])))
    return f"{best[0]}:{best[1]}"


def numbered(prompts: Sequence[str]) -> str:
    """Prompts in the proxy's layout: keycap emoji, blank line between."""
    return "\n\n".join(f"{KEYCAPS[index]} {prompt}" for index, prompt in enumerate(prompts))


def describe_prompts(traits: ImageTraits, seed: int) -> tuple[str, ...]:
    """Four prompts a picture with these colours and proportions might have come from."""
    rng = random.Random(seed)
    names = list(dict.fromkeys(colour_name(colour) for colour in traits.colours))[:DESCRIBE_COLOURS]
    names += [name for name in FILLER_COLOURS if name not in names][: max(0, 3 - len(names))]
    moods = DARK_MOODS if traits.brightness < 0.4 else BRIGHT_MOODS
    ratio = nearest_ratio(traits.width, traits.height)
    prompts = []
    for template in rng.sample(DESCRIBE_TEMPLATES, DESCRIBE_PROMPTS):
        first, second, third = rng.sample(names, 3)
        text = template.format(
            c1=first,
            c2=second,
            c3=third,
            mood=rng.choice(moods),
            style=rng.choice(DESCRIBE_STYLES),
            shapes=rng.choice(DESCRIBE_SHAPES),
            light=rng.choice(DESCRIBE_LIGHT),
        )
        prompts.append(f"{text} --ar {ratio}")
    return tuple(prompts)


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a prompt as shorten sees it."""

    text: str
    phrase: int
    weight: float
    kept: bool
    stop: bool


def is_adjective_like(word: str) -> bool:
    return len(word) > 4 and word.endswith(ADJECTIVE_SUFFIXES)


def prompt_tokens(prompt: str) -> list[Token]:
    """Words with a weight: content words count more the earlier and longer they are; others barely."""
    tokens = []
    rank = 0
    for phrase, part in enumerate(strip_parameters(prompt).split(",")):
        for word in part.split():
            bare = _WORD_EDGE_RE.sub("", word).lower()
            stop = not bare or bare in STOP_WORDS
            kept = not stop and not is_adjective_like(bare)
            if kept:
                weight = (0.6 + 0.4 * min(len(bare), 10) / 10) / (1 + 0.3 * rank)
                rank += 1
            else:
                weight = 0.0 if stop else 0.03 / (1 + 0.3 * rank)
            tokens.append(Token(word, phrase, weight, kept, stop))
    top = max((token.weight for token in tokens), default=0.0) or 1.0
    return [replace(token, weight=token.weight / top) for token in tokens]


def shortened_prompts(tokens: Sequence[Token]) -> tuple[str, ...]:
    """Five ever shorter prompts keeping the heaviest content words, in their original order."""
    content = sorted((t for t in tokens if t.kept), key=lambda t: t.weight, reverse=True)
    if not content:
        whole = " ".join(t.text for t in tokens)
        return (whole,) * SHORTEN_PROMPTS
    prompts = []
    for fraction in SHORTEN_KEEP_FRACTIONS:
        keep = {id(t) for t in content[: max(1, math.ceil(len(content) * fraction))]}
        phrases: dict[int, list[str]] = {}
        for token in tokens:
            if id(token) in keep:
                phrases.setdefault(token.phrase, []).append(token.text.strip(","))
        prompts.append(", ".join(" ".join(words) for words in phrases.values()))
    return tuple(prompts)


def _marked(token: Token, bold: set[int], details: bool) -> str:
    text = token.text.rstrip(",")
    if id(token) in bold:
        text = f"**{text}**"
    elif not token.kept and not token.stop:
        text = f"~~{text}~~"
    if details and not token.stop:
        text += f" ({token.weight:.2f})"
    return text


def shorten_text(prompt: str, details: bool = False) -> tuple[str, tuple[str, ...]]:
    """The proxy's shorten analysis of `prompt` and its five shortened prompts."""
    tokens = prompt_tokens(prompt)
    heaviest = sorted((t for t in tokens if t.kept), key=lambda t: t.weight, reverse=True)
    bold = {id(t) for t in heaviest[:SHORTEN_BOLD_TOKENS]}
    phrases: dict[int, list[str]] = {}
    for token in tokens:
        phrases.setdefault(token.phrase, []).append(_marked(token, bold, details))
    lines = ["## Important tokens", ", ".join(" ".join(words) for words in phrases.values())]
    if details:
        bars = [
            "█" * max(1, round(t.weight * 10))
            + "░" * (10 - max(1, round(t.weight * 10)))
            + f" {t.text.strip(',')}"
            for t in heaviest[:SHORTEN_DETAIL_BARS]
        ]
        lines.append("\n" + "\n".join(bars))
    prompts = shortened_prompts(tokens)
    lines += ["## Shortened prompts", numbered(prompts)]
    return "\n".join(lines), prompts


# ----------------------------------------------------------------------------------------------------
# Buttons.


def action_ref(kind: ActionKind, index: int = 0) -> str:
    return f"sim:{kind.value}:{index}"


def grid_actions() -> tuple[Action, ...]:
    """U1–U4, 🔄, V1–V4, as Midjourney lays them out under a grid."""
    upscales = tuple(
        Action(ActionKind.UPSCALE, action_ref(ActionKind.UPSCALE, i), i, f"U{i}") for i in range(1, 5)
    )
    reroll = Action(ActionKind.REROLL, action_ref(ActionKind.REROLL), 0, "", "🔄")
    variations = tuple(
        Action(ActionKind.VARIATION, action_ref(ActionKind.VARIATION, i), i, f"V{i}") for i in range(1, 5)
    )
    return (*upscales, reroll, *variations)


# Midjourney's buttons under an upscale, minus those that need a mask or a typed prompt.
UPSCALE_BUTTONS: tuple[tuple[ActionKind, str, str], ...] = (
    (ActionKind.VARY_SUBTLE, "Vary (Subtle)", "🪄"),
    (ActionKind.VARY_STRONG, "Vary (Strong)", "🪄"),
    (ActionKind.UPSCALE_SUBTLE, "Upscale (Subtle)", ""),
    (ActionKind.UPSCALE_CREATIVE, "Upscale (Creative)", ""),
    (ActionKind.ZOOM_OUT_2X, "Zoom Out 2x", "🔍"),
    (ActionKind.ZOOM_OUT_1_5X, "Zoom Out 1.5x", "🔍"),
    (ActionKind.PAN_LEFT, "", "⬅️"),
    (ActionKind.PAN_RIGHT, "", "➡️"),
    (ActionKind.PAN_UP, "", "⬆️"),
    (ActionKind.PAN_DOWN, "", "⬇️"),
)


def upscale_actions() -> tuple[Action, ...]:
    return tuple(Action(kind, action_ref(kind, 1), 1, label, emoji) for kind, label, emoji in UPSCALE_BUTTONS)


def pick_actions(count: int) -> tuple[Action, ...]:
    return tuple(
        Action(ActionKind.PROMPT_PICK, action_ref(ActionKind.PROMPT_PICK, i), i, "", KEYCAPS[i - 1])
        for i in range(1, count + 1)
    )


def describe_actions() -> tuple[Action, ...]:
    return (
        *pick_actions(DESCRIBE_PROMPTS),
        Action(ActionKind.DESCRIBE_AGAIN, action_ref(ActionKind.DESCRIBE_AGAIN), 0, "", "🔄"),
        Action(ActionKind.IMAGINE_ALL, action_ref(ActionKind.IMAGINE_ALL), 0, "Imagine all", "🎉"),
    )


def shorten_actions(details: bool) -> tuple[Action, ...]:
    show = (
        ()
        if details
        else (Action(ActionKind.SHOW_DETAILS, action_ref(ActionKind.SHOW_DETAILS), 0, "Show Details"),)
    )
    return (*pick_actions(SHORTEN_PROMPTS), *show)


# ----------------------------------------------------------------------------------------------------
# The backend.


def _caption(prompt: str) -> str:
    return printable_caption(strip_parameters(prompt))[:CAPTION_MAX_CHARS]


def image_url(task_id: str, name: str) -> str:
    return f"{URL_SCHEME}{task_id}/{name}.png"


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
            commands=frozenset(Command), push=True, max_prompt_length=max_prompt_length, simulated=True
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

    def _start_reroll(self, parent: _Task) -> Submission:
        _, theme = self._picture(parent)
        task = self._new_task(JobKind.REROLL, parent.prompt, theme)
        rng = random.Random(task.seed)
        return self._launch_grid(task, [theme_scene(theme, rng) for _ in range(GRID_TILES)])

    def _start_variation(self, parent: _Task, kind: ActionKind, index: int) -> Submission:
        artwork, theme = self._picture(parent)
        source = artwork.tiles[index - 1 if artwork.is_grid else 0]
        task = self._new_task(JobKind.VARIATION, parent.prompt, theme)
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

    def _start_pan(self, parent: _Task, direction: tuple[int, int]) -> Submission:
        artwork, theme = self._picture(parent)
        ratio = pan_ratio(theme.ratio, direction)
        box = pan_box(theme.ratio, ratio, direction)
        task = self._new_task(JobKind.PAN, parent.prompt, replace(theme, ratio=ratio))
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
            result_url = None
            if task.image_name is not None:
                task.published.add(task.image_name)
                await self._render(task, task.image_name)
                result_url = image_url(task.id, task.image_name)
            done = TaskUpdate(
                task.id,
                JobStatus.SUCCEEDED,
                progress=100,
                image_url=result_url,
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
