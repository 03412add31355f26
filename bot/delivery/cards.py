"""Textless placeholder pictures for a job's message before (or instead of) a result image."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont

CardState = Literal["queued", "failed", "text"]
RGB = tuple[int, int, int]

DEFAULT_CARD_SIZE = 640
MIN_CARD_SIZE, MAX_CARD_SIZE = 64, 2048
SUPERSAMPLE = 4
CARD_CACHE_SIZE = 32
GLYPH_SCALE = 0.36  # the glyph's height as a share of the card
SIMULATED_LABEL = "SIMULATED"
RAMP_CROP = 180  # the largest square inside Image.linear_gradient's 256-pixel square once turned by 45°


@dataclass(frozen=True, slots=True)
class CardColours:
    """A card's mood: a dark two-stop gradient and the glyph's light tint."""

    top: RGB
    bottom: RGB
    glyph: RGB


CARD_COLOURS: dict[CardState, CardColours] = {
    "queued": CardColours(top=(40, 42, 82), bottom=(12, 13, 28), glyph=(196, 202, 255)),
    "failed": CardColours(top=(78, 30, 42), bottom=(20, 10, 16), glyph=(255, 150, 160)),
    "text": CardColours(top=(22, 60, 68), bottom=(8, 18, 24), glyph=(160, 232, 222)),
}


def _background(size: int, colours: CardColours) -> Image.Image:
    """A diagonal gradient, lighter at the top left, with a soft glow where the glyph sits."""
    ramp = Image.linear_gradient("L").rotate(45, Image.Resampling.BILINEAR, expand=True)
    half = RAMP_CROP // 2
    middle = ramp.width // 2
    mask = ramp.crop((middle - half, middle - half, middle + half, middle + half)).resize((size, size))
    card = Image.composite(
        Image.new("RGB", (size, size), colours.bottom), Image.new("RGB", (size, size), colours.top), mask
    )
    glow = Image.new("L", (size, size), 0)
    radius = size * 0.3
    ImageDraw.Draw(glow).ellipse(
        (size / 2 - radius, size / 2 - radius, size / 2 + radius, size / 2 + radius), fill=60
    )
    card.paste(colours.glyph, (0, 0, size, size), glow.filter(ImageFilter.GaussianBlur(size * 0.12)))
    return card


def _glyph_canvas(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw, float]:
    """A supersampled coverage mask to draw a glyph on, with the glyph's unit length."""
    mask = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    return mask, ImageDraw.Draw(mask), size * SUPERSAMPLE * GLYPH_SCALE


