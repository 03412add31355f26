"""midjourney-proxy (plus / trueai) adapter: submits, task polling, notify-hook parsing and downloads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from bot.backends.base import check_prompt
from bot.backends.http import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_NO_CONTENT,
    HTTP_NOT_FOUND,
    HTTP_SERVER_ERROR,
    HTTP_UNAUTHORIZED,
    BackendHttp,
    server_error,
)
from bot.backends.mjproxy.submits import data_url, raise_for_code, submission_from_reply
from bot.backends.mjproxy.tasks import task_to_update
from bot.backends.mjproxy.wire import ProxyTask, ReturnCode, SubmitReply
from bot.domain import (
    REMIX_ACTIONS,
    Action,
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

AUTH_HEADER: Final = "mj-api-secret"
DEFAULT_MAX_PROMPT_LENGTH: Final = 6000
STATE_MAX_LENGTH: Final = 255  # BaseSubmitDTO.state limit
PNG_MIME: Final = "image/png"
LABEL: Final = "midjourney-proxy"
LISTED_TASKS: Final = 100  # trueai's GET /mj/task/list answers the newest 100 tasks
CLOCK_SKEW: Final = 300.0  # seconds the proxy's clock may differ from ours
_TASK_LIST: Final = TypeAdapter(list[ProxyTask])


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
        # The plus doc writes the base as "http://ip:port/mj"; our paths already start with /mj.
        base = base_url.rstrip("/")
        self._http = BackendHttp(
            client,
            base.removesuffix("/mj") if base.endswith("/mj") else base,
            label=LABEL,
            credentials={AUTH_HEADER: api_key} if api_key else {},
        )
        self._notify_url = notify_url
        self.capabilities = Capabilities(
            commands=frozenset(Command),
            push=notify_url is not None,
            max_prompt_length=max_prompt_length,
            remix=REMIX_ACTIONS,
            animate=True,
            cancel=True,
            find_task=True,
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
        check_prompt(prompt, self.capabilities)
        body = {"taskId": task_id, "customId": action.ref, "enableRemix": True}
        opened = await self._submit("/mj/submit/action", body, job_id=job_id, task_scoped=True)
        if opened.status is not JobStatus.NEEDS_INPUT:
            return replace(opened, prompt_ignored=True)
        return await self.submit_modal(opened.task_id, prompt, job_id=job_id)

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
        check_prompt(prompt, self.capabilities)
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

    async def find_task(self, job_id: str, *, since: float) -> TaskUpdate | None:
        """The task whose `state` is the job id, from `GET /mj/task/list`.

        `list-by-condition` looks tasks up by id only (J: `dto/TaskConditionDTO.java`, T:
        `Dto/TaskConditionDTO.cs`), so the listing is searched instead: every stored task, newest
        first (J: `controller/TaskController.java`), or the newest LISTED_TASKS (T:
        `Controllers/TaskController.cs`).
        A full listing that does not reach back to `since` cannot prove the task absent.
        """
        response = await self._get("/mj/task/list")
        if response.status_code >= HTTP_BAD_REQUEST:
            raise BackendRefused(f"midjourney-proxy refused the task list with HTTP {response.status_code}")
        try:
            tasks = _TASK_LIST.validate_json(response.content)
        except ValidationError as exc:
            raise BackendUnavailable(
                f"midjourney-proxy sent a malformed task list ({exc.error_count()} errors)"
            ) from exc
        state = job_id[:STATE_MAX_LENGTH]
        found = [task for task in tasks if task.state == state]
        if found:
            return task_to_update(max(found, key=lambda task: task.submit_time or 0))
        reaches_back = any(
            task.submit_time is not None and task.submit_time < (since - CLOCK_SKEW) * 1000 for task in tasks
        )
        if len(tasks) >= LISTED_TASKS and not reaches_back:
            raise BackendUnavailable("midjourney-proxy's task list does not reach back to the job")
        return None

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        """The notify body is the task object itself (unsigned: the route authenticates the hook URL)."""
        try:
            task = ProxyTask.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidCallback(f"not a midjourney-proxy task ({exc.error_count()} errors)") from exc
        return [task_to_update(task)]

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        return await self._http.download(url, max_bytes=max_bytes)

    # --- HTTP plumbing ---

    def _common_fields(self, job_id: str) -> dict[str, str]:
        fields = {"state": job_id[:STATE_MAX_LENGTH]}
        if self._notify_url is not None:
            fields["notifyHook"] = self._notify_url
        return fields

    async def _send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        return _authenticated(await self._http.send(method, path, body))

    async def _get(self, path: str) -> httpx.Response:
        """GET with retries on network errors and 5xx; returns any non-5xx answer."""
        response = _authenticated(await self._http.read("GET", path, retry_when=server_error))
        if response.status_code >= HTTP_SERVER_ERROR:
            raise BackendUnavailable(f"midjourney-proxy answered HTTP {response.status_code}")
        return response

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


def _authenticated(response: httpx.Response) -> httpx.Response:
    if response.status_code in (HTTP_UNAUTHORIZED, HTTP_FORBIDDEN):
        # Never echo the key or the body: trueai's text is only "Authorization header missing.".
        raise BackendRefused(
            f"authentication failed (HTTP {response.status_code}): check the midjourney-proxy API secret"
        )
    return response
