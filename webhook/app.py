"""The HTTP app: backend callbacks and Telegram updates, each authenticated, parsed and handed over."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from bot.backends.base import Backend
from bot.domain import InvalidCallback
from bot.imagehost import FILES_PATH, ImageHost
from bot.jobs import Ingest, JobService

log = logging.getLogger(__name__)

MAX_CALLBACK_BYTES = 1024 * 1024
MAX_TELEGRAM_UPDATE_BYTES = 1024 * 1024
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True, slots=True)
class TelegramWebhook:
    """Where Telegram posts updates in webhook mode, and what to do with each."""

    path_secret: str
    header_secret: str
    feed: Callable[[bytes], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class MetricsEndpoint:
    """/metrics: Prometheus' text format for whoever sends `Authorization: Bearer <token>`."""

    token: str
    render: Callable[[], bytes]
    content_type: str


class BodyTooLarge(Exception):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused past `limit` bytes before it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _is_json(content_type: str | None) -> bool:
    """JSON, or no declared type at all (some senders omit it); anything else is refused."""
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _client_gone(_request: Request, _exc: Exception) -> Response:
    return Response(status_code=400)


def create_app(
    jobs: JobService,
    backend: Backend,
    hook_secret: str,
    *,
    telegram: TelegramWebhook | None = None,
    image_host: ImageHost | None = None,
    region: APIRouter | None = None,
    metrics: MetricsEndpoint | None = None,
) -> FastAPI:
    """Build the app; it holds no state of its own."""
    app = FastAPI(title="mjgram", docs_url=None, redoc_url=None, openapi_url=None)
    # A client that went away mid-body (or was dropped for reading too slowly, see webhook.server) is no
    # error of ours: answer nobody instead of logging a traceback.
    app.add_exception_handler(ClientDisconnect, _client_gone)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def backend_hook(request: Request) -> JSONResponse:
        provider, secret = request.path_params["provider"], request.path_params["secret"]
        if provider != backend.name or not secrets.compare_digest(secret.encode(), hook_secret.encode()):
            log.warning("callback refused: unknown provider or secret (provider=%r)", provider[:32])
            return _error(404, "not found")
        if not _is_json(request.headers.get("content-type")):
            return _error(415, "expected application/json")
        try:
            body = await read_capped(request, MAX_CALLBACK_BYTES)
        except BodyTooLarge:
            return _error(413, "body too large")
        try:
            updates = backend.parse_callback(body, request.headers)
        except InvalidCallback as exc:
            log.warning("malformed %s callback: %s", provider, exc)
            return _error(422, "malformed callback")
        outcomes = await jobs.ingest_many(updates)
        if updates and all(o is Ingest.UNKNOWN for o in outcomes):
            return _error(404, "unknown task")
        return JSONResponse({"ok": True, "applied": sum(o is Ingest.APPLIED for o in outcomes)})

    # The busiest route, added as a plain Starlette route: it checks and parses everything itself, and
    # FastAPI's parameter machinery would cost about a tenth of each callback's CPU (`python -m bench`).
    app.add_route("/hooks/{provider}/{secret}", backend_hook, methods=["POST"])

    if image_host is not None:
        host = image_host

        @app.get(FILES_PATH + "/{token}")
        async def hosted_image(token: str) -> Response:
            image = await host.get(token)
            if image is None:
                return _error(404, "not found")
            headers = {"Cache-Control": "private, max-age=600", "X-Content-Type-Options": "nosniff"}
            return Response(image.data, media_type=image.mime_type, headers=headers)

    if region is not None:
        app.include_router(region)

    if metrics is not None:
        _add_metrics(app, metrics)

    if telegram is not None:
        tg = telegram

        @app.post("/telegram/{secret}")
        async def telegram_update(secret: str, request: Request) -> JSONResponse:
            header = request.headers.get(TELEGRAM_SECRET_HEADER, "")
            if not (
                secrets.compare_digest(secret.encode(), tg.path_secret.encode())
                and secrets.compare_digest(header.encode(), tg.header_secret.encode())
            ):
                return _error(404, "not found")
            try:
                body = await read_capped(request, MAX_TELEGRAM_UPDATE_BYTES)
            except BodyTooLarge:
                return _error(413, "body too large")
            try:
                await tg.feed(body)
            except InvalidCallback:
                return _error(422, "malformed update")
            return JSONResponse({"ok": True})

    return app


def _add_metrics(app: FastAPI, metrics: MetricsEndpoint) -> None:
    expected = f"Bearer {metrics.token}".encode()

    async def metrics_route(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        # In constant time, so the token can't be guessed a character at a time.
        if not secrets.compare_digest(given, expected):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return Response(metrics.render(), media_type=metrics.content_type)

    app.add_route("/metrics", metrics_route, methods=["GET"])
