"""Ace Data Cloud's refusals (an error body, or a bare HTTP status) as domain errors."""

from __future__ import annotations

from typing import NoReturn

from pydantic import ValidationError

from bot.backends.acedata.wire import AceError, AceErrorCode, ErrorReply
from bot.backends.http import HTTP_FORBIDDEN, HTTP_SERVER_ERROR, HTTP_TOO_MANY_REQUESTS, HTTP_UNAUTHORIZED
from bot.domain import BackendBusy, BackendRefused, BackendUnavailable, PromptRejected


def raise_for_error(status: int, error: AceError | None) -> NoReturn:
    """Raise the domain error for a refused call (an error body, or a bare HTTP status)."""
    code = error.code if error is not None else ""
    message = error.message if error is not None else ""
    if code == AceErrorCode.INVALID_TOKEN or status == HTTP_UNAUTHORIZED:
        # Never echo the token or the body.
        raise BackendRefused("authentication failed (invalid_token): check the Ace Data Cloud API token")
    if code == AceErrorCode.FORBIDDEN or status == HTTP_FORBIDDEN:
        raise PromptRejected(message or "Ace Data Cloud refused the prompt")
    if code == AceErrorCode.TOO_MANY_REQUESTS or status == HTTP_TOO_MANY_REQUESTS:
        raise BackendBusy(message or "Ace Data Cloud rate limit exceeded")
    if status >= HTTP_SERVER_ERROR or code in (AceErrorCode.API_ERROR, AceErrorCode.TIMEOUT):
        raise BackendUnavailable(f"Ace Data Cloud answered HTTP {status} {code}: {message}".rstrip(": "))
    raise BackendRefused(f"Ace Data Cloud refused the request ({code or f'HTTP {status}'}): {message}")


def parse_error(content: bytes) -> AceError | None:
    try:
        return ErrorReply.model_validate_json(content).error
    except ValidationError:
        return None
