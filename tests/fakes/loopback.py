"""What the fake backends share: an aiohttp app on 127.0.0.1, a client for the calls they make (callbacks,
downloads), and background tasks; all stopped together."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web


@dataclass(frozen=True, slots=True)
class FakeRequest:
    """One request as a fake saw it."""

    method: str
    path: str
    headers: dict[str, str]


async def json_object(request: web.Request) -> dict[str, Any] | None:
    """The request's body as a JSON object; None when it is not JSON or not an object."""
    try:
        body = json.loads(await request.read())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class LoopbackService:
    """Serves an app on a free loopback port until `stop()`."""

    def __init__(self) -> None:
        self.background: set[asyncio.Task[None]] = set()
        self.client: ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def start(
        self, app: web.Application, *, client_timeout: float, handler_cancellation: bool = False
    ) -> str:
        """Serve `app` and open the outgoing client; returns the base URL."""
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=handler_cancellation)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.client = ClientSession(timeout=ClientTimeout(total=client_timeout))
        return f"http://{host}:{port}"

    async def stop(self) -> None:
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        if self.client is not None:
            await self.client.close()
        if self._runner is not None:
            await self._runner.cleanup()
