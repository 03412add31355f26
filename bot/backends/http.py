"""The HTTP layer under every adapter: one request, retried reads honouring Retry-After, capped downloads."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

import httpx
from pydantic import ValidationError

from bot.domain import BackendUnavailable, ImageTooLarge

HTTP_OK: Final = 200
HTTP_NO_CONTENT: Final = 204
HTTP_MULTIPLE_CHOICES: Final = 300
HTTP_BAD_REQUEST: Final = 400
HTTP_UNAUTHORIZED: Final = 401
HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_TOO_MANY_REQUESTS: Final = 429
HTTP_SERVER_ERROR: Final = 500

REQUEST_TIMEOUT: Final = 30.0  # seconds; describe/blend uploads carry megabytes of base64
# Only reads are retried (GETs, and POSTs that only look a task up); a submit is never re-sent: it may
# start, and bill, a job twice.
READ_RETRY_BACKOFF: Final[tuple[float, ...]] = (0.2, 0.6)
RETRY_AFTER_CAP: Final = 5.0  # seconds; a longer Retry-After is not worth holding a read for

MAX_DOWNLOAD_BYTES: Final = 40 * 1024 * 1024
DOWNLOAD_TIMEOUT: Final = 60.0
ALLOWED_SCHEMES: Final = frozenset({"http", "https"})
# IPv6 ranges that carry an IPv4 address inside them (and so can reach 127.0.0.1 or 10.0.0.0/8 through a
# translator or a host's own stack), though Python 3.11 counts most of them as global.
IPV6_EMBEDDING_IPV4: Final = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated), also :: and ::1
        "64:ff9b::/96",  # NAT64, well-known prefix
        "64:ff9b:1::/48",  # NAT64, local use
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
    )
)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ImageHost = Callable[[bytes, str], Awaitable[str]]
"""Serves (bytes, MIME type) under a public, unguessable, expiring URL of the bot and returns that URL."""

RetryWhen = Callable[[httpx.Response], bool]
"""Which answers of a read are worth asking again for."""

Decoded = TypeVar("Decoded")


def server_error(response: httpx.Response) -> bool:
    return response.status_code >= HTTP_SERVER_ERROR


def server_error_or_throttled(response: httpx.Response) -> bool:
    return server_error(response) or response.status_code == HTTP_TOO_MANY_REQUESTS


def retry_delay(response: httpx.Response | None, default: float) -> float:
    """The server's Retry-After (in seconds, capped) when it sent one, else `default`."""
    raw = response.headers.get("retry-after") if response is not None else None
    if raw is not None and raw.strip().isdigit():
        return min(float(raw), RETRY_AFTER_CAP)
    return default


class BackendHttp:
    """One backend's HTTP API on the shared client: base URL, credentials, and its name in error messages."""

    def __init__(
        self, client: httpx.AsyncClient, base_url: str, *, label: str, credentials: Mapping[str, str]
    ) -> None:
        self._client = client
        self.base = base_url.rstrip("/")
        self.origin = httpx.URL(self.base)
        self.label = label
        self._credentials = dict(credentials)

    async def send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        seconds: float = REQUEST_TIMEOUT,
    ) -> httpx.Response:
        """One request, never repeated; returns any answer, raises BackendUnavailable when none came."""
        try:
            return await self._client.request(
                method,
                self.base + path,
                json=body,
                headers={**self._credentials, **(headers or {})},
                timeout=seconds,
            )
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{self.label} unreachable: {type(exc).__name__}") from exc

    async def read(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        retry_when: RetryWhen = server_error_or_throttled,
    ) -> httpx.Response:
        """A request that is safe to repeat: retried after network errors and the answers `retry_when` picks.

        Waits READ_RETRY_BACKOFF (or the server's Retry-After) between tries; returns the last answer
        whatever its status, or raises BackendUnavailable when the last try got none.
        """
        for delay in (*READ_RETRY_BACKOFF, None):
            response: httpx.Response | None = None
            try:
                response = await self.send(method, path, body, headers=headers)
            except BackendUnavailable:
                if delay is None:
                    raise
            else:
                if delay is None or not retry_when(response):
                    return response
            await asyncio.sleep(retry_delay(response, delay))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def open_stream(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str],
        timeouts: httpx.Timeout,
    ) -> httpx.Response:
        """Send once and return as soon as the answer's head arrives; the caller reads and closes the body."""
        request = self._client.build_request(
            method,
            self.base + path,
            json=body,
            headers={**self._credentials, **headers},
            timeout=timeouts,
        )
        try:
            return await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{self.label} unreachable: {type(exc).__name__}") from exc

    def decode(self, content: bytes, parse: Callable[[bytes], Decoded], *, what: str) -> Decoded:
        """An answer's body read by `parse` (a pydantic `validate_json`); malformed: BackendUnavailable."""
        try:
            return parse(content)
        except ValidationError as exc:
            problem = f"{self.label} sent a malformed {what} ({exc.error_count()} errors)"
            raise BackendUnavailable(problem) from exc

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """An image the backend named, capped at `max_bytes`; see download_from_backend."""
        return await download_from_backend(
            self._client, self.origin, url, max_bytes=max_bytes, credentials=self._credentials
        )


