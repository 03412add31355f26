"""midjourney-proxy (plus / trueai) adapter: submits, task polling, notify-hook parsing and button mapping."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Mapping
from dataclasses import replace
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Final
from urllib.parse import quote

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from bot.domain import (
    REMIX_ACTIONS,
    Action,
    ActionKind,
    BackendBusy,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Capabilities,
    Command,
    FailureKind,
    InvalidCallback,
    JobStatus,
    PromptRejected,
    Submission,
    TaskNotFound,
    TaskUpdate,
    UpdateSink,
)
from bot.media import download_from_backend

AUTH_HEADER: Final = "mj-api-secret"
DEFAULT_MAX_PROMPT_LENGTH: Final = 6000
STATE_MAX_LENGTH: Final = 255  # BaseSubmitDTO.state limit
REQUEST_TIMEOUT: Final = 30.0  # seconds; describe/blend uploads carry megabytes of base64
# Only idempotent GETs (fetch, image-seed) are retried; a submit is never re-sent: it may start a job twice.
GET_RETRY_BACKOFF: Final[tuple[float, ...]] = (0.2, 0.6)
RETRY_AFTER_CAP: Final = 5.0  # seconds; a longer Retry-After is not worth holding a GET for
PNG_MIME: Final = "image/png"


class ReturnCode(IntEnum):
    """The `code` of a submit answer; HTTP stays 200 for all but an unknown parent (404)."""

    SUCCESS = 1
    NOT_FOUND = 3
    VALIDATION_ERROR = 4
    FAILURE = 9
    MODAL_OR_EXISTED = 21
    IN_QUEUE = 22
    QUEUE_REJECTED = 23
    BANNED_PROMPT = 24


class ProxyStatus(StrEnum):
    NOT_START = "NOT_START"
    SUBMITTED = "SUBMITTED"
    MODAL = "MODAL"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCEL = "CANCEL"


_STATUS: Final[Mapping[ProxyStatus, JobStatus]] = {
    ProxyStatus.NOT_START: JobStatus.QUEUED,
    ProxyStatus.SUBMITTED: JobStatus.RUNNING,
    ProxyStatus.IN_PROGRESS: JobStatus.RUNNING,
    ProxyStatus.MODAL: JobStatus.NEEDS_INPUT,
    ProxyStatus.SUCCESS: JobStatus.SUCCEEDED,
    ProxyStatus.FAILURE: JobStatus.FAILED,
    ProxyStatus.CANCEL: JobStatus.FAILED,
}

# Task actions whose result is text in properties.finalPrompt rather than a picture.
TEXT_ACTIONS: Final = frozenset({"DESCRIBE", "SHORTEN"})
VIDEO_ACTION: Final = "VIDEO"
VIDEO_SUFFIXES: Final = (".mp4",)


class _Wire(BaseModel):
    """Base of the proxy's JSON shapes: camelCase on the wire, unknown keys ignored."""

    # trueai and the Java build disagree on some types (ids and `result` as numbers in old builds).
    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        coerce_numbers_to_str=True,
    )


class ProxyProperties(_Wire):
    """The subset of `properties` (submit answers and tasks) the bot reads."""

    final_prompt: str | None = None
    number_of_queues: int | None = None
    remix: bool | None = None
    status: str | None = None
    image_url: str | None = None
    banned_word: str | None = None
    prompt_en: str | None = None


def _empty_if_none(value: object) -> object:
    return {} if value is None else value


def _blank_if_none(value: object) -> object:
    return "" if value is None else value


def _no_items_if_none(value: object) -> object:
    return () if value is None else value


# trueai serialises absent objects, lists and strings as null; the bot treats them as empty.
Properties = Annotated[ProxyProperties, BeforeValidator(_empty_if_none)]


class SubmitReply(_Wire):
    """Answer of every /mj/submit/* call and of image-seed."""

    code: int
    description: Annotated[str, BeforeValidator(_blank_if_none)] = ""
    result: str | None = None
    properties: Properties = Field(default_factory=ProxyProperties)


class ProxyButton(_Wire):
    custom_id: str | None = None
    label: str | None = None
    emoji: str | None = None


