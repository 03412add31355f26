"""The bot's side of the backend tests: a loopback server that records callbacks, serves one foreign
image (a CDN stand-in) and hosts pictures under tokens, as the bot's own HTTP app would."""

from __future__ import annotations

import io
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from PIL import Image

CDN_PICTURE_PATH = "/cdn/picture.png"


def png_bytes(size: tuple[int, int] = (8, 8), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@dataclass
class BotSide:
    """What the server saw and holds: callback bodies, headers of image requests, hosted pictures."""

    url: str = ""
    bodies: list[bytes] = field(default_factory=list)
    hosted: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    image_request_headers: list[dict[str, str]] = field(default_factory=list)
    image: bytes = field(default_factory=png_bytes)

    async def host(self, data: bytes, mime_type: str) -> str:
        token = secrets.token_urlsafe(16)
        self.hosted[token] = (data, mime_type)
        return f"{self.url}/public/{token}"


@asynccontextmanager
async def serving_bot_side(hook_path: str) -> AsyncIterator[BotSide]:
    """Run the bot-side server on 127.0.0.1 for the duration of the block."""
    state = BotSide()

    async def hook(request: web.Request) -> web.Response:
        state.bodies.append(await request.read())
        return web.Response(text="ok")

    async def public(request: web.Request) -> web.Response:
        hosted = state.hosted.get(request.match_info["token"])
        if hosted is None:
            return web.Response(status=404)
        return web.Response(body=hosted[0], content_type=hosted[1])

    async def picture(request: web.Request) -> web.Response:
        state.image_request_headers.append(dict(request.headers))
        return web.Response(body=state.image, content_type="image/png")

    app = web.Application()
    app.router.add_post(hook_path, hook)
    app.router.add_get("/public/{token}", public)
    app.router.add_get(CDN_PICTURE_PATH, picture)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        state.url = f"http://{host}:{port}"
        yield state
    finally:
        await runner.cleanup()
