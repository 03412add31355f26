"""Group commit: callers that arrive while one batch is being written share the next write."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_BATCH = 256


class GroupCommit(Generic[T, R]):
    """Runs `apply` over everything submitted while the previous `apply` ran, in arrival order.

    A lone item is applied at once (no waiting for company); under load, items pile up during each
    write and the next write takes them all, so the cost of a transaction is shared. `apply` must
    return one result per item, in order; if it raises, every caller of that batch gets the error.
    """

    def __init__(
        self, apply: Callable[[list[T]], Awaitable[Sequence[R]]], *, max_batch: int = DEFAULT_MAX_BATCH
    ) -> None:
        self._apply = apply
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        (result,) = await self.submit_many([item])
        return result

    async def submit_many(self, items: Sequence[T]) -> list[R]:
        """Queue `items` together (they land in one batch unless it is full) and wait for their results."""
        if not items:
            return []
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[R]] = [loop.create_future() for _ in items]
        self._pending.extend(zip(items, futures, strict=True))
        if self._runner is None:
            self._runner = asyncio.create_task(self._drain(), name="group-commit")
        return list(await asyncio.gather(*futures))

    async def flush(self) -> None:
        """Wait until everything submitted so far has been applied (or has failed)."""
        while self._runner is not None:
            await asyncio.gather(asyncio.shield(self._runner), return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._run(batch)
        except asyncio.CancelledError:
            for _, future in self._pending:
                future.cancel()
            self._pending.clear()
            raise
        finally:
            self._runner = None

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._apply([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch of {len(batch)} produced {len(results)} results")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            log.warning("a batch of %d failed: %s", len(batch), exc)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