# --- capped, checked downloads -----------------------------------------------------------------------------


class UnsafeUrl(BackendUnavailable):
    """A URL the bot will not fetch: not http(s), or pointing into a private or loopback network."""


async def check_public_url(url: str) -> None:
    """Refuse non-http(s) URLs and hosts resolving to anything but public unicast addresses."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl("malformed image URL") from exc
    if parsed.scheme not in ALLOWED_SCHEMES or not parsed.host:
        raise UnsafeUrl(f"refusing to fetch a {parsed.scheme or 'schemeless'} URL")
    for address in await _addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)):
        if not is_public_address(address):
            raise UnsafeUrl("refusing to fetch from a private, loopback, multicast or tunnelled address")


def is_public_address(address: IpAddress) -> bool:
    """A unicast address on the public internet, and not an IPv6 wrapping of some IPv4 address."""
    if address.is_multicast or not address.is_global:
        return False
    return not (
        isinstance(address, ipaddress.IPv6Address) and any(address in net for net in IPV6_EMBEDDING_IPV4)
    )


async def _addresses(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise BackendUnavailable(f"cannot resolve the image host: {exc.strerror or exc}") from exc
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def download_limited(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    trusted: bool = False,
) -> bytes:
    """GET `url` into memory, refusing bodies over `max_bytes` before reading them whole.

    `trusted` marks the configured backend's own host, which may well live on a private network;
    any other host must be public, so a backend's answer can't make the bot probe the local network.
    """
    if not trusted:
        await check_public_url(url)
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT), client.stream("GET", url, headers=headers) as response:
            if not HTTP_OK <= response.status_code < HTTP_MULTIPLE_CHOICES:
                # A redirect's body is not the image, and its target is not followed (nor checked).
                raise BackendUnavailable(f"image download failed with HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise ImageTooLarge(f"image is {declared} bytes, limit {max_bytes}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ImageTooLarge(f"image exceeds {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise BackendUnavailable(f"image download failed: {type(exc).__name__}") from exc
    except TimeoutError as exc:
        raise BackendUnavailable(f"image download took longer than {DOWNLOAD_TIMEOUT:.0f}s") from exc


async def download_from_backend(
    client: httpx.AsyncClient, origin: httpx.URL, url: str, *, max_bytes: int, credentials: Mapping[str, str]
) -> bytes:
    """Fetch an image a backend named: relative URLs resolve against the backend, its credentials go
    to the backend's own origin only (never to a CDN), and only its own host may be on a private network."""
    try:
        target = origin.join(url)
    except httpx.InvalidURL as exc:
        raise UnsafeUrl("image URL is not a valid URL") from exc
    same_origin = (target.scheme, target.host, target.port) == (origin.scheme, origin.host, origin.port)
    return await download_limited(
        client,
        str(target),
        max_bytes=max_bytes,
        headers=dict(credentials) if same_origin else None,
        trusted=target.host == origin.host and target.scheme in ALLOWED_SCHEMES,
    )
