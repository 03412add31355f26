"""The bot's side of the backend tests: a loopback server that records callbacks, serves one foreign
image (a CDN stand-in) and hosts pictures under tokens, as the bot's own HTTP app would."""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from PIL import Image

from bot.backends.base import Backend
from bot.domain import Action, ActionKind, JobStatus, TaskUpdate

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


@dataclass
class RecordingSink:
    """The update sink the bot passes to start(): records what the adapter reports by itself."""

    updates: list[TaskUpdate] = field(default_factory=list)
    _queue: asyncio.Queue[TaskUpdate] = field(default_factory=asyncio.Queue)

    async def __call__(self, update: TaskUpdate) -> None:
        self.updates.append(update)
        self._queue.put_nowait(update)

    async def next(self) -> TaskUpdate:
        return await asyncio.wait_for(self._queue.get(), timeout=5)


async def action_of(backend: Backend, task_id: str, kind: ActionKind, index: int = 0) -> Action:
    """The button of `kind` (and `index`, when given) on the task as the backend reports it now."""
    update = await backend.fetch(task_id)
    assert update is not None and update.actions is not None
    return next(a for a in update.actions if a.kind is kind and (index == 0 or a.index == index))


async def statuses_until_final(backend: Backend, task_id: str, within: float = 5.0) -> list[JobStatus]:
    """Poll the task as the bot does without callbacks; every status seen, the final one last."""
    seen: list[JobStatus] = []

    async def poll() -> None:
        while True:
            update = await backend.fetch(task_id)
            assert update is not None
            seen.append(update.status)
            if update.status.is_final:
                return
            await asyncio.sleep(0.005)  # poll interval, not a wait for a guessed moment

    await asyncio.wait_for(poll(), timeout=within)
    return seen
