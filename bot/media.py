"""Media bytes: capped decoding, photos Telegram accepts, input pictures for backends, videos by signature."""

from __future__ import annotations

import asyncio
import io
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, ParamSpec, TypeVar

from PIL import Image

# Pillow reads dozens of formats, some through outside programs (EPS runs Ghostscript): only these are
# ever opened, whatever the bytes claim to be (the JPEG reader also opens cameras' MPO files).
IMAGE_FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF")
# A 64-megapixel picture takes ~360 MB while it is decoded. Users' pictures take turns on their own slot,
# so that a flood of them never delays a job's result, which is decoded on the others.
MAX_CONCURRENT_DECODES: Final = 2
USER_PICTURE_DECODES: Final = 1
# What Pillow raises for bytes it cannot decode: truncated data, broken chunks, headers over its bomb limit.
DECODE_ERRORS: Final = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
)

TELEGRAM_PHOTO_MAX_BYTES = 10 * 1024 * 1024
TELEGRAM_PHOTO_MAX_SIDES_SUM = 10_000
TELEGRAM_PHOTO_MAX_RATIO = 20
MAX_DECODE_PIXELS = 64_000_000
HEADER_ONLY_MAX_PIXELS = 2**62  # when only the header is read, any size is harmless
JPEG_QUALITY = 90
TELEGRAM_UPLOAD_MAX_BYTES = 50 * 1024 * 1024  # what a bot may upload through the public Bot API
MP4_BRAND_BOX = b"ftyp"  # every MP4 (ISO base media) file opens with an ftyp box: size, "ftyp", brand
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")


class NotAnImage(ValueError):
    """Bytes that Pillow cannot read as an image, or one too large to decode safely."""


P = ParamSpec("P")
T = TypeVar("T")


class ImageDecoder:
    """Runs decoding off the event loop, in worker threads, and at most `slots` at a time (bounded memory)."""

    def __init__(self, slots: int = MAX_CONCURRENT_DECODES) -> None:
        self._slots = asyncio.Semaphore(slots)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._slots:
            return await asyncio.to_thread(work, *args, **kwargs)


@dataclass(frozen=True, slots=True)
class Picture:
    """Encoded image bytes with what Telegram needs to know about them."""

    data: bytes
    filename: str
    width: int
    height: int


class NotAVideo(ValueError):
    """Bytes that are neither an MP4 video nor a GIF animation."""


class VideoFormat(StrEnum):
    """How Telegram shows a moving picture: MP4 as a video, GIF as an animation."""

    VIDEO = "video"
    ANIMATION = "animation"

    @property
    def extension(self) -> str:
        return "mp4" if self is VideoFormat.VIDEO else "gif"


def video_format(data: bytes) -> VideoFormat:
    """Tell an MP4 from a GIF by its first bytes (file names and content types are not to be trusted)."""
    if data[4:8] == MP4_BRAND_BOX:
        return VideoFormat.VIDEO
    if data.startswith(GIF_SIGNATURES):
        return VideoFormat.ANIMATION
    raise NotAVideo("neither an MP4 video nor a GIF")


def open_image(
    data: bytes, *, formats: Sequence[str] = IMAGE_FORMATS, max_pixels: int = MAX_DECODE_PIXELS
) -> Image.Image:
    """Read an image's header (one of `formats`), refusing it when it has more than `max_pixels`.

    The pixels are not decoded yet; `decode_image` does that, or `load()` under `DECODE_ERRORS`.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=list(formats))
    except DECODE_ERRORS as exc:
        raise NotAnImage("not a readable image") from exc
    if image.width * image.height > max_pixels:
        raise NotAnImage(f"image too large to decode: {image.width}x{image.height}")
    return image


def decode_image(
    data: bytes,
    *,
    formats: Sequence[str] = IMAGE_FORMATS,
    max_pixels: int = MAX_DECODE_PIXELS,
    draft_side: int | None = None,
) -> Image.Image:
    """Decode image bytes (header checked first); NotAnImage for anything Pillow cannot decode.

    `draft_side` lets a JPEG decode at a reduced scale when only a picture that small is needed.
    """
    image = open_image(data, formats=formats, max_pixels=max_pixels)
    try:
        if draft_side is not None and image.format in ("JPEG", "MPO"):
            image.draft("RGB", (draft_side, draft_side))
        image.load()
    except DECODE_ERRORS as exc:
        raise NotAnImage("image could not be decoded") from exc
    return image


def as_telegram_photo(data: bytes, stem: str) -> Picture:
    """Re-encode any image as a JPEG within Telegram's photo limits (size, sides, ratio)."""
    image = decode_image(data)
    try:
        return _telegram_jpeg(image, stem)
    except DECODE_ERRORS as exc:  # a GIF's later frames or a lazy plugin may still fail here
        raise NotAnImage("image could not be converted") from exc


def _telegram_jpeg(image: Image.Image, stem: str) -> Picture:
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    if image.width + image.height > TELEGRAM_PHOTO_MAX_SIDES_SUM:
        scale = TELEGRAM_PHOTO_MAX_SIDES_SUM / (image.width + image.height) * 0.98
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    quality = JPEG_QUALITY
    while True:
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= TELEGRAM_PHOTO_MAX_BYTES or quality <= 40:
            return Picture(out.getvalue(), f"{stem}.jpg", image.width, image.height)
        quality -= 15


def image_extension(data: bytes) -> str:
    """File extension matching the bytes' real format (for documents)."""
    try:
        fmt = (open_image(data, max_pixels=HEADER_ONLY_MAX_PIXELS).format or "png").lower()
    except NotAnImage:
        return "bin"
    return {"jpeg": "jpg", "mpo": "jpg"}.get(fmt, fmt)


INPUT_IMAGE_MAX_SIDE = 1536
INPUT_IMAGE_MAX_BYTES = 20 * 1024 * 1024  # the Bot API's own download limit for bots


def prepare_input_image(data: bytes) -> tuple[bytes, str]:
    """A user's picture made ready for a backend: decoded safely, downscaled, re-encoded without metadata.

    Decoding takes CPU and memory: run it through an `ImageDecoder`, never on the event loop.
    """
    image = decode_image(data, draft_side=INPUT_IMAGE_MAX_SIDE)
    try:
        return _input_encoding(image)
    except DECODE_ERRORS as exc:
        raise NotAnImage("image could not be converted") from exc


def _input_encoding(image: Image.Image) -> tuple[bytes, str]:
    image.thumbnail((INPUT_IMAGE_MAX_SIDE, INPUT_IMAGE_MAX_SIDE))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"
