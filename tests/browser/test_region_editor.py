"""The Vary (Region) editor in headless Chromium: paint on a phone-sized screen, submit, check the mask."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response
from PIL import Image, ImageDraw

from bot.miniapp import RegionJob, region_token
from tests.browser.cdp import Browser, Page, chromium_binary
from tests.browser.launch import DARK_THEME, LIGHT_THEME, launch_fragment, signed_init_data
from webhook.miniapp import create_region_router

BOT_TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz"
LINK_SECRET = "browser-test-link-secret"
USER_ID = 1001
USER: dict[str, object] = {"id": USER_ID, "first_name": "Alice", "language_code": "en"}
JOB_ID = "5a6b4c7d3f1c2d4e"
PROMPT = "a lighthouse on a cliff at dusk --ar 4:3"
IMAGE_SIZE = (1024, 768)
IMAGE_PATH = "/test-image.png"
PHONE_WIDTH, PHONE_HEIGHT, PHONE_SCALE = 390, 844, 2.0
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SERVER_START_TIMEOUT = 10.0
PAGE_TIMEOUT = 10.0
SUBMIT_TIMEOUT = 10.0
EDGE_MARGIN = 3  # natural pixels of antialiasing allowed around painted shapes

BINARY = chromium_binary()
pytestmark = pytest.mark.skipif(
    BINARY is None, reason="needs a Chromium binary on PATH (Debian: apt-get install chromium)"
)


@dataclass
class Hooks:
    """The lead's hooks, faked: one job waiting for a region; masks handed over are recorded."""

    job: RegionJob
    submitted: list[tuple[str, int, str, bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def load_job(self, job_id: str) -> RegionJob | None:
        return self.job if job_id == self.job.job_id else None

    async def submit(self, job_id: str, user_id: int, prompt: str, mask: bytes) -> None:
        self.submitted.append((job_id, user_id, prompt, mask))
        self.arrived.set()


def scenery_png() -> bytes:
    """A recognisable picture: sky, sun, hills, so the screenshots show what a user would see."""
    width, height = IMAGE_SIZE
    image = Image.new("RGB", IMAGE_SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(40 + 200 * t), int(60 + 90 * t), int(140 + 40 * t)))
    draw.ellipse((640, 140, 820, 320), fill=(255, 214, 120))
    draw.polygon(
        [(0, 560), (260, 430), (520, 540), (780, 450), (1024, 560), (1024, 768), (0, 768)], fill=(36, 70, 52)
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def build_app(hooks: Hooks) -> FastAPI:
    picture = scenery_png()
    app = FastAPI()
    app.include_router(
        create_region_router(
            bot_token=BOT_TOKEN,
            link_secret=LINK_SECRET,
            load_job=hooks.load_job,
            submit=hooks.submit,
            max_age=3600,
        )
    )

    @app.get(IMAGE_PATH)
    async def image() -> Response:
        return Response(picture, media_type="image/png")

    return app


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app on 127.0.0.1 (a port of its own), stopped afterwards."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SERVER_START_TIMEOUT
        while not server.started:
            if task.done() or loop.time() > deadline:
                raise RuntimeError("test server did not start")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, SERVER_START_TIMEOUT)
        sock.close()


# What a Telegram mobile client provides: a bridge object taking the page's events (recorded here).
TELEGRAM_PROXY = """
window.__telegramEvents = [];
window.TelegramWebviewProxy = {
  postEvent(type, data) {
    window.__telegramEvents.push([type, data === undefined ? null : JSON.parse(data)]);
  },
};
"""


@asynccontextmanager
async def editor(theme: dict[str, str], *, in_telegram: bool = False) -> AsyncIterator[tuple[Page, Hooks]]:
    """A phone-sized page showing the editor for a fresh job, opened the way a Telegram client opens it."""
    assert BINARY is not None
    hooks = Hooks(RegionJob(JOB_ID, USER_ID, PROMPT, IMAGE_PATH, *IMAGE_SIZE, "en"))
    now = int(time.time())
    token = region_token(JOB_ID, USER_ID, secret=LINK_SECRET, expires_at=now + 600)
    fragment = launch_fragment(signed_init_data(BOT_TOKEN, auth_date=now, user=USER), theme)
    async with serving(build_app(hooks)) as base, Browser.launch(BINARY) as browser:
        page = await browser.new_page(width=PHONE_WIDTH, height=PHONE_HEIGHT, scale=PHONE_SCALE)
        if in_telegram:
            await page.call("Page.addScriptToEvaluateOnNewDocument", {"source": TELEGRAM_PROXY})
        await page.navigate(f"{base}/region/{token}{fragment}")
        await page.wait_for("document.getElementById('app').dataset.state === 'ready'", within=PAGE_TIMEOUT)
        yield page, hooks


async def to_screen(page: Page, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Image pixels → CSS pixels on the page."""
    box = await page.box("#preview")
    sx, sy = box["width"] / IMAGE_SIZE[0], box["height"] / IMAGE_SIZE[1]
    return [(box["x"] + x * sx, box["y"] + y * sy) for x, y in points]


async def brush_diameter(page: Page) -> float:
    """The brush's width in image pixels (the slider is in screen pixels)."""
    box = await page.box("#preview")
    return (
        float(await page.evaluate("Number(document.getElementById('size').value)"))
        * IMAGE_SIZE[0]
        / box["width"]
    )


async def submit_and_take_mask(page: Page, hooks: Hooks) -> Image.Image:
    await page.tap("#submit")
    await asyncio.wait_for(hooks.arrived.wait(), SUBMIT_TIMEOUT)
    await page.wait_for("document.getElementById('app').dataset.state === 'done'", within=PAGE_TIMEOUT)
    [(job_id, user_id, prompt, mask)] = hooks.submitted
    assert (job_id, user_id, prompt) == (JOB_ID, USER_ID, PROMPT)
    image = Image.open(io.BytesIO(mask))
    assert image.format == "PNG" and image.mode == "L" and image.size == IMAGE_SIZE
    assert {v for v, n in enumerate(image.histogram()) if n} == {0, 255}
    return image


def white_share(mask: Image.Image, box: tuple[int, int, int, int]) -> float:
    region = mask.crop(box)
    return region.histogram()[255] / (region.width * region.height)


def white_outside(mask: Image.Image, box: tuple[int, int, int, int]) -> int:
    """White pixels outside `box`."""
    outside = mask.copy()
    ImageDraw.Draw(outside).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=0)
    return outside.histogram()[255]


def grown(box: tuple[int, int, int, int], by: float) -> tuple[int, int, int, int]:
    return (int(box[0] - by), int(box[1] - by), int(box[2] + by + 1), int(box[3] + by + 1))


async def test_brush_paints_exactly_the_dragged_area_light_theme() -> None:
    async with editor(LIGHT_THEME) as (page, hooks):
        assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        diameter = await brush_diameter(page)
        left, top, right, bottom = 300, 260, 700, 480  # centre line of the brush stays inside this box
        rows = int((bottom - top) / (diameter / 2)) + 1
        path: list[tuple[float, float]] = []
        for row in range(rows):
            y = top + (bottom - top) * row / (rows - 1)
            path += [(left, y), (right, y)] if row % 2 == 0 else [(right, y), (left, y)]
        await page.swipe(await to_screen(page, path))
        await page.screenshot(ARTIFACTS / "region-editor-light.png")
        mask = await submit_and_take_mask(page, hooks)
    inner = (left, top, right, bottom)
    assert white_share(mask, inner) == 1.0
    assert white_outside(mask, grown(inner, diameter / 2 + EDGE_MARGIN)) == 0
    # the strokes really reach beyond the centre line by about the brush radius, and no further
    assert white_share(mask, grown(inner, diameter / 2 - EDGE_MARGIN)) > 0.97


async def test_rectangle_lasso_and_undo_dark_theme() -> None:
    async with editor(DARK_THEME) as (page, hooks):
        assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(23, 33, 43)"
        await page.tap('[data-tool="rect"]')
        rect = (120, 100, 420, 300)
        await page.swipe(await to_screen(page, [(rect[0], rect[1]), (rect[2], rect[3])]))
        stray = await to_screen(page, [(900, 650), (1000, 700)])
        await page.swipe(stray)  # a second rectangle, then taken back
        await page.tap("#undo")
        await page.tap('[data-tool="lasso"]')
        triangle = [(560.0, 420.0), (900.0, 420.0), (730.0, 700.0)]
        await page.swipe(await to_screen(page, [*triangle, triangle[0]]))
        await page.tap('[data-tool="brush"]')
        await page.screenshot(ARTIFACTS / "region-editor-dark.png")
        mask = await submit_and_take_mask(page, hooks)
    assert white_share(mask, (rect[0] + 2, rect[1] + 2, rect[2] - 2, rect[3] - 2)) == 1.0
    assert white_share(mask, (900, 650, 1000, 700)) == 0.0  # undone
    assert white_share(mask, (700, 460, 760, 520)) == 1.0  # inside the triangle
    assert white_share(mask, (560, 600, 640, 700)) == 0.0  # beside it, inside its bounding box
    everything = mask.histogram()[255]
    rect_area = (rect[2] - rect[0]) * (rect[3] - rect[1])
    triangle_area = (900 - 560) * (700 - 420) / 2
    assert abs(everything - rect_area - triangle_area) < 0.03 * (rect_area + triangle_area)


async def telegram_events(page: Page) -> dict[str, Any]:
    """The last payload of each event the page posted to the Telegram client."""
    return {name: data for name, data in await page.evaluate("window.__telegramEvents")}


async def test_inside_telegram_the_main_button_submits_and_the_app_closes() -> None:
    async with editor(LIGHT_THEME, in_telegram=True) as (page, hooks):
        posted = await telegram_events(page)
        assert {"web_app_ready", "web_app_expand"} <= posted.keys()
        assert posted["web_app_setup_main_button"] == {
            "is_visible": True,
            "is_active": True,
            "is_progress_visible": False,
            "text": "Submit",
            "color": LIGHT_THEME["button_color"],
            "text_color": LIGHT_THEME["button_text_color"],
        }
        assert await page.evaluate("getComputedStyle(document.getElementById('submit')).display") == "none"
        # The client reports a theme switch; the page follows it.
        theme_changed = json.dumps({"theme_params": DARK_THEME})
        await page.evaluate(f"window.Telegram.WebView.receiveEvent('theme_changed', {theme_changed})")
        assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(23, 33, 43)"
        await page.swipe(await to_screen(page, [(100, 100), (300, 100)]))
        await page.screenshot(ARTIFACTS / "region-editor-telegram-dark.png")
        await page.evaluate("window.Telegram.WebView.receiveEvent('main_button_pressed', null)")
        await asyncio.wait_for(hooks.arrived.wait(), SUBMIT_TIMEOUT)
        await page.wait_for(
            "window.__telegramEvents.some(([name]) => name === 'web_app_close')", within=PAGE_TIMEOUT
        )
    [(_job, _user, prompt, mask)] = hooks.submitted
    assert prompt == PROMPT and Image.open(io.BytesIO(mask)).size == IMAGE_SIZE
