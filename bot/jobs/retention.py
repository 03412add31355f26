"""RESULTS_RETENTION_DAYS: an hourly sweep that clears what finished jobs no longer need (see
bot.storage.retention for the field-by-field reasons), in small batches, on one replica at a time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.quotas import DAY_SECONDS
from bot.replicas import Lease
from bot.storage.database import Database
from bot.storage.retention import BatchResult, clear_finished, load_cursor, pick_finished

log = logging.getLogger(__name__)

SWEEP_EVERY = 3600.0  # seconds between sweeps
FIRST_SWEEP_AFTER = 60.0  # seconds after start-up: the bot's start is not slowed by it
BATCH = 500  # jobs per transaction: each holds SQLite's write lock only briefly
BATCH_PAUSE = 0.05  # seconds between batches, so that the bot's own writes get their turn
RETENTION_LEASE = "retention"


class RetentionSweep:
    """Clears finished jobs' bulky fields once they are `days` old; on PostgreSQL only the lease holder."""

    def __init__(
        self,
        db: Database,
        days: float,
        *,
        lease: Lease | None = None,
        clock: Callable[[], float] = time.time,
        batch: int = BATCH,
    ) -> None:
        self._db = db
        self._keep_for = days * DAY_SECONDS
        self._lease = lease
        self._clock = clock
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._keep_for > 0  # RESULTS_RETENTION_DAYS=0 keeps everything

    async def sweep(self) -> BatchResult:
        """One sweep over every finished job past retention; what it went over and cleared."""
        total = BatchResult(0, 0, 0)
        if not self.enabled:
            return total
        before = self._clock() - self._keep_for
        try:
            while await self._may_sweep():
                batch = await self.sweep_batch(before)
                total = total + batch
                if batch.looked_at < self._batch:
                    break
                await asyncio.sleep(BATCH_PAUSE)
        finally:
            if self._lease is not None and self._lease.held:
                await self._lease.release()
        if total.cleared or total.tokens:
            log.info(
                "retention: cleared %d finished jobs and %d button tokens older than %g days",
                total.cleared,
                total.tokens,
                self._keep_for / DAY_SECONDS,
            )
        return total

    async def sweep_batch(self, before: float) -> BatchResult:
        """The next batch after the stored cursor: read without holding the write lock, then cleared."""
        async with self._db.read() as conn:
            picked = await pick_finished(conn, await load_cursor(conn), before, self._batch)
        async with self._db.write() as conn:
            return await clear_finished(conn, picked)

    async def _may_sweep(self) -> bool:
        # Claimed before every batch: a sweep longer than the lease's TTL still runs on one replica only.
        return self._lease is None or await self._lease.claim()

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        await asyncio.sleep(FIRST_SWEEP_AFTER)
        while True:
            try:
                await self.sweep()
            except Exception:  # the database was unreachable: the next sweep tries again
                log.exception("retention sweep failed")
            await asyncio.sleep(SWEEP_EVERY)
