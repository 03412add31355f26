"""Ace Data Cloud's refusals (an error body, or a bare HTTP status) as domain errors."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final, NoReturn

from pydantic import ValidationError

from bot.backends.acedata.wire import AceError, AceErrorCode, ErrorReply
from bot.backends.http import HTTP_FORBIDDEN, HTTP_SERVER_ERROR, HTTP_TOO_MANY_REQUESTS, HTTP_UNAUTHORIZED
from bot.domain import (
    AccountProblem,
    AccountRefused,
    BackendBusy,
    BackendRefused,
    BackendUnavailable,
    PromptRejected,
)

log = logging.getLogger(__name__)

# The code decides before the HTTP status, as in the SDK's `_map_error`: a `used_up` comes with 403, which
# by status alone would read as a moderation refusal.
ACCOUNT_PROBLEMS: Final[Mapping[str, AccountProblem]] = {
    AceErrorCode.USED_UP: AccountProblem.BALANCE,
    AceErrorCode.DISABLED: AccountProblem.DISABLED,
    AceErrorCode.INVALID_TOKEN: AccountProblem.TOKEN,
    AceErrorCode.TOKEN_EXPIRED: AccountProblem.TOKEN,
    AceErrorCode.NO_TOKEN: AccountProblem.TOKEN,
    AceErrorCode.TOKEN_MISMATCHED: AccountProblem.TOKEN,
}
OPERATOR_HINTS: Final[Mapping[AccountProblem, str]] = {
    AccountProblem.BALANCE: "the application's balance is used up: top it up at platform.acedata.cloud",
    AccountProblem.TOKEN: "authentication failed: check the Ace Data Cloud API token (MJ_API_KEY)",
    AccountProblem.DISABLED: "the application is disabled at platform.acedata.cloud",
}


def raise_for_error(status: int, error: AceError | None) -> NoReturn:
    """Raise the domain error for a refused call (an error body, or a bare HTTP status)."""
    code = error.code if error is not None else ""
    message = error.message if error is not None else ""
    problem = ACCOUNT_PROBLEMS.get(code) or (AccountProblem.TOKEN if status == HTTP_UNAUTHORIZED else None)
    if problem is not None:
        # For the operator: every job fails this way until someone acts. Never the token or the body.
        hint = OPERATOR_HINTS[problem]
        log.error("Ace Data Cloud refuses the bot's account (%s, HTTP %s): %s", code or "-", status, hint)
        raise AccountRefused(f"Ace Data Cloud: {hint} ({code or f'HTTP {status}'})", problem=problem)
    if code == AceErrorCode.FORBIDDEN or status == HTTP_FORBIDDEN:
        raise PromptRejected(message or "Ace Data Cloud refused the prompt")
    if code == AceErrorCode.TOO_MANY_REQUESTS or status == HTTP_TOO_MANY_REQUESTS:
        raise BackendBusy(message or "Ace Data Cloud rate limit exceeded")
    if status >= HTTP_SERVER_ERROR or code in (AceErrorCode.API_ERROR, AceErrorCode.TIMEOUT):
        raise BackendUnavailable(f"Ace Data Cloud answered HTTP {status} {code}: {message}".rstrip(": "))
    raise BackendRefused(f"Ace Data Cloud refused the request ({code or f'HTTP {status}'}): {message}")


def account_problem(code: str) -> AccountProblem | None:
    return ACCOUNT_PROBLEMS.get(code)


def parse_error(content: bytes) -> AceError | None:
    try:
        return ErrorReply.model_validate_json(content).reported
    except ValidationError:
        return None
