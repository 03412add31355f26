"""ImagineAPI.dev adapter: Directus image items, account webhooks, and the ready-made crops as tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from bot.backends.base import Declines, check_prompt
from bot.backends.http import HTTP_BAD_REQUEST, HTTP_FORBIDDEN, HTTP_NOT_FOUND, BackendHttp
from bot.backends.imagineapi.assets import through_api
from bot.backends.imagineapi.errors import parse_errors, raise_for_error
from bot.backends.imagineapi.images import (
    REROLL_REF,
    image_to_update,
    parse_upscale_ref,
    parse_upscale_task_id,
    upscale_task_id,
    upscale_update,
)
from bot.backends.imagineapi.status import ServiceWatch
from bot.backends.imagineapi.wire import ImageEnvelope, ImageStatus, ImagineImage, WebhookBody
from bot.backends.reports import SinkReports
from bot.domain import (
    Action,
    ActionKind,
    BackendRefused,
    BackendUnavailable,
    Capabilities,
    Command,
    InvalidCallback,
    JobStatus,
    Submission,
    TaskNotFound,
    TaskUpdate,
    UpdateSink,
)

DEFAULT_MAX_PROMPT_LENGTH: Final = 6000
IMAGES_PATH: Final = "/items/images/"


class ImagineApiBackend(Declines):
    """Speaks ImagineAPI.dev's Directus REST API; pushes arrive through account webhooks (parse_callback)."""

    name = "imagineapi"
    label = "ImagineAPI.dev"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        api_key: str | None,
        push: bool,
        max_prompt_length: int = DEFAULT_MAX_PROMPT_LENGTH,
    ) -> None:
        self._http = BackendHttp(
            client,
            base_url,
            label="ImagineAPI",
            credentials={"Authorization": f"Bearer {api_key}"} if api_key else {},
        )
        # Webhooks are set per account in ImagineAPI's dashboard; `push` says whether the operator did.
        # 🔄 is a new image from a prompt, so it can take an edited one; there are no other actions.
        self.capabilities = Capabilities(
            commands=frozenset({Command.IMAGINE}),
            push=push,
            max_prompt_length=max_prompt_length,
            remix=frozenset({ActionKind.REROLL}),
        )
        self._reports = SinkReports("ImagineAPI")
        self._watch = ServiceWatch(self._http)

    async def start(self, sink: UpdateSink) -> None:
        """Keep the sink: finished upscales are reported through it as soon as they are pressed."""
        self._reports.start(sink)

    async def aclose(self) -> None:
        """Drop reports not yet delivered; the HTTP client is shared and closed by its owner."""
        await self._reports.aclose()

    # --- submits ---

    async def imagine(self, prompt: str, *, job_id: str) -> Submission:
        check_prompt(prompt, self.capabilities)
        return await self._create(prompt)

    async def act(self, task_id: str, action: Action, *, job_id: str) -> Submission:
        """The four crops complete at once from the grid's own files; 🔄 submits the grid's prompt again."""
        # Buttons stored before the crops were named so are UPSCALE actions with the same ref.
        if action.kind in (ActionKind.CROP, ActionKind.UPSCALE):
            target = parse_upscale_ref(action.ref)
            if target is None:
                raise BackendRefused("this button does not belong to ImagineAPI")
            index, url = target
            synthetic = upscale_task_id(task_id, index)
            self._reports.soon(upscale_update(synthetic, url))
            return Submission(synthetic, JobStatus.QUEUED)
        if action.kind is ActionKind.REROLL and action.ref == REROLL_REF:
            parent = await self._read_image(task_id)
            if parent is None:
                raise TaskNotFound(f"ImagineAPI does not know image {task_id}")
            if not parent.prompt:
                raise BackendRefused("the image to reroll has no prompt")
            return await self._create(parent.prompt)
        raise BackendRefused(f"ImagineAPI.dev offers no {action.kind.value} action")

    async def remix(self, task_id: str, action: Action, prompt: str, *, job_id: str) -> Submission:
        """🔄 with an edited prompt: a new image from that prompt."""
        if action.kind is not ActionKind.REROLL or action.ref != REROLL_REF:
            raise BackendRefused(f"ImagineAPI.dev cannot remix {action.kind.value}")
        check_prompt(prompt, self.capabilities)
        return await self._create(prompt)

    def waiting_reason(self) -> str | None:
        """Why jobs submitted now will wait in ImagineAPI's queue, from its last status (no request)."""
        return self._watch.waiting_reason()

    # --- reads ---

    async def fetch(self, task_id: str) -> TaskUpdate | None:
        synthetic = parse_upscale_task_id(task_id)
        image = await self._read_image(synthetic[0] if synthetic else task_id)
        if image is None:
            return None
        if synthetic is None:
            return image_to_update(through_api(image, self._http.base))
        index = synthetic[1]
        if image.status is not ImageStatus.COMPLETED or len(image.upscaled_urls) < index:
            return None
        return upscale_update(task_id, through_api(image, self._http.base).upscaled_urls[index - 1])

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> list[TaskUpdate]:
        """An account webhook (unsigned: the route authenticates the hook URL); matched by image id.

        Self-hosted webhooks leave `ref` out of the payload, and the account's other apps post here too.
        """
        try:
            event = WebhookBody.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidCallback(f"not an ImagineAPI webhook ({exc.error_count()} errors)") from exc
        return [image_to_update(through_api(event.payload, self._http.base))]

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        return await self._http.download(url, max_bytes=max_bytes)

    # --- HTTP plumbing ---

    async def _read_image(self, image_id: str) -> ImagineImage | None:
        response = await self._http.read("GET", f"{IMAGES_PATH}{quote(image_id, safe='')}")
        # Directus answers 403 FORBIDDEN for an id that does not exist (it hides missing items).
        if response.status_code in (HTTP_FORBIDDEN, HTTP_NOT_FOUND):
            return None
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, parse_errors(response))
        return self._http.decode(response.content, ImageEnvelope.model_validate_json, what="image").data

    async def _create(self, prompt: str) -> Submission:
        # Only `prompt`: a self-hosted server fails any unknown field with HTTP 500 (its create hook checks
        # the body against a strict schema, `api/image/src/shared.ts`), and nothing reads a `ref` back.
        response = await self._http.send("POST", IMAGES_PATH, {"prompt": prompt})
        if response.status_code >= HTTP_BAD_REQUEST:
            raise_for_error(response.status_code, parse_errors(response))
        try:
            image = ImageEnvelope.model_validate_json(response.content).data
        except ValidationError as exc:
            raise BackendUnavailable("ImagineAPI's answer to a create is not an image") from exc
        # Then the server's status (asked at most once a minute), so the job can say whether it will wait.
        await self._watch.refresh()
        return Submission(image.id, JobStatus.QUEUED)
