"""A test-controlled fake of Ace Data Cloud's Midjourney API: its wire format over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import io
import json
import math
import re
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from PIL import Image, ImageDraw, UnidentifiedImageError

from tests.fakes.loopback import FakeRequest, LoopbackService, json_object

DEFAULT_TOKEN: Final = "ad-token"
NDJSON: Final = "application/x-ndjson"
APPLICATION_ID: Final = "9dec7b2a-1cad-41ff-8536-d4ddaf2525d4"
CREDENTIAL_ID: Final = "68253cc8-505d-47f4-97ad-0050a62e4975"
CHANNEL_ID: Final = "1233387694839697411"
SNOWFLAKE_BASE: Final = 1_234_197_197_067_915_365
LINK_TTL_SECONDS: Final = 86_400  # the proxied Discord links' ex= is about a day after is=
CALLBACK_TIMEOUT: Final = 5.0
DOWNLOAD_TIMEOUT: Final = 5.0
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
LONG_WAIT_STEPS: Final = (35, 75)
MAX_PROMPT_IMAGES: Final = 5
MODES: Final = frozenset({"fast", "relax", "turbo"})
# Raw sizes of what the fake draws; the thumbnail (`image_url`) is half of each side.
RAW_SIZES: Final[dict[str, tuple[int, int]]] = {
    "preview": (256, 256),
    "grid": (1024, 1024),
    "upscale": (512, 512),
    "upscale_hd": (1024, 1024),
}

# Error codes and their HTTP statuses, as Ace Data Cloud documents them.
STATUS_OF_CODE: Final[dict[str, int]] = {
    "bad_request": 400,
    "token_mismatched": 400,
    "api_not_implemented": 400,
    "invalid_token": 401,
    "forbidden": 403,
    "too_many_requests": 429,
    "api_error": 500,
    "timeout": 504,
}
CODE_OF_STATUS: Final[dict[int, str]] = {
    400: "bad_request",
    401: "invalid_token",
    403: "forbidden",
    429: "too_many_requests",
    500: "api_error",
    504: "timeout",
}
MESSAGES: Final[dict[str, str]] = {
    "bad_request": "The json payload is not valid to request the API",
    "token_mismatched": "The specified token is not matched with API.",
    "api_not_implemented": "The API is not implemented.",
    "invalid_token": "The specified token is invalid or wrong.",
    # Verbatim from the service's OpenAPI examples, "Al" included.
    "forbidden": "Sorry! Our Al moderators feel your prompt might be against our community standards.",
    "too_many_requests": "You have exceeded the rate limit.",
    "api_error": "Internal server error.",
    "timeout": "Timeout to generate the image.",
}
FETCH_FAILED: Final = "fetch failed"
PROMPT_REQUIRED: Final = "prompt is required"
DEFAULT_FAILURE: Final = ("bad_request", "Unrecognized argument(s): `-c`, `x`")
DEFAULT_BANNED_WORDS: Final = frozenset({"nude", "gore"})

GRID_ACTIONS: Final = (
    *(f"upscale{i}" for i in range(1, 5)),
    "reroll",
    *(f"variation{i}" for i in range(1, 5)),
)
UPSCALE_ACTIONS: Final = (
    "upscale_2x",
    "upscale_4x",
    "variation_subtle",
    "variation_strong",
    "zoom_out_2x",
    "zoom_out_1_5x",
    "pan_left",
    "pan_right",
    "pan_up",
    "pan_down",
)
# Undocumented: what follows an upscale_2x/4x result (the fake offers vary, zoom and pan).
UPSCALE_HD_ACTIONS: Final = UPSCALE_ACTIONS[2:]
DESCRIBE_LINES: Final = (
    "a lighthouse on a basalt cliff at dusk, muted teal and amber, painterly",
    "isometric cutaway of a tiny tea shop, warm light, soft shadows",
    "portrait of an old fisherman, charcoal sketch, loose strokes",
    "a fox curled in fresh snow, macro photograph, shallow depth of field",
)
_IMAGE_URL_RE: Final = re.compile(r"^https?://\S+$")

Mode = Literal["wait", "stream", "callback"]
ImageKind = Literal["preview", "grid", "upscale", "upscale_hd"]
BREAK: Final = None  # queued into a stream: cut the connection mid-answer


def _error(code: str, message: str | None = None, *, status: int | None = None) -> web.Response:
    body = {
        "success": False,
        "error": {"code": code, "message": message or MESSAGES.get(code, code)},
        "trace_id": str(uuid.uuid4()),
    }
    return web.json_response(body, status=status or STATUS_OF_CODE.get(code, 400))


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


def _kind_after(action: str) -> ImageKind:
    if re.fullmatch(r"upscale[1-4]", action):
        return "upscale"
    if action in ("upscale_2x", "upscale_4x"):
        return "upscale_hd"
    return "grid"


def _actions_for(kind: ImageKind) -> list[str]:
    match kind:
        case "grid":
            return list(GRID_ACTIONS)
        case "upscale":
            return list(UPSCALE_ACTIONS)
        case "upscale_hd":
            return list(UPSCALE_HD_ACTIONS)
        case "preview":
            return []


def _is_final(line: dict[str, Any]) -> bool:
    return line.get("success") is False or line.get("progress") == 100


def _aspect(width: int, height: int) -> str:
    divisor = math.gcd(width, height) or 1
    return f"{width // divisor}:{height // divisor}"


@dataclass(slots=True)
class FakeImage:
    """One picture the fake has published: a progress preview or a result that actions can name."""

    id: str
    task_id: str
    kind: ImageKind
    name: str
    colours: tuple[tuple[int, int, int], ...]
    actions: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def raw_size(self) -> tuple[int, int]:
        return RAW_SIZES[self.kind]


@dataclass(slots=True)
class FakeTask:
    """One imagine task; mutable, because the fake moves it along."""

    id: str
    action: str
    prompt: str
    request: dict[str, Any]
    mode: Mode
    ndjson: bool
    kind: ImageKind
    colours: tuple[tuple[int, int, int], ...]
    callback_url: str | None = None
    parent_image_id: str | None = None
    job_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    image_ids: list[str] = field(default_factory=list)
    stream: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def response(self) -> dict[str, Any] | None:
        return self.lines[-1] if self.lines else None

    @property
    def final(self) -> bool:
        return self.response is not None and _is_final(self.response)

    def record(self) -> dict[str, Any]:
        """The task as /midjourney/tasks `retrieve` answers it."""
        record: dict[str, Any] = {
            "_id": hashlib.sha256(self.id.encode()).hexdigest()[:24],
            "id": self.id,
            "application_id": APPLICATION_ID,
            "created_at": self.created_at,
            "credential_id": CREDENTIAL_ID,
            "request": copy.deepcopy(self.request),
            "type": "imagine",
            "hold": False,
            "job_id": self.job_id,
        }
        if self.image_ids:
            record["image_id"] = self.image_ids[-1]
        if self.response is not None:
            record["response"] = {**copy.deepcopy(self.response), "job_id": self.job_id, "hold": False}
        if self.started_at is not None:
            record["started_at"] = self.started_at
        if self.finished_at is not None:
            record["finished_at"] = self.finished_at
            record["duration"] = self.finished_at - self.created_at
        return record


class FakeAceData:
    """Ace Data Cloud on 127.0.0.1: long wait, NDJSON streams and callbacks, progress driven by the test."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        auto_steps: tuple[int, ...] | None = None,
        step_delay: float = 0.05,
    ) -> None:
        self.token = token
        self.auto_steps = auto_steps
        self.step_delay = step_delay
        self.base_url = ""
        self.tasks: dict[str, FakeTask] = {}
        self.images: dict[str, FakeImage] = {}
        self.requests: list[FakeRequest] = []
        self.submissions: list[tuple[str, dict[str, Any]]] = []
        self.callbacks: list[tuple[str, dict[str, Any], int]] = []
        self.described: list[str] = []
        self.banned_words: set[str] = set(DEFAULT_BANNED_WORDS)
        self.drop_callbacks = False
        self._http_failures: list[tuple[int, str | None, bool]] = []
        self._rendered: dict[tuple[str, str], bytes] = {}
        self._counter = 0
        self._task_added = asyncio.Event()
        self._service = LoopbackService()
        self._background = self._service.background
        self._http: ClientSession | None = None

    # --- lifecycle ---

    async def __aenter__(self) -> FakeAceData:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/midjourney/imagine", self._imagine)
        app.router.add_post("/midjourney/describe", self._describe)
        app.router.add_post("/midjourney/tasks", self._tasks)
        app.router.add_post("/midjourney/seed", self._seed)
        app.router.add_get("/attachments/{channel}/{image}/{name}", self._attachment)
        # A client that hangs up ends its stream handler at once, as the real service notices a closed socket.
        self.base_url = await self._service.start(
            app, client_timeout=CALLBACK_TIMEOUT, handler_cancellation=True
        )
        self._http = self._service.client
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._service.stop()

    # --- test controls ---

    def fail_next_http(
        self, status: int, code: str | None = None, *, times: int = 1, bare: bool = False
    ) -> None:
        """Answer the next `times` requests (any path) with this status and error code, or a bare page."""
        self._http_failures.extend([(status, code, bare)] * times)

    async def wait_for_task(self, count: int = 1) -> str:
        """The id of the `count`-th task, once it exists."""
        async with asyncio.timeout(5):
            while len(self.tasks) < count:
                self._task_added.clear()
                await self._task_added.wait()
        return list(self.tasks)[count - 1]

    async def wait_stream_closed(self, task_id: str) -> None:
        async with asyncio.timeout(5):
            await self.tasks[task_id].stream_closed.wait()

    async def advance(self, task_id: str, progress: int) -> None:
        """A progress line: a temporary webp preview with its own image_id, and no actions."""
        task = self._running(task_id)
        task.started_at = task.started_at or time.time()
        preview = self._publish(task, "preview", f"{task.id}_grid_0.webp")
        await self._emit(task, self._line(task, preview, min(max(progress, 0), 99), []))

    async def complete(self, task_id: str) -> None:
        """The final line: progress 100, the result's image_id and its actions; previews are deleted."""
        task = self._running(task_id)
        task.started_at = task.started_at or time.time()
        slug = "_".join(re.findall(r"[a-z0-9]+", task.prompt.lower())[:4]) or "image"
        result = self._publish(task, task.kind, f"kcisok_{slug}_{task.id}.png")
        result.actions = _actions_for(task.kind)
        for image_id in task.image_ids[:-1]:
            self.images[image_id].deleted = True
        await self._emit(task, self._line(task, result, 100, list(result.actions)))

    async def fail(
        self, task_id: str, code: str = DEFAULT_FAILURE[0], message: str = DEFAULT_FAILURE[1]
    ) -> None:
        task = self._running(task_id)
        await self._emit(
            task, {"success": False, "task_id": task.id, "error": {"code": code, "message": message}}
        )

    def break_stream(self, task_id: str) -> None:
        """Cut the task's NDJSON stream mid-answer (the job itself goes on)."""
        self.tasks[task_id].stream.put_nowait(BREAK)

    async def renotify(self, task_id: str, body: dict[str, Any]) -> None:
        """POST a given (older) body to the task's callback URL again: a duplicate or late callback."""
        url = self.tasks[task_id].callback_url
        if url is not None:
            await self._post_callback(url, body)

    async def run_to_completion(self, task_id: str, steps: tuple[int, ...] = (35, 75)) -> None:
        for step in steps:
            await self.advance(task_id, step)
        await self.complete(task_id)

    def result_image(self, task_id: str) -> FakeImage:
        """The final image of a completed task."""
        task = self.tasks[task_id]
        if not task.final or not task.image_ids:
            raise ValueError(f"task {task_id} has no result")
        return self.images[task.image_ids[-1]]

    def quadrant_colour(self, task_id: str, quadrant: int) -> tuple[int, int, int]:
        return self.tasks[task_id].colours[quadrant - 1]

    # --- HTTP plumbing ---

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        headers = {key.lower(): value for key, value in request.headers.items()}
        self.requests.append(FakeRequest(request.method, request.path_qs, headers))
        if request.method == "POST":
            self.submissions.append((request.path, await json_object(request) or {}))
        if self._http_failures:
            status, code, bare = self._http_failures.pop(0)
            if bare:
                return web.Response(status=status, text="<html>Bad Gateway</html>", content_type="text/html")
            return _error(code or CODE_OF_STATUS.get(status, "api_error"), status=status)
        if request.path.startswith("/midjourney/"):
            token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if token != self.token:
                return _error("invalid_token")
        response: web.StreamResponse = await handler(request)
        return response

    # --- /midjourney/imagine ---

    async def _imagine(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request)
        if body is None:
            return _error("bad_request")
        action = body.get("action") or "generate"
        mode, callback_url = body.get("mode", "fast"), body.get("callback_url")
        if mode not in MODES or not isinstance(action, str):
            return _error("bad_request")
        if callback_url is not None and not isinstance(callback_url, str):
            return _error("bad_request", "callback_url must be a string")
        prepared = self._generate(body) if action == "generate" else self._act(action, body)
        if isinstance(prepared, web.Response):
            return prepared
        prompt, kind, colours, parent = prepared
        ndjson = NDJSON in request.headers.get("accept", "")
        wait_mode: Mode = "callback" if callback_url else ("stream" if ndjson else "wait")
        task = FakeTask(
            id=str(uuid.uuid4()),
            action=action,
            prompt=prompt,
            request=body,
            mode=wait_mode,
            ndjson=ndjson,
            kind=kind,
            colours=colours,
            callback_url=callback_url,
            parent_image_id=parent,
        )
        self.tasks[task.id] = task
        self._task_added.set()
        if wait_mode == "wait":
            return await self._long_wait(task)
        if self.auto_steps is not None:
            self._spawn(self._auto_run(task.id, self.auto_steps))
        if wait_mode == "callback":
            return web.json_response({"task_id": task.id})
        return await self._stream(request, task)

    def _generate(
        self, body: dict[str, Any]
    ) -> web.Response | tuple[str, ImageKind, tuple[tuple[int, int, int], ...], str | None]:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return _error("bad_request", PROMPT_REQUIRED)
        if self._banned(prompt):
            return _error("forbidden")
        leading_urls = 0
        for word in prompt.split():
            if not _IMAGE_URL_RE.match(word):
                break
            leading_urls += 1
        if leading_urls > MAX_PROMPT_IMAGES:
            return _error("bad_request", f"at most {MAX_PROMPT_IMAGES} image urls are allowed in the prompt")
        return prompt, "grid", self._colours(prompt + str(self._next_number())), None

    def _act(
        self, action: str, body: dict[str, Any]
    ) -> web.Response | tuple[str, ImageKind, tuple[tuple[int, int, int], ...], str | None]:
        image_id = body.get("image_id")
        if not isinstance(image_id, str) or not image_id:
            return _error("bad_request", "image_id is required")
        image = self.images.get(image_id)
        if image is None or image.kind == "preview" or image.deleted:
            # Progress previews have image_ids of their own, but nothing can be done with them.
            return _error("bad_request", f"image_id {image_id} is not valid")
        parent = self.tasks[image.task_id]
        if action == "variation_region":
            if not isinstance(body.get("mask"), str) or not body["mask"]:
                return _error("bad_request", "mask is required for variation_region")
        elif action not in image.actions:
            return _error("bad_request", f"action {action} is not allowed for this image")
        prompt = body.get("prompt")
        prompt = prompt if isinstance(prompt, str) and prompt.strip() else parent.prompt
        if self._banned(prompt):
            return _error("forbidden")
        index = re.fullmatch(r"(?:upscale|variation)([1-4])", action)
        if index is not None:
            base = image.colours[int(index.group(1)) - 1]
            colours = (base, *self._colours(f"{action}:{image_id}")[1:])
        else:
            colours = self._colours(f"{action}:{image_id}:{self._next_number()}")
        return prompt, _kind_after(action), colours, image_id

    async def _long_wait(self, task: FakeTask) -> web.Response:
        """The default mode: the answer is the final result, once the job is done."""
        self._spawn(self._auto_run(task.id, self.auto_steps or LONG_WAIT_STEPS))
        await task.done.wait()
        final = task.response or {}
        if final.get("success") is False:
            code = final["error"]["code"]
            return _error(code, final["error"]["message"], status=STATUS_OF_CODE.get(code, 400))
        return web.json_response(final)

    async def _stream(self, request: web.Request, task: FakeTask) -> web.StreamResponse:
        """NDJSON: one line per progress change, the last one final."""
        response = web.StreamResponse(headers={"Content-Type": NDJSON})
        await response.prepare(request)
        try:
            while True:
                line = await task.stream.get()
                if line is BREAK:
                    if request.transport is not None:
                        request.transport.close()
                    return response
                await response.write((json.dumps(line) + "\n").encode())
                if _is_final(line):
                    await response.write_eof()
                    return response
        except ConnectionError:
            return response
        finally:
            task.stream_closed.set()

    # --- other endpoints ---

    async def _describe(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return _error("bad_request")
        image_url = body.get("image_url")
        if not isinstance(image_url, str) or not image_url:
            return _error("bad_request", "image_url is required")
        self.described.append(image_url)
        size = await self._download_size(image_url)
        if size is None:
            return _error("api_error", FETCH_FAILED)
        shift = len(self.described) % len(DESCRIBE_LINES)
        lines = DESCRIBE_LINES[shift:] + DESCRIBE_LINES[:shift]
        return web.json_response({"descriptions": [f"{line} --ar {_aspect(*size)}" for line in lines]})

    async def _tasks(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return _error("bad_request")
        match body.get("action"):
            case "retrieve":
                task = self.tasks.get(str(body.get("id") or ""))
                # Undocumented: an unknown id retrieves an empty object.
                return web.json_response(task.record() if task is not None else {})
            case "retrieve_batch":
                ids = body.get("ids")
                if not isinstance(ids, list):
                    return _error("bad_request", "ids is required")
                offset, limit = int(body.get("offset") or 0), int(body.get("limit") or 12)
                found = [self.tasks[i].record() for i in ids if isinstance(i, str) and i in self.tasks]
                return web.json_response({"items": found[offset : offset + limit], "count": len(found)})
            case _:
                return _error("bad_request", "action must be retrieve or retrieve_batch")

    async def _seed(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return _error("bad_request")
        image_id = body.get("image_id")
        image = self.images.get(image_id) if isinstance(image_id, str) else None
        if image is None or image.kind == "preview":
            return _error("bad_request", "image_id is not valid")
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
            self._rendered[key] = self._draw(image, (width, height))
        mime = "image/webp" if image.kind == "preview" else "image/png"
        return web.Response(body=self._rendered[key], content_type=mime)

    # --- lines, images and callbacks ---

    def _publish(self, task: FakeTask, kind: ImageKind, name: str) -> FakeImage:
        image = FakeImage(
            id=str(SNOWFLAKE_BASE + self._next_number()),
            task_id=task.id,
            kind=kind,
            name=name,
            colours=task.colours,
        )
        self.images[image.id] = image
        task.image_ids.append(image.id)
        return image

    def _line(self, task: FakeTask, image: FakeImage, progress: int, actions: list[str]) -> dict[str, Any]:
        issued = int(task.created_at)
        signature = hashlib.sha256(f"{image.id}/{image.name}".encode()).hexdigest()
        raw_url = (
            f"{self.base_url}/attachments/{CHANNEL_ID}/{image.id}/{image.name}"
            f"?ex={issued + LINK_TTL_SECONDS:x}&is={issued:x}&hm={signature}&"
        )
        raw_width, raw_height = image.raw_size
        width, height = raw_width // 2, raw_height // 2
        return {
            "image_url": f"{raw_url}width={width}&height={height}",
            "image_width": width,
            "image_height": height,
            "image_id": image.id,
            "raw_image_url": raw_url,
            "raw_image_width": raw_width,
            "raw_image_height": raw_height,
            "progress": progress,
            "actions": actions,
            "task_id": task.id,
            "success": True,
        }

    async def _emit(self, task: FakeTask, line: dict[str, Any]) -> None:
        task.lines.append(line)
        final = _is_final(line)
        if final:
            task.finished_at = time.time()
        if task.mode == "stream":
            task.stream.put_nowait(line)
        if task.mode == "callback" and task.callback_url is not None and (task.ndjson or final):
            # With accept: application/x-ndjson every progress line is POSTed too, else the result only.
            await self._post_callback(task.callback_url, line)
        if final:
            task.done.set()

    async def _post_callback(self, url: str, body: dict[str, Any]) -> None:
        """One POST, one attempt, no retry, no signature (loopback only: a test never calls out)."""
        if self.drop_callbacks or self._http is None or not _is_loopback(url):
            return
        status = 0
        with contextlib.suppress(ClientError, TimeoutError):
            async with self._http.post(url, json=body) as response:
                status = response.status
        self.callbacks.append((url, copy.deepcopy(body), status))

    async def _download_size(self, url: str) -> tuple[int, int] | None:
        """What describe sees of `url`: the image's size, or None when it cannot fetch an image there."""
        if self._http is None or not _is_loopback(url):
            return None
        try:
            async with self._http.get(url, timeout=ClientTimeout(total=DOWNLOAD_TIMEOUT)) as response:
                if response.status != 200:
                    return None
                data = await response.content.read(MAX_DOWNLOAD_BYTES)
        except (ClientError, TimeoutError):
            return None
        try:
            with Image.open(io.BytesIO(data)) as picture:
                return picture.size
        except (UnidentifiedImageError, OSError):
            return None

    @staticmethod
    def _draw(image: FakeImage, size: tuple[int, int]) -> bytes:
        width, height = size
        picture = Image.new("RGB", size, image.colours[0])
        draw = ImageDraw.Draw(picture)
        if image.kind in ("grid", "preview"):
            for q, colour in enumerate(image.colours[:4]):
                x, y = (q % 2) * width // 2, (q // 2) * height // 2
                draw.rectangle((x, y, x + width // 2 - 1, y + height // 2 - 1), fill=colour)
        else:
            draw.ellipse((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=image.colours[1])
        out = io.BytesIO()
        picture.save(out, "WEBP" if image.kind == "preview" else "PNG")
        return out.getvalue()

    @staticmethod
    def _colours(seed: str) -> tuple[tuple[int, int, int], ...]:
        digest = hashlib.sha256(seed.encode()).digest()
        return tuple((digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 12, 3))

    def _banned(self, prompt: str) -> bool:
        words = set(re.findall(r"[\w-]+", prompt.lower()))
        return any(word in words for word in self.banned_words)

    def _next_number(self) -> int:
        self._counter += 1
        return self._counter

    # --- background progress ---

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _auto_run(self, task_id: str, steps: tuple[int, ...]) -> None:
        for step in steps:
            await asyncio.sleep(self.step_delay)
            if self.tasks[task_id].final:
                return
            await self.advance(task_id, step)
        await asyncio.sleep(self.step_delay)
        if not self.tasks[task_id].final:
            await self.complete(task_id)

    def _running(self, task_id: str) -> FakeTask:
        task = self.tasks[task_id]
        if task.final:
            raise ValueError(f"task {task_id} has finished; it cannot change")
        return task
