"""How updates reach the bot: getUpdates long polls, or a webhook the fake posts them to."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from tests.fakes.telegram.core import TelegramCore, wait_event
from tests.fakes.telegram.limits import (
    DEFAULT_WEBHOOK_CONNECTIONS,
    ERR_BAD_WEBHOOK_HOST,
    ERR_POLL_BY_WEBHOOK,
    ERR_POLL_TERMINATED,
    ERR_SECRET_TOKEN,
    ERR_WEBHOOK_ACTIVE,
    GET_UPDATES_MAX_LIMIT,
    SECRET_TOKEN_HEADER,
    SECRET_TOKEN_PATTERN,
    WEBHOOK_DELIVERY_TIMEOUT,
    WEBHOOK_RETRY_DELAY,
    ApiError,
)
from tests.fakes.telegram.models import without_none
from tests.fakes.telegram.params import Params, coerce_params
from tests.fakes.telegram.updates import Webhook, is_loopback_url, read_webhook_reply


class UpdateDelivery(TelegramCore):
    """getUpdates, setWebhook, deleteWebhook, getWebhookInfo and the webhook sender."""

    # ---------------------------------------------------------------- polling and webhook settings
    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(ERR_WEBHOOK_ACTIVE, error_code=409)
        limit = min(max(params.opt_int("limit") or GET_UPDATES_MAX_LIMIT, 1), GET_UPDATES_MAX_LIMIT)
        deadline = asyncio.get_running_loop().time() + max(params.opt_int("timeout") or 0, 0)
        self._set_allowed_updates(params.opt_list("allowed_updates"))
        self._updates.confirm(params.opt_int("offset"))
        self._poll_generation += 1
        self._polls_in_flight += 1
        self._notify()  # an older long poll still waiting now ends with 409, as on Telegram
        try:
            return await self._poll(self._poll_generation, limit, deadline)
        finally:
            self._polls_in_flight -= 1

    async def _poll(self, generation: int, limit: int, deadline: float) -> list[dict[str, Any]]:
        while True:
            changed = self._changed
            if self._webhook is not None:
                raise ApiError(ERR_POLL_BY_WEBHOOK, error_code=409)
            if generation != self._poll_generation:
                raise ApiError(ERR_POLL_TERMINATED, error_code=409)
            batch = self._updates.peek(limit)
            remaining = deadline - asyncio.get_running_loop().time()
            if batch or self._closing or remaining <= 0:
                return batch
            await wait_event(changed, remaining)

    def _set_allowed_updates(self, allowed: list[Any] | None) -> None:
        if allowed is not None:  # an empty list means "all the default types"
            self._updates.allowed = frozenset(str(kind) for kind in allowed) or None

    async def _set_webhook(self, params: Params) -> bool:
        url = params.opt_str("url") or ""
        if not url:
            self._webhook = None
            return True
        if not is_loopback_url(url):
            raise ApiError(ERR_BAD_WEBHOOK_HOST)
        secret = params.opt_str("secret_token")
        if secret is not None and not SECRET_TOKEN_PATTERN.fullmatch(secret):
            raise ApiError(ERR_SECRET_TOKEN)
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._set_allowed_updates(params.opt_list("allowed_updates"))
        self._webhook = Webhook(url, secret, params.opt_int("max_connections") or DEFAULT_WEBHOOK_CONNECTIONS)
        self._notify()  # long polls in flight end with 409
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._webhook = None
        self._notify()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook is not None:
            info |= without_none(
                {
                    "url": self._webhook.url,
                    "max_connections": self._webhook.max_connections,
                    "last_error_date": self._webhook.last_error_date,
                    "last_error_message": self._webhook.last_error_message,
                }
            )
        if self._updates.allowed:
            info["allowed_updates"] = sorted(self._updates.allowed)
        return info

    # ---------------------------------------------------------------- webhook delivery
    async def _deliver_webhook_updates(self) -> None:
        while not self._closing:
            changed = self._changed
            pending = self._updates.peek(1) if self._webhook is not None else []
            if not pending:
                await wait_event(changed, None)
            elif not await self._post_update(pending[0]):
                await wait_event(self._changed, WEBHOOK_RETRY_DELAY)  # retry after a pause or any change

    async def _post_update(self, update: dict[str, Any]) -> bool:
        webhook, http = self._webhook, self._http
        assert webhook is not None and http is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_TOKEN_HEADER] = webhook.secret_token
        try:
            async with http.post(
                webhook.url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_DELIVERY_TIMEOUT),
            ) as response:
                if response.status // 100 != 2:
                    reason = f"Wrong response from the webhook: {response.status}"
                    return self._webhook_failed(webhook, reason)
                reply = await read_webhook_reply(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            return self._webhook_failed(webhook, f"Connection failed: {type(error).__name__}")
        self._updates.drop(update["update_id"])
        self._notify()
        if reply is not None:  # a method call in the webhook's answer runs like a request
            await self._execute(reply[0], coerce_params(reply[1]), token=self.token)
        return True

    def _webhook_failed(self, webhook: Webhook, message: str) -> bool:
        webhook.last_error_date, webhook.last_error_message = int(time.time()), message
        self._notify()
        return False
