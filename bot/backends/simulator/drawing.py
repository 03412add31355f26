"""Pillow painting of recipes: tiles, grids, previews, labels and watermarks (run in worker threads)."""

from __future__ import annotations

import io
import math
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from bot.backends.simulator.colour import RGB
from bot.backends.simulator.recipes import Artwork, Inset, Scene, Shape, ShapeKind, stable_seed
from bot.media import open_image

PNG_COMPRESS_LEVEL = 4
SUPERSAMPLE = 2
RADIAL_EDGE = 181  # Image.radial_gradient's value where its circle touches the square's edge
INSET_MAX_DEPTH = 4
INSET_MIN_SIDE = 8
WATERMARK = "SIMULATED"
ANIMATION_FRAMES = 12
ANIMATION_FRAME_MS = 100
ANIMATION_MAX_SIDE = 360
WAVE_SWING = 12.0  # radians of wave phase per unit of motion


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


def _moved(shape: Shape, turn: float, motion: float, phase: float) -> Shape:
    """The shape at `turn` radians into a loop: drifting on a small ellipse, waves rolling."""
    swing = math.sin(turn + phase)
    if shape.kind in (ShapeKind.HILL, ShapeKind.BAND):
        return replace(shape, angle=shape.angle + WAVE_SWING * motion * swing)
    return replace(
        shape,
        x=shape.x + motion * swing,
        y=shape.y + motion * 0.6 * math.cos(turn + phase),
        angle=shape.angle + 360 * motion * swing,
    )


def paint_animation(artwork: Artwork, motion: float, seed: int) -> bytes:
    """A short looping GIF of the single image: its shapes drift by `motion` (a share of the canvas)."""
    scene = artwork.tiles[0]
    scale = min(1.0, ANIMATION_MAX_SIDE / max(artwork.size))
    size = (max(16, round(artwork.size[0] * scale)), max(16, round(artwork.size[1] * scale)))
    rng = random.Random(seed)
    phases = [rng.uniform(0, 2 * math.pi) for _ in scene.shapes]
    frames = []
    for frame in range(ANIMATION_FRAMES):
        turn = 2 * math.pi * frame / ANIMATION_FRAMES
        shapes = tuple(_moved(s, turn, motion, p) for s, p in zip(scene.shapes, phases, strict=True))
        picture = paint_scene(replace(scene, shapes=shapes), size)
        frames.append(draw_watermark(draw_labels(picture, artwork.badge, artwork.caption)))
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=ANIMATION_FRAME_MS, loop=0)
    return out.getvalue()


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()
