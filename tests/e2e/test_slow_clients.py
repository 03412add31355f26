"""Slow clients against the real HTTP app: half-sent requests are dropped, everyone else is answered."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from bot.runtime import Runtime
from tests.fakes.telegram import FakeTelegram
from tests.harness import free_port, make_settings
from webhook.server import CONCURRENCY_LIMIT, HttpLimits, ReadDeadlineProtocol, server_config

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
SHORT = HttpLimits(head_timeout=HEAD_TIMEOUT, body_timeout=BODY_TIMEOUT, keep_alive=1)
HALF_HEADS = 200  # the review held 300; the open files of this one process (both ends) are the bound here
HALF_BODIES = 50
SLACK = 2.0  # scheduling on a shared machine


@asynccontextmanager
async def serving(tg: FakeTelegram, tmp_path: Path, limits: HttpLimits = SHORT) -> AsyncIterator[Runtime]:
    port = free_port()
    runtime = await Runtime.build(make_settings(tg, tmp_path, http_port=port), http_limits=limits)
    try:
        await runtime.start()
        yield runtime
    finally:
        await runtime.close()


@dataclass
class HalfSent:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened: float

    async def held_for(self) -> tuple[float, bytes]:
        """How long the server kept the connection, and what it answered before closing it."""
        answer = b""
        try:
            while chunk := await self.reader.read(1024):
                answer += chunk
        except ConnectionResetError:
            pass
        return time.monotonic() - self.opened, answer


@contextmanager
def uvicorn_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """uvicorn's own loggers do not propagate: capture them too (after start-up, which resets them)."""
    logger = logging.getLogger("uvicorn")
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)


async def half_sent(port: int, data: bytes) -> HalfSent:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened = time.monotonic()
    writer.write(data)
    await writer.drain()
    return HalfSent(reader, writer, opened)


async def hold_half_sent_requests(runtime: Runtime) -> list[tuple[float, bytes]]:
    """Open many half-sent requests, check /healthz meanwhile, and wait until the server has dropped each."""
    port = runtime.http_port
    head = b"POST /hooks/simulator/x HTTP/1.1\r\nHost: bot\r\nContent-Le"
    heads = [await half_sent(port, head) for _ in range(HALF_HEADS)]
    # The right callback URL, so that the app reads the body the client never finishes.
    body = (
        f"POST /hooks/simulator/{runtime.hook_secret} HTTP/1.1\r\nHost: bot\r\n"
        'Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"id":'
    ).encode()
    bodies = [await half_sent(port, body) for _ in range(HALF_BODIES)]
    drops = [asyncio.create_task(client.held_for()) for client in [*heads, *bodies]]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
        asked = time.monotonic()
        health = await client.get("/healthz")
        health_seconds = time.monotonic() - asked
    assert health.status_code == 200 and health_seconds < HEAD_TIMEOUT / 2
    try:
        return await asyncio.wait_for(asyncio.gather(*drops), timeout=HEAD_TIMEOUT + BODY_TIMEOUT + SLACK)
    finally:
        for client in [*heads, *bodies]:
            client.writer.close()


async def test_half_sent_requests_are_dropped_while_others_are_answered(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(tg, tmp_path) as runtime:
        with uvicorn_logs(caplog):
            results = await hold_half_sent_requests(runtime)
    head_held = [seconds for seconds, _ in results[:HALF_HEADS]]
    body_held = [seconds for seconds, _ in results[HALF_HEADS:]]
    assert all(answer == b"" for _, answer in results), "closed at the deadline, not answered"
    assert min(head_held) >= HEAD_TIMEOUT * 0.9 and max(head_held) < HEAD_TIMEOUT + SLACK
    assert min(body_held) >= BODY_TIMEOUT * 0.9 and max(body_held) < BODY_TIMEOUT + SLACK
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a dropped client is no error"


async def test_a_slow_but_steady_client_and_a_kept_alive_connection_are_served(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with serving(tg, tmp_path) as runtime:
        slow = await half_sent(runtime.http_port, b"GET /healthz HTTP/1.1\r\n")
        reader, writer = slow.reader, slow.writer
        await asyncio.sleep(HEAD_TIMEOUT / 2)
        writer.write(b"Host: bot\r\n\r\n")
        first = await reader.readuntil(b'{"status":"ok"}')
        # Idle for less than the keep-alive time but longer than the read deadline.
        await asyncio.sleep(HEAD_TIMEOUT * 0.8)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        second = await reader.readuntil(b'{"status":"ok"}')
        writer.close()
        assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200")


def test_the_server_is_configured_with_deadlines_and_a_limit() -> None:
    config = server_config(app=None, limits=HttpLimits())  # type: ignore[arg-type]
    assert config.limit_concurrency == CONCURRENCY_LIMIT
    assert config.timeout_keep_alive == HttpLimits().keep_alive
    assert isinstance(config.http, type) and issubclass(config.http, ReadDeadlineProtocol)
    assert not config.access_log


async def test_past_the_concurrency_limit_requests_are_refused_not_queued(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    limit = 8
    async with serving(tg, tmp_path, replace(SHORT, concurrency=limit)) as runtime:
        port = runtime.http_port
        held = [await half_sent(port, b"GET /healthz HTTP/1.1\r\nHo") for _ in range(limit)]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
            assert (await client.get("/healthz")).status_code == 503
            await asyncio.gather(*(h.held_for() for h in held))
            assert (await client.get("/healthz")).status_code == 200
        for h in held:
            h.writer.close()
