"""Serves users' pictures to a backend that needs a URL, under unguessable paths that expire.

One process keeps them in memory; replicas behind one PUBLIC_URL keep them in the database, because the
backend's fetch may reach any replica.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.storage.database import Database
from bot.storage.hosted import get_hosted, insert_hosted, prune_hosted

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


class ImageHost(Protocol):
    """`publish` returns the URL a backend fetches; `get` answers that fetch (None: unknown or expired)."""

    async def publish(self, data: bytes, mime_type: str) -> str: ...

    async def get(self, token: str) -> HostedImage | None: ...


def new_token(mime_type: str) -> str:
    return f"{secrets.token_urlsafe(TOKEN_BYTES)}.{_EXTENSIONS.get(mime_type, 'img')}"


def files_base(public_url: str) -> str:
    return public_url.rstrip("/") + FILES_PATH


def image_host_for(public_url: str, db: Database) -> ImageHost:
    """In memory for one process (SQLite); in the shared database when replicas serve the same URL."""
    return SharedImageHost(db, public_url) if db.shared else MemoryImageHost(public_url)


class MemoryImageHost:
    """Keeps a bounded, expiring set of pictures in this process's memory."""

    def __init__(
        self,
        public_url: str,
        *,
        ttl: float = HOSTED_TTL_SECONDS,
        max_bytes: int = HOSTED_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = files_base(public_url)
        self._ttl = ttl
        self._max_bytes = max_bytes
        self._clock = clock
        self._images: OrderedDict[str, HostedImage] = OrderedDict()
        self._size = 0

    async def publish(self, data: bytes, mime_type: str) -> str:
        self._expire()
        while self._images and self._size + len(data) > self._max_bytes:
            self._drop(next(iter(self._images)))
        token = new_token(mime_type)
        self._images[token] = HostedImage(data, mime_type, self._clock() + self._ttl)
        self._size += len(data)
        return f"{self._base}/{token}"

    async def get(self, token: str) -> HostedImage | None:
        self._expire()
        return self._images.get(token)

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, image in self._images.items() if image.expires_at <= now]:
            self._drop(token)

    def _drop(self, token: str) -> None:
        image = self._images.pop(token)
        self._size -= len(image.data)


class SharedImageHost:
    """The same in a table every replica reads: bounded in total size, expired rows pruned on publish."""

    def __init__(
        self,
        db: Database,
        public_url: str,
        *,
        ttl: float = HOSTED_TTL_SECONDS,
        max_bytes: int = HOSTED_MAX_BYTES,
        clock: Callable[[], float] = time.time,  # wall time: every replica reads the same expiry
    ) -> None:
        self._db = db
        self._base = files_base(public_url)
        self._ttl = ttl
        self._max_bytes = max_bytes
        self._clock = clock

    async def publish(self, data: bytes, mime_type: str) -> str:
        token = new_token(mime_type)
        now = self._clock()
        async with self._db.write() as conn:
            await prune_hosted(conn, now=now, room_for=len(data), max_bytes=self._max_bytes)
            await insert_hosted(conn, token, data, mime_type, expires_at=now + self._ttl)
        return f"{self._base}/{token}"

    async def get(self, token: str) -> HostedImage | None:
        async with self._db.read() as conn:
            stored = await get_hosted(conn, token, now=self._clock())
        return HostedImage(stored.data, stored.mime_type, stored.expires_at) if stored else None
