"""ImagineAPI.dev adapter: Directus image items, account webhooks, and the ready-made upscales as tasks."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Final, NoReturn
from urllib.parse import quote

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

DEFAULT_MAX_PROMPT_LENGTH: Final = 6000
REQUEST_TIMEOUT: Final = 30.0
# Only idempotent GETs are retried; a create is never re-sent: it would start (and bill) a second image.
GET_RETRY_BACKOFF: Final[tuple[float, ...]] = (0.2, 0.6)
RETRY_AFTER_CAP: Final = 5.0  # seconds; a longer Retry-After is not worth holding a GET for
IMAGES_PATH: Final = "/items/images/"
UPSCALE_COUNT: Final = 4
MAX_PROGRESS: Final = 100

UPSCALE_REF_PREFIX: Final = "imagineapi:upscale:"
REROLL_REF: Final = "imagineapi:reroll"
# An upscale is a finished task of its own: "<image id>#u<n>", resolved by re-reading the parent image.
UPSCALE_TASK_MARK: Final = "#u"

HTTP_BAD_REQUEST: Final = 400
HTTP_UNAUTHORIZED: Final = 401
HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_TOO_MANY_REQUESTS: Final = 429
HTTP_SERVER_ERROR: Final = 500


class DirectusCode(StrEnum):
    """`errors[].extensions.code` values ImagineAPI's Directus answers with."""

    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    FORBIDDEN = "FORBIDDEN"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"
    FAILED_VALIDATION = "FAILED_VALIDATION"
    REQUESTS_EXCEEDED = "REQUESTS_EXCEEDED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class ImageStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"


class WebhookEvent(StrEnum):
    CREATE = "images.items.create"
    UPDATE = "images.items.update"


class _Wire(BaseModel):
    """Base of ImagineAPI's JSON shapes: unknown keys (Directus adds its own) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _no_items_if_none(value: object) -> object:
    return () if value is None else value


# `upscaled_urls` is null until the image completes; the bot treats it as empty.
Items = Annotated[tuple[str, ...], BeforeValidator(_no_items_if_none)]


class ImagineImage(_Wire):
    """An item of the `images` collection, as create/read answer it and webhooks carry it."""

    id: str = Field(min_length=1)
    status: ImageStatus
    prompt: str | None = None
    progress: float | None = None
    url: str | None = None
    error: str | None = None
    results: str | None = None
    upscaled_urls: Items = ()
    upscaled: Items = ()
    ref: str | None = None


class ImageEnvelope(_Wire):
    data: ImagineImage


class WebhookBody(_Wire):
    """What an account webhook POSTs on every create and update of an image."""

    event: WebhookEvent
    payload: ImagineImage


class DirectusErrorExtensions(_Wire):
    code: str | None = None


class DirectusError(_Wire):
    message: str = ""
    extensions: DirectusErrorExtensions = Field(default_factory=DirectusErrorExtensions)


class DirectusErrors(_Wire):
    errors: tuple[DirectusError, ...] = Field(min_length=1)


# --- pure mapping functions ------------------------------------------------------------------------------


def parse_progress(value: float | None) -> int | None:
    """ImagineAPI's progress (null at first, and null again once completed) as a percentage."""
    return as_percent(value)


_FAILURE_MARKERS: Final[tuple[tuple[FailureKind, tuple[str, ...]], ...]] = (
    # The bot reports a drained Midjourney account as "Midjourney credits exhausted": not the user's fault.
    (FailureKind.BACKEND, ("credits exhausted",)),
    (
        FailureKind.BANNED,
        ("banned prompt", "moderator", "community standards", "content policy", "blocked"),
    ),
    (FailureKind.INVALID, ("invalid parameter", "unrecognized", "invalid link", "invalid value")),
    (FailureKind.TIMEOUT, ("timed out", "timeout")),
)


