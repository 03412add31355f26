"""The backends' HTTP layer: the outbound URL guard, capped downloads, retried reads and Retry-After."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from pydantic import TypeAdapter

from bot.backends import http
from bot.backends.http import (
    BackendHttp,
    UnsafeUrl,
    check_public_url,
    download_from_backend,
    download_limited,
    is_public_address,
    retry_delay,
)
from bot.domain import BackendUnavailable, ImageTooLarge


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://127.0.0.1:8080/a.png",
        "http://10.1.2.3/a.png",
        "http://192.168.0.10/a.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/a.png",
        "http://localhost/a.png",
        "http://0.0.0.0/a.png",
    ],
)
async def test_unsafe_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await check_public_url(url)


# Addresses Python 3.11's `is_global` calls global although they reach no public host of their own.
TUNNELLED_OR_MULTICAST = [
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a01:203",  # NAT64 of 10.1.2.3
    "64:ff9b:1::a01:203",  # local-use NAT64
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "::127.0.0.1",  # IPv4-compatible
    "::a01:203",  # IPv4-compatible 10.1.2.3
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:93.184.216.34",  # IPv4-mapped, even of a public address: getaddrinfo never answers one
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "224.0.0.1",
    "233.252.0.1",
    "239.255.255.250",
    "ff02::1",
    "ff0e::1",
]


@pytest.mark.parametrize("address", TUNNELLED_OR_MULTICAST)
async def test_tunnelled_and_multicast_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeUrl):
        await check_public_url(f"http://{host}/grid.png")


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
async def test_public_address_is_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    await check_public_url(f"https://{host}/grid.png")


async def test_refused_url_is_never_requested() -> None:
    requests: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: requests.append(r) or httpx.Response(200, content=b"x"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UnsafeUrl):
            await download_limited(client, "http://127.0.0.1/a.png", max_bytes=100)
        assert await download_limited(client, "http://127.0.0.1/a.png", max_bytes=100, trusted=True) == b"x"
    assert len(requests) == 1


async def test_size_cap_applies_before_the_whole_body_is_read() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"x" * 5000))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(ImageTooLarge):
            await download_limited(client, "http://93.184.216.34/big.png", max_bytes=1000)


@pytest.mark.parametrize(
    ("header", "delay"), [("2", 2.0), ("60", http.RETRY_AFTER_CAP), ("soon", 0.2), (None, 0.2)]
)
def test_retry_after_in_seconds_is_honoured_up_to_the_cap(header: str | None, delay: float) -> None:
    headers = {"retry-after": header} if header is not None else {}
    assert retry_delay(httpx.Response(503, headers=headers), 0.2) == delay
    assert retry_delay(None, 0.2) == 0.2


async def test_reads_wait_as_the_server_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(http.asyncio, "sleep", no_wait)
    answers = iter(
        [httpx.Response(429, headers={"retry-after": "1"}), httpx.Response(503), httpx.Response(200)]
    )
    requests: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: requests.append(r) or next(answers))
    async with httpx.AsyncClient(transport=transport) as client:
        api = BackendHttp(client, "http://backend.test/", label="the backend", credentials={"x-key": "k"})
        assert (await api.read("GET", "/task/1")).status_code == 200
    assert waits == [1.0, http.READ_RETRY_BACKOFF[1]]
    assert [(r.url.path, r.headers["x-key"]) for r in requests] == [("/task/1", "k")] * 3


async def test_a_send_is_never_repeated_and_network_errors_are_unavailable() -> None:
    requests: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: requests.append(r) or httpx.Response(503))
    async with httpx.AsyncClient(transport=transport) as client:
        api = BackendHttp(client, "http://backend.test", label="the backend", credentials={})
        assert (await api.send("POST", "/submit", {"prompt": "p"})).status_code == 503
    assert len(requests) == 1

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        api = BackendHttp(client, "http://backend.test", label="the backend", credentials={})
        with pytest.raises(BackendUnavailable, match="the backend unreachable: ConnectError"):
            await api.send("POST", "/submit", {"prompt": "p"})


@pytest.fixture
async def redirecting_server() -> AsyncIterator[str]:
    """A backend on 127.0.0.1 whose image route answers 302 with a body that looks like an image."""

    async def moved(request: web.Request) -> web.Response:
        return web.Response(
            status=302, body=b"\x89PNG\r\n\x1a\n not the image", headers={"Location": "http://10.0.0.1/x.png"}
        )

    app = web.Application()
    app.router.add_get("/attachments/grid.png", moved)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_a_redirect_is_an_error_not_the_image(redirecting_server: str) -> None:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        with pytest.raises(BackendUnavailable, match="HTTP 302"):
            await download_from_backend(
                client,
                httpx.URL(redirecting_server),
                "/attachments/grid.png",
                max_bytes=1000,
                credentials={},
            )


async def test_a_malformed_answer_is_unavailable_and_names_the_backend() -> None:
    async with httpx.AsyncClient() as client:
        api = BackendHttp(client, "http://backend.test", label="the backend", credentials={})
        shape = TypeAdapter(dict[str, int])
        assert api.decode(b'{"a": 1}', shape.validate_json, what="task") == {"a": 1}
        with pytest.raises(BackendUnavailable, match=r"^the backend sent a malformed task \(1 errors\)$"):
            api.decode(b'{"a": "x"}', shape.validate_json, what="task")
        with pytest.raises(BackendUnavailable, match="malformed task list"):
            api.decode(b"not json", shape.validate_json, what="task list")
