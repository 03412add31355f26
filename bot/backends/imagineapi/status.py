"""ImagineAPI's `status` singleton: whether its Discord bot takes prompts now, asked at most once a minute."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from pydantic import ValidationError

from bot.backends.http import HTTP_BAD_REQUEST, BackendHttp
from bot.backends.imagineapi.wire import BotStatus, StatusEnvelope
from bot.domain import BackendUnavailable

log = logging.getLogger(__name__)

STATUS_PATH: Final = "/items/status"
STATUS_TTL: Final = 60.0  # seconds an answer (or a failure to get one) stands before the next request
STATUS_TIMEOUT: Final = 5.0  # seconds; asked beside a submit, which must not wait long for it


class ServiceWatch:
    """The bot status ImagineAPI reports, refreshed when jobs are submitted and read without a request.

    While the status is not healthy, images stay in the server's queue until its bot takes prompts again
    (imagineapi/imagineapi `bot/src/consumer.ts` takes them only once it has reported "healthy").
    """

    def __init__(self, http: BackendHttp, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._http = http
        self._clock = clock
        self._checked_at: float | None = None
        self._status: BotStatus | None = None

    def waiting_reason(self) -> str | None:
        """Why new jobs will wait ("paused", "unhealthy", "starting"); None when they won't, or unknown."""
        if self._status in (None, BotStatus.HEALTHY):
            return None
        return str(self._status)

    async def refresh(self) -> None:
        """Ask the server unless it was asked less than STATUS_TTL ago; never raises."""
        now = self._clock()
        if self._checked_at is not None and now - self._checked_at < STATUS_TTL:
            return
        self._checked_at = now  # before the request: submits arriving meanwhile don't ask again
        self._status = await self._ask()

    async def _ask(self) -> BotStatus | None:
        try:
            response = await self._http.send("GET", STATUS_PATH, seconds=STATUS_TIMEOUT)
        except BackendUnavailable as exc:
            log.info("ImagineAPI status unknown: %s", exc)
            return None
        if response.status_code >= HTTP_BAD_REQUEST:
            log.info("ImagineAPI status unknown: HTTP %s", response.status_code)
            return None
        try:
            status = StatusEnvelope.model_validate_json(response.content).data
        except ValidationError:
            log.info("ImagineAPI status unknown: a malformed answer")
            return None
        if status.bot_status not in (None, BotStatus.HEALTHY):
            # For the operator: the reason is the server's own (a captcha, an e-mail to verify, a crash).
            log.warning("ImagineAPI's bot is %s: %s", status.bot_status, status.message or "no reason given")
        return status.bot_status
