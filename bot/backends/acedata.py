"""Ace Data Cloud adapter: Midjourney jobs over NDJSON streams or callbacks, actions, describe and seed."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Final, NoReturn

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.domain import (
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
    as_percent,
)
from bot.media import download_from_backend

log = logging.getLogger(__name__)

ImageHost = Callable[[bytes, str], Awaitable[str]]
"""Serves (bytes, MIME type) under a public, unguessable, expiring URL of the bot and returns that URL."""

AUTH_HEADER: Final = "authorization"
NDJSON: Final = "application/x-ndjson"
JSON_MIME: Final = "application/json"
IMAGINE_PATH: Final = "/midjourney/imagine"
DESCRIBE_PATH: Final = "/midjourney/describe"
TASKS_PATH: Final = "/midjourney/tasks"
SEED_PATH: Final = "/midjourney/seed"
GENERATE: Final = "generate"
VARIATION_REGION: Final = "variation_region"

DEFAULT_MAX_PROMPT_LENGTH: Final = 6000
REQUEST_TIMEOUT: Final = 30.0
DESCRIBE_TIMEOUT: Final = 180.0  # describe answers only once Midjourney has looked at the image
# Between two stream lines a job may sit in Ace Data Cloud's queue; its own job timeout defaults to 480 s.
STREAM_READ_TIMEOUT: Final = 600.0
# Only task retrieval is retried; an imagine is never re-sent: it would start (and bill) a second job.
READ_RETRY_BACKOFF: Final[tuple[float, ...]] = (0.2, 0.6)
RETRY_AFTER_CAP: Final = 5.0  # seconds; a longer Retry-After is not worth holding a read for
MAX_PROGRESS: Final = 100
BLEND_MIN_IMAGES: Final = 2
BLEND_MAX_IMAGES: Final = 5  # Ace Data Cloud takes at most five image URLs at the start of a prompt
SYNTHETIC_RESULTS_KEPT: Final = 256
KEYCAPS: Final = ("1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", "4\ufe0f\u20e3", "5\ufe0f\u20e3")
BLEND_ASPECT: Final[Mapping[BlendDimensions, str]] = {
    BlendDimensions.PORTRAIT: "2:3",
    BlendDimensions.SQUARE: "1:1",
    BlendDimensions.LANDSCAPE: "3:2",
}

# Follow-ups need the result's image_id, not the task id, so an action's ref carries both halves.
ACTION_REF_SEPARATOR: Final = "@"  # "<action>@<image_id>"
PROMPT_REF_PREFIX: Final = "prompt:"  # a describe result's pick: the prompt itself
DESCRIBE_TASK_PREFIX: Final = "describe:"  # describe answers at once: a synthetic, finished task
MODAL_TASK_PREFIX: Final = "modal:"  # "modal:variation_region@<image_id>": waiting for mask and prompt

HTTP_BAD_REQUEST: Final = 400
HTTP_UNAUTHORIZED: Final = 401
HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_TOO_MANY_REQUESTS: Final = 429
HTTP_SERVER_ERROR: Final = 500


class AceErrorCode(StrEnum):
    """`error.code` values Ace Data Cloud documents."""

    BAD_REQUEST = "bad_request"
    TOKEN_MISMATCHED = "token_mismatched"
    API_NOT_IMPLEMENTED = "api_not_implemented"
    INVALID_TOKEN = "invalid_token"
    FORBIDDEN = "forbidden"
    TOO_MANY_REQUESTS = "too_many_requests"
    API_ERROR = "api_error"
    TIMEOUT = "timeout"


class _Wire(BaseModel):
    """Base of Ace Data Cloud's JSON shapes: unknown keys ignored, numeric ids read as strings."""

    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)


def _no_items_if_none(value: object) -> object:
    return () if value is None else value


Items = Annotated[tuple[str, ...], BeforeValidator(_no_items_if_none)]


class AceError(_Wire):
    code: str = ""
    message: str = ""


class AceResult(_Wire):
    """One report: a stream line, a callback body, a long-wait answer or a task record's `response`."""

    success: bool | None = None
    task_id: str | None = None
    image_id: str | None = None
    image_url: str | None = None
    raw_image_url: str | None = None
    progress: float | None = None
    actions: Items = ()
    descriptions: Items = ()
    error: AceError | None = None
    trace_id: str | None = None