class ProxyVideo(_Wire):
    """One entry of trueai's `videoUrls`: a video and its still."""

    url: str | None = None
    thumbnail: str | None = None


class ProxyTask(_Wire):
    """A task as fetch returns it and the notify hook posts it."""

    id: str = Field(min_length=1)
    status: ProxyStatus
    action: str | None = None
    prompt: str | None = None
    prompt_en: str | None = None
    description: str | None = None
    state: str | None = None
    progress: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    video_urls: Annotated[tuple[ProxyVideo, ...], BeforeValidator(_no_items_if_none)] = ()
    fail_reason: str | None = None
    properties: Properties = Field(default_factory=ProxyProperties)
    buttons: Annotated[tuple[ProxyButton, ...], BeforeValidator(_no_items_if_none)] = ()


# --- pure mapping functions ------------------------------------------------------------------------------

_PROGRESS_RE: Final = re.compile(r"^\s*(\d{1,3})(?:\.\d+)?\s*%?\s*$")
MAX_PROGRESS: Final = 100


def parse_progress(value: str | None) -> int | None:
    """The proxy's progress string ("46%", "0%", "" after failure, null) as a percentage."""
    if value is None:
        return None
    match = _PROGRESS_RE.match(value)
    if match is None:
        return None
    return min(int(match.group(1)), MAX_PROGRESS)


# trueai keeps the chosen line's keycap ("1️⃣ ") at the start of a PicReader modal's finalPrompt.
_KEYCAP_PREFIX: Final = re.compile(r"^\s*\d\ufe0f?\u20e3\s*")
_QUEUE_FULL_WORDING: Final = "队列已满"


def strip_keycap(prompt: str) -> str:
    return _KEYCAP_PREFIX.sub("", prompt, count=1).strip()


def _is_modal(reply: SubmitReply) -> bool:
    """Code 21 means "modal required" in plus/trueai but "task already exists" in old Java builds."""
    props = reply.properties
    if props.remix or props.final_prompt is not None or props.status == ProxyStatus.MODAL:
        return True
    # The plus doc's own modal example has no properties; only an EXISTED answer carries status/imageUrl.
    return props.status is None and props.image_url is None


def _task_ids(reply: SubmitReply) -> tuple[str, ...]:
    # trueai answers "Imagine all" with the four new task ids joined by commas.
    ids = tuple(part.strip() for part in (reply.result or "").split(",") if part.strip())
    if not ids:
        raise BackendUnavailable(f"midjourney-proxy accepted a task without an id (code {reply.code})")
    return ids


def raise_for_code(reply: SubmitReply) -> None:
    """Raise the domain error for a refusal code; return for the codes that carry a task."""
    match reply.code:
        case ReturnCode.SUCCESS | ReturnCode.IN_QUEUE | ReturnCode.MODAL_OR_EXISTED:
            return
        case ReturnCode.QUEUE_REJECTED:
            raise BackendBusy(reply.description or "queue full")
        case ReturnCode.FAILURE if _QUEUE_FULL_WORDING in reply.description:
            raise BackendBusy(reply.description)
        case ReturnCode.FAILURE:
            # 9 is the proxy's "system exception" (no account instance, Discord send failed): it broke.
            raise BackendUnavailable(f"midjourney-proxy failure: {reply.description}")
        case ReturnCode.BANNED_PROMPT:
            raise PromptRejected(
                reply.description or "banned prompt", banned_word=reply.properties.banned_word
            )
        case ReturnCode.NOT_FOUND:
            raise TaskNotFound(reply.description or "task not found")
        case ReturnCode.VALIDATION_ERROR:
            raise BackendRefused(reply.description or "validation error")
        case _:
            raise BackendRefused(f"midjourney-proxy refused (code {reply.code}): {reply.description}")


