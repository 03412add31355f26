"""Reading uploaded pictures: decoding, dominant colours and brightness, a small stored copy."""

from __future__ import annotations

import io

from PIL import Image

from bot.backends.simulator.colour import luminance
from bot.backends.simulator.recipes import ImageTraits
from bot.domain import BackendRefused
from bot.media import NotAnImage, open_image

UPLOAD_MAX_SIDE = 512
UPLOAD_JPEG_QUALITY = 88
TRAIT_COLOURS = 6
MIN_COLOUR_SHARE = 0.03


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
    brightness = sum(luminance((r, g, b)) * count for count, (r, g, b) in colours) / total
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