def _hourglass(size: int) -> Image.Image:
    """Two glass bulbs between two bars, sand gathering at the bottom."""
    mask, draw, unit = _glyph_canvas(size)
    centre = mask.width / 2
    half_w, half_h, stroke = unit * 0.36, unit * 0.5, max(2, round(unit * 0.055))
    top, bottom = centre - half_h, centre + half_h
    bar = unit * 0.5
    for y in (top, bottom):
        draw.rounded_rectangle((centre - bar, y - stroke, centre + bar, y + stroke), radius=stroke, fill=255)
    neck = unit * 0.05
    outline = [
        (centre - half_w, top + stroke),
        (centre + half_w, top + stroke),
        (centre + neck, centre),
        (centre + half_w, bottom - stroke),
        (centre - half_w, bottom - stroke),
        (centre - neck, centre),
    ]
    draw.line([*outline, outline[0]], fill=255, width=stroke, joint="curve")
    sand_top = top + half_h * 0.45
    sand_w = half_w * (1 - 0.45) * 0.8
    draw.polygon(
        [(centre - sand_w, sand_top), (centre + sand_w, sand_top), (centre, centre - stroke)], fill=190
    )
    pile = half_h * 0.55
    draw.polygon(
        [
            (centre - half_w * 0.72, bottom - stroke * 2),
            (centre + half_w * 0.72, bottom - stroke * 2),
            (centre, bottom - pile),
        ],
        fill=190,
    )
    draw.line([(centre, centre), (centre, bottom - pile)], fill=190, width=max(1, stroke // 2))
    return mask


def _cross(size: int) -> Image.Image:
    """A ring with a cross inside, rounded at the ends."""
    mask, draw, unit = _glyph_canvas(size)
    centre = mask.width / 2
    radius, stroke = unit * 0.5, max(2, round(unit * 0.06))
    draw.ellipse(
        (centre - radius, centre - radius, centre + radius, centre + radius), outline=255, width=stroke
    )
    arm = radius * 0.42
    for start, end in (((-arm, -arm), (arm, arm)), ((-arm, arm), (arm, -arm))):
        points = [(centre + start[0], centre + start[1]), (centre + end[0], centre + end[1])]
        draw.line(points, fill=255, width=stroke)
        for x, y in points:
            draw.ellipse((x - stroke / 2, y - stroke / 2, x + stroke / 2, y + stroke / 2), fill=255)
    return mask


def _text_lines(size: int) -> Image.Image:
    """A page with lines of writing of uneven length."""
    mask, draw, unit = _glyph_canvas(size)
    centre = mask.width / 2
    half_w, half_h, stroke = unit * 0.4, unit * 0.5, max(2, round(unit * 0.05))
    draw.rounded_rectangle(
        (centre - half_w, centre - half_h, centre + half_w, centre + half_h),
        radius=unit * 0.08,
        outline=255,
        width=stroke,
    )
    line_height = stroke * 1.3
    left = centre - half_w + unit * 0.14
    for row, length in enumerate((0.95, 0.8, 0.9, 0.55)):
        y = centre - half_h + unit * 0.2 + row * unit * 0.2
        right = left + (2 * half_w - unit * 0.28) * length
        draw.rounded_rectangle((left, y, right, y + line_height), radius=line_height / 2, fill=210)
    return mask


GLYPHS: dict[CardState, Callable[[int], Image.Image]] = {
    "queued": _hourglass,
    "failed": _cross,
    "text": _text_lines,
}


def _paint_glyph(card: Image.Image, glyph: Image.Image, colour: RGB) -> None:
    coverage = glyph.resize(card.size, Image.Resampling.LANCZOS)
    card.paste(colour, (0, 0, *card.size), coverage)


def _simulated_band(card: Image.Image) -> None:
    """A quiet band along the bottom saying the picture comes from the simulator."""
    size = card.width
    band_height = max(12, round(size * 0.09))
    layer = Image.new("RGBA", card.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rectangle((0, size - band_height, size, size), fill=(0, 0, 0, 110))
    font = ImageFont.load_default(size=max(8, round(band_height * 0.45)))
    text = " ".join(SIMULATED_LABEL)  # spaced out like a label, not a word in a sentence
    draw.text((size / 2, size - band_height / 2), text, font=font, fill=(255, 255, 255, 190), anchor="mm")
    card.paste(layer, (0, 0), layer)


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def placeholder_card(state: CardState, *, simulated: bool = False, size: int = DEFAULT_CARD_SIZE) -> bytes:
    """A square PNG standing for a job that has no picture (yet): queued, failed, or a text result."""
    if state not in CARD_COLOURS:
        raise ValueError(f"unknown card state {state!r}")
    if not MIN_CARD_SIZE <= size <= MAX_CARD_SIZE:
        raise ValueError(f"card size must be between {MIN_CARD_SIZE} and {MAX_CARD_SIZE}, got {size}")
    return _cached_card(state, simulated, size)


# A typed front with a cached body: lru_cache's wrapper would hide the signature from type checkers.
@lru_cache(maxsize=CARD_CACHE_SIZE)
def _cached_card(state: CardState, simulated: bool, size: int) -> bytes:
    colours = CARD_COLOURS[state]
    card = _background(size, colours)
    _paint_glyph(card, GLYPHS[state](size), colours.glyph)
    if simulated:
        _simulated_band(card)
    return _encode(card)