def submission_from_reply(reply: SubmitReply) -> Submission:
    """Map a submit answer onto a Submission, or raise the domain error its code stands for."""
    raise_for_code(reply)
    first, *extra = _task_ids(reply)
    if reply.code == ReturnCode.IN_QUEUE:
        return Submission(first, JobStatus.QUEUED, queue_position=reply.properties.number_of_queues)
    if reply.code == ReturnCode.MODAL_OR_EXISTED and _is_modal(reply):
        modal_prompt = strip_keycap(reply.properties.final_prompt) if reply.properties.final_prompt else None
        return Submission(first, JobStatus.NEEDS_INPUT, modal_prompt=modal_prompt)
    # Code 1 (and an old build's "already exists"): the proxy reports SUBMITTED/progress later.
    return Submission(first, JobStatus.QUEUED, extra_task_ids=tuple(extra))


_FAILURE_MARKERS: Final[tuple[tuple[FailureKind, tuple[str, ...]], ...]] = (
    (FailureKind.BANNED, ("[banned prompt detected]", "banned prompt", "敏感词")),
    (FailureKind.INVALID, ("[invalid parameter]",)),
    (FailureKind.QUEUE_FULL, ("队列已满",)),
    # Checked before CANCELLED: a dead account's tasks fail with "任务超时，自动取消".
    (FailureKind.TIMEOUT, ("任务超时", "timeout")),
    (FailureKind.CANCELLED, ("取消",)),
)


def classify_failure(reason: str | None, status: ProxyStatus = ProxyStatus.FAILURE) -> FailureKind:
    """Why a task failed, read from Midjourney's / the proxy's failReason wording."""
    text = (reason or "").lower()
    for kind, markers in _FAILURE_MARKERS:
        if any(marker in text for marker in markers):
            return kind
    return FailureKind.CANCELLED if status is ProxyStatus.CANCEL else FailureKind.BACKEND


_PAN_KINDS: Final = {
    "left": ActionKind.PAN_LEFT,
    "right": ActionKind.PAN_RIGHT,
    "up": ActionKind.PAN_UP,
    "down": ActionKind.PAN_DOWN,
}
_VERSION: Final = r"v\d+(?:r\d+)?"  # v5, v6, v6r1 (6.1), v7
_END: Final = r"(?:::|$)"

# Ordered, first match wins. Emoji are never read: trueai sends custom emoji names such as "upscale_1".
_BUTTON_RULES: Final[tuple[tuple[re.Pattern[str], ActionKind], ...]] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"^MJ::JOB::upsample::(?P<index>\d+)::", ActionKind.UPSCALE),
        (r"^MJ::JOB::variation::(?P<index>\d+)::", ActionKind.VARIATION),
        (r"^MJ::JOB::reroll::", ActionKind.REROLL),
        (rf"^MJ::JOB::upsample_{_VERSION}_2x_subtle{_END}", ActionKind.UPSCALE_SUBTLE),
        (rf"^MJ::JOB::upsample_{_VERSION}_2x_creative{_END}", ActionKind.UPSCALE_CREATIVE),
        (rf"^MJ::JOB::upsample_{_VERSION}_2x{_END}", ActionKind.UPSCALE_2X),
        (rf"^MJ::JOB::upsample_{_VERSION}_4x{_END}", ActionKind.UPSCALE_4X),
        (r"^MJ::JOB::low_variation::", ActionKind.VARY_SUBTLE),
        (r"^MJ::JOB::high_variation::", ActionKind.VARY_STRONG),
        (r"^MJ::Inpaint::", ActionKind.VARY_REGION),
        (r"^MJ::Outpaint::50::", ActionKind.ZOOM_OUT_2X),
        (r"^MJ::Outpaint::75::", ActionKind.ZOOM_OUT_1_5X),
        (r"^MJ::Outpaint::100::", ActionKind.MAKE_SQUARE),
        (r"^MJ::CustomZoom::", ActionKind.CUSTOM_ZOOM),
        *((rf"^MJ::JOB::pan_{side}::", kind) for side, kind in _PAN_KINDS.items()),
        (r"^MJ::Job::PicReader::all\b", ActionKind.IMAGINE_ALL),
        (r"^MJ::Job::PicReader::(?P<index>\d+)", ActionKind.PROMPT_PICK),
        (r"^MJ::Picread::Retry", ActionKind.DESCRIBE_AGAIN),
        (r"^MJ::Job::PromptAnalyzerExtended", ActionKind.SHOW_DETAILS),
        (r"^MJ::Job::PromptAnalyzer::(?P<index>\d+)", ActionKind.PROMPT_PICK),
        (r"^MJ::BOOKMARK::", ActionKind.BOOKMARK),
        (r"^MJ::JOB::animate_high::", ActionKind.ANIMATE_HIGH),
        (r"^MJ::JOB::animate_low::", ActionKind.ANIMATE_LOW),
        # Under a video: extend it (animate_*_extend) or pick one of the batch (video_virtual_upscale).
        (r"^MJ::JOB::(?:animate|video)", ActionKind.ANIMATE),
    )
)