def classify_failure(error: str | None) -> FailureKind:
    """Why an image failed, read from the `error` text ImagineAPI's bot writes ("Midjourney message: …")."""
    text = (error or "").lower()
    for kind, markers in _FAILURE_MARKERS:
        if any(marker in text for marker in markers):
            return kind
    return FailureKind.BACKEND


def upscale_ref(index: int, url: str) -> str:
    """The ref of U<index>: it carries the upscale's URL, so pressing it needs no request at all."""
    return f"{UPSCALE_REF_PREFIX}{index}@{url}"


_UPSCALE_REF_RE: Final = re.compile(rf"^{re.escape(UPSCALE_REF_PREFIX)}(?P<index>[1-4])@(?P<url>\S+)$")


def parse_upscale_ref(ref: str) -> tuple[int, str] | None:
    match = _UPSCALE_REF_RE.match(ref)
    if match is None:
        return None
    return int(match.group("index")), match.group("url")


def upscale_task_id(image_id: str, index: int) -> str:
    return f"{image_id}{UPSCALE_TASK_MARK}{index}"


_UPSCALE_TASK_RE: Final = re.compile(rf"^(?P<image>.+){re.escape(UPSCALE_TASK_MARK)}(?P<index>[1-4])$")


def parse_upscale_task_id(task_id: str) -> tuple[str, int] | None:
    """(parent image id, index) of a synthetic upscale task id; None for an image's own id."""
    match = _UPSCALE_TASK_RE.match(task_id)
    if match is None:
        return None
    return match.group("image"), int(match.group("index"))


def grid_actions(image: ImagineImage) -> tuple[Action, ...]:
    """U1–U4 (the upscales ImagineAPI made already) and 🔄 (the same prompt submitted again)."""
    # `upscaled` lists the same files in another order; only `upscaled_urls` follows the grid's quadrants.
    upscales = tuple(
        Action(ActionKind.UPSCALE, upscale_ref(index, url), index, f"U{index}")
        for index, url in enumerate(image.upscaled_urls[:UPSCALE_COUNT], start=1)
    )
    return (*upscales, Action(ActionKind.REROLL, REROLL_REF, emoji="🔄"))


def image_to_update(image: ImagineImage) -> TaskUpdate:
    """Normalise an image item (read answer or webhook payload) into a TaskUpdate."""
    match image.status:
        case ImageStatus.PENDING:
            return TaskUpdate(task_id=image.id, status=JobStatus.QUEUED)
        case ImageStatus.IN_PROGRESS:
            progress = parse_progress(image.progress)
            # `url` is a partial (webp) preview only once progress is a number above zero.
            preview = image.url if progress and image.url else None
            return TaskUpdate(
                task_id=image.id, status=JobStatus.RUNNING, progress=progress, preview_url=preview
            )
        case ImageStatus.COMPLETED:
            return TaskUpdate(
                task_id=image.id,
                status=JobStatus.SUCCEEDED,
                progress=MAX_PROGRESS,
                image_url=image.url,
                actions=grid_actions(image),
            )
        case ImageStatus.FAILED:
            return TaskUpdate(
                task_id=image.id,
                status=JobStatus.FAILED,
                fail_reason=image.error,
                failure=classify_failure(image.error),
            )


def upscale_update(task_id: str, url: str) -> TaskUpdate:
    """The finished state of a synthetic upscale task: the single image, nothing more to press."""
    return TaskUpdate(
        task_id=task_id, status=JobStatus.SUCCEEDED, progress=MAX_PROGRESS, image_url=url, actions=()
    )


