"""A test-controlled fake of trueai midjourney-proxy: its wire format over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import hashlib
import io
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, web
from PIL import Image, ImageDraw

from tests.fakes.loopback import FakeRequest, LoopbackService, json_object
from tests.fakes.videos import tiny_mp4

DEFAULT_SECRET: Final = "proxy-secret"
AUTH_MISSING: Final = "Authorization header missing."
DEFAULT_BANNED_WORDS: Final = frozenset({"nude", "gore"})
ID_EPOCH_MS: Final = 1_763_772_345_000  # trueai ids: 13-digit ms timestamp + 3 digits
HASH_NAMESPACE: Final = uuid.UUID("6f0c4c1e-3d0a-4a55-9a59-6d6a2f4f3b10")
INSTANCE_ID: Final = "1118138338562560102"
CHANNEL_ID: Final = "1118138338562560103"
GRID_SIZE: Final = (1024, 1024)
UPSCALE_SIZE: Final = (1024, 1024)
PREVIEW_SIZE: Final = (128, 128)
LINK_TTL_SECONDS: Final = 86_400  # Discord's ex= is about a day after is=
NOTIFY_TIMEOUT: Final = 5.0
MAX_REQUEST_BYTES: Final = 64 * 1024 * 1024  # describe/blend bodies carry base64 images
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
MODE_PREFIXES: Final = ("", "/mj-fast", "/mj-turbo", "/mj-relax")
BLEND_MIN_IMAGES: Final = 2
BLEND_MAX_IMAGES: Final = 5
ZOOM_MIN: Final = 1.0
ZOOM_MAX: Final = 2.0
LATEST_TASKS: Final = 100
KEYCAPS: Final = tuple(f"{n}\ufe0f\u20e3" for n in range(1, 6))  # 1️⃣ … 5️⃣

# Descriptions as trueai writes them.
OK_SUBMITTED: Final = "提交成功"
OK_SEED: Final = "成功"
IN_QUEUE: Final = "排队中，前面还有{n}个任务"
QUEUE_FULL: Final = {23: "队列已满，请稍后尝试", 9: "提交失败，队列已满，请稍后重试"}
BANNED: Final = "可能包含敏感词"
WAIT_MODAL: Final = "窗口等待"
PARENT_MISSING: Final = "关联任务不存在或已失效"
PARENT_STATUS: Final = "关联任务状态错误"
BAD_PARAMS: Final = "参数错误"
EMPTY_PROMPT: Final = "prompt不能为空"
BAD_BASE64: Final = "base64格式错误"
BLEND_COUNT: Final = "图片参数错误，2~5张图片"
BAD_DIMENSIONS: Final = "dimensions参数错误"
BAD_ZOOM: Final = "自定义变焦参数错误，--zoom 需在 1~2 之间"
MODAL_STATUS: Final = "任务状态错误"
TASK_MISSING: Final = "任务不存在"
NO_IMAGE_HASH: Final = "任务没有图片hash"
# A customId that is not on the parent's message is accepted, then Discord rejects the interaction.
INTERACTION_FAILED: Final = "[Interaction failed] This interaction failed"

TaskStatus = Literal["NOT_START", "SUBMITTED", "MODAL", "IN_PROGRESS", "SUCCESS", "FAILURE", "CANCEL"]
FINAL_STATUSES: Final = frozenset({"SUCCESS", "FAILURE", "CANCEL"})
# Notify de-duplication rank, as trueai's NotifyService orders "status:progress"; MODAL/CANCEL rank 0.
NOTIFY_RANK: Final[dict[str, int]] = {
    "NOT_START": 0,
    "MODAL": 0,
    "CANCEL": 0,
    "SUBMITTED": 1,
    "IN_PROGRESS": 2,
    "FAILURE": 3,
    "SUCCESS": 3,
}
GRID_ACTIONS: Final = frozenset({"IMAGINE", "VARIATION", "REROLL", "BLEND", "ZOOM", "PAN", "INPAINT"})
UPSCALE_ACTIONS: Final = frozenset({"UPSCALE", "UPSCALE_HD"})
VIDEO_ACTION: Final = "VIDEO"
DEFAULT_VIDEO_BYTES: Final = 2048  # the mdat payload of the MP4 a VIDEO task makes
TEXT_ACTIONS: Final = frozenset({"DESCRIBE", "SHORTEN"})
REMIXABLE_PREFIXES: Final = (
    "MJ::JOB::reroll::",
    "MJ::JOB::variation::",
    "MJ::JOB::low_variation::",
    "MJ::JOB::high_variation::",
    "MJ::JOB::pan_",
)
DESCRIBE_LINES: Final = (
    "a lighthouse on a basalt cliff at dusk, muted teal and amber, painterly --ar 1:1",
    "isometric cutaway of a tiny tea shop, warm light, soft shadows --ar 1:1",
    "portrait of an old fisherman, charcoal sketch, loose strokes --ar 1:1",
    "a fox curled in fresh snow, macro photograph, shallow depth of field --ar 1:1",
)
_DATA_URL_RE: Final = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.+)$", re.DOTALL)
_ZOOM_RE: Final = re.compile(r"--zoom\s+(?P<value>\d+(?:\.\d+)?)")
_TRAILING_NUMBER_RE: Final = re.compile(r"::(\d+)$")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _dumps(value: Any) -> str:
    # .NET writes UTF-8 JSON without \u escapes.
    return json.dumps(value, ensure_ascii=False)


def _reply(
    code: int,
    description: str,
    result: str | None = None,
    properties: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    body = {"code": code, "description": description, "result": result, "properties": properties or {}}
    return web.json_response(body, status=status, dumps=_dumps)


def _button(custom_id: str, *, label: str = "", emoji: str = "", style: int = 2) -> dict[str, Any]:
    return {"customId": custom_id, "emoji": emoji, "label": label, "type": 2, "style": style}


def _decode_data_url(value: object) -> tuple[str, bytes] | None:
    if not isinstance(value, str):
        return None
    match = _DATA_URL_RE.match(value.strip())
    if match is None:
        return None
    try:
        data = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return (match.group("mime"), data) if data else None


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


def _prompt_parts(prompt: str) -> list[str]:
    return [part.strip() for part in prompt.split(",") if part.strip()] or [prompt.strip() or "untitled"]


def _shortened(parts: list[str]) -> list[str]:
    return [", ".join(parts[: max(1, len(parts) - n)]) for n in range(len(KEYCAPS))]


def shorten_analysis(prompt: str, *, details: bool = False) -> str:
    """The /shorten answer in Midjourney's layout (plus doc §5): marked tokens, then five shorter prompts."""
    parts = _prompt_parts(prompt)
    if details:
        weights = [max(0.0, 1.0 - i * 0.21) for i in range(len(parts))]
        tokens = ", ".join(f"**{part}** ({weight:.2f})" for part, weight in zip(parts, weights, strict=True))
        bars = "\n".join(
            "█" * round(w * 10) + "░" * (10 - round(w * 10)) + f" {p}"
            for p, w in zip(parts, weights, strict=True)
        )
        head = f"## Important tokens\n{tokens}\n\n{bars}"
    else:
        marked = [f"**{p}**" if i == 0 else (f"~~{p}~~" if i % 2 else p) for i, p in enumerate(parts)]
        head = "## Important tokens\n" + ", ".join(marked)
    lines = "\n\n".join(f"{cap} {text}" for cap, text in zip(KEYCAPS, _shortened(parts), strict=True))
    return f"{head}\n## Shortened prompts\n{lines}"