class AceTaskRecord(_Wire):
    """The answer of /midjourney/tasks `retrieve`: the request, and the latest response once there is one."""

    id: str | None = None
    type: str | None = None
    image_id: str | None = None
    response: AceResult | None = None


class DescribeReply(_Wire):
    descriptions: tuple[str, ...] = Field(min_length=1)


class SeedReply(_Wire):
    seed: str = Field(min_length=1)


class ErrorReply(_Wire):
    error: AceError


# --- pure mapping functions ------------------------------------------------------------------------------


def parse_progress(value: float | None) -> int | None:
    return as_percent(value)


def action_ref(name: str, image_id: str) -> str:
    return f"{name}{ACTION_REF_SEPARATOR}{image_id}"


_ACTION_REF_RE: Final = re.compile(r"^(?P<name>[a-z0-9_]+)@(?P<image>[\w-]+)$")


def parse_action_ref(ref: str) -> tuple[str, str] | None:
    """(action name, image_id) of an action's ref; None for a ref that is not ours."""
    match = _ACTION_REF_RE.match(ref)
    if match is None:
        return None
    return match.group("name"), match.group("image")


def modal_task_id(image_id: str) -> str:
    return f"{MODAL_TASK_PREFIX}{action_ref(VARIATION_REGION, image_id)}"


def parse_modal_task_id(task_id: str) -> str | None:
    """The image_id a pending Vary (Region) applies to; None for any other task id."""
    if not task_id.startswith(MODAL_TASK_PREFIX):
        return None
    target = parse_action_ref(task_id.removeprefix(MODAL_TASK_PREFIX))
    if target is None or target[0] != VARIATION_REGION:
        return None
    return target[1]


_INDEXED_ACTION_RE: Final = re.compile(r"^(?P<name>upscale|variation)(?P<index>[1-4])$")
_INDEXED_KINDS: Final[Mapping[str, ActionKind]] = {
    "upscale": ActionKind.UPSCALE,
    "variation": ActionKind.VARIATION,
}
_NAMED_ACTIONS: Final[Mapping[str, ActionKind]] = {
    "reroll": ActionKind.REROLL,
    "upscale_2x": ActionKind.UPSCALE_2X,
    "upscale_4x": ActionKind.UPSCALE_4X,
    "variation_subtle": ActionKind.VARY_SUBTLE,
    "variation_strong": ActionKind.VARY_STRONG,
    VARIATION_REGION: ActionKind.VARY_REGION,
    "zoom_out_2x": ActionKind.ZOOM_OUT_2X,
    "zoom_out_1_5x": ActionKind.ZOOM_OUT_1_5X,
    "pan_left": ActionKind.PAN_LEFT,
    "pan_right": ActionKind.PAN_RIGHT,
    "pan_up": ActionKind.PAN_UP,
    "pan_down": ActionKind.PAN_DOWN,
}


def parse_action(name: str, image_id: str) -> Action:
    """Map one of a result's `actions` strings onto an Action whose ref names it and the result's image."""
    ref = action_ref(name, image_id)
    indexed = _INDEXED_ACTION_RE.match(name)
    if indexed is not None:
        kind = _INDEXED_KINDS[indexed.group("name")]
        index = int(indexed.group("index"))
        return Action(kind, ref, index, f"{'U' if kind is ActionKind.UPSCALE else 'V'}{index}")
    named = _NAMED_ACTIONS.get(name)
    if named is None:
        return Action(ActionKind.UNKNOWN, ref, label=name)
    return Action(named, ref)


_FAILURE_BY_CODE: Final[Mapping[str, FailureKind]] = {
    AceErrorCode.FORBIDDEN: FailureKind.BANNED,
    AceErrorCode.TOO_MANY_REQUESTS: FailureKind.QUEUE_FULL,
    AceErrorCode.TIMEOUT: FailureKind.TIMEOUT,
    AceErrorCode.BAD_REQUEST: FailureKind.INVALID,
}
_MODERATION_WORDING: Final = ("moderators", "community standards", "banned prompt")


def classify_failure(code: str, message: str) -> FailureKind:
    """Why a job failed, by its error code (and Midjourney's moderation wording under any code)."""
    kind = _FAILURE_BY_CODE.get(code)
    if kind is not None:
        return kind
    if any(marker in message.lower() for marker in _MODERATION_WORDING):
        return FailureKind.BANNED
    return FailureKind.BACKEND


