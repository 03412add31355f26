"""Telegram albums: each photo of one comes as its own update; the /blend handler wants them all at once.

Telegram sends no "album complete" signal, so a collector waits until no part arrived for a moment. One
process collects in memory; replicas (each part may reach another one) collect in the shared database,
where exactly one replica takes the album, and a replica that died while collecting leaves it to another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiogram.types import Message

from bot.storage.albums import AlbumKey, add_album_part, last_album_part_at, stale_albums, take_album
from bot.storage.database import Database
from bot.storage.updates import settle_current_update

log = logging.getLogger(__name__)

ALBUM_SETTLE_SECONDS = 1.0
# An album whose newest part is older than settle + this has lost its collector (its replica died).
ALBUM_ORPHANED_SECONDS = 4.0
ALBUM_SWEEP_SECONDS = 2.0

FinishAlbum = Callable[[list[Message]], Awaitable[None]]
"""What the handler does with a whole album; run by a sweeper for albums whose collector died."""


class AlbumCollector(Protocol):
    async def collect(self, message: Message) -> list[Message] | None:
        """The whole album (ordered by message id) for one part's handler; None for the others."""
        ...

    async def start(self, finish: FinishAlbum) -> None:
        """Begin finishing albums left behind by a collector that died."""
        ...

    async def stop(self) -> None: ...


def albums_for(db: Database) -> AlbumCollector:
    return SharedAlbums(db) if db.shared else MemoryAlbums()


def _key(message: Message) -> AlbumKey:
    assert message.media_group_id is not None
    return (message.chat.id, message.media_group_id)


class MemoryAlbums:
    """Gathers the parts in this process; the first part's handler gets them all."""

    def __init__(self, settle: float = ALBUM_SETTLE_SECONDS) -> None:
        self._settle = settle
        self._albums: dict[AlbumKey, list[Message]] = {}
        self._touched: dict[AlbumKey, float] = {}

    async def collect(self, message: Message) -> list[Message] | None:
        key = _key(message)
        loop = asyncio.get_running_loop()
        self._touched[key] = loop.time()
        if key in self._albums:
            self._albums[key].append(message)
            return None
        self._albums[key] = [message]
        while True:
            wait = self._touched[key] + self._settle - loop.time()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        parts = self._albums.pop(key)
        self._touched.pop(key, None)
        return sorted(parts, key=lambda m: m.message_id)

    async def start(self, finish: FinishAlbum) -> None:
        """Nothing outlives this process's collectors."""

    async def stop(self) -> None:
        """Nothing to stop."""


class SharedAlbums:
    """Parts in a table; the first part's handler on each replica waits, and whichever sees the album
    settled first takes every part (a delete that returns the rows, so no part goes to two replicas)."""

    def __init__(
        self,
        db: Database,
        *,
        settle: float = ALBUM_SETTLE_SECONDS,
        orphaned: float = ALBUM_ORPHANED_SECONDS,
        sweep_every: float = ALBUM_SWEEP_SECONDS,
        clock: Callable[[], float] = time.time,  # wall time: replicas compare each other's arrivals
    ) -> None:
        self._db = db
        self._settle = settle
        self._orphaned = orphaned
        self._sweep_every = sweep_every
        self._clock = clock
        self._waiting: set[AlbumKey] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def collect(self, message: Message) -> list[Message] | None:
        key = _key(message)
        payload = message.model_dump_json(exclude_none=True, by_alias=True)
        async with self._db.write() as conn:
            await add_album_part(conn, key, message.message_id, payload, now=self._clock())
            # From here the part is the album's: if this replica dies, the album sweeper finishes it, and a
            # replica taking this update over must not add the part a second time.
            await settle_current_update(conn)
        if key in self._waiting:
            return None  # this replica's first part already waits for the album
        self._waiting.add(key)
        try:
            wait = self._settle
            while True:
                await asyncio.sleep(wait)
                async with self._db.read() as conn:
                    last = await last_album_part_at(conn, key)
                if last is None:
                    return None  # another replica took it
                wait = last + self._settle - self._clock()
                if wait <= 0:
                    return await self._take(key)
        finally:
            self._waiting.discard(key)

    async def start(self, finish: FinishAlbum) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(finish), name="album-sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    async def sweep(self, finish: FinishAlbum) -> int:
        """Finish every album whose collector is gone; how many were finished here."""
        async with self._db.read() as conn:
            stale = await stale_albums(conn, before=self._clock() - self._settle - self._orphaned)
        finished = 0
        for key in stale:
            if key in self._waiting:
                continue
            parts = await self._take(key)
            if not parts:
                continue
            log.info("finishing album %s of chat %s left by another replica", key[1], key[0])
            try:
                await finish(parts)
            except Exception:
                log.exception("finishing album %s of chat %s failed", key[1], key[0])
            finished += 1
        return finished

    async def _take(self, key: AlbumKey) -> list[Message] | None:
        async with self._db.write() as conn:
            payloads = await take_album(conn, key)
        return [Message.model_validate_json(p) for p in payloads] or None

    async def _sweep_forever(self, finish: FinishAlbum) -> None:
        while True:
            await asyncio.sleep(self._sweep_every)
            try:
                await self.sweep(finish)
            except Exception:
                log.exception("looking for albums left by another replica failed")
