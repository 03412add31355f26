"""Ace Data Cloud's JSON shapes: results (stream lines, callbacks), task records, error answers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from bot.backends.wire import Items, Wire


class AceErrorCode(StrEnum):
    """`error.code` values: documented ones, and those Ace Data Cloud's own SDK maps
    (`AceDataCloud/SDK` `python/src/acedatacloud/_runtime/transport.py`, `_ERROR_CODE_MAP`)."""

    BAD_REQUEST = "bad_request"
    TOKEN_MISMATCHED = "token_mismatched"
    API_NOT_IMPLEMENTED = "api_not_implemented"
    INVALID_TOKEN = "invalid_token"
    FORBIDDEN = "forbidden"
    TOO_MANY_REQUESTS = "too_many_requests"
    API_ERROR = "api_error"
    TIMEOUT = "timeout"
    USED_UP = "used_up"
    DISABLED = "disabled"
    TOKEN_EXPIRED = "token_expired"
    NO_TOKEN = "no_token"


class AceState(StrEnum):
    """A task record's `state` (Nexior `src/models/midjourney.ts`, `MidjourneyImagineState`)."""

    PENDING = "pending"
    GENERATING = "generating"
    FINISHED = "finished"
    FAILED = "failed"


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
    state: str | None = None
    image_id: str | None = None
    response: AceResult | None = None


class TaskBatch(AceWire):
    """The answer of /midjourney/tasks `retrieve_batch`: the known tasks among the ids asked for."""

    items: tuple[AceTaskRecord, ...] = ()
    count: int = 0


class Accepted(AceWire):
    """The immediate answer of an `async` or callback submit."""

    task_id: str = Field(min_length=1)


class ShortenReply(AceWire):
    prompts: tuple[str, ...] = Field(min_length=1)


class DescribeReply(AceWire):
    descriptions: tuple[str, ...] = Field(min_length=1)


class SeedReply(AceWire):
    seed: str = Field(min_length=1)


class ErrorReply(AceWire):
    """An error answer: `{"error": {code, message}}`, or the older shape with `code` at the top level
    (Nexior `src/utils/quotaExhausted.ts` reads both)."""

    error: AceError | None = None
    code: str = ""
    message: str = ""

    @property
    def reported(self) -> AceError | None:
        if self.error is not None:
            return self.error
        return AceError(code=self.code, message=self.message) if self.code else None
