"""Serves users' pictures to a backend that needs a URL, under unguessable paths that expire."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

HOSTED_TTL_SECONDS = 3600.0  # a blend's images are fetched when the job starts, maybe much later
HOSTED_MAX_BYTES = 256 * 1024 * 1024
TOKEN_BYTES = 24
FILES_PATH = "/files"
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@dataclass(frozen=True, slots=True)
class HostedImage:
    data: bytes
    mime_type: str
    expires_at: float


class ImageHost:
    """Keeps a bounded, expiring set of pictures in memory; `publish` returns the URL a backend fetches."""

    def __init__(
        self,
        public_url: str,
        *,
        ttl: float = HOSTED_TTL_SECONDS,
        max_bytes: int = HOSTED_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = public_url.rstrip("/") + FILES_PATH
        self._ttl = ttl
        self._max_bytes = max_bytes
        self._clock = clock
        self._images: OrderedDict[str, HostedImage] = OrderedDict()
        self._size = 0

    async def publish(self, data: bytes, mime_type: str) -> str:
        self._expire()
        while self._images and self._size + len(data) > self._max_bytes:
            self._drop(next(iter(self._images)))
        token = f"{secrets.token_urlsafe(TOKEN_BYTES)}.{_EXTENSIONS.get(mime_type, 'img')}"
        self._images[token] = HostedImage(data, mime_type, self._clock() + self._ttl)
        self._size += len(data)
        return f"{self._base}/{token}"

    def get(self, token: str) -> HostedImage | None:
        self._expire()
        return self._images.get(token)

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, image in self._images.items() if image.expires_at <= now]:
            self._drop(token)

    def _drop(self, token: str) -> None:
        image = self._images.pop(token)
        self._size -= len(image.data)
