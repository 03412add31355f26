"""Themes and palettes: the colours, style and ratio a prompt or a blend's images decide."""

from __future__ import annotations

import random
from collections.abc import Sequence

from bot.backends.simulator.canvas import aspect_ratio
from bot.backends.simulator.colour import RGB, hls, luminance, shift_hue, to_hls
from bot.backends.simulator.recipes import ImageTraits, Style, Theme
from bot.backends.simulator.text import prompt_words

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


def prompt_theme(prompt: str, seed: int) -> Theme:
    """Colours, style and ratio for a prompt: colour and subject words steer them, the seed does the rest."""
    rng = random.Random(seed)
    words = prompt_words(prompt)
    hues = [HUE_WORDS[word] for word in words if word in HUE_WORDS]
    base = hues[0] if hues else rng.random()
    styles = [STYLE_WORDS[word] for word in words if word in STYLE_WORDS]
    style = styles[0] if styles else rng.choice(list(Style))
    scheme = rng.choice(HUE_SCHEMES)
    colours = (
        hls(base + 0.04, rng.uniform(0.12, 0.2), rng.uniform(0.35, 0.55)),
        hls(base - 0.03, rng.uniform(0.32, 0.45), rng.uniform(0.45, 0.65)),
        hls(base + scheme[0], rng.uniform(0.5, 0.62), rng.uniform(0.6, 0.85)),
        hls(base + scheme[1], rng.uniform(0.45, 0.6), rng.uniform(0.5, 0.8)),
        hls(base + scheme[2], rng.uniform(0.58, 0.7), rng.uniform(0.55, 0.8)),
        hls(base + 0.1, rng.uniform(0.82, 0.9), rng.uniform(0.6, 0.9)),
    )
    return Theme(colours=colours, style=style, ratio=aspect_ratio(prompt))


def blend_theme(traits: Sequence[ImageTraits], ratio: float, seed: int) -> Theme:
    """A theme mixing the dominant colours of the blended pictures, livened up a little."""
    rng = random.Random(seed)
    found = [colour for trait in traits for colour in trait.colours[:3]]
    by_light = sorted(found, key=luminance)
    by_colour = sorted(found, key=lambda colour: to_hls(colour)[2], reverse=True)

    def tuned(colour: RGB, lightness: tuple[float, float], min_saturation: float) -> RGB:
        hue, light, saturation = to_hls(colour)
        return hls(hue, min(max(light, lightness[0]), lightness[1]), max(saturation, min_saturation))

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
    return tuple(shift_hue(colour, shift) for colour in (*sky, *accents, theme.colours[5]))


def nudge_palette(palette: tuple[RGB, ...], rng: random.Random, amount: float) -> tuple[RGB, ...]:
    """A variation's palette: the source's colours, hue-shifted by up to `amount` / 6."""
    shift = rng.uniform(-amount, amount) / 6
    return tuple(shift_hue(colour, shift) for colour in palette)
