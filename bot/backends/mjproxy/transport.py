"""midjourney-proxy over HTTP: credentials, the rate limiter's 429s, refusals of the whole server, submits.

trueai answers a bad secret with 401 (`SimpleAuthMiddleware.cs`), a blacklisted IP with a bare 403 and its
rate limiter with a bare 429 (`RateLimitingMiddleware.cs`); neither reaches a controller, so a submit refused
that way started nothing and may be sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Final

import httpx
from pydantic import ValidationError

from bot.backends.http import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_NOT_FOUND,
    HTTP_SERVER_ERROR,
    HTTP_TOO_MANY_REQUESTS,
    HTTP_UNAUTHORIZED,
    BackendHttp,
    retry_delay,
    server_error_or_throttled,
)
from bot.backends.mjproxy.submits import submission_from_reply
from bot.backends.mjproxy.wire import SubmitReply
from bot.domain import BackendBusy, BackendError, BackendRefused, BackendUnavailable, Submission, TaskNotFound

log = logging.getLogger(__name__)

AUTH_HEADER: Final = "mj-api-secret"
LABEL: Final = "midjourney-proxy"
# Waits between submits the rate limiter refused (about a minute in all); then the job fails as busy.
THROTTLE_BACKOFF: Final[tuple[float, ...]] = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class EndpointMissing(BackendRefused):
    """The proxy has no such endpoint (a 404 without a submit answer): the Java build, or a wrong base URL."""


def parse_reply(response: httpx.Response) -> SubmitReply | None:
    try:
        return SubmitReply.model_validate_json(response.content)
    except ValidationError:
        return None


def authenticated(response: httpx.Response) -> httpx.Response:
    """Refuse answers that say the proxy refuses this bot rather than this request."""
    if response.status_code == HTTP_UNAUTHORIZED:
        # Never echo the key or the body: trueai's text is only "Authorization header missing.".
        log.warning("midjourney-proxy rejected the API secret (HTTP 401)")
        raise BackendRefused("authentication failed (HTTP 401): check the midjourney-proxy API secret")
    if response.status_code == HTTP_FORBIDDEN:
        if response.content.strip():
            log.warning("midjourney-proxy refuses the user of this API secret (HTTP 403)")
            raise BackendRefused("midjourney-proxy refuses this bot's user: it is disabled or not available")
        log.warning("midjourney-proxy refuses this server's address (bare HTTP 403: IP blacklist)")
        raise BackendRefused("midjourney-proxy refuses requests from this server (its IP blacklist)")
    return response


class ProxyTransport:
    """One midjourney-proxy server: sends, reads with retries, and submits mapped onto Submissions."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        api_key: str | None,
        throttle_backoff: tuple[float, ...] = THROTTLE_BACKOFF,
    ) -> None:
        # The plus doc writes the base as "http://ip:port/mj"; our paths already start with /mj.
        base = base_url.rstrip("/")
        self.http = BackendHttp(
            client,
            base.removesuffix("/mj") if base.endswith("/mj") else base,
            label=LABEL,
            credentials={AUTH_HEADER: api_key} if api_key else {},
        )
        self._throttle_backoff = throttle_backoff

    async def send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        """One request; the rate limiter's 429 is waited out (it handled nothing, so resending is safe)."""
        for delay in (*self._throttle_backoff, None):
            response = authenticated(await self.http.send(method, path, body))
            if response.status_code != HTTP_TOO_MANY_REQUESTS:
                return response
            if delay is None:
                break
            await asyncio.sleep(retry_delay(response, delay))
        raise BackendBusy("midjourney-proxy's rate limiter kept refusing (HTTP 429)")

    async def read(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        """A lookup: retried on network errors, 5xx and 429; returns any other answer."""
        response = authenticated(
            await self.http.read(method, path, body, retry_when=server_error_or_throttled)
        )
        if response.status_code >= HTTP_SERVER_ERROR or response.status_code == HTTP_TOO_MANY_REQUESTS:
            raise BackendUnavailable(f"midjourney-proxy answered HTTP {response.status_code}")
        return response

    async def submit(self, path: str, payload: Mapping[str, Any], *, task_scoped: bool = False) -> Submission:
        response = await self.send("POST", path, payload)
        if response.status_code >= HTTP_SERVER_ERROR:
            raise BackendUnavailable(f"midjourney-proxy answered HTTP {response.status_code}")
        reply = parse_reply(response)
        if reply is not None:
            return submission_from_reply(reply, task_scoped=task_scoped)
        if response.status_code == HTTP_NOT_FOUND:
            # trueai answers an unknown parent with a 404 carrying code 3; a bare 404 is a missing route.
            raise EndpointMissing(f"midjourney-proxy has no {path}: an older build, or check the base URL")
        if response.status_code >= HTTP_BAD_REQUEST:
            raise BackendRefused(f"midjourney-proxy refused {path} with HTTP {response.status_code}")
        raise BackendUnavailable(f"midjourney-proxy answer to {path} is not a submit result")


def not_found_or_missing(response: httpx.Response, what: str) -> BackendError:
    """A 404: trueai says which task with a submit answer; without one the endpoint itself is missing."""
    if parse_reply(response) is not None:
        return TaskNotFound(f"{what} not found")
    return EndpointMissing(f"midjourney-proxy has no endpoint for {what}")
