"""Ace Data Cloud's NDJSON answers: the first line names the job, later lines report it to the sink."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
from pydantic import ValidationError

from bot.backends.acedata.errors import parse_error, raise_for_error
from bot.backends.acedata.results import result_to_update
from bot.backends.acedata.wire import AceResult
from bot.backends.http import HTTP_BAD_REQUEST
from bot.backends.reports import SinkReports
from bot.domain import BackendUnavailable, TaskUpdate

log = logging.getLogger(__name__)


async def next_result(lines: AsyncIterator[str]) -> AceResult | None:
    """The next non-empty line of a stream, parsed; None once the stream has ended."""
    async for line in lines:
        if line.strip():
            try:
                return AceResult.model_validate_json(line)
            except ValidationError as exc:
                raise BackendUnavailable("Ace Data Cloud sent a line that is not a result") from exc
    return None


async def first_result(response: httpx.Response, lines: AsyncIterator[str]) -> tuple[str, AceResult]:
    """The task id and first report of a submit's answer, or the domain error the answer stands for."""
    try:
        if response.status_code >= HTTP_BAD_REQUEST:
            await response.aread()
            raise_for_error(response.status_code, parse_error(response.content))
        first = await next_result(lines)
    except httpx.HTTPError as exc:
        raise BackendUnavailable(
            f"Ace Data Cloud broke off before naming the task: {type(exc).__name__}"
        ) from exc
    if first is None:
        raise BackendUnavailable("Ace Data Cloud ended the answer without a task id")
    if first.task_id:
        return first.task_id, first
    if first.success is False:
        raise_for_error(response.status_code, first.error)
    raise BackendUnavailable("Ace Data Cloud accepted a job without a task id")


class StreamFollower:
    """Reads the answers of jobs submitted without a callback URL, handing every line to the sink."""

    def __init__(self, reports: SinkReports) -> None:
        self._reports = reports
        self._readers: set[object] = set()

    @property
    def open(self) -> int:
        """How many job streams are still being followed."""
        return len(self._readers)

    def follow(
        self, task_id: str, response: httpx.Response, lines: AsyncIterator[str], first: TaskUpdate | None
    ) -> None:
        reader = self._reports.spawn(
            self._read(task_id, response, lines, first), name=f"acedata stream {task_id}"
        )
        self._readers.add(reader)
        reader.add_done_callback(self._readers.discard)

    async def _read(
        self, task_id: str, response: httpx.Response, lines: AsyncIterator[str], first: TaskUpdate | None
    ) -> None:
        """Hand every line to the sink, in order, until the final one; polling covers a broken stream."""
        try:
            if first is not None:
                await self._reports.deliver(first)
            while True:
                try:
                    result = await next_result(lines)
                except BackendUnavailable:
                    log.warning("Ace Data Cloud sent a malformed stream line for task %s", task_id)
                    continue
                if result is None:
                    return
                update = result_to_update(result.task_id or task_id, result)
                await self._reports.deliver(update)
                if update.status.is_final:
                    return
        except httpx.HTTPError as exc:
            # The job goes on at Ace Data Cloud; polling /midjourney/tasks takes over from here.
            log.info("stream of Ace Data Cloud task %s broke: %s", task_id, type(exc).__name__)
        finally:
            await response.aclose()
