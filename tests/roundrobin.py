"""A round-robin reverse proxy on 127.0.0.1, as an operator puts in front of several replicas: each request
goes to the next replica; one that refuses the connection (killed) is skipped, as a load balancer's passive
health check does. A replica that dies while answering gives the caller a 502, and the caller (Telegram, a
backend) sends again."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from aiohttp import ClientConnectorError, ClientError, ClientTimeout, web

from tests.fakes.loopback import LoopbackService

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "content-length"})
UPSTREAM_TIMEOUT = 30.0


class RoundRobin:
    """Forwards every request to the replicas' ports in turn."""

    def __init__(self, ports: Callable[[], list[int]]) -> None:
        self._ports = ports
        self._turn = itertools.count()
        self._service = LoopbackService()
        self.base_url = ""
        self.forwarded: dict[int, int] = {}
        self.failed = 0

    async def __aenter__(self) -> RoundRobin:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.base_url = await self._service.start(app, client_timeout=UPSTREAM_TIMEOUT)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._service.stop()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        client = self._service.client
        assert client is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        ports = self._ports()
        start = next(self._turn)
        for offset in range(len(ports)):
            port = ports[(start + offset) % len(ports)]
            url = f"http://127.0.0.1:{port}{request.rel_url}"
            try:
                async with client.request(
                    request.method, url, data=body, headers=headers, timeout=ClientTimeout(UPSTREAM_TIMEOUT)
                ) as answer:
                    payload = await answer.read()
                    self.forwarded[port] = self.forwarded.get(port, 0) + 1
                    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=answer.status, body=payload, headers=kept)
            except ClientConnectorError:
                continue  # not listening (killed, or not started yet): the next one
            except ClientError:
                self.failed += 1
                return web.Response(status=502)
        self.failed += 1
        return web.Response(status=502)