def parse_button(custom_id: str, label: str | None, emoji: str | None) -> Action:
    """Map one proxy button onto an Action by its customId prefix; label and emoji are kept as given."""
    for pattern, kind in _BUTTON_RULES:
        match = pattern.match(custom_id)
        if match is not None:
            index = match.groupdict().get("index")
            return Action(kind, custom_id, int(index) if index else 0, label or "", emoji or "")
    return Action(ActionKind.UNKNOWN, custom_id, 0, label or "", emoji or "")


def _result_text(task: ProxyTask) -> str | None:
    return task.properties.final_prompt or task.prompt or task.prompt_en


def _result_video(task: ProxyTask) -> str | None:
    """The video a finished VIDEO task made: `videoUrl`, else the first of `videoUrls`."""
    listed = next((video.url for video in task.video_urls if video.url), None)
    video = task.video_url or listed
    if video is None and task.action == VIDEO_ACTION and task.image_url and _names_a_video(task.image_url):
        # trueai may fill only imageUrl, which for a VIDEO task is the video itself.
        video = task.image_url
    return video


def _names_a_video(url: str) -> bool:
    return url.split("?", 1)[0].lower().endswith(VIDEO_SUFFIXES)


def task_to_update(payload: ProxyTask) -> TaskUpdate:
    """Normalise a proxy task (fetch answer or notify body) into a TaskUpdate."""
    status = _STATUS[payload.status]
    image = payload.image_url or None
    succeeded = status is JobStatus.SUCCEEDED
    failed = status is JobStatus.FAILED
    video = _result_video(payload) if succeeded else None
    if image is not None and image == video:
        image = None
    return TaskUpdate(
        task_id=payload.id,
        status=status,
        progress=MAX_PROGRESS if succeeded else parse_progress(payload.progress),
        # While running imageUrl is Discord's partial (webp) preview; on success it is the result.
        preview_url=image if status is JobStatus.RUNNING else None,
        image_url=image if succeeded else None,
        video_url=video,
        actions=(
            tuple(parse_button(b.custom_id, b.label, b.emoji) for b in payload.buttons if b.custom_id)
            if succeeded
            else None
        ),
        text=_result_text(payload) if succeeded and payload.action in TEXT_ACTIONS else None,
        fail_reason=payload.fail_reason if failed else None,
        failure=classify_failure(payload.fail_reason, payload.status) if failed else None,
        queue_position=payload.properties.number_of_queues if status is JobStatus.QUEUED else None,
    )


def data_url(data: bytes, mime_type: str) -> str:
    """The proxy takes images as data URLs ("data:image/png;base64,…"), never bare base64."""
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


# --- the adapter -----------------------------------------------------------------------------------------

HTTP_NO_CONTENT: Final = 204
HTTP_BAD_REQUEST: Final = 400
HTTP_UNAUTHORIZED: Final = 401
HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_SERVER_ERROR: Final = 500


def _retry_delay(response: httpx.Response | None, default: float) -> float:
    raw = response.headers.get("retry-after") if response is not None else None
    if raw is not None and raw.strip().isdigit():
        return min(float(raw), RETRY_AFTER_CAP)
    return default


def _parse_reply(response: httpx.Response) -> SubmitReply | None:
    try:
        return SubmitReply.model_validate_json(response.content)
    except ValidationError:
        return None


