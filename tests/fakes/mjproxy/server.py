"""A test-controlled fake of midjourney-proxy over real HTTP on 127.0.0.1, as trueai or the Java build.

Middleware order and answers follow trueai's `src/Midjourney.API/Program.cs`: `SimpleAuthMiddleware.cs` (401
"Authorization header missing."), then `RateLimitingMiddleware.cs` (bare 429; bare 403 for a blacklisted IP),
then the controllers. The Java build checks `mj-api-secret` in `support/ApiAuthorizeInterceptor.java` (bare
401). Progress and the notify de-duplication follow `Services/NotifyService.cs`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
import uuid
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, web

from tests.fakes.loopback import FakeRequest, LoopbackService, json_object
from tests.fakes.mjproxy.attachments import Attachments
from tests.fakes.mjproxy.routes import Routes
from tests.fakes.mjproxy.task import (
    DEFAULT_SECRET,
    FINAL_STATUSES,
    IN_QUEUE,
    INTERACTION_FAILED,
    JAVA,
    KEYCAPS,
    NO_ACCOUNT,
    OK_SUBMITTED,
    QUEUE_FULL,
    TEXT_ACTIONS,
    TRUEAI,
    UPSCALE_ACTIONS,
    VIDEO_ACTION,
    FakeTask,
    Flavour,
    dumps,
    reply,
    shorten_analysis,
    trueai_buttons,
)

AUTH_MISSING: Final = "Authorization header missing."
DEFAULT_BANNED_WORDS: Final = frozenset({"nude", "gore"})
ID_EPOCH_MS: Final = 1_763_772_345_000  # ids: 13-digit ms timestamp + 3 digits, in both builds
HASH_NAMESPACE: Final = uuid.UUID("6f0c4c1e-3d0a-4a55-9a59-6d6a2f4f3b10")
INSTANCE_ID: Final = "1118138338562560102"
GRID_SIZE: Final = (1024, 1024)
NOTIFY_TIMEOUT: Final = 5.0
MAX_REQUEST_BYTES: Final = 64 * 1024 * 1024  # describe/blend bodies carry base64 images
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
MODE_PREFIXES: Final = ("", "/mj-fast", "/mj-turbo", "/mj-relax")  # trueai's speed-mode routes
DEFAULT_VIDEO_BYTES: Final = 2048
# NotifyService.ConvertOrder: one POST per newer "status:progress"; MODAL/CANCEL rank 0.
NOTIFY_RANK: Final[dict[str, int]] = {
    "NOT_START": 0,
    "MODAL": 0,
    "CANCEL": 0,
    "SUBMITTED": 1,
    "IN_PROGRESS": 2,
    "FAILURE": 3,
    "SUCCESS": 3,
}
DESCRIBE_LINES: Final = (
    "a lighthouse on a basalt cliff at dusk, muted teal and amber, painterly --ar 1:1",
    "isometric cutaway of a tiny tea shop, warm light, soft shadows --ar 1:1",
    "portrait of an old fisherman, charcoal sketch, loose strokes --ar 1:1",
    "a fox curled in fresh snow, macro photograph, shallow depth of field --ar 1:1",
)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


class FakeMjProxy(Routes, Attachments):
    """midjourney-proxy on 127.0.0.1: real HTTP, notify hooks, progress driven by the test."""

    def __init__(
        self,
        *,
        api_secret: str | None = DEFAULT_SECRET,
        auto_steps: tuple[int, ...] | None = None,
        step_delay: float = 0.05,
        version: int = 6,
        video: bool = True,
        flavour: Flavour = TRUEAI,
    ) -> None:
        self.api_secret = api_secret
        self.auto_steps = auto_steps
        self.step_delay = step_delay
        self.version = version
        self.flavour: Flavour = flavour
        self.video = video and flavour == TRUEAI  # Setting.EnableVideo: Animate under upscales
        self.video_bytes = DEFAULT_VIDEO_BYTES
        self.instance_id = INSTANCE_ID
        self.base_url = ""
        self.tasks: dict[str, FakeTask] = {}
        self.submissions: list[tuple[str, dict[str, Any]]] = []
        self.notifications: list[tuple[str, dict[str, Any], int]] = []
        self.requests: list[FakeRequest] = []
        self.banned_words: set[str] = set(DEFAULT_BANNED_WORDS)
        self.queue_full = False
        self.queue_full_code = 23
        self.queue_ahead = 0
        self.remix = False  # the Discord account's Remix (DiscordAccount.MjRemixOn)
        self.remix_auto_submit = False  # DiscordAccount.RemixAutoSubmit
        self.admin = True  # the secret belongs to an admin user (only admins may cancel)
        self.accounts_alive = True  # False: every submit answers code 3 "无可用的账号实例"
        self.limit_message: str | None = None  # a NewTask LogicException (daily/concurrency limits)
        self.base64_uploads = True  # Setting.EnableUserCustomUploadBase64
        self.fill_official_cdn = False  # Setting.EnableFillOfficialCdn: videoUrl/videoUrls on VIDEO tasks
        self.blacklisted = False  # the client's IP is on IpRateLimiting's blacklist: bare 403
        self.fetched_links: list[str] = []
        self.drop_notifications = False
        self.attachment_delay = 0.0  # seconds each picture download takes
        # Test controls for hostile or broken answers: the seed text a task reports (trueai passes on
        # whatever Discord's message said), and the bytes served for attachments of a kind ("grid", …).
        self.seed_texts: dict[str, str] = {}
        self.served_instead: dict[str, bytes] = {}
        self.downloads_in_flight = 0
        self.most_downloads_in_flight = 0
        self._http_failures: list[int] = []
        self._throttled = 0
        self._images: dict[tuple[str, str], bytes] = {}
        self._counter = 0
        self._service = LoopbackService()
        self._background = self._service.background
        self._hook_client: ClientSession | None = None

    # --- lifecycle ---

    async def __aenter__(self) -> FakeMjProxy:
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_REQUEST_BYTES)
        if self.flavour == JAVA:
            # server.servlet.context-path /mj; SubmitController.java and TaskController.java.
            app.router.add_post("/mj/submit/imagine", self.imagine)
            app.router.add_post("/mj/submit/change", self.change)
            app.router.add_post("/mj/submit/simple-change", self.simple_change)
            app.router.add_post("/mj/submit/describe", self.describe)
            app.router.add_post("/mj/submit/blend", self.blend)
            app.router.add_get("/mj/task/{id}/fetch", self.fetch)
            app.router.add_post("/mj/task/list-by-condition", self.list_by_condition)
            app.router.add_get("/mj/task/list", self.list_latest)
        else:
            for prefix in MODE_PREFIXES:
                app.router.add_post(f"{prefix}/mj/submit/imagine", self.imagine)
                app.router.add_post(f"{prefix}/mj/submit/action", self.action)
                app.router.add_post(f"{prefix}/mj/submit/modal", self.modal)
                app.router.add_post(f"{prefix}/mj/submit/describe", self.describe)
                app.router.add_post(f"{prefix}/mj/submit/blend", self.blend)
                app.router.add_post(f"{prefix}/mj/submit/shorten", self.shorten)
                app.router.add_get(f"{prefix}/mj/task/{{id}}/fetch", self.fetch)
                app.router.add_post(f"{prefix}/mj/task/{{id}}/cancel", self.cancel)
                app.router.add_get(f"{prefix}/mj/task/{{id}}/image-seed", self.image_seed)
                app.router.add_post(f"{prefix}/mj/task/list-by-condition", self.list_by_condition)
                app.router.add_post(f"{prefix}/mj/task/list-by-ids", self.list_by_condition)
                app.router.add_get(f"{prefix}/mj/task/list", self.list_latest)
        app.router.add_get("/attachments/{task}/{name}", self._attachment)
        app.router.add_route("*", "/{tail:.*}", self.missing)
        self.base_url = await self._service.start(app, client_timeout=NOTIFY_TIMEOUT)
        self._hook_client = self._service.client
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._service.stop()

    # --- test controls ---

    def fail_next_http(self, status: int, times: int = 1) -> None:
        """Answer the next `times` requests (any path) with this bare HTTP status."""
        self._http_failures.extend([status] * times)

    def throttle(self, times: int) -> None:
        """The rate limiter refuses the next `times` requests (bare 429, nothing handled)."""
        self._throttled += times

    def snapshot(self, task_id: str) -> dict[str, Any]:
        return self.tasks[task_id].to_json(self.flavour)

    def requests_to(self, fragment: str) -> list[FakeRequest]:
        return [r for r in self.requests if fragment in r.path]

    async def advance(self, task_id: str, progress: int) -> None:
        """SUBMITTED at 0, else IN_PROGRESS n% with a webp preview; notifies and awaits the hook."""
        task = self._running_task(task_id)
        if task.doomed:
            await self.fail(task_id, INTERACTION_FAILED)
            return
        task.start_time = task.start_time or _now_ms()
        task.properties.setdefault("finalPrompt", task.prompt_en or task.prompt)
        if progress <= 0:
            task.status, task.progress = "SUBMITTED", "0%"
        else:
            task.status, task.progress = "IN_PROGRESS", f"{min(progress, 99)}%"
            if task.action not in TEXT_ACTIONS:
                task.image_url = self._publish(task, f"{task.hash}_grid_0.webp", "preview")
        await self._notify(task)

    async def succeed(self, task_id: str) -> None:
        """SUCCESS 100% with the result and the buttons Midjourney shows for this kind."""
        task = self._running_task(task_id)
        if task.doomed:
            await self.fail(task_id, INTERACTION_FAILED)
            return
        now = _now_ms()
        task.start_time = task.start_time or now
        task.finish_time = now
        task.status, task.progress = "SUCCESS", "100%"
        task.properties["messageId"] = str(10**18 + int(task.id) % 10**12)
        task.properties["messageHash"] = task.hash
        task.properties.setdefault("finalPrompt", task.prompt_en or task.prompt)
        self._fill_result(task)
        if self.flavour == TRUEAI:
            task.buttons = trueai_buttons(task, version=self.version, video=self.video)
        await self._notify(task)

    def _fill_result(self, task: FakeTask) -> None:
        if task.action == "DESCRIBE":
            lines = self._describe_lines(task)
            text = "\n\n".join(f"{cap} {line}" for cap, line in zip(KEYCAPS, lines, strict=False))
            task.prompt = task.prompt_en = text
            task.properties["finalPrompt"] = text
            task.image_url = self._publish(task, f"{task.id}.png", "upload")
        elif task.action == "SHORTEN":
            task.properties["finalPrompt"] = shorten_analysis(task.prompt)
        elif task.action == VIDEO_ACTION or task.clip_of is not None:
            # The finished message's attachment is the video itself: imageUrl names it, contentType says
            # so (DiscordWebSocketService.FinishTask); videoUrl/videoUrls only with EnableFillOfficialCdn.
            video = self._publish(task, f"fakeuser_{self._slug(task.prompt)}_{task.hash}_0.mp4", "video")
            task.image_url, task.content_type, task.image_size = video, "video/mp4", GRID_SIZE
            if self.fill_official_cdn and task.action == VIDEO_ACTION:
                still = self._publish(task, f"{task.hash}_0_640_N.webp", "still")
                task.video_url = video
                task.video_urls = [{"url": video, "thumbnail": still}]
        else:
            kind = "upscale" if task.action in UPSCALE_ACTIONS else "grid"
            name = f"fakeuser_{self._slug(task.prompt)}_{task.hash}.png"
            task.image_url = self._publish(task, name, kind)
            task.image_size, task.content_type = GRID_SIZE, "image/png"

    async def fail(self, task_id: str, reason: str = "[Invalid parameter] Invalid value") -> None:
        task = self.tasks[task_id]
        task.status, task.progress, task.fail_reason = "FAILURE", "", reason
        task.finish_time = _now_ms()
        await self._notify(task)

    async def renotify(self, task_id: str, snapshot: dict[str, Any]) -> None:
        """POST an older snapshot again (a duplicate or late callback), bypassing the de-duplication."""
        await self._post_hook(self.tasks[task_id].notify_hook, snapshot)

    async def run_to_success(self, task_id: str, steps: tuple[int, ...] = (0, 35, 70)) -> None:
        for step in steps:
            await self.advance(task_id, step)
        await self.succeed(task_id)

    def seed_of(self, task: FakeTask) -> str:
        return self.seed_texts.get(task.id) or str(
            int(hashlib.sha256(task.hash.encode()).hexdigest()[:8], 16)
        )

    # --- HTTP plumbing ---

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(FakeRequest(request.method, request.path_qs, dict(request.headers)))
        if request.method == "POST" and "/mj/submit/" in request.path:
            self.submissions.append((request.path, await json_object(request) or {}))
        if self._http_failures:
            status = self._http_failures.pop(0)
            return web.Response(status=status, text="")
        if request.path.startswith("/attachments/"):
            response: web.StreamResponse = await handler(request)
            return response
        if self.api_secret is not None:
            if self.flavour == JAVA:
                if request.headers.get("mj-api-secret") != self.api_secret:
                    return web.Response(status=401)
            else:
                # WorkContext: the raw Authorization value, else Mj-Api-Secret.
                token = request.headers.get("Authorization") or request.headers.get("mj-api-secret")
                if token != self.api_secret:
                    return web.Response(status=401, text=AUTH_MISSING, content_type="text/plain")
        if self.flavour == TRUEAI:
            if self.blacklisted:
                return web.Response(status=403)  # RateLimitingMiddleware: status only, no body
            if self._throttled > 0:
                self._throttled -= 1
                return web.Response(status=429)
        response = await handler(request)
        return response

    @staticmethod
    def bad_json() -> web.Response:
        # ASP.NET's model binding answers malformed JSON with a problem-details 400.
        problem = {"title": "One or more validation errors occurred.", "status": 400}
        return web.json_response(problem, status=400, content_type="application/problem+json")

    def _running_task(self, task_id: str) -> FakeTask:
        task = self.tasks[task_id]
        if task.status in FINAL_STATUSES or task.status == "MODAL":
            raise ValueError(f"task {task_id} is {task.status}; it cannot progress")
        return task

    def new_task(
        self, action: str, prompt: str, description: str, body: dict[str, Any], parent: FakeTask | None = None
    ) -> FakeTask:
        self._counter += 1
        task_id = f"{ID_EPOCH_MS + self._counter}{self._counter % 1000:03d}"
        hook, state = body.get("notifyHook"), body.get("state")
        task = FakeTask(
            id=task_id,
            action=action,
            prompt=prompt,
            prompt_en=prompt,
            description=description,
            hash=str(uuid.uuid5(HASH_NAMESPACE, task_id)),
            submit_time=_now_ms(),
            notify_hook=hook if isinstance(hook, str) and hook else None,
            state=state if isinstance(state, str) else None,
            parent_id=parent.id if parent else None,
            properties={"discordInstanceId": INSTANCE_ID, "discordChannelId": INSTANCE_ID},
        )
        if task.notify_hook:
            task.properties["notifyHook"] = task.notify_hook
        self.tasks[task_id] = task
        return task

    def refusal(self) -> web.Response | None:
        """Why no task starts now: no live account (code 3), or a full queue (23, or 9 with its wording)."""
        if not self.accounts_alive:
            return reply(3, NO_ACCOUNT)
        if not self.queue_full:
            return None
        return reply(self.queue_full_code, QUEUE_FULL.get(self.queue_full_code, QUEUE_FULL[23]))

    def banned_word(self, prompt: str) -> str | None:
        words = set(re.findall(r"[\w-]+", prompt.lower()))
        return next((word for word in sorted(self.banned_words) if word.lower() in words), None)

    def accept(self, task: FakeTask) -> web.Response:
        """Answer a created task: 1, or 22 with numberOfQueues when tasks are ahead of it."""
        self.start_auto(task)
        props: dict[str, Any] = {"discordInstanceId": INSTANCE_ID, "discordChannelId": INSTANCE_ID}
        if self.queue_ahead > 0:
            props["numberOfQueues"] = self.queue_ahead
            return reply(22, IN_QUEUE.format(n=self.queue_ahead), task.id, props)
        return reply(1, OK_SUBMITTED, task.id, props)

    async def fetch_link(self, url: str) -> tuple[str, bytes] | None:
        """Download a describe/blend link as the proxy does; loopback only, so a test never calls out."""
        self.fetched_links.append(url)
        if not _is_loopback(url) or self._hook_client is None:
            return None
        with contextlib.suppress(ClientError, TimeoutError):
            async with self._hook_client.get(url) as response:
                if response.status == 200:
                    return response.content_type, await response.read()
        return None

    # --- notify hook ---

    async def _notify(self, task: FakeTask) -> None:
        """One POST per newer status:progress (equal ranks are dropped); the Java build does the same."""
        rank = (NOTIFY_RANK[task.status], task.percent)
        if task.last_notified is not None and rank <= task.last_notified:
            return
        task.last_notified = rank
        await self._post_hook(task.notify_hook, task.to_json(self.flavour))

    async def _post_hook(self, url: str | None, body: dict[str, Any]) -> None:
        # Loopback only: a test must never make the fake call out. One attempt, no retry, like the proxy.
        if url is None or self.drop_notifications or not _is_loopback(url) or self._hook_client is None:
            return
        status = 0
        data = dumps(body).encode()
        with contextlib.suppress(ClientError, TimeoutError):
            async with self._hook_client.post(
                url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
            ) as response:
                status = response.status
        self.notifications.append((url, body, status))

    # --- background progress ---

    def start_auto(self, task: FakeTask) -> None:
        if self.auto_steps is None or task.status == "MODAL":
            return
        runner = asyncio.get_running_loop().create_task(self._auto_run(task.id, self.auto_steps))
        self._background.add(runner)
        runner.add_done_callback(self._background.discard)

    async def _auto_run(self, task_id: str, steps: tuple[int, ...]) -> None:
        for step in steps:
            await asyncio.sleep(self.step_delay)
            if self.tasks[task_id].status in FINAL_STATUSES:
                return
            await self.advance(task_id, step)
        await asyncio.sleep(self.step_delay)
        if self.tasks[task_id].status not in FINAL_STATUSES:
            await self.succeed(task_id)

    def _describe_lines(self, task: FakeTask) -> list[str]:
        shift = int(task.id) % len(DESCRIBE_LINES)
        return list(DESCRIBE_LINES[shift:] + DESCRIBE_LINES[:shift])

    @staticmethod
    def _slug(prompt: str) -> str:
        words = re.findall(r"[a-z0-9]+", prompt.lower())[:4]
        return "_".join(words) or "image"
