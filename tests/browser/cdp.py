"""A small Chrome DevTools Protocol driver on aiohttp's websocket client: launch, touch, evaluate, shoot."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # CI containers often have a tiny /dev/shm
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",  # the chosen port is written to DevToolsActivePort
)
LAUNCH_TIMEOUT = 20.0
COMMAND_TIMEOUT = 15.0
EXIT_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
TOUCH_STEP_PX = 6.0  # a finger's path arrives as many small moves
TOUCH_FRAME = 0.016  # seconds between touch samples, as a phone's 60 Hz digitiser reports them
TOUCH_HOLD = (
    0.1  # the finger rests before lifting, so the release starts no fling (a fling eats the next tap)
)


class CdpError(RuntimeError):
    """Chromium answered a command with an error, or did not answer in time."""


def chromium_binary() -> str | None:
    """Chromium on PATH (CHROMIUM_BIN overrides), or None."""
    explicit = os.environ.get("CHROMIUM_BIN")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


class Browser:
    """One headless Chromium and its DevTools websocket; each page is a target attached to it (flat mode)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @asynccontextmanager
    async def launch(cls, binary: str) -> AsyncIterator[Browser]:
        """Start Chromium with a fresh profile; it is always stopped and its profile removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="region-browser-") as profile:
            log = _open_log(Path(profile))
            process = await asyncio.create_subprocess_exec(
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "about:blank",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,  # its helpers share one process group we can stop together
            )
            try:
                endpoint = await _devtools_endpoint(Path(profile), process)
                async with (
                    aiohttp.ClientSession() as http,
                    http.ws_connect(
                        endpoint, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=2)
                    ) as ws,
                ):
                    browser = cls(ws)
                    try:
                        yield browser
                    finally:
                        await browser._stop_reading()
            finally:
                await _stop(process)
                log.close()

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> Any:
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message["id"]] = future
        await self._ws.send_str(json.dumps(message))
        try:
            reply = await asyncio.wait_for(future, COMMAND_TIMEOUT)
        except TimeoutError as exc:
            raise CdpError(f"{method}: no answer within {COMMAND_TIMEOUT}s") from exc
        finally:
            self._pending.pop(message["id"], None)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def new_page(self, *, width: int, height: int, scale: float, mobile: bool = True) -> Page:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = Page(self, attached["sessionId"])
        await page.call("Page.enable")
        await page.call("Runtime.enable")
        metrics = {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}
        await page.call("Emulation.setDeviceMetricsOverride", metrics)
        await page.call("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        return page

    async def _read(self) -> None:
        async for frame in self._ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            future = self._pending.get(message.get("id", -1))
            if future is not None and not future.done():
                future.set_result(message)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CdpError("DevTools connection closed"))

    async def _stop_reading(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Page:
    """One tab, driven through the browser's websocket."""

    def __init__(self, browser: Browser, session: str) -> None:
        self._browser = browser
        self._session = session
        self._touch_clock = 0.0

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return await self._browser.send(method, params, self._session)

    async def navigate(self, url: str) -> None:
        result = await self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigation failed: {result['errorText']}")

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a page expression (promises awaited); page exceptions raise CdpError."""
        result = await self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise CdpError(f"page exception: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, within: float) -> Any:
        """Poll until the expression is truthy (errors count as not yet: the page may still be loading)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        value: Any = None
        while loop.time() < deadline:
            try:
                value = await self.evaluate(expression)
            except CdpError as exc:
                value = exc
            if value and not isinstance(value, CdpError):
                return value
            await asyncio.sleep(POLL_INTERVAL)
        raise CdpError(f"waited {within}s for {expression!r}; last value {value!r}")

    async def box(self, selector: str) -> dict[str, float]:
        """An element's bounding box in CSS pixels."""
        found = await self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return {x: r.left, y: r.top, width: r.width, height: r.height}; })()"
        )
        if not isinstance(found, dict):
            raise CdpError(f"no element {selector!r}")
        return {key: float(value) for key, value in found.items()}

    async def tap(self, selector: str) -> None:
        box = await self.box(selector)
        await self.swipe([(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)])

    async def swipe(self, points: Sequence[tuple[float, float]]) -> None:
        """One finger down at the first point, along every point (in small steps), up at the last.

        Events carry timestamps of a finger moving at a human pace, so the page sees real gestures
        without the test sleeping for them.
        """
        self._touch_clock = max(self._touch_clock, time.time())
        await self._touch("touchStart", [points[0]])
        for start, end in itertools.pairwise(points):
            steps = max(1, int(max(abs(end[0] - start[0]), abs(end[1] - start[1])) / TOUCH_STEP_PX))
            for step in range(1, steps + 1):
                t = step / steps
                at = (start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)
                await self._touch("touchMove", [at])
        if len(points) > 1:
            await self._touch("touchMove", [points[-1]], after=TOUCH_HOLD)
        await self._touch("touchEnd", [])

    async def _touch(
        self, kind: str, points: list[tuple[float, float]], *, after: float = TOUCH_FRAME
    ) -> None:
        self._touch_clock += after
        touch_points = [{"x": x, "y": y} for x, y in points]
        params = {"type": kind, "touchPoints": touch_points, "timestamp": self._touch_clock}
        await self.call("Input.dispatchTouchEvent", params)

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", {"format": "png"})
        await asyncio.to_thread(_save, path, base64.b64decode(shot["data"]))


def _save(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _open_log(profile: Path) -> BinaryIO:
    """Chromium's stderr, kept in its profile folder for the error message when it fails to start."""
    return open(profile / "chromium.log", "wb")


async def _devtools_endpoint(profile: Path, process: asyncio.subprocess.Process) -> str:
    """The browser websocket URL, from the DevToolsActivePort file Chromium writes once it listens."""
    port_file = profile / "DevToolsActivePort"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LAUNCH_TIMEOUT
    while loop.time() < deadline:
        if process.returncode is not None:
            log = (profile / "chromium.log").read_text(errors="replace")[-2000:]
            raise CdpError(f"chromium exited with {process.returncode}: {log}")
        lines = port_file.read_text().split() if port_file.exists() else []
        if len(lines) == 2:
            port, path = lines
            return f"ws://127.0.0.1:{port}{path}"
        await asyncio.sleep(POLL_INTERVAL)
    raise CdpError(f"chromium did not open DevTools within {LAUNCH_TIMEOUT}s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop the browser we started and the helpers in its process group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(process.wait(), EXIT_TIMEOUT)
            break
        except TimeoutError:
            continue
    # Helpers may outlive the main process for a moment; the group is ours alone.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
