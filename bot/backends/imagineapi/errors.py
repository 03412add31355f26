"""ImagineAPI's Directus error answers as domain errors."""

from __future__ import annotations

from typing import NoReturn

import httpx
from pydantic import ValidationError

from bot.backends.http import HTTP_FORBIDDEN, HTTP_SERVER_ERROR, HTTP_TOO_MANY_REQUESTS, HTTP_UNAUTHORIZED
from bot.backends.imagineapi.wire import DirectusCode, DirectusErrors
from bot.domain import BackendBusy, BackendRefused, BackendUnavailable


def raise_for_error(status: int, errors: DirectusErrors | None) -> NoReturn:
    """Raise the domain error for a Directus error answer (any status >= 400)."""
    first = errors.errors[0] if errors is not None else None
    code = (first.extensions.code if first else None) or ""
    message = first.message if first else ""
    if status == HTTP_UNAUTHORIZED or code == DirectusCode.INVALID_CREDENTIALS:
        # Never echo the token or the body.
        raise BackendRefused(f"authentication failed (HTTP {status} {code}): check the ImagineAPI token")
    if status == HTTP_FORBIDDEN or code == DirectusCode.FORBIDDEN:
        raise BackendRefused(f"forbidden (HTTP {status}): the ImagineAPI token may not create images")
    if status == HTTP_TOO_MANY_REQUESTS or code == DirectusCode.REQUESTS_EXCEEDED:
        raise BackendBusy(message or "ImagineAPI rate limit exceeded")
    if status >= HTTP_SERVER_ERROR:
        raise BackendUnavailable(f"ImagineAPI answered HTTP {status} {code}".rstrip())
    raise BackendRefused(message or f"ImagineAPI refused the request (HTTP {status} {code})".rstrip())


def parse_errors(response: httpx.Response) -> DirectusErrors | None:
    try:
        return DirectusErrors.model_validate_json(response.content)
    except ValidationError:
        return None
