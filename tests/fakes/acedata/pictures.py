"""The fake's pictures: drawn with Pillow from a task's colours, and what describe sees of a picture URL."""

from __future__ import annotations

import hashlib
import io
from typing import Final
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout
from PIL import Image, ImageDraw, UnidentifiedImageError

from tests.fakes.acedata.tasks import FakeImage

DOWNLOAD_TIMEOUT: Final = 5.0
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


def colours(seed: str) -> tuple[tuple[int, int, int], ...]:
    digest = hashlib.sha256(seed.encode()).digest()
    return tuple((digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 12, 3))


def draw(image: FakeImage, size: tuple[int, int]) -> bytes:
    width, height = size
    picture = Image.new("RGB", size, image.colours[0])
    pen = ImageDraw.Draw(picture)
    if image.kind in ("grid", "preview"):
        for q, colour in enumerate(image.colours[:4]):
            x, y = (q % 2) * width // 2, (q // 2) * height // 2
            pen.rectangle((x, y, x + width // 2 - 1, y + height // 2 - 1), fill=colour)
    else:
        pen.ellipse((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=image.colours[1])
    out = io.BytesIO()
    picture.save(out, "WEBP" if image.kind == "preview" else "PNG")
    return out.getvalue()


async def download_size(http: ClientSession | None, url: str) -> tuple[int, int] | None:
    """What describe sees of `url`: the image's size, or None when it cannot fetch an image there."""
    if http is None or not is_loopback(url):
        return None
    try:
        async with http.get(url, timeout=ClientTimeout(total=DOWNLOAD_TIMEOUT)) as response:
            if response.status != 200:
                return None
            data = await response.content.read(MAX_DOWNLOAD_BYTES)
    except (ClientError, TimeoutError):
        return None
    try:
        with Image.open(io.BytesIO(data)) as picture:
            return picture.size
    except (UnidentifiedImageError, OSError):
        return None