@dataclass(slots=True)
class FakeTask:
    """One proxy task; mutable, because the fake moves it along."""

    id: str
    action: str
    prompt: str
    description: str
    hash: str
    submit_time: int
    status: TaskStatus = "NOT_START"
    progress: str = "0%"
    prompt_en: str = ""
    image_url: str | None = None
    image_size: tuple[int, int] | None = None
    video_url: str | None = None
    video_urls: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    fail_reason: str | None = None
    notify_hook: str | None = None
    state: str | None = None
    parent_id: str | None = None
    custom_id: str | None = None
    start_time: int | None = None
    finish_time: int | None = None
    modal_action: str | None = None  # the action a MODAL task becomes once confirmed
    mask_base64: str | None = None
    upload: tuple[str, bytes] | None = None  # describe input (mime, bytes)
    doomed: bool = False
    files: dict[str, str] = field(
        default_factory=dict
    )  # attachment name → "grid" | "upscale" | "preview" | "upload" | "video" | "still"
    last_notified: tuple[int, int] | None = None

    @property
    def percent(self) -> int:
        digits = self.progress.rstrip("%")
        return int(digits) if digits.isdigit() else 0

    def to_json(self) -> dict[str, Any]:
        """The task as trueai serialises it (camelCase, enum names, extra fields a client must ignore)."""
        return {
            "id": self.id,
            "action": self.action,
            "status": self.status,
            "prompt": self.prompt,
            "promptEn": self.prompt_en or self.prompt,
            "description": self.description,
            "state": self.state,
            "submitTime": self.submit_time,
            "startTime": self.start_time,
            "finishTime": self.finish_time,
            "progress": self.progress,
            "imageUrl": self.image_url,
            "imageWidth": self.image_size[0] if self.image_size else None,
            "imageHeight": self.image_size[1] if self.image_size else None,
            "failReason": self.fail_reason,
            "properties": copy.deepcopy(self.properties),
            "buttons": copy.deepcopy(self.buttons),
            "botType": "MID_JOURNEY",
            "mode": "FAST",
            "parentId": self.parent_id,
            "seed": None,
            "imageUrls": [{"url": self.image_url, "thumbnail": None}] if self.status == "SUCCESS" else [],
            "videoUrl": self.video_url,
            "videoUrls": copy.deepcopy(self.video_urls) or None,
        }


