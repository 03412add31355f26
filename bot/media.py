"""Media bytes at the edges: capped downloads, photos Telegram accepts, videos told apart by signature."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import socket
from dataclasses import dataclass
from enum import StrEnum

import httpx
from PIL import Image, UnidentifiedImageError

from bot.domain import BackendUnavailable, ImageTooLarge

MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024
TELEGRAM_PHOTO_MAX_BYTES = 10 * 1024 * 1024
TELEGRAM_PHOTO_MAX_SIDES_SUM = 10_000
TELEGRAM_PHOTO_MAX_RATIO = 20
MAX_DECODE_PIXELS = 64_000_000
JPEG_QUALITY = 90
DOWNLOAD_TIMEOUT = 60.0
ALLOWED_SCHEMES = frozenset({"http", "https"})
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


class UnsafeUrl(BackendUnavailable):
    """A URL the bot will not fetch: not http(s), or pointing into a private or loopback network."""


async def check_public_url(url: str) -> None:
    """Refuse non-http(s) URLs and hosts resolving to loopback, private, link-local or reserved addresses."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl("malformed image URL") from exc
    if parsed.scheme not in ALLOWED_SCHEMES or not parsed.host:
        raise UnsafeUrl(f"refusing to fetch a {parsed.scheme or 'schemeless'} URL")
    for address in await _addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)):
        if not address.is_global:
            raise UnsafeUrl("refusing to fetch from a private or loopback address")


async def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise BackendUnavailable(f"cannot resolve the image host: {exc.strerror or exc}") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def download_limited(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    trusted: bool = False,
) -> bytes:
    """GET `url` into memory, refusing bodies over `max_bytes` before reading them whole.

    `trusted` marks the configured backend's own host, which may well live on a private network;
    any other host must be public, so a backend's answer can't make the bot probe the local network.
    """
    if not trusted:
        await check_public_url(url)
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT), client.stream("GET", url, headers=headers) as response:
            if response.status_code >= 400:
                raise BackendUnavailable(f"image download failed with HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ImageTooLarge(f"image is {declared} bytes, limit {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ImageTooLarge(f"image exceeds {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise BackendUnavailable(f"image download failed: {type(exc).__name__}") from exc
    except TimeoutError as exc:
        raise BackendUnavailable(f"image download took longer than {DOWNLOAD_TIMEOUT:.0f}s") from exc


async def download_from_backend(
    client: httpx.AsyncClient, origin: httpx.URL, url: str, *, max_bytes: int, credentials: dict[str, str]
) -> bytes:
    """Fetch an image a backend named: relative URLs resolve against the backend, its credentials go
    to the backend's own origin only (never to a CDN), and only its own host may be on a private network."""
    try:
        target = origin.join(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl("image URL is not a valid URL") from exc
    same_origin = (target.scheme, target.host, target.port) == (origin.scheme, origin.host, origin.port)
    return await download_limited(
        client,
        str(target),
        max_bytes=max_bytes,
        headers=dict(credentials) if same_origin else None,
        trusted=target.host == origin.host and target.scheme in ALLOWED_SCHEMES,
    )


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
