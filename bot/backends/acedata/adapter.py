"""Ace Data Cloud adapter: Midjourney jobs by callback or polled in batches; describe, shorten, seed."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

import httpx
from pydantic import ValidationError

from bot.backends.acedata.errors import parse_error, raise_for_error
from bot.backends.acedata.reads import ACCEPT_JSON, AceTasks, is_remote
from bot.backends.acedata.results import (
    DESCRIBE_TASK_PREFIX,
    PROMPT_REF_PREFIX,
    SHORTEN_TASK_PREFIX,
    VARIATION_REGION,
    blend_prompt,
    describe_update,
    modal_task_id,
    parse_action_ref,
    parse_modal_task_id,
    record_to_update,
    result_to_update,
    shorten_update,
)
from bot.backends.acedata.streams import first_result
from bot.backends.acedata.wire import Accepted, AceResult, DescribeReply, SeedReply, ShortenReply
from bot.backends.base import Declines, check_prompt
from bot.backends.http import HTTP_BAD_REQUEST, REQUEST_TIMEOUT, BackendHttp, ImageHost
from bot.backends.reports import SinkReports
from bot.domain import (
    Action,
    ActionKind,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Capabilities,
    Command,
    InvalidCallback,
    JobStatus,
    Submission,
    TaskNotFound,
    TaskUpdate,
    UpdateSink,
)

AUTH_HEADER: Final = "authorization"
NDJSON: Final = "application/x-ndjson"
IMAGINE_PATH: Final = "/midjourney/imagine"
DESCRIBE_PATH: Final = "/midjourney/describe"
SEED_PATH: Final = "/midjourney/seed"
SHORTEN_PATH: Final = "/midjourney/shorten"
GENERATE: Final = "generate"
LABEL: Final = "Ace Data Cloud"

DEFAULT_MAX_PROMPT_LENGTH: Final = 6000
DESCRIBE_TIMEOUT: Final = 180.0  # describe and shorten answer only once Midjourney has read the input
# In callback mode the answer's first line names the task; nothing else is read from it.
FIRST_LINE_TIMEOUT: Final = 60.0
BLEND_MIN_IMAGES: Final = 2
BLEND_MAX_IMAGES: Final = 5  # Ace Data Cloud takes at most five image URLs at the start of a prompt


class AceDataBackend(Declines):
    """Speaks Ace Data Cloud's Midjourney API: jobs report by callback (push), or are submitted `async` and
    polled together through `fetch_many` (no connection held open per job)."""

    name = "acedata"
    label = LABEL

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
        self._http = BackendHttp(
            client, base_url, label=LABEL, credentials={AUTH_HEADER: f"Bearer {api_key}"} if api_key else {}
        )
        self._callback_url = callback_url
        self._image_host = image_host
        commands = {Command.IMAGINE, Command.SEED, Command.SHORTEN}
        if image_host is not None:
            # Describe and blend hand Ace Data Cloud image URLs, which only a public bot can serve.
            commands |= {Command.DESCRIBE, Command.BLEND}
        self.capabilities = Capabilities(
            commands=frozenset(commands),
            push=callback_url is not None,
            max_prompt_length=max_prompt_length,
            batch_fetch=True,
        )
        self._reports = SinkReports(LABEL)
        self._tasks = AceTasks(self._http)

    async def start(self, sink: UpdateSink) -> None:
        """Keep the sink: describe and shorten results (answered at once) are reported through it."""
        self._reports.start(sink)

    async def aclose(self) -> None:
        """Drop undelivered reports; the HTTP client belongs to its owner."""
        await self._reports.aclose()

    # --- submits ---

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        check_prompt(prompt, self.capabilities)
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

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        """Send a Vary (Region) opened by act(): the mask (white = repaint) and the optional prompt."""
        image_id = parse_modal_task_id(task_id)
        if image_id is None:
            raise BackendRefused("Ace Data Cloud asks for input only for Vary (Region)")
        if mask_png is None:
            raise BackendRefused("Vary (Region) needs a mask of the area to repaint")
        check_prompt(prompt, self.capabilities)
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
        return self._finished_at_once(
            describe_update(f"{DESCRIBE_TASK_PREFIX}{uuid.uuid4().hex}", reply.descriptions)
        )

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        """`/midjourney/shorten` answers at once with up to five shorter prompts, offered as picks."""
        check_prompt(prompt, self.capabilities)
        response = await self._post(SHORTEN_PATH, {"prompt": prompt}, seconds=DESCRIBE_TIMEOUT)
        try:
            reply = ShortenReply.model_validate_json(response.content)
        except ValidationError as exc:
            raise BackendUnavailable("Ace Data Cloud's shorten answer has no prompts") from exc
        return self._finished_at_once(
            shorten_update(f"{SHORTEN_TASK_PREFIX}{uuid.uuid4().hex}", reply.prompts)
        )

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        if not BLEND_MIN_IMAGES <= len(images) <= BLEND_MAX_IMAGES:
            raise BackendRefused(f"blend takes {BLEND_MIN_IMAGES} to {BLEND_MAX_IMAGES} images")
        host = self._host()
        urls = [await host(data, mime_type) for data, mime_type in images]
        return await self.imagine(blend_prompt(urls, dimensions), job_id=job_id)

    # --- reads ---

    async def image_seed(self, task_id: str) -> str:
        """The seed of a finished task's image (Ace Data Cloud looks it up by the result's image_id)."""
        if not is_remote(task_id):
            raise BackendRefused("only a generated image has a seed")
        record = await self._tasks.retrieve(task_id)
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
        return await self._tasks.fetch(task_id)

    async def fetch_many(self, task_ids: Sequence[str]) -> dict[str, TaskUpdate]:
        """Every known task among `task_ids`, read in batches with `retrieve_batch`."""
        return await self._tasks.fetch_many(task_ids)

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
        return await self._http.download(url, max_bytes=max_bytes)

    # --- jobs ---

    async def _launch(self, body: Mapping[str, Any]) -> Submission:
        """POST an imagine (once): with a callback URL, or `async` to be polled; answers with its task id."""
        if self._callback_url is None:
            # As Ace Data Cloud's own clients do (Nexior `src/operators/midjourney.ts`, MidjourneyMCP
            # `core/client.py`): answered at once, progress read back from /midjourney/tasks.
            response = await self._post(IMAGINE_PATH, {**body, "async": True})
            try:
                return Submission(Accepted.model_validate_json(response.content).task_id, JobStatus.QUEUED)
            except ValidationError as exc:
                raise BackendUnavailable("Ace Data Cloud accepted a job without a task id") from exc
        # NDJSON: every progress line is POSTed to the callback, not only the result.
        response = await self._http.open_stream(
            "POST",
            IMAGINE_PATH,
            {**body, "callback_url": self._callback_url},
            headers={"accept": NDJSON},
            timeouts=httpx.Timeout(REQUEST_TIMEOUT, read=FIRST_LINE_TIMEOUT),
        )
        try:
            task_id, first = await first_result(response, response.aiter_lines())
        finally:
            await response.aclose()
        # The callback mode's immediate answer is a bare {"task_id"}: nothing to report yet.
        if first.success is not None:
            self._reports.soon(result_to_update(task_id, first))
        return Submission(task_id, JobStatus.QUEUED)

    def _finished_at_once(self, update: TaskUpdate) -> Submission:
        """A call answered synchronously becomes a finished task of our own, reported soon and fetchable."""
        self._tasks.remember(update)
        self._reports.soon(update)
        return Submission(update.task_id, JobStatus.QUEUED)

    # --- requests ---

    def _host(self) -> ImageHost:
        if self._image_host is None:
            raise BackendRefused("Ace Data Cloud downloads images from a public URL: this needs PUBLIC_URL")
        return self._image_host

    async def _post(
        self, path: str, body: Mapping[str, Any], *, seconds: float = REQUEST_TIMEOUT
    ) -> httpx.Response:
        """One POST, never repeated; an error answer raises its domain error."""
        response = await self._http.send("POST", path, body, headers=ACCEPT_JSON, seconds=seconds)
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, parse_error(response.content))
        return response