@dataclass(frozen=True, slots=True)
class _ActionSpec:
    """How the fake treats one pressed customId."""

    action: str
    always_modal: bool = False
    remixable: bool = False


def _action_spec(custom_id: str, parent: FakeTask) -> _ActionSpec:
    if custom_id.startswith("MJ::JOB::upsample::"):
        return _ActionSpec("UPSCALE")
    if custom_id.startswith("MJ::JOB::upsample_"):
        return _ActionSpec("UPSCALE_HD")
    if custom_id.startswith("MJ::JOB::reroll::"):
        return _ActionSpec("REROLL", remixable=True)
    if custom_id.startswith(REMIXABLE_PREFIXES):
        return _ActionSpec("PAN" if custom_id.startswith("MJ::JOB::pan_") else "VARIATION", remixable=True)
    if custom_id.startswith("MJ::Outpaint::"):
        return _ActionSpec("ZOOM")
    if custom_id.startswith("MJ::CustomZoom::"):
        return _ActionSpec("ZOOM", always_modal=True)
    if custom_id.startswith("MJ::Inpaint::"):
        return _ActionSpec("INPAINT", always_modal=True)
    if custom_id.startswith(("MJ::Job::PicReader::", "MJ::Job::PromptAnalyzer::")):
        return _ActionSpec("IMAGINE", always_modal=True)
    if custom_id.startswith("MJ::Picread::Retry"):
        return _ActionSpec("DESCRIBE")
    if custom_id.startswith("MJ::Job::PromptAnalyzerExtended"):
        return _ActionSpec("SHORTEN")
    if custom_id.startswith("MJ::JOB::animate"):
        return _ActionSpec("VIDEO")
    return _ActionSpec(parent.action)


def _keycap_line(text: str, index: int) -> str | None:
    """Line `index` (1-based) of a describe/shorten answer, keycap kept as trueai does."""
    prefix = KEYCAPS[index - 1] if 1 <= index <= len(KEYCAPS) else None
    if prefix is None:
        return None
    return next((line.strip() for line in text.splitlines() if line.startswith(prefix)), None)


