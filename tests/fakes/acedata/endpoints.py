"""The fake's calls besides imagine: describe, shorten, task records, seed, and the picture host."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Final

from aiohttp import ClientSession, web

from tests.fakes.acedata import pictures
from tests.fakes.acedata.tasks import FakeImage, FakeTask
from tests.fakes.loopback import json_object

BATCH_DEFAULT_LIMIT: Final = 12  # MidjourneyMCP `tools/task_tools.py`: retrieve_batch's limit "Default is 12"
SHORTEN_PROMPTS: Final = 5  # MidjourneyMCP `tools/shorten_tools.py`: "up to 5 shortened candidate prompts"
SHORTEN_KEEP: Final = (1.0, 0.8, 0.6, 0.45, 0.3)
FETCH_FAILED: Final = "fetch failed"
PROMPT_REQUIRED: Final = "prompt is required"
DESCRIBE_LINES: Final = (
    "a lighthouse on a basalt cliff at dusk, muted teal and amber, painterly",
    "isometric cutaway of a tiny tea shop, warm light, soft shadows",
    "portrait of an old fisherman, charcoal sketch, loose strokes",
    "a fox curled in fresh snow, macro photograph, shallow depth of field",
)


def _aspect(width: int, height: int) -> str:
    divisor = math.gcd(width, height) or 1
    return f"{width // divisor}:{height // divisor}"


class OtherEndpoints:
    """Handlers over the fake's state; FakeAceData supplies the state and the error answers."""

    tasks: dict[str, FakeTask]
    images: dict[str, FakeImage]
    described: list[str]
    _http: ClientSession | None
    _rendered: dict[tuple[str, str], bytes]

    def _error(self, code: str, message: str | None = None, *, status: int | None = None) -> web.Response:
        raise NotImplementedError

    def _banned(self, prompt: str) -> bool:
        raise NotImplementedError

    async def _describe(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._error("bad_request")
        image_url = body.get("image_url")
        if not isinstance(image_url, str) or not image_url:
            return self._error("bad_request", "image_url is required")
        self.described.append(image_url)
        size = await pictures.download_size(self._http, image_url)
        if size is None:
            return self._error("api_error", FETCH_FAILED)
        shift = len(self.described) % len(DESCRIBE_LINES)
        lines = DESCRIBE_LINES[shift:] + DESCRIBE_LINES[:shift]
        return web.json_response({"descriptions": [f"{line} --ar {_aspect(*size)}" for line in lines]})

    async def _shorten(self, request: web.Request) -> web.Response:
        """`{prompt}` → `{prompts: [...]}`, up to five shorter prompts (MidjourneyMCP `shorten_tools.py`)."""
        body = await json_object(request)
        prompt = body.get("prompt") if body is not None else None
        if not isinstance(prompt, str) or not prompt.strip():
            return self._error("bad_request", PROMPT_REQUIRED)
        if self._banned(prompt):
            return self._error("forbidden")
        words = [w for w in re.split(r"[\s,]+", prompt.split("--")[0]) if w]
        params = "".join(f" --{p.strip()}" for p in prompt.split("--")[1:] if p.strip())
        prompts = []
        for keep in SHORTEN_KEEP[:SHORTEN_PROMPTS]:
            shortened = " ".join(words[: max(1, round(len(words) * keep))]) + params
            if shortened not in prompts:
                prompts.append(shortened)
        return web.json_response({"prompts": prompts})

    async def _tasks(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._error("bad_request")
        match body.get("action"):
            case "retrieve":
                task = self.tasks.get(str(body.get("id") or ""))
                # Undocumented: an unknown id retrieves an empty object.
                return web.json_response(task.record() if task is not None else {})
            case "retrieve_batch":
                # Nexior `src/operators/midjourney.ts` `tasks()`; unknown ids are left out of `items`.
                ids = body.get("ids")
                if not isinstance(ids, list):
                    return self._error("bad_request", "ids is required")
                offset = int(body.get("offset") or 0)
                limit = int(body.get("limit") or BATCH_DEFAULT_LIMIT)
                found = [self.tasks[i].record() for i in ids if isinstance(i, str) and i in self.tasks]
                return web.json_response({"items": found[offset : offset + limit], "count": len(found)})
            case _:
                return self._error("bad_request", "action must be retrieve or retrieve_batch")

    async def _seed(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._error("bad_request")
        image_id = body.get("image_id")
        image = self.images.get(image_id) if isinstance(image_id, str) else None
        if image is None or image.kind == "preview":
            return self._error("bad_request", "image_id is not valid")
        seed = int(hashlib.sha256(image.id.encode()).hexdigest()[:8], 16)
        return web.json_response({"seed": str(seed)})

    async def _attachment(self, request: web.Request) -> web.Response:
        image = self.images.get(request.match_info["image"])
        if image is None or image.deleted or request.match_info["name"] != image.name:
            return web.Response(status=404, text="This content is no longer available.")
        width, height = image.raw_size
        if "width" in request.query and "height" in request.query:
            width, height = int(request.query["width"]), int(request.query["height"])
        key = (image.id, f"{width}x{height}")
        if key not in self._rendered:
            self._rendered[key] = pictures.draw(image, (width, height))
        mime = "image/webp" if image.kind == "preview" else "image/png"
        return web.Response(body=self._rendered[key], content_type=mime)
