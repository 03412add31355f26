"""Picture recipes and their seeds: small and frozen, so a cache miss draws the same pixels again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.backends.simulator.colour import RGB

Box = tuple[float, float, float, float]
GRID_TILES = 4


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


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from the parts, the same in every process (unlike hash())."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
