"""Updates an adapter produces by itself (stream lines, results known at once), handed to the bot's sink."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.domain import TaskUpdate, UpdateSink

log = logging.getLogger(__name__)


class SinkReports:
    """The bot's update sink and the background tasks delivering to it; aclose() cancels what is left."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._sink: UpdateSink | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, sink: UpdateSink) -> None:
        self._sink = sink

    def soon(self, update: TaskUpdate) -> None:
        """Deliver `update` in the background; without a sink it is dropped (polling finds the result)."""
        if self._sink is not None:
            self.spawn(self.deliver(update))

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str | None = None) -> asyncio.Task[None]:
        """Run `work` in the background until it ends or aclose() cancels it."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def deliver(self, update: TaskUpdate) -> None:
        if self._sink is None:
            return
        try:
            await self._sink(update)
        except Exception:
            # The sink is the bot's code; one failed delivery must not stop later ones, and polling
            # still finds the result.
            log.exception("update sink failed for %s task %s", self._label, update.task_id)

    async def aclose(self) -> None:
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
