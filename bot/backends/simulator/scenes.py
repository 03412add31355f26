"""Compositions: the shapes of each style, and the scenes of grids, variations, zooms and pans."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace

from bot.backends.simulator.recipes import Box, Inset, Scene, Shape, ShapeKind, Style, Theme
from bot.backends.simulator.themes import nudge_palette, tile_palette


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


def pan_scene(source: Scene, style: Style, rng: random.Random, box: Box) -> Scene:
    return Scene(
        palette=nudge_palette(source.palette, rng, 0.1), shapes=compose(style, rng), inset=Inset(source, box)
    )
