"""How the HTTP app is served: uvicorn with deadlines for reading requests and a concurrency limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# From a connection's first byte (or the end of the previous request) to the end of a request's headers.
REQUEST_HEAD_TIMEOUT = 10.0
# From the end of the headers to the end of the body: a mask upload (8 MiB at most) from a phone.
REQUEST_BODY_TIMEOUT = 60.0
# An idle keep-alive connection is closed after this many seconds (uvicorn's own default, made explicit).
KEEP_ALIVE_TIMEOUT = 5
# Open connections and running requests: past this, uvicorn answers 503. Telegram opens up to 40
# connections to a webhook; backends post callbacks a few at a time; the bench drives 64 at once.
CONCURRENCY_LIMIT = 512


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The HTTP server's timeouts and limits."""

    head_timeout: float = REQUEST_HEAD_TIMEOUT
    body_timeout: float = REQUEST_BODY_TIMEOUT
    keep_alive: int = KEEP_ALIVE_TIMEOUT
    concurrency: int = CONCURRENCY_LIMIT


class ReadDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for reading each request.

    uvicorn times out only idle keep-alive connections: a client that sends half a request line, or
    headers without the body they announce, would hold its connection (and a slot of the concurrency
    limit) for ever. Past the deadline the connection is closed."""

    head_timeout: float = REQUEST_HEAD_TIMEOUT
    body_timeout: float = REQUEST_BODY_TIMEOUT
    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._read_within(self.head_timeout)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._read_deadline is None:  # a further request on a kept-alive connection
            self._read_within(self.head_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._read_within(self.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._stop_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def _read_within(self, seconds: float) -> None:
        self._stop_deadline()
        self._read_deadline = self.loop.call_later(seconds, self._read_too_slow)

    def _stop_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_too_slow(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def server_config(app: FastAPI, limits: HttpLimits) -> uvicorn.Config:
    """uvicorn's configuration for the app; no access log, since paths hold secrets."""

    class Protocol(ReadDeadlineProtocol):
        head_timeout = limits.head_timeout
        body_timeout = limits.body_timeout

    return uvicorn.Config(
        app,
        http=Protocol,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_keep_alive=limits.keep_alive,
        limit_concurrency=limits.concurrency,
    )
