"""A reverse proxy on 127.0.0.1 in front of several replicas (round-robin, as behind one PUBLIC_URL), or in
front of a backend whose answers the test holds back (a submit's answer still on its way)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.loopback import LoopbackService

TIMEOUT = 30.0
# Hop-by-hop and recomputed headers (RFC 9110 section 7.6.1), never passed on.
_DROPPED = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"})


@dataclass
class Relay:
    """Forwards each request to the next target in turn, or to `pinned` while it is set.

    `held`: path prefixes whose answers wait (after the target answered) until the test sets the event.
    """

    targets: list[str] = field(default_factory=list)
    pinned: int | None = None
    held: dict[str, asyncio.Event] = field(default_factory=dict)
    routed: list[tuple[str, int]] = field(default_factory=list)  # (path, target index) in arrival order
    base_url: str = ""
    _turn: int = 0
    _service: LoopbackService = field(default_factory=LoopbackService)

    async def __aenter__(self) -> Relay:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.base_url = await self._service.start(app, client_timeout=TIMEOUT)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for gate in self.held.values():
            gate.set()
        await self._service.stop()

    def hold(self, prefix: str) -> asyncio.Event:
        """Hold back answers to requests under `prefix` until the returned event is set."""
        self.held[prefix] = asyncio.Event()
        return self.held[prefix]

    def routed_to(self, index: int, prefixes: Iterable[str] = ("",)) -> list[str]:
        return [path for path, i in self.routed if i == index and path.startswith(tuple(prefixes))]

    def _pick(self) -> int:
        if self.pinned is not None:
            return self.pinned
        index = self._turn % len(self.targets)
        self._turn += 1
        return index

    async def _forward(self, request: web.Request) -> web.Response:
        client = self._service.client
        assert client is not None and self.targets, "the relay has nowhere to send"
        index = self._pick()
        self.routed.append((request.path, index))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        async with client.request(
            request.method,
            self.targets[index] + request.path_qs,
            data=await request.read(),
            headers=headers,
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            status = answer.status
            answer_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _DROPPED}
        gate = next((g for prefix, g in self.held.items() if request.path.startswith(prefix)), None)
        if gate is not None:
            await gate.wait()
        return web.Response(status=status, body=body, headers=answer_headers)
