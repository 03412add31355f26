"""A test-controlled fake of ImagineAPI.dev (a Directus app): its wire format over real HTTP on 127.0.0.1.

Two flavours. "self-hosted" follows the open source server, imagineapi/imagineapi (the `api/` Directus app:
the hooks in `api/image/src/index.ts`, the schema in `api/image/src/shared.ts`, the collections in
`api/build_files/snapshot.json`, the permissions in `api/extensions/data-migrations/`). "cloud" follows the
hosted service at cl.imagineapi.dev, whose code is not public: its documented answers (the `ref` field,
assets on the API's own host) come from the ImagineAPI docs and their examples.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import io
import json
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, web
from PIL import Image, ImageDraw

from tests.fakes.loopback import FakeRequest, LoopbackService

DEFAULT_TOKEN: Final = "ia-token"
USER_ID: Final = "fcb5549b-f8a6-4a5f-90e9-7e337209c893"
GRID_SIZE: Final = (1024, 1024)
PREVIEW_SIZE: Final = (128, 128)
UPSCALE_COUNT: Final = 4
WEBHOOK_TIMEOUT: Final = 5.0
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})

# Directus error messages, as its API writes them.
INVALID_CREDENTIALS: Final = "Invalid user credentials."
FORBIDDEN: Final = "You don't have permission to access this."
INVALID_JSON: Final = "Invalid payload. Unexpected token in JSON."
PROMPT_REQUIRED: Final = 'Validation failed for field "prompt". Value is required.'
REF_NOT_STRING: Final = 'Validation failed for field "ref". Value must be a string.'
TOO_MANY_REQUESTS: Final = "Too many requests, retry after {seconds}s."
UNEXPECTED: Final = "An unexpected error occurred."
# The code Directus puts in `extensions.code` for a status, used by injected failures.
CODE_FOR_STATUS: Final[dict[int, tuple[str, str]]] = {
    400: ("INVALID_PAYLOAD", "Invalid payload. Invalid query."),
    401: ("INVALID_CREDENTIALS", INVALID_CREDENTIALS),
    403: ("FORBIDDEN", FORBIDDEN),
    429: ("REQUESTS_EXCEEDED", TOO_MANY_REQUESTS.format(seconds=1)),
    500: ("INTERNAL_SERVER_ERROR", UNEXPECTED),
    503: ("SERVICE_UNAVAILABLE", "Service is unavailable. Database is unreachable."),
}

Flavour = Literal["self-hosted", "cloud"]
# api/image/src/shared.ts, `Image.status`: "queued" is valid there, though the open source bot only
# writes pending/in-progress/completed/failed (bot/src/utils/api.ts).
ImageStatus = Literal["pending", "queued", "in-progress", "completed", "failed"]
# api/image/src/index.ts (the `bot_status` queue consumer) accepts these four; the `status` collection's
# field defaults to "not started" until the bot first reports (api/build_files/snapshot.json).
BotStatus = Literal["not started", "starting", "healthy", "unhealthy", "paused"]
AssetKind = Literal["preview", "grid", "crop"]
FINAL_STATUSES: Final = frozenset({"completed", "failed"})
CREATE_EVENT: Final = "images.items.create"
UPDATE_EVENT: Final = "images.items.update"

# api/image/src/shared.ts, `Image`: the only keys the self-hosted create hook lets through. Its
# `filter("images.items.create")` asserts the body against `partial(PreCalculatedFieldsImage)`, a superstruct
# `object()` that refuses unknown keys; the hook throws a plain StructError, which Directus answers as 500.
SELF_HOSTED_IMAGE_KEYS: Final = frozenset(
    {
        "id",
        "internal_id",
        "prompt",
        "results",
        "status",
        "progress",
        "generation_type",
        "discord_channel_id",
        "discord_server_id",
        "discord_message_id",
        "discord_account_id",
        "discord_image_url",
        "date_created",
        "url",
        "user_created",
        "error",
        "upscaled",
        "upscaled_urls",
    }
)
# The fields the Standard role may read (api/extensions/data-migrations/
# 202305092021_add-image-upscaled_permissions.js), which is also the field list the webhook flow re-reads
# the item with (202312041908_add_webhook_flows_operations.js, operation "Load image"): no `ref`.
SELF_HOSTED_READ_FIELDS: Final = (
    "id",
    "prompt",
    "results",
    "user_created",
    "date_created",
    "status",
    "progress",
    "url",
    "error",
    "upscaled_urls",
    "upscaled",
)


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _errors(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return web.json_response(body, status=status, headers=headers)


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass(frozen=True, slots=True)
class Asset:
    """A Directus file the fake serves: which image it belongs to, and what it shows."""

    image_id: str
    kind: AssetKind
    quadrant: int = 0  # 1–4 for a crop


@dataclass(slots=True)
class FakeImage:
    """One item of the `images` collection; mutable, because the fake moves it along."""

    id: str
    prompt: str
    ref: str | None
    date_created: str
    status: ImageStatus = "pending"
    progress: int | None = None
    results: str | None = None
    url: str | None = None
    error: str | None = None
    upscaled_urls: list[str] | None = None
    upscaled: list[str] = field(default_factory=list)
    date_updated: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Every field the item has (a client must ignore those it does not know)."""
        return {
            "id": self.id,
            "prompt": self.prompt,
            "results": self.results,
            "user_created": USER_ID,
            "date_created": self.date_created,
            "user_updated": USER_ID if self.date_updated else None,
            "date_updated": self.date_updated,
            "status": self.status,
            # The `progress` column is an integer (snapshot.json), though the bot PATCHes the digits as text.
            "progress": self.progress,
            "url": self.url,
            "error": self.error,
            "upscaled_urls": list(self.upscaled_urls) if self.upscaled_urls is not None else None,
            "upscaled": list(self.upscaled),
            "ref": self.ref,
        }