def describe_text(descriptions: tuple[str, ...]) -> str:
    """The four prompts as Midjourney lists them: "1️⃣ …", a blank line, "2️⃣ …" and so on."""
    # One line per prompt: the bot finds the picks by their keycap at the start of a line.
    return "\n\n".join(
        f"{keycap} {' '.join(text.split())}" for keycap, text in zip(KEYCAPS, descriptions, strict=False)
    )


def describe_update(task_id: str, descriptions: tuple[str, ...]) -> TaskUpdate:
    picks = tuple(
        Action(ActionKind.PROMPT_PICK, f"{PROMPT_REF_PREFIX}{' '.join(text.split())}", index, emoji=keycap)
        for index, (keycap, text) in enumerate(zip(KEYCAPS, descriptions, strict=False), start=1)
    )
    return TaskUpdate(
        task_id=task_id,
        status=JobStatus.SUCCEEDED,
        progress=MAX_PROGRESS,
        text=describe_text(descriptions),
        actions=picks,
    )


def result_to_update(task_id: str, result: AceResult) -> TaskUpdate:
    """Normalise one report of task `task_id` into a TaskUpdate."""
    if result.success is False or result.error is not None:
        error = result.error or AceError()
        return TaskUpdate(
            task_id=task_id,
            status=JobStatus.FAILED,
            fail_reason=error.message or error.code or None,
            failure=classify_failure(error.code, error.message),
        )
    if result.descriptions:
        return describe_update(task_id, result.descriptions)
    progress = parse_progress(result.progress)
    if result.actions or (progress is not None and progress >= MAX_PROGRESS):
        # Progress lines each carry a temporary image_id that cannot be acted on; only the last one counts.
        image_id = result.image_id
        actions = tuple(parse_action(name, image_id) for name in result.actions) if image_id else ()
        return TaskUpdate(
            task_id=task_id,
            status=JobStatus.SUCCEEDED,
            progress=MAX_PROGRESS,
            image_url=result.raw_image_url or result.image_url,
            actions=actions,
        )
    return TaskUpdate(
        task_id=task_id,
        status=JobStatus.RUNNING,
        progress=progress,
        preview_url=result.image_url or result.raw_image_url,
    )


def record_to_update(task_id: str, record: AceTaskRecord) -> TaskUpdate:
    """A retrieved task: queued until its first response is stored, then that response."""
    if record.response is None:
        return TaskUpdate(task_id=task_id, status=JobStatus.QUEUED)
    return result_to_update(task_id, record.response)


def blend_prompt(image_urls: list[str], dimensions: BlendDimensions) -> str:
    """Ace Data Cloud has no blend call: a blend is an imagine whose prompt starts with the image URLs."""
    return f"{' '.join(image_urls)} --ar {BLEND_ASPECT[dimensions]}"


def raise_for_error(status: int, error: AceError | None) -> NoReturn:
    """Raise the domain error for a refused call (an error body, or a bare HTTP status)."""
    code = error.code if error is not None else ""
    message = error.message if error is not None else ""
    if code == AceErrorCode.INVALID_TOKEN or status == HTTP_UNAUTHORIZED:
        # Never echo the token or the body.
        raise BackendRefused("authentication failed (invalid_token): check the Ace Data Cloud API token")
    if code == AceErrorCode.FORBIDDEN or status == HTTP_FORBIDDEN:
        raise PromptRejected(message or "Ace Data Cloud refused the prompt")
    if code == AceErrorCode.TOO_MANY_REQUESTS or status == HTTP_TOO_MANY_REQUESTS:
        raise BackendBusy(message or "Ace Data Cloud rate limit exceeded")
    if status >= HTTP_SERVER_ERROR or code in (AceErrorCode.API_ERROR, AceErrorCode.TIMEOUT):
        raise BackendUnavailable(f"Ace Data Cloud answered HTTP {status} {code}: {message}".rstrip(": "))
    raise BackendRefused(f"Ace Data Cloud refused the request ({code or f'HTTP {status}'}): {message}")


def _parse_error(content: bytes) -> AceError | None:
    try:
        return ErrorReply.model_validate_json(content).error
    except ValidationError:
        return None


def _retry_delay(response: httpx.Response | None, default: float) -> float:
    raw = response.headers.get("retry-after") if response is not None else None
    if raw is not None and raw.strip().isdigit():
        return min(float(raw), RETRY_AFTER_CAP)
    return default