def raise_for_error(status: int, errors: DirectusErrors | None) -> NoReturn:
    """Raise the domain error for a Directus error answer (any status >= 400)."""
    first = errors.errors[0] if errors is not None else None
    code = (first.extensions.code if first else None) or ""
    message = first.message if first else ""
    if status == HTTP_UNAUTHORIZED or code == DirectusCode.INVALID_CREDENTIALS:
        # Never echo the token or the body.
        raise BackendRefused(f"authentication failed (HTTP {status} {code}): check the ImagineAPI token")
    if status == HTTP_FORBIDDEN or code == DirectusCode.FORBIDDEN:
        raise BackendRefused(f"forbidden (HTTP {status}): the ImagineAPI token may not create images")
    if status == HTTP_TOO_MANY_REQUESTS or code == DirectusCode.REQUESTS_EXCEEDED:
        raise BackendBusy(message or "ImagineAPI rate limit exceeded")
    if status >= HTTP_SERVER_ERROR:
        raise BackendUnavailable(f"ImagineAPI answered HTTP {status} {code}".rstrip())
    raise BackendRefused(message or f"ImagineAPI refused the request (HTTP {status} {code})".rstrip())


def _parse_errors(response: httpx.Response) -> DirectusErrors | None:
    try:
        return DirectusErrors.model_validate_json(response.content)
    except ValidationError:
        return None


def _retry_delay(response: httpx.Response | None, default: float) -> float:
    raw = response.headers.get("retry-after") if response is not None else None
    if raw is not None and raw.strip().isdigit():
        return min(float(raw), RETRY_AFTER_CAP)
    return default


def _retryable(response: httpx.Response) -> bool:
    return response.status_code >= HTTP_SERVER_ERROR or response.status_code == HTTP_TOO_MANY_REQUESTS


# --- the adapter -----------------------------------------------------------------------------------------