class FakeImagineApi:
    """ImagineAPI.dev on 127.0.0.1: Directus auth and errors, account webhooks, progress set by the test."""

    def __init__(
        self,
        api_token: str = DEFAULT_TOKEN,
        *,
        flavour: Flavour = "self-hosted",
        auto_steps: tuple[int | None, ...] | None = None,
        step_delay: float = 0.05,
    ) -> None:
        self.api_token = api_token
        self.flavour: Flavour = flavour
        self.auto_steps = auto_steps
        self.step_delay = step_delay
        self.base_url = ""
        # The self-hosted server writes asset URLs from its PUBLIC_URL setting (`${env.PUBLIC_URL}/assets/…`
        # in api/image/src/index.ts), which need not be the address the bot reaches it at. The fake names
        # itself "localhost" there: the same server, another origin. The cloud's assets sit on its API host.
        self.public_url = ""
        self.images: dict[str, FakeImage] = {}
        self.assets: dict[str, Asset] = {}
        self.requests: list[FakeRequest] = []
        self.submissions: list[tuple[str, dict[str, Any]]] = []
        self.webhook_urls: list[str] = []
        self.webhooks: list[tuple[str, dict[str, Any], int]] = []
        self.drop_webhooks = False
        self._bot_status: BotStatus = "healthy"
        self._bot_healthy = asyncio.Event()
        self._bot_healthy.set()
        self.bot_message: str | None = None
        self.retry_after = 1
        self._http_failures: list[tuple[int, bool]] = []
        self._rendered: dict[str, bytes] = {}
        self._service = LoopbackService()
        self._background = self._service.background
        self._hook_client: ClientSession | None = None

    @property
    def bot_status(self) -> BotStatus:
        return self._bot_status

    @bot_status.setter
    def bot_status(self, status: BotStatus) -> None:
        self._bot_status = status
        if status == "healthy":
            self._bot_healthy.set()
        else:
            self._bot_healthy.clear()

    @property
    def self_hosted(self) -> bool:
        return self.flavour == "self-hosted"

    # --- lifecycle ---

    async def __aenter__(self) -> FakeImagineApi:
        app = web.Application(middlewares=[self._middleware])
        for path in ("/items/images", "/items/images/"):
            app.router.add_post(path, self._create)
        app.router.add_get("/items/images/{id}", self._read)
        app.router.add_get("/items/status", self._status)
        app.router.add_get("/assets/{file}/{name}", self._asset)
        self.base_url = await self._service.start(app, client_timeout=WEBHOOK_TIMEOUT)
        port = urlsplit(self.base_url).port
        self.public_url = f"http://localhost:{port}" if self.self_hosted else self.base_url
        self._hook_client = self._service.client
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._service.stop()

    # --- test controls ---

    def fail_next_http(self, status: int, times: int = 1, *, bare: bool = False) -> None:
        """Answer the next `times` requests (any path) with this status: a Directus error, or a bare page."""
        self._http_failures.extend([(status, bare)] * times)

    def snapshot(self, image_id: str) -> dict[str, Any]:
        """The webhook payload the image would carry now."""
        return self._payload(self.images[image_id])

    def quadrant_colour(self, image_id: str, quadrant: int) -> tuple[int, int, int]:
        """The colour of a grid quadrant (1–4: top left, top right, bottom left, bottom right)."""
        digest = hashlib.sha256(f"{image_id}:{quadrant}".encode()).digest()
        return digest[0], digest[1], digest[2]

    def status_requests(self) -> int:
        """How many times `/items/status` was asked."""
        return sum(1 for r in self.requests if r.path.split("?")[0] == "/items/status")

    async def hold(self, image_id: str) -> None:
        """queued: valid in the schema (shared.ts `Image.status`); the open source bot never writes it."""
        image = self._running(image_id)
        image.status, image.progress = "queued", None
        await self._updated(image)

    async def advance(self, image_id: str, progress: int | None) -> None:
        """in-progress; a number above 0 brings a new webp preview, None (the first update) none."""
        image = self._running(image_id)
        image.status = "in-progress"
        image.progress = progress
        if progress:
            image.results = self._new_asset(Asset(image_id, "preview"))
            image.url = self._asset_url(image.results, "webp")
        else:
            image.results = image.url = None
        await self._updated(image)

    async def complete(self, image_id: str) -> None:
        """completed: the grid PNG, and its four quarters as `upscaled_urls`.

        api/image/src/index.ts (`downloadAndSplitImage`): the "upscales" are the grid cut into halves with
        sharp, in the order top left, top right, bottom left, bottom right; nothing is upscaled. `upscaled`
        lists the same file ids through a one-to-many relation, in another order.
        """
        image = self._running(image_id)
        image.status, image.progress = "completed", None
        image.results = self._new_asset(Asset(image_id, "grid"))
        image.url = self._asset_url(image.results, "png")
        ids = [self._new_asset(Asset(image_id, "crop", q)) for q in range(1, UPSCALE_COUNT + 1)]
        image.upscaled_urls = [self._asset_url(file_id, "png") for file_id in ids]
        listed = sorted(ids)
        image.upscaled = listed if listed != ids else list(reversed(ids))
        await self._updated(image)

    async def fail(self, image_id: str, error: str = "Midjourney credits exhausted") -> None:
        image = self._running(image_id)
        image.status, image.progress, image.error = "failed", None, error
        await self._updated(image)

    async def renotify(self, image_id: str, payload: dict[str, Any]) -> None:
        """POST a given (older) payload again as an update: a duplicate or late webhook."""
        await self._post_webhooks({"event": UPDATE_EVENT, "payload": payload})

    async def run_to_completion(self, image_id: str, steps: tuple[int | None, ...] = (None, 30, 60)) -> None:
        for step in steps:
            await self.advance(image_id, step)
        await self.complete(image_id)

    async def drain(self) -> None:
        """Wait for the background work (create webhooks, auto runs) started so far."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # --- HTTP plumbing ---

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(FakeRequest(request.method, request.path_qs, dict(request.headers)))
        if request.method == "POST":
            self.submissions.append((request.path, await self._body_for_log(request)))
        if self._http_failures:
            status, bare = self._http_failures.pop(0)
            if bare:
                return web.Response(status=status, text="Bad Gateway", content_type="text/html")
            code, message = CODE_FOR_STATUS.get(status, ("INTERNAL_SERVER_ERROR", "Injected failure."))
            return _errors(status, code, message, headers={"Retry-After": str(self.retry_after)})
        # Self-hosted files are readable only by their uploader: the Standard role reads `directus_files`
        # where `uploaded_by` is the current user (data-migrations/202311221824_reduce_file_permission_for_
        # standard_role.js), and the hooks upload as `image.user_created`. The public role reads nothing.
        # The cloud's assets are served to anyone (its documented asset links carry no token).
        if self.self_hosted or not request.path.startswith("/assets/"):
            denied = self._check_token(request)
            if denied is not None:
                return denied
        response: web.StreamResponse = await handler(request)
        return response

    def _check_token(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        token = token or request.query.get("access_token")
        if token is None:
            return _errors(403, "FORBIDDEN", FORBIDDEN)
        if token != self.api_token:
            return _errors(401, "INVALID_CREDENTIALS", INVALID_CREDENTIALS)
        return None

    @staticmethod
    async def _body_for_log(request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # --- handlers ---

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _errors(400, "INVALID_PAYLOAD", INVALID_JSON)
        if not isinstance(body, dict):
            return _errors(400, "INVALID_PAYLOAD", "Invalid payload. Expected an object.")
        refused = self._refuse_self_hosted(body) if self.self_hosted else self._refuse_cloud(body)
        if refused is not None:
            return refused
        prompt, ref = body.get("prompt"), body.get("ref")
        image = FakeImage(id=str(uuid.uuid4()), prompt=prompt or "", ref=ref, date_created=_iso_now())
        self.images[image.id] = image
        # Directus runs flows after answering: the create webhook may arrive after later updates.
        self._spawn(self._post_webhooks_now(CREATE_EVENT, image.id))
        # api/image/src/index.ts, action("images.items.create"): only an image with a prompt is queued.
        if self.auto_steps is not None and prompt:
            self._spawn(self._auto_run(image.id, self.auto_steps))
        return web.json_response({"data": self._item(image)})

    @staticmethod
    def _refuse_self_hosted(body: dict[str, Any]) -> web.Response | None:
        # shared.ts through the create hook: an unknown key (such as `ref`) or a non-string prompt fails the
        # superstruct assertion; the hook's exception is no Directus error, so the answer is a bare 500.
        if set(body) - SELF_HOSTED_IMAGE_KEYS or not isinstance(body.get("prompt", ""), str):
            return _errors(500, "INTERNAL_SERVER_ERROR", UNEXPECTED)
        return None

    @staticmethod
    def _refuse_cloud(body: dict[str, Any]) -> web.Response | None:
        # The cloud documents `prompt` as required and `ref` as an optional string of the caller's.
        prompt, ref = body.get("prompt"), body.get("ref")
        if not isinstance(prompt, str) or not prompt.strip():
            return _errors(400, "FAILED_VALIDATION", PROMPT_REQUIRED)
        if ref is not None and not isinstance(ref, str):
            return _errors(400, "FAILED_VALIDATION", REF_NOT_STRING)
        return None

    async def _read(self, request: web.Request) -> web.Response:
        image = self.images.get(request.match_info["id"])
        if image is None:
            # Directus hides missing items behind the same answer as forbidden ones.
            return _errors(403, "FORBIDDEN", FORBIDDEN)
        return web.json_response({"data": self._item(image)})

    async def _status(self, request: web.Request) -> web.Response:
        # `status` is a singleton collection (snapshot.json) the Standard role may read
        # (data-migrations/202304070719_add-status_permissions.js); the bot's reports upsert it
        # (api/image/src/index.ts, the `bot_status` consumer).
        data = {
            "id": 1,
            "bot_status": self.bot_status,
            "message": self.bot_message,
            "user_created": None,
            "date_created": "2023-09-01T04:00:00.000Z",
            "user_updated": None,
            "date_updated": _iso_now(),
        }
        return web.json_response({"data": data})

    async def _asset(self, request: web.Request) -> web.Response:
        file_id, name = request.match_info["file"], request.match_info["name"]
        asset = self.assets.get(file_id)
        extension = "webp" if asset is not None and asset.kind == "preview" else "png"
        if asset is None or name != f"{file_id}.{extension}":
            return _errors(403, "FORBIDDEN", FORBIDDEN)
        if file_id not in self._rendered:
            self._rendered[file_id] = self._draw(asset)
        return web.Response(body=self._rendered[file_id], content_type=f"image/{extension}")

    # --- items ---

    def _item(self, image: FakeImage) -> dict[str, Any]:
        """The item as a read or create answers it to the token's user."""
        full = image.to_json()
        if self.self_hosted:
            return {key: full[key] for key in SELF_HOSTED_READ_FIELDS}
        return full

    def _payload(self, image: FakeImage) -> dict[str, Any]:
        """The item as a webhook carries it: the flow's field list self-hosted; with `ref` in the cloud's."""
        if self.self_hosted:
            return self._item(image)
        payload = image.to_json()
        for key in ("user_updated", "date_updated"):
            payload.pop(key)
        return payload

    # --- images ---

    def _new_asset(self, asset: Asset) -> str:
        file_id = str(uuid.uuid4())
        self.assets[file_id] = asset
        return file_id

    def _asset_url(self, file_id: str, extension: str) -> str:
        # api/image/src/index.ts: `${env.PUBLIC_URL}/assets/${file.id}/${file.filename_disk}`.
        return f"{self.public_url}/assets/{file_id}/{file_id}.{extension}"

    def _draw(self, asset: Asset) -> bytes:
        size = PREVIEW_SIZE if asset.kind == "preview" else GRID_SIZE
        image = Image.new("RGB", size)
        draw = ImageDraw.Draw(image)
        width, height = size
        for q in range(1, UPSCALE_COUNT + 1):
            x, y = ((q - 1) % 2) * width // 2, ((q - 1) // 2) * height // 2
            colour = self.quadrant_colour(asset.image_id, q)
            draw.rectangle((x, y, x + width // 2 - 1, y + height // 2 - 1), fill=colour)
        if asset.kind == "crop":
            # downloadAndSplitImage: a quarter of the grid at the grid's own resolution.
            x, y = ((asset.quadrant - 1) % 2) * width // 2, ((asset.quadrant - 1) // 2) * height // 2
            image = image.crop((x, y, x + width // 2, y + height // 2))
        out = io.BytesIO()
        image.save(out, "WEBP" if asset.kind == "preview" else "PNG")
        return out.getvalue()

    # --- webhooks ---

    async def _updated(self, image: FakeImage) -> None:
        image.date_updated = _iso_now()
        await self._post_webhooks({"event": UPDATE_EVENT, "payload": self._payload(image)})

    async def _post_webhooks_now(self, event: str, image_id: str) -> None:
        # The flow re-reads the item, so the payload is its state when the flow runs.
        await self._post_webhooks({"event": event, "payload": self._payload(self.images[image_id])})

    async def _post_webhooks(self, body: dict[str, Any]) -> None:
        """One POST per account webhook URL, one attempt, no retry, no signature (loopback only)."""
        if self.drop_webhooks or self._hook_client is None:
            return
        data = json.dumps(body).encode()
        for url in list(self.webhook_urls):
            if not _is_loopback(url):
                continue
            status = 0
            with contextlib.suppress(ClientError, TimeoutError):
                async with self._hook_client.post(
                    url, data=data, headers={"Content-Type": "application/json"}
                ) as response:
                    status = response.status
            self.webhooks.append((url, copy.deepcopy(body), status))

    # --- background progress ---

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _auto_run(self, image_id: str, steps: tuple[int | None, ...]) -> None:
        # The prompt waits in RabbitMQ until the Discord bot takes prompts again: bot/src/consumer.ts accepts
        # them only in its `authenticated` state, entered with a "healthy" report.
        await self._bot_healthy.wait()
        for step in steps:
            await asyncio.sleep(self.step_delay)
            if self.images[image_id].status in FINAL_STATUSES:
                return
            await self.advance(image_id, step)
        await asyncio.sleep(self.step_delay)
        if self.images[image_id].status not in FINAL_STATUSES:
            await self.complete(image_id)

    def _running(self, image_id: str) -> FakeImage:
        image = self.images[image_id]
        if image.status in FINAL_STATUSES:
            raise ValueError(f"image {image_id} is {image.status}; it cannot change")
        return image
