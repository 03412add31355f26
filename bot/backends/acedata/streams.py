"""Ace Data Cloud's NDJSON answers: the first line of a callback-mode submit names the job."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from pydantic import ValidationError

from bot.backends.acedata.errors import parse_error, raise_for_error
from bot.backends.acedata.wire import AceResult
from bot.backends.http import HTTP_BAD_REQUEST
from bot.domain import BackendUnavailable


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
