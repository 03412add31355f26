"""Updates waiting for the bot, the webhook they go to, and the method call a webhook may answer with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.fakes.telegram.limits import FIRST_UPDATE_ID, LOOPBACK_HOSTS


class UpdateQueue:
    """Updates waiting to be confirmed by getUpdates' offset (or delivered to the webhook)."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._next_id = FIRST_UPDATE_ID
        self.allowed: frozenset[str] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._items.append(update)
        return update

    def confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._items = self._items[offset:]
        else:
            self._items = [update for update in self._items if update["update_id"] >= offset]

    def peek(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` updates; types outside allowed_updates are dropped, as Telegram does."""
        if self.allowed:
            self._items = [update for update in self._items if _update_type(update) in self.allowed]
        return self._items[:limit]

    def drop(self, update_id: int) -> None:
        self._items = [update for update in self._items if update["update_id"] != update_id]

    def clear(self) -> None:
        self._items.clear()


def _update_type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


@dataclass
class Webhook:
    """The webhook set by setWebhook."""

    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


def is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS


async def read_webhook_reply(response: aiohttp.ClientResponse) -> tuple[str, dict[str, Any]] | None:
    """A Bot API call returned in the webhook's response body (JSON or multipart form), if any."""
    if response.content_type == "application/json":
        body = await response.json()
        fields = body if isinstance(body, dict) else {}
    elif response.content_type == "multipart/form-data":
        fields = {name: value async for name, value in _multipart_fields(response)}
    else:
        return None
    method = fields.pop("method", None)
    return (str(method), fields) if method else None


async def _multipart_fields(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    reader = aiohttp.MultipartReader.from_response(response)
    while (part := await reader.next()) is not None:
        if isinstance(part, aiohttp.BodyPartReader) and part.name:
            yield part.name, await part.text()