class FakeMjProxy:
    """trueai midjourney-proxy on 127.0.0.1: real HTTP, notify hooks, progress driven by the test."""

    def __init__(
        self,
        *,
        api_secret: str | None = DEFAULT_SECRET,
        auto_steps: tuple[int, ...] | None = None,
        step_delay: float = 0.05,
        version: int = 6,
        video: bool = True,
    ) -> None:
        self.api_secret = api_secret
        self.auto_steps = auto_steps
        self.step_delay = step_delay
        self.version = version
        self.video = video  # trueai's EnableVideo: Animate buttons under upscales
        self.video_bytes = DEFAULT_VIDEO_BYTES
        self.base_url = ""
        self.tasks: dict[str, FakeTask] = {}
        self.submissions: list[tuple[str, dict[str, Any]]] = []
        self.notifications: list[tuple[str, dict[str, Any], int]] = []
        self.requests: list[FakeRequest] = []
        self.banned_words: set[str] = set(DEFAULT_BANNED_WORDS)
        self.queue_full = False
        self.queue_full_code = 23
        self.queue_ahead = 0
        self.remix = False
        self.remix_auto_submit = False  # the account confirms remix modals itself, with the parent's prompt
        self.drop_notifications = False
        self.attachment_delay = 0.0  # seconds each picture download takes
        # Test controls for hostile or broken answers: the seed text a task reports (trueai passes on
        # whatever Discord's message said), and the bytes served for attachments of a kind ("grid", …).
        self.seed_texts: dict[str, str] = {}
        self.served_instead: dict[str, bytes] = {}
        self.downloads_in_flight = 0
        self.most_downloads_in_flight = 0
        self._http_failures: list[int] = []
        self._images: dict[tuple[str, str], bytes] = {}
        self._counter = 0
        self._service = LoopbackService()
        self._background = self._service.background
        self._hook_client: ClientSession | None = None

    # --- lifecycle ---

    async def __aenter__(self) -> FakeMjProxy:
        app = web.Application(middlewares=[self._middleware], client_max_size=MAX_REQUEST_BYTES)
        for prefix in MODE_PREFIXES:
            app.router.add_post(f"{prefix}/mj/submit/imagine", self._imagine)
            app.router.add_post(f"{prefix}/mj/submit/action", self._action)
            app.router.add_post(f"{prefix}/mj/submit/modal", self._modal)
            app.router.add_post(f"{prefix}/mj/submit/describe", self._describe)
            app.router.add_post(f"{prefix}/mj/submit/blend", self._blend)
            app.router.add_post(f"{prefix}/mj/submit/shorten", self._shorten)
            app.router.add_get(f"{prefix}/mj/task/{{id}}/fetch", self._fetch)
            app.router.add_post(f"{prefix}/mj/task/{{id}}/cancel", self._cancel)
            app.router.add_get(f"{prefix}/mj/task/{{id}}/image-seed", self._image_seed)
            app.router.add_post(f"{prefix}/mj/task/list-by-condition", self._list_by_ids)
            app.router.add_post(f"{prefix}/mj/task/list-by-ids", self._list_by_ids)
            app.router.add_get(f"{prefix}/mj/task/list", self._list_latest)
        app.router.add_get("/attachments/{task}/{name}", self._attachment)
        self.base_url = await self._service.start(app, client_timeout=NOTIFY_TIMEOUT)
        self._hook_client = self._service.client
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._service.stop()

    # --- test controls ---

    def fail_next_http(self, status: int, times: int = 1) -> None:
        """Answer the next `times` requests (any path) with this bare HTTP status."""
        self._http_failures.extend([status] * times)

    def snapshot(self, task_id: str) -> dict[str, Any]:
        return self.tasks[task_id].to_json()

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
        """SUCCESS 100% with the final image (or text) and the buttons Midjourney shows for this kind."""
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
        task.properties["progressMessageId"] = task.properties["messageId"]
        if task.action == "DESCRIBE":
            text = "\n\n".join(
                f"{cap} {line}" for cap, line in zip(KEYCAPS, self._describe_lines(task), strict=False)
            )
            task.prompt = task.prompt_en = text
            task.properties["finalPrompt"] = text
            task.image_url = self._publish(task, f"{task.id}.png", "upload")
        elif task.action == "SHORTEN":
            details = task.custom_id is not None and task.custom_id.startswith(
                "MJ::Job::PromptAnalyzerExtended"
            )
            task.properties["finalPrompt"] = shorten_analysis(task.prompt, details=details)
        elif task.action == VIDEO_ACTION:
            task.properties["finalPrompt"] = task.prompt_en or task.prompt
            video = self._publish(task, f"fakeuser_{self._slug(task.prompt)}_{task.hash}_0.mp4", "video")
            still = self._publish(task, f"{task.hash}_0_640_N.png", "still")
            # trueai reports the video three ways; imageUrl is the video itself, not a picture.
            task.image_url = task.video_url = video
            task.video_urls = [{"url": video, "thumbnail": still}]
            task.image_size = UPSCALE_SIZE
        else:
            task.properties["finalPrompt"] = task.prompt_en or task.prompt
            kind = "upscale" if task.action in UPSCALE_ACTIONS else "grid"
            name = f"fakeuser_{self._slug(task.prompt)}_{task.hash}.png"
            task.image_url = self._publish(task, name, kind)
            task.image_size = UPSCALE_SIZE if kind == "upscale" else GRID_SIZE
        task.buttons = self._buttons_for(task)
        await self._notify(task)

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

    # --- HTTP plumbing ---

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(FakeRequest(request.method, request.path_qs, dict(request.headers)))
        if request.method == "POST" and "/mj/submit/" in request.path:
            self.submissions.append((request.path, await json_object(request) or {}))
        if self._http_failures:
            status = self._http_failures.pop(0)
            return web.Response(status=status, text=HTTPStatus(status).phrase)
        if self.api_secret is not None and not request.path.startswith("/attachments/"):
            # trueai takes the raw Authorization value, else Mj-Api-Secret.
            token = request.headers.get("Authorization") or request.headers.get("mj-api-secret")
            if token != self.api_secret:
                return web.Response(status=401, text=AUTH_MISSING, content_type="text/plain")
        response: web.StreamResponse = await handler(request)
        return response

    @staticmethod
    def _bad_json() -> web.Response:
        # ASP.NET's model binding answers malformed JSON with a problem-details 400.
        problem = {"title": "One or more validation errors occurred.", "status": 400}
        return web.json_response(problem, status=400, content_type="application/problem+json")

    def _running_task(self, task_id: str) -> FakeTask:
        task = self.tasks[task_id]
        if task.status in FINAL_STATUSES or task.status == "MODAL":
            raise ValueError(f"task {task_id} is {task.status}; it cannot progress")
        return task

    def _new_task(
        self, action: str, prompt: str, description: str, body: dict[str, Any], parent: FakeTask | None = None
    ) -> FakeTask:
        self._counter += 1
        task_id = f"{ID_EPOCH_MS + self._counter}{self._counter % 1000:03d}"
        hook = body.get("notifyHook")
        state = body.get("state")
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
            properties={
                "discordInstanceId": INSTANCE_ID,
                "discordChannelId": CHANNEL_ID,
                "botType": "MID_JOURNEY",
            },
        )
        if task.notify_hook:
            task.properties["notifyHook"] = task.notify_hook
        self.tasks[task_id] = task
        return task

    def _queue_refusal(self) -> web.Response | None:
        if not self.queue_full:
            return None
        refused_id = f"{ID_EPOCH_MS + self._counter + 1}999"  # trueai still names the task that never ran
        return _reply(self.queue_full_code, QUEUE_FULL.get(self.queue_full_code, QUEUE_FULL[23]), refused_id)

    def _banned_word(self, prompt: str) -> str | None:
        words = set(re.findall(r"[\w-]+", prompt.lower()))
        return next((word for word in sorted(self.banned_words) if word.lower() in words), None)

    def _accept(self, task: FakeTask) -> web.Response:
        """Answer a created task: 1, or 22 with numberOfQueues when tasks are ahead of it."""
        self._start_auto(task)
        props: dict[str, Any] = {"discordInstanceId": INSTANCE_ID, "discordChannelId": CHANNEL_ID}
        if self.queue_ahead > 0:
            props["numberOfQueues"] = self.queue_ahead
            return _reply(22, IN_QUEUE.format(n=self.queue_ahead), task.id, props)
        return _reply(1, OK_SUBMITTED, task.id, props)

    # --- submit handlers ---

    async def _imagine(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._bad_json()
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return _reply(4, EMPTY_PROMPT)
        banned = self._banned_word(prompt)
        if banned is not None:
            return _reply(24, BANNED, properties={"promptEn": prompt, "bannedWord": banned})
        refusal = self._queue_refusal()
        if refusal is not None:
            return refusal
        return self._accept(self._new_task("IMAGINE", prompt, f"/imagine {prompt}", body))

    async def _action(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._bad_json()
        task_id, custom_id = body.get("taskId"), body.get("customId")
        if not isinstance(task_id, str) or not isinstance(custom_id, str) or not task_id or not custom_id:
            return _reply(4, BAD_PARAMS)
        parent = self.tasks.get(task_id)
        if parent is None:
            return _reply(3, PARENT_MISSING, status=404)
        if parent.status != "SUCCESS":
            return _reply(4, PARENT_STATUS)
        if custom_id.startswith("MJ::BOOKMARK::"):
            # trueai answers ❤️ with success and the parent's own id; nothing runs.
            return _reply(1, OK_SUBMITTED, parent.id)
        refusal = self._queue_refusal()
        if refusal is not None:
            return refusal
        if custom_id.startswith("MJ::Job::PicReader::all"):
            lines = [
                line.partition(" ")[2] for line in parent.properties.get("finalPrompt", "").split("\n\n")
            ]
            started = [
                self._new_task("IMAGINE", line, f"/imagine {line}", body, parent) for line in lines if line
            ]
            for task in started:
                self._start_auto(task)
            return _reply(1, OK_SUBMITTED, ",".join(task.id for task in started))
        spec = _action_spec(custom_id, parent)
        task = self._new_task(spec.action, parent.prompt, f"/up {parent.id} {custom_id}", body, parent)
        task.custom_id = custom_id
        task.doomed = custom_id not in {button["customId"] for button in parent.buttons}
        if spec.always_modal or (spec.remixable and self._remixes(body)):
            return self._open_modal(task, parent, custom_id, spec)
        if spec.action == "DESCRIBE":
            task.upload = parent.upload
        return self._accept(task)

    def _remixes(self, body: dict[str, Any]) -> bool:
        """Remix on for the account, or asked for with trueai's enableRemix; auto-submit skips the modal."""
        return (self.remix or body.get("enableRemix") is True) and not self.remix_auto_submit

    def _open_modal(
        self, task: FakeTask, parent: FakeTask, custom_id: str, spec: _ActionSpec
    ) -> web.Response:
        offered = parent.prompt
        index = _TRAILING_NUMBER_RE.search(custom_id)
        if custom_id.startswith(("MJ::Job::PicReader::", "MJ::Job::PromptAnalyzer::")) and index:
            offered = _keycap_line(parent.properties.get("finalPrompt", ""), int(index.group(1))) or offered
        elif custom_id.startswith("MJ::CustomZoom::"):
            offered = f"{parent.prompt} --zoom 2"
        task.status, task.modal_action = "MODAL", spec.action
        task.properties.update({"finalPrompt": offered, "remix": True})
        props = {"finalPrompt": offered, "remix": True, "discordInstanceId": INSTANCE_ID}
        return _reply(21, WAIT_MODAL, task.id, props)

    async def _modal(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._bad_json()
        task_id, prompt = body.get("taskId"), body.get("prompt")
        if not isinstance(task_id, str) or not task_id:
            return _reply(4, BAD_PARAMS)
        task = self.tasks.get(task_id)
        if task is None:
            return _reply(3, PARENT_MISSING, status=404)
        if task.status != "MODAL":
            return _reply(4, MODAL_STATUS)
        parent = self.tasks.get(task.parent_id or "")
        if not isinstance(prompt, str) or not prompt.strip():
            # trueai falls back to the parent's prompt (for PicReader: the whole four-prompt answer).
            prompt = (parent.properties.get("finalPrompt") if parent else None) or task.prompt
        banned = self._banned_word(prompt)
        if banned is not None:
            return _reply(24, BANNED, properties={"promptEn": prompt, "bannedWord": banned})
        if (task.custom_id or "").startswith("MJ::CustomZoom::"):
            zoom = _ZOOM_RE.search(prompt)
            if zoom is None or not ZOOM_MIN <= float(zoom.group("value")) <= ZOOM_MAX:
                return _reply(4, BAD_ZOOM)
        mask = body.get("maskBase64")
        task.mask_base64 = mask if isinstance(mask, str) else None
        task.prompt = task.prompt_en = prompt
        task.action = task.modal_action or task.action
        task.status, task.progress = "NOT_START", "0%"
        task.properties.pop("remix", None)
        task.properties["finalPrompt"] = prompt
        return self._accept(task)

    async def _describe(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._bad_json()
        upload = _decode_data_url(body.get("base64"))
        if upload is None:
            return _reply(4, BAD_BASE64)
        refusal = self._queue_refusal()
        if refusal is not None:
            return refusal
        task = self._new_task("DESCRIBE", "", "", body)
        task.description = f"/describe {task.id}.png"
        task.upload = upload
        return self._accept(task)

    async def _blend(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._bad_json()
        images = body.get("base64Array")
        if not isinstance(images, list) or not BLEND_MIN_IMAGES <= len(images) <= BLEND_MAX_IMAGES:
            return _reply(4, BLEND_COUNT)
        dimensions = body.get("dimensions", "SQUARE")
        if dimensions not in ("PORTRAIT", "SQUARE", "LANDSCAPE"):
            return _reply(4, BAD_DIMENSIONS)
        if any(_decode_data_url(image) is None for image in images):
            return _reply(4, BAD_BASE64)
        refusal = self._queue_refusal()
        if refusal is not None:
            return refusal
        task = self._new_task("BLEND", "", "", body)
        task.description = f"/blend {task.id} {len(images)}"
        task.properties["dimensions"] = dimensions
        return self._accept(task)

    async def _shorten(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._bad_json()
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return _reply(4, EMPTY_PROMPT)
        refusal = self._queue_refusal()
        if refusal is not None:
            return refusal
        return self._accept(self._new_task("SHORTEN", prompt, f"/shorten {prompt}", body))

    # --- task queries ---

    async def _fetch(self, request: web.Request) -> web.Response:
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return web.Response(status=204)  # trueai: unknown id → 204 No Content
        return web.json_response(task.to_json(), dumps=_dumps)

    async def _cancel(self, request: web.Request) -> web.Response:
        """trueai: the task ends as FAILURE "取消任务" and is notified; finished tasks are left alone."""
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return _reply(3, "任务不存在", status=404)
        if task.status in ("SUCCESS", "FAILURE", "CANCEL"):
            return _reply(4, "任务状态错误")
        await self.fail(task.id, "取消任务")
        return _reply(1, "成功", result=task.id)

    async def _image_seed(self, request: web.Request) -> web.Response:
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return _reply(3, TASK_MISSING, status=404)
        if task.status != "SUCCESS" or task.action in TEXT_ACTIONS or not task.image_url:
            return _reply(4, NO_IMAGE_HASH, status=400)
        seed = self.seed_texts.get(task.id) or str(
            int(hashlib.sha256(task.hash.encode()).hexdigest()[:8], 16)
        )
        return _reply(1, OK_SEED, seed)

    async def _list_by_ids(self, request: web.Request) -> web.Response:
        body = await json_object(request)
        if body is None:
            return self._bad_json()
        ids = body.get("ids")
        found = (
            [self.tasks[i].to_json() for i in ids if isinstance(i, str) and i in self.tasks]
            if isinstance(ids, list)
            else []
        )
        return web.json_response(found, dumps=_dumps)

    async def _list_latest(self, request: web.Request) -> web.Response:
        latest = list(self.tasks.values())[-LATEST_TASKS:][::-1]
        return web.json_response([task.to_json() for task in latest], dumps=_dumps)

    async def _attachment(self, request: web.Request) -> web.Response:
        task = self.tasks.get(request.match_info["task"])
        name = request.match_info["name"]
        if task is None or name not in task.files:
            return web.Response(status=404, text="Not Found")
        data, mime = self._render(task, name, task.files[name])
        self.downloads_in_flight += 1
        self.most_downloads_in_flight = max(self.most_downloads_in_flight, self.downloads_in_flight)
        try:
            await asyncio.sleep(self.attachment_delay)
        finally:
            self.downloads_in_flight -= 1
        return web.Response(body=data, content_type=mime)

    # --- images ---

    def _publish(self, task: FakeTask, name: str, kind: str) -> str:
        """A Discord-like attachment URL for `name`; bytes are rendered on first download."""
        task.files[name] = kind
        issued = task.submit_time // 1000
        signature = hashlib.sha256(f"{task.id}/{name}".encode()).hexdigest()
        query = f"ex={issued + LINK_TTL_SECONDS:x}&is={issued:x}&hm={signature}"
        return f"{self.base_url}/attachments/{task.id}/{name}?{query}"

    def _render(self, task: FakeTask, name: str, kind: str) -> tuple[bytes, str]:
        if kind == "upload" and task.upload is not None:
            return task.upload[1], task.upload[0]
        if kind == "video":
            return tiny_mp4(self.video_bytes), "video/mp4"
        mime = "image/webp" if kind == "preview" else "image/png"
        if kind in self.served_instead:
            return self.served_instead[kind], mime
        key = (task.id, name)
        if key not in self._images:
            self._images[key] = self._draw(task, kind)
        return self._images[key], mime

    def video_of(self, task_id: str) -> bytes:
        """The MP4 a finished VIDEO task serves."""
        task = self.tasks[task_id]
        name = next(name for name, kind in task.files.items() if kind == "video")
        return self._render(task, name, "video")[0]

    @staticmethod
    def _draw(task: FakeTask, kind: str) -> bytes:
        digest = hashlib.sha256(f"{task.id}:{kind}".encode()).digest()
        colours = [tuple(digest[i : i + 3]) for i in range(0, 12, 3)]
        size = PREVIEW_SIZE if kind == "preview" else (UPSCALE_SIZE if kind == "upscale" else GRID_SIZE)
        image = Image.new("RGB", size, colours[0])
        draw = ImageDraw.Draw(image)
        width, height = size
        if kind in ("grid", "preview"):
            for i, colour in enumerate(colours):
                x, y = (i % 2) * width // 2, (i // 2) * height // 2
                draw.rectangle((x, y, x + width // 2 - 1, y + height // 2 - 1), fill=colour)
        else:
            draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=colours[1])
        out = io.BytesIO()
        image.save(out, "WEBP" if kind == "preview" else "PNG")
        return out.getvalue()

    # --- buttons ---

    def _buttons_for(self, task: FakeTask) -> list[dict[str, Any]]:
        h = task.hash
        if task.action in GRID_ACTIONS:
            return [
                *(_button(f"MJ::JOB::upsample::{i}::{h}", label=f"U{i}") for i in range(1, 5)),
                _button(f"MJ::JOB::reroll::0::{h}::SOLO", emoji="🔄"),
                *(_button(f"MJ::JOB::variation::{i}::{h}", label=f"V{i}") for i in range(1, 5)),
            ]
        if task.action in UPSCALE_ACTIONS:
            return self._upscale_buttons(h, hd=task.action == "UPSCALE")
        if task.action == "DESCRIBE":
            return [
                *(_button(f"MJ::Job::PicReader::{n}", emoji=KEYCAPS[n - 1]) for n in range(1, 5)),
                _button("MJ::Picread::Retry", emoji="🔄"),
                _button("MJ::Job::PicReader::all", label="Imagine all", emoji="🎉"),
            ]
        if task.action == "SHORTEN":
            picks = [_button(f"MJ::Job::PromptAnalyzer::{n}", emoji=KEYCAPS[n - 1]) for n in range(1, 6)]
            details = task.custom_id is not None and task.custom_id.startswith(
                "MJ::Job::PromptAnalyzerExtended"
            )
            return (
                picks
                if details
                else [*picks, _button("MJ::Job::PromptAnalyzerExtended", label="Show Details")]
            )
        return []

    def _upscale_buttons(self, h: str, *, hd: bool) -> list[dict[str, Any]]:
        """The set under an upscale; it depends on the model version (v8 has no HD upscale, zoom or pan)."""
        buttons: list[dict[str, Any]] = []
        if hd and self.version == 5:
            buttons += [
                _button(f"MJ::JOB::upsample_v5_2x::1::{h}::SOLO", label="Upscale (2x)", emoji="upscale_1"),
                _button(f"MJ::JOB::upsample_v5_4x::1::{h}::SOLO", label="Upscale (4x)", emoji="upscale_1"),
            ]
        elif hd and self.version in (6, 7):
            for style in ("subtle", "creative"):
                buttons.append(
                    _button(
                        f"MJ::JOB::upsample_v{self.version}_2x_{style}::1::{h}::SOLO",
                        label=f"Upscale ({style.title()})",
                        emoji="upscale_1",
                    )
                )
        buttons += [
            _button(f"MJ::JOB::low_variation::1::{h}::SOLO", label="Vary (Subtle)", emoji="🪄"),
            _button(f"MJ::JOB::high_variation::1::{h}::SOLO", label="Vary (Strong)", emoji="🪄"),
            _button(f"MJ::Inpaint::1::{h}::SOLO", label="Vary (Region)", emoji="🖌️"),
        ]
        if self.version < 8:
            buttons += [
                _button(f"MJ::Outpaint::50::1::{h}::SOLO", label="Zoom Out 2x", emoji="🔍"),
                _button(f"MJ::Outpaint::75::1::{h}::SOLO", label="Zoom Out 1.5x", emoji="🔍"),
                _button(f"MJ::CustomZoom::{h}", label="Custom Zoom", emoji="🔍"),
                *(
                    _button(f"MJ::JOB::pan_{side}::1::{h}::SOLO", emoji=arrow)
                    for side, arrow in (("left", "⬅️"), ("right", "➡️"), ("up", "⬆️"), ("down", "⬇️"))
                ),
            ]
        if self.video:
            # trueai adds these to every upscale when video is enabled, whatever the model version.
            buttons += [
                _button(f"MJ::JOB::animate_high::1::{h}::SOLO", label="Animate (High motion)", emoji="🎞️"),
                _button(f"MJ::JOB::animate_low::1::{h}::SOLO", label="Animate (Low motion)", emoji="🎞️"),
            ]
        buttons.append(_button(f"MJ::BOOKMARK::{h}", emoji="❤️"))
        return buttons

    # --- notify hook ---

    async def _notify(self, task: FakeTask) -> None:
        """One POST per newer status:progress, like trueai (equal ranks are dropped)."""
        rank = (NOTIFY_RANK[task.status], task.percent)
        if task.last_notified is not None and rank <= task.last_notified:
            return
        task.last_notified = rank
        await self._post_hook(task.notify_hook, task.to_json())

    async def _post_hook(self, url: str | None, body: dict[str, Any]) -> None:
        # Loopback only: a test must never make the fake call out. One attempt, no retry, like the proxy.
        if url is None or self.drop_notifications or not _is_loopback(url) or self._hook_client is None:
            return
        status = 0
        data = _dumps(body).encode()
        with contextlib.suppress(ClientError, TimeoutError):
            async with self._hook_client.post(
                url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
            ) as response:
                status = response.status
        self.notifications.append((url, body, status))

    # --- background progress ---

    def _start_auto(self, task: FakeTask) -> None:
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

    # --- content ---

    def _describe_lines(self, task: FakeTask) -> list[str]:
        shift = int(task.id) % len(DESCRIBE_LINES)
        return list(DESCRIBE_LINES[shift:] + DESCRIBE_LINES[:shift])

    @staticmethod
    def _slug(prompt: str) -> str:
        words = re.findall(r"[a-z0-9]+", prompt.lower())[:4]
        return "_".join(words) or "image"
