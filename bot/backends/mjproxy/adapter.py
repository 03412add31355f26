"""midjourney-proxy adapter (trueai current, or the Java build): submits, buttons, cancel, notify hooks.

Task reads live in `reads`, the two builds and the probe that tells them apart in `flavours`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from bot.backends.base import check_prompt
from bot.backends.http import HTTP_BAD_REQUEST, HTTP_NOT_FOUND, HTTP_SERVER_ERROR, ImageHost
from bot.backends.mjproxy import reads
from bot.backends.mjproxy.flavours import Flavour, capabilities_of, is_java_build
from bot.backends.mjproxy.reads import LISTED_TASKS
from bot.backends.mjproxy.submits import data_url, raise_for_code
from bot.backends.mjproxy.tasks import task_to_update
from bot.backends.mjproxy.transport import (
    AUTH_HEADER,
    THROTTLE_BACKOFF,
    EndpointMissing,
    ProxyTransport,
    not_found_or_missing,
    parse_reply,
)
from bot.backends.mjproxy.wire import STATE_MAX_LENGTH, ProxyTask
from bot.domain import (
    Action,
    ActionKind,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    InvalidCallback,
    JobStatus,
    NotPermitted,
    RemixUnavailable,
    Submission,
    TaskUpdate,
    UpdateSink,
)

__all__ = ["AUTH_HEADER", "LISTED_TASKS", "Flavour", "MjProxyBackend"]

log = logging.getLogger(__name__)

DEFAULT_MAX_PROMPT_LENGTH: Final = 6000
PNG_MIME: Final = "image/png"
LABEL: Final = "midjourney-proxy"
JAVA_CHANGES: Final = {
    ActionKind.UPSCALE: "UPSCALE",
    ActionKind.VARIATION: "VARIATION",
    ActionKind.REROLL: "REROLL",
}


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
        image_host: ImageHost | None = None,
        flavour: Flavour = Flavour.TRUEAI,
        throttle_backoff: tuple[float, ...] = THROTTLE_BACKOFF,
    ) -> None:
        self._proxy = ProxyTransport(client, base_url, api_key=api_key, throttle_backoff=throttle_backoff)
        self._notify_url = notify_url
        self._image_host = image_host
        self._max_prompt_length = max_prompt_length
        self.flavour = flavour
        self.capabilities = capabilities_of(
            flavour, push=notify_url is not None, max_prompt_length=max_prompt_length
        )

    async def detect_flavour(self) -> Flavour:
        """Ask which build answers (before the bot offers commands); only a proven Java build changes it."""
        if await is_java_build(self._proxy):
            self._become(Flavour.JAVA)
        return self.flavour

    def _become(self, flavour: Flavour) -> None:
        if flavour is not self.flavour:
            log.warning("midjourney-proxy is the %s build: offering what it runs", flavour.value)
        self.flavour = flavour
        self.capabilities = capabilities_of(
            flavour, push=self._notify_url is not None, max_prompt_length=self._max_prompt_length
        )

    async def start(self, sink: UpdateSink) -> None:
        """Nothing to run: updates come from the notify hook and from polling."""

    async def aclose(self) -> None:
        """The HTTP client is shared and closed by its owner."""

    # --- submits ---

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        check_prompt(prompt, self.capabilities)
        return await self._submit("/mj/submit/imagine", {"prompt": prompt}, job_id=job_id)

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        if self.flavour is Flavour.JAVA or action.ref.startswith("change::"):
            return await self._change(task_id, action, job_id=job_id)
        body = {"taskId": task_id, "customId": action.ref}
        try:
            submission = await self._submit("/mj/submit/action", body, job_id=job_id, task_scoped=True)
        except EndpointMissing:
            self._become(Flavour.JAVA)
            return await self._change(task_id, action, job_id=job_id)
        if submission.task_id == task_id:
            # ❤️ (bookmark) answers with the *parent's* id: no new task exists.
            raise BackendRefused("this button starts no new task on midjourney-proxy")
        return submission

    async def _change(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        """The Java build's /mj/submit/change: U/V by index, 🔄; nothing else exists there."""
        change = JAVA_CHANGES.get(action.kind)
        if change is None:
            raise BackendRefused("the Java build of midjourney-proxy runs only U, V and 🔄")
        body: dict[str, Any] = {"taskId": task_id, "action": change}
        if action.kind is not ActionKind.REROLL:
            body["index"] = action.index
        return await self._submit("/mj/submit/change", body, job_id=job_id, task_scoped=True)

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """Press the button with trueai's `enableRemix`, then confirm the modal it opens with `prompt`.

        trueai always opens the modal then (code 21), even on an account with "remix auto submit"; on an
        account whose Remix is off it refuses (code 4). A remixed 🔄 is a new run of the edited prompt, so
        where no modal is to be had it runs as an imagine; other buttons say why the edit can't be used.
        """
        check_prompt(prompt, self.capabilities)
        if self.flavour is Flavour.JAVA:
            return await self._without_remix(action, prompt, job_id, "the Java build has no Remix")
        body = {"taskId": task_id, "customId": action.ref, "enableRemix": True}
        try:
            opened = await self._submit("/mj/submit/action", body, job_id=job_id, task_scoped=True)
        except RemixUnavailable as exc:
            return await self._without_remix(action, prompt, job_id, str(exc))
        if opened.status is not JobStatus.NEEDS_INPUT:
            # A build without enableRemix ran the button at once, with the parent's prompt.
            return replace(opened, prompt_ignored=True)
        return await self.submit_modal(opened.task_id, prompt, job_id=job_id)

    async def _without_remix(self, action: Action, prompt: str, job_id: str, why: str) -> Submission:
        if action.kind is ActionKind.REROLL:
            return await self.imagine(prompt, job_id=job_id)
        raise RemixUnavailable(f"midjourney-proxy can't use an edited prompt here: {why}")

    async def submit_modal(
        self, task_id: str, prompt: str, *, job_id: str, mask_png: bytes | None = None
    ) -> Submission:
        check_prompt(prompt, self.capabilities)
        # An empty prompt would make trueai reuse the parent's prompt, so it is always sent as given.
        body: dict[str, Any] = {"taskId": task_id, "prompt": prompt}
        if mask_png is not None:
            body["maskBase64"] = data_url(mask_png, PNG_MIME)
        return await self._submit("/mj/submit/modal", body, job_id=job_id, task_scoped=True)

    async def describe(self, image: bytes, mime_type: str, *, job_id: str) -> Submission:
        body = {"link": link} if (link := await self._link(image, mime_type)) else {}
        if not body:
            body = {"base64": data_url(image, mime_type)}
        return await self._submit("/mj/submit/describe", body, job_id=job_id)

    async def blend(
        self, images: list[tuple[bytes, str]], dimensions: BlendDimensions, *, job_id: str
    ) -> Submission:
        # trueai's DataUrl.Parse takes an http(s) entry of base64Array as a link.
        pictures = [await self._link(data, mime) or data_url(data, mime) for data, mime in images]
        body = {"base64Array": pictures, "dimensions": dimensions.value}
        return await self._submit("/mj/submit/blend", body, job_id=job_id)

    async def _link(self, image: bytes, mime_type: str) -> str | None:
        """A link from the bot's image host (trueai takes links; some servers refuse base64 uploads)."""
        if self._image_host is None or self.flavour is Flavour.JAVA:
            return None
        return await self._image_host(image, mime_type)

    async def shorten(self, prompt: str, *, job_id: str) -> Submission:
        check_prompt(prompt, self.capabilities)
        return await self._submit("/mj/submit/shorten", {"prompt": prompt}, job_id=job_id)

    async def cancel(self, task_id: str) -> None:
        """trueai's cancel (admins only): the task ends as FAILURE "取消任务" and is notified like any other.

        Success, an unknown id and a finished task all answer an empty 200 (TaskController.Cancel).
        """
        if self.flavour is Flavour.JAVA:
            raise BackendRefused("the Java build of midjourney-proxy cannot cancel tasks")
        response = await self._proxy.send("POST", f"/mj/task/{quote(task_id, safe='')}/cancel", {})
        if response.status_code >= HTTP_SERVER_ERROR:
            raise BackendUnavailable(f"midjourney-proxy answered HTTP {response.status_code}")
        reply = parse_reply(response)
        if reply is not None:
            raise_for_code(reply, task_scoped=True)
        elif response.status_code == HTTP_NOT_FOUND:
            raise not_found_or_missing(response, f"task {task_id}")
        elif response.status_code == HTTP_BAD_REQUEST:
            # BadRequest("演示模式，禁止操作"): a JSON string, for any secret that is not an admin's.
            raise NotPermitted(
                f"midjourney-proxy lets only its admin cancel tasks ({_text(response.content)})"
            )
        elif response.status_code > HTTP_BAD_REQUEST:
            raise BackendRefused(f"midjourney-proxy refused cancel with HTTP {response.status_code}")

    # --- reads ---

    async def image_seed(self, task_id: str) -> str:
        return await reads.image_seed(self._proxy, task_id)

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        return await reads.fetch(self._proxy, task_id)

    async def find_task(self, job_id: str, *, since: float) -> TaskUpdate | None:
        """The task whose `state` is the job id (see reads.find_task for what the listing can prove)."""
        return await reads.find_task(self._proxy, job_id, since=since)

    async def fetch_many(self, task_ids: list[str]) -> dict[str, TaskUpdate]:
        return await reads.fetch_many(self._proxy, task_ids)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        """The notify body is the task object itself (unsigned: the route authenticates the hook URL)."""
        try:
            task = ProxyTask.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidCallback(f"not a midjourney-proxy task ({exc.error_count()} errors)") from exc
        return [task_to_update(task)]

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        return await self._proxy.http.download(url, max_bytes=max_bytes)

    async def _submit(
        self, path: str, payload: Mapping[str, Any], *, job_id: str, task_scoped: bool = False
    ) -> Submission:
        fields = {"state": job_id[:STATE_MAX_LENGTH]}
        if self._notify_url is not None:
            fields["notifyHook"] = self._notify_url
        return await self._proxy.submit(path, {**payload, **fields}, task_scoped=task_scoped)


def _text(content: bytes) -> str:
    try:
        value = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:200]
    return value if isinstance(value, str) else ""
