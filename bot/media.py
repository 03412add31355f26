"""Media bytes: capped decoding, photos Telegram accepts, input pictures for backends, videos by signature."""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, UnidentifiedImageError

TELEGRAM_PHOTO_MAX_BYTES = 10 * 1024 * 1024
TELEGRAM_PHOTO_MAX_SIDES_SUM = 10_000
TELEGRAM_PHOTO_MAX_RATIO = 20
MAX_DECODE_PIXELS = 64_000_000
JPEG_QUALITY = 90
TELEGRAM_UPLOAD_MAX_BYTES = 50 * 1024 * 1024  # what a bot may upload through the public Bot API
MP4_BRAND_BOX = b"ftyp"  # every MP4 (ISO base media) file opens with an ftyp box: size, "ftyp", brand
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")


class NotAnImage(ValueError):
    """Bytes that Pillow cannot read as an image, or one too large to decode safely."""


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


def open_image(data: bytes) -> Image.Image:
    """Decode image bytes with a pixel cap checked before the pixels are read."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise NotAnImage("not a readable image") from exc
    if image.width * image.height > MAX_DECODE_PIXELS:
        raise NotAnImage(f"image too large to decode: {image.width}x{image.height}")
    return image


def as_telegram_photo(data: bytes, stem: str) -> Picture:
    """Re-encode any image as a JPEG within Telegram's photo limits (size, sides, ratio)."""
    image = open_image(data)
    image.load()
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
        fmt = (Image.open(io.BytesIO(data)).format or "png").lower()
    except (UnidentifiedImageError, OSError):
        return "bin"
    return {"jpeg": "jpg"}.get(fmt, fmt)


INPUT_IMAGE_MAX_SIDE = 1536
INPUT_IMAGE_MAX_BYTES = 20 * 1024 * 1024  # the Bot API's own download limit for bots


def prepare_input_image(data: bytes) -> tuple[bytes, str]:
    """A user's picture made ready for a backend: decoded safely, downscaled, re-encoded without metadata."""
    image = open_image(data)
    try:
        image.load()
    except (OSError, Image.DecompressionBombError) as exc:
        raise NotAnImage("image could not be decoded") from exc
    image.thumbnail((INPUT_IMAGE_MAX_SIDE, INPUT_IMAGE_MAX_SIDE))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"