def _retryable(response: httpx.Response) -> bool:
    return response.status_code >= HTTP_SERVER_ERROR or response.status_code == HTTP_TOO_MANY_REQUESTS


async def _next_result(lines: AsyncIterator[str]) -> AceResult | None:
    """The next non-empty line of a stream, parsed; None once the stream has ended."""
    async for line in lines:
        if line.strip():
            try:
                return AceResult.model_validate_json(line)
            except ValidationError as exc:
                raise BackendUnavailable("Ace Data Cloud sent a line that is not a result") from exc
    return None


# --- the adapter -----------------------------------------------------------------------------------------


class AceDataBackend:
    """Speaks Ace Data Cloud's Midjourney API: jobs report by callback (push) or through a followed stream."""

    name = "acedata"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        api_key: str | None,
        callback_url: str | None,
        image_host: ImageHost | None = None,
        max_prompt_length: int = DEFAULT_MAX_PROMPT_LENGTH,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._origin = httpx.URL(self._base)
        self._auth = {AUTH_HEADER: f"Bearer {api_key}"} if api_key else {}
        self._callback_url = callback_url
        self._image_host = image_host
        commands = {Command.IMAGINE, Command.SEED}
        if image_host is not None:
            # Describe and blend hand Ace Data Cloud image URLs, which only a public bot can serve.
            commands |= {Command.DESCRIBE, Command.BLEND}
        self.capabilities = Capabilities(
            commands=frozenset(commands), push=callback_url is not None, max_prompt_length=max_prompt_length
        )
        self._sink: UpdateSink | None = None
        self._streams: set[asyncio.Task[None]] = set()
        self._reports: set[asyncio.Task[None]] = set()
        self._synthetic: OrderedDict[str, TaskUpdate] = OrderedDict()

    @property
    def open_streams(self) -> int:
        """How many job streams are still being followed."""
        return len(self._streams)

    async def start(self, sink: UpdateSink) -> None:
        """Keep the sink: stream lines and describe results are reported through it."""
        self._sink = sink

    async def aclose(self) -> None:
        """Stop following streams and drop undelivered reports; the HTTP client belongs to its owner."""
        pending = [*self._streams, *self._reports]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # --- submits ---

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return await self._launch({"prompt": prompt, "action": GENERATE})

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        """Run `action` on the result it came with (its ref names the result's image_id)."""
        if action.kind is ActionKind.PROMPT_PICK and action.ref.startswith(PROMPT_REF_PREFIX):
            return await self.imagine(action.ref.removeprefix(PROMPT_REF_PREFIX), job_id=job_id)
        target = parse_action_ref(action.ref)
        if target is None:
            raise BackendRefused("this button does not belong to Ace Data Cloud")
        name, image_id = target
        if name == VARIATION_REGION:
            # Needs the user's mask and prompt first; submit_modal sends the call.
            return Submission(modal_task_id(image_id), JobStatus.NEEDS_INPUT)
        return await self._launch({"action": name, "image_id": image_id})

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """Never offered (capabilities.remix is empty): an action takes a prompt only for Vary (Region)."""
        raise BackendRefused("Ace Data Cloud takes no edited prompt with this action")

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        """Send a Vary (Region) opened by act(): the mask (white = repaint) and the optional prompt."""
        image_id = parse_modal_task_id(task_id)
        if image_id is None:
            raise BackendRefused("Ace Data Cloud asks for input only for Vary (Region)")
        if mask_png is None:
            raise BackendRefused("Vary (Region) needs a mask of the area to repaint")
        self._check_prompt(prompt)
        body: dict[str, Any] = {
            "action": VARIATION_REGION,
            "image_id": image_id,
            "mask": base64.b64encode(mask_png).decode("ascii"),
        }
        if prompt.strip():
            body["prompt"] = prompt
        return await self._launch(body)

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission:
        """Describe answers synchronously; the four prompts become a finished synthetic task."""
        image_url = await self._host()(image, mime_type)
        response = await self._post(DESCRIBE_PATH, {"image_url": image_url}, seconds=DESCRIBE_TIMEOUT)
        try:
            reply = DescribeReply.model_validate_json(response.content)
        except ValidationError as exc:
            raise BackendUnavailable("Ace Data Cloud's describe answer has no descriptions") from exc
        update = describe_update(f"{DESCRIBE_TASK_PREFIX}{uuid.uuid4().hex}", reply.descriptions)
        self._synthetic[update.task_id] = update
        while len(self._synthetic) > SYNTHETIC_RESULTS_KEPT:
            self._synthetic.popitem(last=False)
        self._report_soon(update)
        return Submission(update.task_id, JobStatus.QUEUED)

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        if not BLEND_MIN_IMAGES <= len(images) <= BLEND_MAX_IMAGES:
            raise BackendRefused(f"blend takes {BLEND_MIN_IMAGES} to {BLEND_MAX_IMAGES} images")
        host = self._host()
        urls = [await host(data, mime_type) for data, mime_type in images]
        return await self.imagine(blend_prompt(urls, dimensions), job_id=job_id)

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        raise BackendRefused("shorten is not offered for Ace Data Cloud")

    # --- reads ---

    async def image_seed(self, task_id: str) -> str:
        """The seed of a finished task's image (Ace Data Cloud looks it up by the result's image_id)."""
        if task_id.startswith((DESCRIBE_TASK_PREFIX, MODAL_TASK_PREFIX)):
            raise BackendRefused("only a generated image has a seed")
        record = await self._retrieve(task_id)
        if record is None:
            raise TaskNotFound(f"Ace Data Cloud does not know task {task_id}")
        update = record_to_update(task_id, record)
        image_id = (record.response.image_id if record.response else None) or record.image_id
        if update.status is not JobStatus.SUCCEEDED or not image_id:
            raise BackendRefused(f"task {task_id} has no finished image to take a seed from")
        response = await self._post(SEED_PATH, {"image_id": image_id})
        try:
            return SeedReply.model_validate_json(response.content).seed
        except ValidationError as exc:
            raise BackendUnavailable("Ace Data Cloud's seed answer has no seed") from exc

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        if task_id.startswith(DESCRIBE_TASK_PREFIX):
            return self._synthetic.get(task_id)
        if parse_modal_task_id(task_id) is not None:
            return TaskUpdate(task_id=task_id, status=JobStatus.NEEDS_INPUT)
        record = await self._retrieve(task_id)
        return None if record is None else record_to_update(task_id, record)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        """A callback POST: a progress line, the result, or a failure (unsigned: the route authenticates)."""
        try:
            result = AceResult.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidCallback(f"not an Ace Data Cloud result ({exc.error_count()} errors)") from exc
        if not result.task_id:
            raise InvalidCallback("Ace Data Cloud callback without a task_id")
        if result.success is None:
            raise InvalidCallback("Ace Data Cloud callback without a success flag")
        return [result_to_update(result.task_id, result)]

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        return await download_from_backend(
            self._client, self._origin, url, max_bytes=max_bytes, credentials=self._auth
        )

    # --- jobs and their streams ---

    async def _launch(self, body: Mapping[str, Any]) -> Submission:
        """POST an imagine (once); answer with its task id as soon as the first line names it."""
        payload = dict(body)
        if self._callback_url is not None:
            payload["callback_url"] = self._callback_url
        # NDJSON: without a callback the stream is how progress arrives; with one, every line is POSTed.
        request = self._client.build_request(
            "POST",
            self._base + IMAGINE_PATH,
            json=payload,
            headers={**self._auth, "accept": NDJSON},
            timeout=httpx.Timeout(REQUEST_TIMEOUT, read=STREAM_READ_TIMEOUT),
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"Ace Data Cloud unreachable: {type(exc).__name__}") from exc
        lines = response.aiter_lines()
        try:
            task_id, first = await self._first_result(response, lines)
        except BaseException:
            await response.aclose()
            raise
        # The callback mode's immediate answer is a bare {"task_id"}: nothing to report yet.
        update = result_to_update(task_id, first) if first.success is not None else None
        if self._callback_url is None and (update is None or not update.status.is_final):
            self._follow(task_id, response, lines, update)
        else:
            await response.aclose()
            if update is not None:
                self._report_soon(update)
        return Submission(task_id, JobStatus.QUEUED)

    @staticmethod
    async def _first_result(response: httpx.Response, lines: AsyncIterator[str]) -> tuple[str, AceResult]:
        try:
            if response.status_code >= HTTP_BAD_REQUEST:
                await response.aread()
                raise_for_error(response.status_code, _parse_error(response.content))
            first = await _next_result(lines)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(
                f"Ace Data Cloud broke off before naming the task: {type(exc).__name__}"
            ) from exc
        if first is None:
            raise BackendUnavailable("Ace Data Cloud ended the answer without a task id")
        if first.task_id:
            return first.task_id, first
        if first.success is False:
            raise_for_error(response.status_code, first.error)
        raise BackendUnavailable("Ace Data Cloud accepted a job without a task id")

    def _follow(
        self, task_id: str, response: httpx.Response, lines: AsyncIterator[str], first: TaskUpdate | None
    ) -> None:
        reader = asyncio.get_running_loop().create_task(
            self._read_stream(task_id, response, lines, first), name=f"acedata stream {task_id}"
        )
        self._streams.add(reader)
        reader.add_done_callback(self._streams.discard)

    async def _read_stream(
        self, task_id: str, response: httpx.Response, lines: AsyncIterator[str], first: TaskUpdate | None
    ) -> None:
        """Hand every line to the sink, in order, until the final one; polling covers a broken stream."""
        try:
            if first is not None:
                await self._deliver(first)
            while True:
                try:
                    result = await _next_result(lines)
                except BackendUnavailable:
                    log.warning("Ace Data Cloud sent a malformed stream line for task %s", task_id)
                    continue
                if result is None:
                    return
                update = result_to_update(result.task_id or task_id, result)
                await self._deliver(update)
                if update.status.is_final:
                    return
        except httpx.HTTPError as exc:
            # The job goes on at Ace Data Cloud; polling /midjourney/tasks takes over from here.
            log.info("stream of Ace Data Cloud task %s broke: %s", task_id, type(exc).__name__)
        finally:
            await response.aclose()

    def _report_soon(self, update: TaskUpdate) -> None:
        if self._sink is None:
            return
        report = asyncio.get_running_loop().create_task(self._deliver(update))
        self._reports.add(report)
        report.add_done_callback(self._reports.discard)

    async def _deliver(self, update: TaskUpdate) -> None:
        if self._sink is None:
            return
        try:
            await self._sink(update)
        except Exception:
            # The sink is the bot's code; one failed delivery must not stop a stream's later lines.
            log.exception("update sink failed for Ace Data Cloud task %s", update.task_id)

    # --- HTTP plumbing ---

    def _check_prompt(self, prompt: str) -> None:
        limit = self.capabilities.max_prompt_length
        if len(prompt) > limit:
            raise PromptRejected(f"prompt is {len(prompt)} characters, limit {limit}")

    def _host(self) -> ImageHost:
        if self._image_host is None:
            raise BackendRefused("Ace Data Cloud downloads images from a public URL: this needs PUBLIC_URL")
        return self._image_host

    async def _send(self, path: str, body: Mapping[str, Any], seconds: float) -> httpx.Response:
        try:
            return await self._client.post(
                self._base + path,
                json=body,
                headers={**self._auth, "accept": JSON_MIME},
                timeout=seconds,
            )
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"Ace Data Cloud unreachable: {type(exc).__name__}") from exc

    async def _post(
        self, path: str, body: Mapping[str, Any], *, seconds: float = REQUEST_TIMEOUT
    ) -> httpx.Response:
        """One POST, never repeated; an error answer raises its domain error."""
        response = await self._send(path, body, seconds)
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, _parse_error(response.content))
        return response

    async def _retrieve(self, task_id: str) -> AceTaskRecord | None:
        """The task record, retried on network errors, 5xx and 429 (a read is safe to repeat)."""
        body = {"action": "retrieve", "id": task_id}
        for delay in (*READ_RETRY_BACKOFF, None):
            response: httpx.Response | None = None
            try:
                response = await self._send(TASKS_PATH, body, REQUEST_TIMEOUT)
            except BackendUnavailable:
                if delay is None:
                    raise
            else:
                if not _retryable(response) or delay is None:
                    return self._record(response)
            await asyncio.sleep(_retry_delay(response, delay))
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _record(response: httpx.Response) -> AceTaskRecord | None:
        if response.status_code == HTTP_NOT_FOUND:
            return None
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, _parse_error(response.content))
        if response.content.strip() in (b"", b"null"):
            return None
        try:
            record = AceTaskRecord.model_validate_json(response.content)
        except ValidationError as exc:
            raise BackendUnavailable(
                f"Ace Data Cloud sent a malformed task ({exc.error_count()} errors)"
            ) from exc
        # An unknown id retrieves an empty record.
        return None if record.id is None and record.response is None else record