class ImagineApiBackend:
    """Speaks ImagineAPI.dev's Directus REST API; pushes arrive through account webhooks (parse_callback)."""

    name = "imagineapi"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        api_key: str | None,
        push: bool,
        max_prompt_length: int = DEFAULT_MAX_PROMPT_LENGTH,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._origin = httpx.URL(self._base)
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # Webhooks are set per account in ImagineAPI's dashboard; `push` says whether the operator did.
        # 🔄 is a new image from a prompt, so it can take an edited one; there are no other actions.
        self.capabilities = Capabilities(
            commands=frozenset({Command.IMAGINE}),
            push=push,
            max_prompt_length=max_prompt_length,
            remix=frozenset({ActionKind.REROLL}),
        )
        self._sink: UpdateSink | None = None
        self._reports: set[asyncio.Task[None]] = set()

    async def start(self, sink: UpdateSink) -> None:
        """Keep the sink: finished upscales are reported through it as soon as they are pressed."""
        self._sink = sink

    async def aclose(self) -> None:
        """Drop reports not yet delivered; the HTTP client is shared and closed by its owner."""
        pending = list(self._reports)
        for report in pending:
            report.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # --- submits ---

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        self._check_prompt(prompt)
        return await self._create(prompt, job_id)

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        """U1–U4 complete at once from the grid's own upscales; 🔄 submits the grid's prompt again."""
        if action.kind is ActionKind.UPSCALE:
            target = parse_upscale_ref(action.ref)
            if target is None:
                raise BackendRefused("this upscale button does not belong to ImagineAPI")
            index, url = target
            synthetic = upscale_task_id(task_id, index)
            self._report_soon(upscale_update(synthetic, url))
            return Submission(synthetic, JobStatus.QUEUED)
        if action.kind is ActionKind.REROLL and action.ref == REROLL_REF:
            parent = await self._read_image(task_id)
            if parent is None:
                raise TaskNotFound(f"ImagineAPI does not know image {task_id}")
            if not parent.prompt:
                raise BackendRefused("the image to reroll has no prompt")
            return await self._create(parent.prompt, job_id)
        raise BackendRefused(f"ImagineAPI.dev offers no {action.kind.value} action")

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """🔄 with an edited prompt: a new image from that prompt."""
        if action.kind is not ActionKind.REROLL or action.ref != REROLL_REF:
            raise BackendRefused(f"ImagineAPI.dev cannot remix {action.kind.value}")
        self._check_prompt(prompt)
        return await self._create(prompt, job_id)

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        raise BackendRefused("ImagineAPI.dev has no actions that ask for input")

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission:
        raise BackendRefused("ImagineAPI.dev does not offer describe")

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        raise BackendRefused("ImagineAPI.dev does not offer blend")

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        raise BackendRefused("ImagineAPI.dev does not offer shorten")

    async def image_seed(self, task_id: str) -> str:
        raise BackendRefused("ImagineAPI.dev does not report seeds")

    # --- reads ---

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        synthetic = parse_upscale_task_id(task_id)
        image = await self._read_image(synthetic[0] if synthetic else task_id)
        if image is None:
            return None
        if synthetic is None:
            return image_to_update(image)
        index = synthetic[1]
        if image.status is not ImageStatus.COMPLETED or len(image.upscaled_urls) < index:
            return None
        return upscale_update(task_id, image.upscaled_urls[index - 1])

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        """An account webhook (unsigned: the route authenticates the hook URL); matched by image id.

        Self-hosted webhooks leave `ref` out of the payload, and the account's other apps post here too.
        """
        try:
            event = WebhookBody.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidCallback(f"not an ImagineAPI webhook ({exc.error_count()} errors)") from exc
        return [image_to_update(event.payload)]

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        return await download_from_backend(
            self._client, self._origin, url, max_bytes=max_bytes, credentials=self._headers
        )

    # --- HTTP plumbing ---

    def _check_prompt(self, prompt: str) -> None:
        limit = self.capabilities.max_prompt_length
        if len(prompt) > limit:
            raise PromptRejected(f"prompt is {len(prompt)} characters, limit {limit}")

    def _report_soon(self, update: TaskUpdate) -> None:
        if self._sink is None:
            return
        report = asyncio.get_running_loop().create_task(self._report(self._sink, update))
        self._reports.add(report)
        report.add_done_callback(self._reports.discard)

    @staticmethod
    async def _report(sink: UpdateSink, update: TaskUpdate) -> None:
        try:
            await sink(update)
        except Exception:
            # The sink is the bot's code; polling still finds the result if this delivery failed.
            log.exception("update sink failed for ImagineAPI task %s", update.task_id)

    async def _send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        try:
            return await self._client.request(
                method, self._base + path, json=body, headers=self._headers, timeout=REQUEST_TIMEOUT
            )
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"ImagineAPI unreachable: {type(exc).__name__}") from exc

    async def _get(self, path: str) -> httpx.Response:
        """GET with retries on network errors, 5xx and 429; returns the last answer of any other status."""
        for delay in (*GET_RETRY_BACKOFF, None):
            response: httpx.Response | None = None
            try:
                response = await self._send("GET", path)
            except BackendUnavailable:
                if delay is None:
                    raise
            else:
                if not _retryable(response) or delay is None:
                    return response
            await asyncio.sleep(_retry_delay(response, delay))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _read_image(self, image_id: str) -> ImagineImage | None:
        response = await self._get(f"{IMAGES_PATH}{quote(image_id, safe='')}")
        # Directus answers 403 FORBIDDEN for an id that does not exist (it hides missing items).
        if response.status_code in (HTTP_FORBIDDEN, HTTP_NOT_FOUND):
            return None
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, _parse_errors(response))
        try:
            return ImageEnvelope.model_validate_json(response.content).data
        except ValidationError as exc:
            raise BackendUnavailable(
                f"ImagineAPI sent a malformed image ({exc.error_count()} errors)"
            ) from exc

    async def _create(self, prompt: str, job_id: str) -> Submission:
        response = await self._send("POST", IMAGES_PATH, {"prompt": prompt, "ref": job_id})
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, _parse_errors(response))
        try:
            image = ImageEnvelope.model_validate_json(response.content).data
        except ValidationError as exc:
            raise BackendUnavailable("ImagineAPI's answer to a create is not an image") from exc
        return Submission(image.id, JobStatus.QUEUED)