class MjProxyBackend:
    """Speaks the midjourney-proxy REST protocol; pushes arrive through the notify hook (parse_callback)."""

    name = "mjproxy"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        api_key: str | None,
        notify_url: str | None,
        max_prompt_length: int = DEFAULT_MAX_PROMPT_LENGTH,
    ) -> None:
        self._client = client
        # The plus doc writes the base as "http://ip:port/mj"; our paths already start with /mj.
        base = base_url.rstrip("/")
        self._base = base.removesuffix("/mj") if base.endswith("/mj") else base
        self._origin = httpx.URL(self._base)
        self._headers = {AUTH_HEADER: api_key} if api_key else {}
        self._notify_url = notify_url
        self.capabilities = Capabilities(
            commands=frozenset(Command),
            push=notify_url is not None,
            max_prompt_length=max_prompt_length,
            remix=REMIX_ACTIONS,
            animate=True,
        )

    async def start(self, sink: UpdateSink) -> None:
        """Nothing to run: updates come from the notify hook and from polling."""

    async def aclose(self) -> None:
        """The HTTP client is shared and closed by its owner."""

    # --- submits ---

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return await self._submit("/mj/submit/imagine", {"prompt": prompt}, job_id=job_id)

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        body = {"taskId": task_id, "customId": action.ref}
        submission = await self._submit("/mj/submit/action", body, job_id=job_id, task_scoped=True)
        if submission.task_id == task_id:
            # trueai answers ❤️ (bookmark) with code 1 and the *parent's* id: no new task exists.
            raise BackendRefused("this button starts no new task on midjourney-proxy")
        return submission

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """Press the button with trueai's `enableRemix`, then confirm the modal it opens with `prompt`.

        Both calls go out together, once the user has written the prompt: no MODAL task waits on the proxy
        meanwhile. A proxy that answers 1 instead (an account with "remix auto submit", a build without
        `enableRemix`) has started the task with the parent's prompt, and the Submission says so.
        """
        self._check_prompt(prompt)
        body = {"taskId": task_id, "customId": action.ref, "enableRemix": True}
        opened = await self._submit("/mj/submit/action", body, job_id=job_id, task_scoped=True)
        if opened.status is not JobStatus.NEEDS_INPUT:
            return replace(opened, prompt_ignored=True)
        return await self.submit_modal(opened.task_id, prompt, job_id=job_id)

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        self._check_prompt(prompt)
        # An empty prompt would make trueai reuse the parent's prompt, so it is always sent as given.
        body: dict[str, Any] = {"taskId": task_id, "prompt": prompt}
        if mask_png is not None:
            body["maskBase64"] = data_url(mask_png, PNG_MIME)
        return await self._submit("/mj/submit/modal", body, job_id=job_id, task_scoped=True)

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission:
        return await self._submit(
            "/mj/submit/describe", {"base64": data_url(image, mime_type)}, job_id=job_id
        )

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        body = {
            "base64Array": [data_url(data, mime) for data, mime in images],
            "dimensions": dimensions.value,
        }
        return await self._submit("/mj/submit/blend", body, job_id=job_id)

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return await self._submit("/mj/submit/shorten", {"prompt": prompt}, job_id=job_id)

    async def cancel(self, task_id: str) -> None:
        """trueai's cancel endpoint: the task ends as FAILURE "取消任务" and is notified like any other."""
        response = await self._send("POST", f"/mj/task/{quote(task_id, safe='')}/cancel", {})
        if response.status_code >= HTTP_SERVER_ERROR:
            raise BackendUnavailable(f"midjourney-proxy answered HTTP {response.status_code}")
        if response.status_code == HTTP_NOT_FOUND:
            raise TaskNotFound(f"task {task_id} not found")
        reply = _parse_reply(response)
        if reply is not None:
            raise_for_code(reply)
        elif response.status_code >= HTTP_BAD_REQUEST:
            raise BackendRefused(f"midjourney-proxy refused cancel with HTTP {response.status_code}")

    # --- reads ---

    async def image_seed(self, task_id: str) -> str:
        response = await self._get(f"/mj/task/{quote(task_id, safe='')}/image-seed")
        reply = _parse_reply(response)
        if reply is None:
            if response.status_code == HTTP_NOT_FOUND:
                raise TaskNotFound(f"task {task_id} not found")
            raise BackendUnavailable(
                f"midjourney-proxy image-seed answer is not JSON (HTTP {response.status_code})"
            )
        raise_for_code(reply)
        if reply.code != ReturnCode.SUCCESS or not reply.result:
            raise BackendRefused(f"no seed for task {task_id}: {reply.description}")
        return reply.result

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        response = await self._get(f"/mj/task/{quote(task_id, safe='')}/fetch")
        # Unknown ids: trueai answers 204, the Java build 200 with an empty body.
        if response.status_code in (HTTP_NO_CONTENT, HTTP_NOT_FOUND) or not response.content.strip():
            return None
        if response.status_code >= HTTP_BAD_REQUEST:
            raise BackendRefused(f"midjourney-proxy refused fetch with HTTP {response.status_code}")
        if response.content.strip() == b"null":
            return None
        try:
            task = ProxyTask.model_validate_json(response.content)
        except ValidationError as exc:
            raise BackendUnavailable(
                f"midjourney-proxy sent a malformed task ({exc.error_count()} errors)"
            ) from exc
        return task_to_update(task)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        """The notify body is the task object itself (unsigned: the route authenticates the hook URL)."""
        try:
            task = ProxyTask.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidCallback(f"not a midjourney-proxy task ({exc.error_count()} errors)") from exc
        return [task_to_update(task)]

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        return await download_from_backend(
            self._client, self._origin, url, max_bytes=max_bytes, credentials=self._headers
        )

    # --- HTTP plumbing ---

    def _check_prompt(self, prompt: str) -> None:
        limit = self.capabilities.max_prompt_length
        if len(prompt) > limit:
            raise PromptRejected(f"prompt is {len(prompt)} characters, limit {limit}")

    def _common_fields(self, job_id: str) -> dict[str, str]:
        fields = {"state": job_id[:STATE_MAX_LENGTH]}
        if self._notify_url is not None:
            fields["notifyHook"] = self._notify_url
        return fields

    async def _send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        try:
            response = await self._client.request(
                method, self._base + path, json=body, headers=self._headers, timeout=REQUEST_TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"midjourney-proxy unreachable: {type(exc).__name__}") from exc
        if response.status_code in (HTTP_UNAUTHORIZED, HTTP_FORBIDDEN):
            # Never echo the key or the body: trueai's text is only "Authorization header missing.".
            raise BackendRefused(
                f"authentication failed (HTTP {response.status_code}): check the midjourney-proxy API secret"
            )
        return response

    async def _get(self, path: str) -> httpx.Response:
        """GET with retries on network errors and 5xx; returns any non-5xx answer."""
        for delay in (*GET_RETRY_BACKOFF, None):
            response: httpx.Response | None = None
            try:
                response = await self._send("GET", path)
            except BackendUnavailable:
                if delay is None:
                    raise
            else:
                if response.status_code < HTTP_SERVER_ERROR:
                    return response
                if delay is None:
                    raise BackendUnavailable(f"midjourney-proxy answered HTTP {response.status_code}")
            await asyncio.sleep(_retry_delay(response, delay))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _submit(
        self, path: str, payload: Mapping[str, Any], *, job_id: str, task_scoped: bool = False
    ) -> Submission:
        response = await self._send("POST", path, {**payload, **self._common_fields(job_id)})
        if response.status_code >= HTTP_SERVER_ERROR:
            raise BackendUnavailable(f"midjourney-proxy answered HTTP {response.status_code}")
        reply = _parse_reply(response)
        if reply is not None:
            return submission_from_reply(reply)
        if response.status_code == HTTP_NOT_FOUND:
            if task_scoped:
                raise TaskNotFound("midjourney-proxy does not know the task")
            raise BackendRefused(f"midjourney-proxy has no {path}: check the base URL")
        if response.status_code >= HTTP_BAD_REQUEST:
            raise BackendRefused(f"midjourney-proxy refused {path} with HTTP {response.status_code}")
        raise BackendUnavailable(f"midjourney-proxy answer to {path} is not a submit result")
