"""A test-controlled fake of Ace Data Cloud's Midjourney API: its wire format over real HTTP on 127.0.0.1.

The answers follow Ace Data Cloud's own clients (see `wire.py` for the files): a submit is held until done
(the default), streamed as NDJSON lines, answered at once with a callback per line, or answered at once with
`async: true`; `/midjourney/tasks` reports a task's `state` and lists many at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import re
import time
import uuid
from collections.abc import Coroutine
from typing import Any, Final

from aiohttp import ClientError, ClientSession, web

from tests.fakes.acedata import pictures
from tests.fakes.acedata.endpoints import PROMPT_REQUIRED, OtherEndpoints
from tests.fakes.acedata.tasks import BREAK, FakeImage, FakeTask, Mode, is_final
from tests.fakes.acedata.wire import (
    CODE_OF_STATUS,
    DEFAULT_TOKEN,
    NDJSON,
    ImageKind,
    Model,
    actions_for,
    error_response,
    is_square,
    kind_after,
)
from tests.fakes.loopback import FakeRequest, LoopbackService, json_object

CHANNEL_ID: Final = "1233387694839697411"
SNOWFLAKE_BASE: Final = 1_234_197_197_067_915_365
LINK_TTL_SECONDS: Final = 86_400  # the proxied Discord links' ex= is about a day after is=
CALLBACK_TIMEOUT: Final = 5.0
LONG_WAIT_STEPS: Final = (35, 75)
MAX_PROMPT_IMAGES: Final = 5
MODES: Final = frozenset({"fast", "relax", "turbo"})
DEFAULT_FAILURE: Final = ("bad_request", "Unrecognized argument(s): `-c`, `x`")
DEFAULT_BANNED_WORDS: Final = frozenset({"nude", "gore"})
BILLED_PATHS: Final = frozenset({"/midjourney/imagine", "/midjourney/describe", "/midjourney/shorten"})
_IMAGE_URL_RE: Final = re.compile(r"^https?://\S+$")

Prepared = tuple[str, ImageKind, tuple[tuple[int, int, int], ...], str | None]


class FakeAceData(OtherEndpoints):
    """Ace Data Cloud on 127.0.0.1: every answer mode, progress driven by the test or paced by itself."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        model: Model = "v5",
        auto_steps: tuple[int, ...] | None = None,
        step_delay: float = 0.05,
    ) -> None:
        self.token = token
        self.model: Model = model
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
        # The account: None is an unlimited balance; each billed call takes one.
        self.balance: int | None = None
        self.disabled = False
        self.expired_tokens: set[str] = set()
        self.legacy_errors = False  # answer errors with the code at the top level (Nexior quotaExhausted)
        self.open_connections = 0  # submits held open right now (long waits and NDJSON streams)
        self.most_open_connections = 0
        self._http_failures: list[tuple[int, str | None, bool]] = []
        self._rendered: dict[tuple[str, str], bytes] = {}
        self._counter = 0
        self._task_added = asyncio.Event()
        self._service = LoopbackService()
        self._http: ClientSession | None = None

    # --- lifecycle ---

    async def __aenter__(self) -> FakeAceData:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/midjourney/imagine", self._imagine)
        app.router.add_post("/midjourney/describe", self._describe)
        app.router.add_post("/midjourney/shorten", self._shorten)
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

    def requests_to(self, path: str) -> int:
        return sum(request.path == path for request in self.requests)

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
        result.actions = actions_for(
            task.kind, self.model, made_by=task.action, square=is_square(task.prompt)
        )
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

    def abandon(self, task_id: str) -> None:
        """The job dies upstream: its record's `state` turns "failed" (Nexior `MidjourneyImagineState`) while
        the response stays the last progress line (or none): no `success: false`, and no callback."""
        task = self._running(task_id)
        task.abandoned = True
        task.finished_at = time.time()
        if task.mode == "stream":
            task.stream.put_nowait(BREAK)
        task.done.set()

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
            return self._error(code or CODE_OF_STATUS.get(status, "api_error"), status=status)
        if request.path.startswith("/midjourney/"):
            refused = self._account_refusal(request)
            if refused is not None:
                return self._error(refused)
        response: web.StreamResponse = await handler(request)
        return response

    def _account_refusal(self, request: web.Request) -> str | None:
        """The SDK's account codes: no token, a wrong or expired one, a disabled application, no balance."""
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        if not token:
            return "no_token"
        if token in self.expired_tokens:
            return "token_expired"
        if token != self.token:
            return "invalid_token"
        if self.disabled:
            return "disabled"
        if request.path in BILLED_PATHS and self.balance is not None:
            if self.balance <= 0:
                return "used_up"
            self.balance -= 1
        return None

    def _error(self, code: str, message: str | None = None, *, status: int | None = None) -> web.Response:
        return error_response(code, message, status=status, legacy=self.legacy_errors)

    # --- /midjourney/imagine ---

    async def _imagine(self, request: web.Request) -> web.StreamResponse:
        body = await json_object(request)
        if body is None:
            return self._error("bad_request")
        action = body.get("action") or "generate"
        mode, callback_url = body.get("mode", "fast"), body.get("callback_url")
        if mode not in MODES or not isinstance(action, str):
            return self._error("bad_request")
        if callback_url is not None and not isinstance(callback_url, str):
            return self._error("bad_request", "callback_url must be a string")
        prepared = self._generate(body) if action == "generate" else self._act(action, body)
        if isinstance(prepared, web.Response):
            return prepared
        prompt, kind, colours, parent = prepared
        ndjson = NDJSON in request.headers.get("accept", "")
        task = FakeTask(
            id=str(uuid.uuid4()),
            action=action,
            prompt=prompt,
            request=body,
            mode=self._mode(body, ndjson),
            ndjson=ndjson,
            kind=kind,
            colours=colours,
            callback_url=callback_url,
            parent_image_id=parent,
        )
        self.tasks[task.id] = task
        self._task_added.set()
        if task.mode == "wait":
            return await self._held(task, self._long_wait(task))
        if self.auto_steps is not None:
            self._spawn(self._auto_run(task.id, self.auto_steps))
        if task.mode in ("callback", "async"):
            # MidjourneyMCP `core/client.py` reads `task_id` off this answer and polls /midjourney/tasks.
            return web.json_response({"task_id": task.id, "trace_id": str(uuid.uuid4())})
        return await self._held(task, self._stream(request, task))

    @staticmethod
    def _mode(body: dict[str, Any], ndjson: bool) -> Mode:
        if body.get("callback_url"):
            return "callback"
        if body.get("async") is True:
            return "async"
        return "stream" if ndjson else "wait"

    def _generate(self, body: dict[str, Any]) -> web.Response | Prepared:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return self._error("bad_request", PROMPT_REQUIRED)
        if self._banned(prompt):
            return self._error("forbidden")
        leading_urls = 0
        for word in prompt.split():
            if not _IMAGE_URL_RE.match(word):
                break
            leading_urls += 1
        if leading_urls > MAX_PROMPT_IMAGES:
            return self._error(
                "bad_request", f"at most {MAX_PROMPT_IMAGES} image urls are allowed in the prompt"
            )
        return prompt, "grid", pictures.colours(prompt + str(self._next_number())), None

    def _act(self, action: str, body: dict[str, Any]) -> web.Response | Prepared:
        image_id = body.get("image_id")
        if not isinstance(image_id, str) or not image_id:
            return self._error("bad_request", "image_id is required")
        image = self.images.get(image_id)
        if image is None or image.kind == "preview" or image.deleted:
            # Progress previews have image_ids of their own, but nothing can be done with them.
            return self._error("bad_request", f"image_id {image_id} is not valid")
        parent = self.tasks[image.task_id]
        if action == "variation_region":
            if not isinstance(body.get("mask"), str) or not body["mask"]:
                return self._error("bad_request", "mask is required for variation_region")
        elif action not in image.actions:
            return self._error("bad_request", f"action {action} is not allowed for this image")
        prompt = body.get("prompt")
        prompt = prompt if isinstance(prompt, str) and prompt.strip() else parent.prompt
        if self._banned(prompt):
            return self._error("forbidden")
        index = re.fullmatch(r"(?:upscale|variation)([1-4])", action)
        if index is not None:
            base = image.colours[int(index.group(1)) - 1]
            colours = (base, *pictures.colours(f"{action}:{image_id}")[1:])
        else:
            colours = pictures.colours(f"{action}:{image_id}:{self._next_number()}")
        return prompt, kind_after(action), colours, image_id

    async def _held(
        self, task: FakeTask, answer: Coroutine[Any, Any, web.StreamResponse]
    ) -> web.StreamResponse:
        """Count the connection a long wait or a stream keeps open for the whole job."""
        self.open_connections += 1
        self.most_open_connections = max(self.most_open_connections, self.open_connections)
        try:
            return await answer
        finally:
            self.open_connections -= 1

    async def _long_wait(self, task: FakeTask) -> web.StreamResponse:
        """The default mode: the answer is the final result, once the job is done."""
        self._spawn(self._auto_run(task.id, self.auto_steps or LONG_WAIT_STEPS))
        await task.done.wait()
        final = task.response or {}
        if final.get("success") is False:
            return self._error(final["error"]["code"], final["error"]["message"])
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
                if is_final(line):
                    await response.write_eof()
                    return response
        except ConnectionError:
            return response
        finally:
            task.stream_closed.set()

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
        final = is_final(line)
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
        if self.drop_callbacks or self._http is None or not pictures.is_loopback(url):
            return
        status = 0
        with contextlib.suppress(ClientError, TimeoutError):
            async with self._http.post(url, json=body) as response:
                status = response.status
        self.callbacks.append((url, copy.deepcopy(body), status))

    def _banned(self, prompt: str) -> bool:
        words = set(re.findall(r"[\w-]+", prompt.lower()))
        return any(word in words for word in self.banned_words)

    def _next_number(self) -> int:
        self._counter += 1
        return self._counter

    # --- background progress ---

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._service.background.add(task)
        task.add_done_callback(self._service.background.discard)

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
