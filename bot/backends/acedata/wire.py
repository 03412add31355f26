"""Ace Data Cloud's JSON shapes: results (stream lines, callbacks), task records, error answers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from bot.backends.wire import Items, Wire


class AceErrorCode(StrEnum):
    """`error.code` values Ace Data Cloud documents."""

    BAD_REQUEST = "bad_request"
    TOKEN_MISMATCHED = "token_mismatched"
    API_NOT_IMPLEMENTED = "api_not_implemented"
    INVALID_TOKEN = "invalid_token"
    FORBIDDEN = "forbidden"
    TOO_MANY_REQUESTS = "too_many_requests"
    API_ERROR = "api_error"
    TIMEOUT = "timeout"


class AceWire(Wire):
    """Base of Ace Data Cloud's JSON shapes: numeric ids read as strings."""

    model_config = ConfigDict(coerce_numbers_to_str=True)


class AceError(AceWire):
    code: str = ""
    message: str = ""


class AceResult(AceWire):
    """One report: a stream line, a callback body, a long-wait answer or a task record's `response`."""

    success: bool | None = None
    task_id: str | None = None
    image_id: str | None = None
    image_url: str | None = None
    raw_image_url: str | None = None
    progress: float | None = None
    actions: Items = ()
    descriptions: Items = ()
    error: AceError | None = None
    trace_id: str | None = None


class AceTaskRecord(AceWire):
    """The answer of /midjourney/tasks `retrieve`: the request, and the latest response once there is one."""

    id: str | None = None
    type: str | None = None
    image_id: str | None = None
    response: AceResult | None = None


class DescribeReply(AceWire):
    descriptions: tuple[str, ...] = Field(min_length=1)


class SeedReply(AceWire):
    seed: str = Field(min_length=1)


class ErrorReply(AceWire):
    error: AceError
