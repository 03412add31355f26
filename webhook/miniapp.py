"""Routes of the Vary (Region) Mini App: the editor page, its static files, and the mask it submits."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.errors import DomainError, InputNotExpected, NotYourButton
from bot.i18n import Locales, Translator
from bot.media import ImageDecoder
from bot.miniapp import (
    INIT_DATA_MAX_CHARS,
    InitDataInvalid,
    MaskInvalid,
    MaskProblem,
    RegionGrant,
    RegionJob,
    RegionLinkInvalid,
    WebAppUser,
    mask_png,
    read_region_token,
    verify_init_data,
)

log = logging.getLogger(__name__)

REGION_PATH: Final = "/region"
# A direct-link Mini App (t.me/<bot>/<app>?startapp=<token>) opens its registered URL, here
# PUBLIC_URL/region/app, with the token in the tgWebAppStartParam query parameter.
LAUNCH_SEGMENT: Final = "app"
START_PARAM: Final = "tgWebAppStartParam"
MAX_SUBMIT_BYTES: Final = 8 * 1024 * 1024
MAX_PROMPT_CHARS: Final = 6000
PNG_DATA_URL: Final = "data:image/png;base64,"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static" / "region"
STATIC_TYPES: Final = {"region.js": "text/javascript; charset=utf-8", "region.css": "text/css; charset=utf-8"}
STATIC_MAX_AGE: Final = 86400  # links carry a content hash, so a new release is fetched at once
VERSION_CHARS: Final = 12
MASKED_JOBS_REMEMBERED: Final = 4096  # jobs that got their mask, kept to refuse a second one

PAGE_HEADERS: Final = {
    "Content-Security-Policy": "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors https://web.telegram.org",  # Telegram Web shows Mini Apps in an iframe
        )
    ),
    "Referrer-Policy": "no-referrer",  # the path carries the editor link
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

# Labels the page needs after it has loaded (status lines), by the key region.js uses.
SCRIPT_LABELS: Final = {
    "submit": "region-submit",
    "sending": "region-sending",
    "done": "region-done",
    "cancelled": "region-cancelled",
    "empty_mask": "region-error-empty",
    "auth": "region-error-auth",
    "forbidden": "region-error-forbidden",
    "gone": "region-error-gone",
    "failed": "region-error-failed",
}
PAGE_LABELS: Final = (
    "region-title",
    "region-hint",
    "region-image-alt",
    "region-prompt-label",
    "region-tools-label",
    "region-tool-brush",
    "region-tool-eraser",
    "region-tool-rect",
    "region-tool-lasso",
    "region-brush-size",
    "region-undo",
    "region-clear",
    "region-submit",
    "region-cancel",
)
_SLOT = re.compile(r"\{\{\s*([a-z0-9_-]+)\s*\}\}")
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})

LoadJob = Callable[[str], Awaitable[RegionJob | None]]
Submit = Callable[[str, int, str, bytes], Awaitable[None]]


class SubmitBody(BaseModel):
    """What the editor page posts."""

    model_config = ConfigDict(extra="ignore")

    init_data: str = Field(max_length=INIT_DATA_MAX_CHARS)
    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    mask: str = Field(max_length=MAX_SUBMIT_BYTES)


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    media_type: str
    version: str


class _Refusal(Exception):
    """An answer other than success, as JSON: status, machine code, short reason."""

    def __init__(self, status: int, code: str, detail: str, message: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.message = status, code, detail, message

    def response(self) -> JSONResponse:
        body = {"ok": False, "code": self.code, "detail": self.detail}
        if self.message is not None:
            body["message"] = self.message
        return JSONResponse(body, status_code=self.status, headers={"Cache-Control": "no-store"})


class _MaskClaims:
    """One mask per job: none while another is being decoded or handed over, none after one was taken."""

    def __init__(self, remembered: int = MASKED_JOBS_REMEMBERED) -> None:
        self._busy: set[str] = set()
        self._taken: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered

    def claim(self, job_id: str) -> None:
        if job_id in self._busy or job_id in self._taken:
            raise _Refusal(409, "gone", "this job has its mask already")
        self._busy.add(job_id)

    def release(self, job_id: str, *, taken: bool) -> None:
        """The claim ends; `taken`: the mask was handed over, so the job takes no other."""
        self._busy.discard(job_id)
        if taken:
            self._taken[job_id] = None
            while len(self._taken) > self._remembered:
                self._taken.popitem(last=False)


def create_region_router(
    *,
    bot_token: str,
    link_secret: str,
    load_job: LoadJob,
    submit: Submit,
    max_age: float,
    locales: Locales | None = None,
    clock: Callable[[], float] = time.time,
    decoder: ImageDecoder | None = None,
) -> APIRouter:
    """The editor's routes under /region; `submit(job_id, user_id, prompt, mask_png)` hands the mask over."""
    texts = locales or Locales()
    decoding = decoder or ImageDecoder()
    claims = _MaskClaims()
    template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    statics = {name: _static_file(name, media_type) for name, media_type in STATIC_TYPES.items()}
    router = APIRouter(prefix=REGION_PATH)

    def grant_for(token: str) -> RegionGrant:
        try:
            return read_region_token(token, secret=link_secret, now=clock())
        except RegionLinkInvalid as exc:
            raise _Refusal(404, "not_found", "link expired or invalid") from exc

    async def waiting_job(grant: RegionGrant) -> RegionJob:
        job = await load_job(grant.job_id)
        if job is None or job.job_id != grant.job_id:
            raise _Refusal(404, "gone", "nothing waits for a region")
        if job.owner_user_id != grant.user_id:
            raise _Refusal(403, "forbidden", "not your job")
        return job

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        file = statics.get(name)
        if file is None:
            return _Refusal(404, "not_found", "no such file").response()
        headers = {"Cache-Control": f"public, max-age={STATIC_MAX_AGE}", "X-Content-Type-Options": "nosniff"}
        return Response(file.body, media_type=file.media_type, headers=headers)

    @router.get("/{token}")
    async def editor(token: str, request: Request) -> Response:
        if token == LAUNCH_SEGMENT:
            token = request.query_params.get(START_PARAM, "")
        try:
            job = await waiting_job(grant_for(token))
        except _Refusal as refusal:
            return refusal.response()
        page = _render(template, job, token, texts.translator(job.language), statics)
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @router.post("/{token}/submit")
    async def submit_region(token: str, request: Request) -> JSONResponse:
        try:
            grant = grant_for(token)
            body = _parse(await _read_capped(request, MAX_SUBMIT_BYTES))
            user = _verified_user(body.init_data, bot_token, max_age=max_age, now=clock())
            if user.id != grant.user_id:
                raise _Refusal(403, "forbidden", "this link belongs to someone else")
            job = await waiting_job(grant)
            claims.claim(job.job_id)
        except _Refusal as refusal:
            return refusal.response()
        taken = False
        try:
            mask = await decoding.run(_mask, body.mask, job)  # off the event loop, a few at a time
            prompt = body.prompt.strip() or job.prompt  # a cleared field means "keep the prompt"
            await _hand_over(submit, job, user.id, prompt, mask, texts.translator(job.language))
            taken = True
        except _Refusal as refusal:
            return refusal.response()
        finally:
            claims.release(job.job_id, taken=taken)
        return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})

    return router


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _Refusal(413, "too_large", "body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refusal(413, "too_large", "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> SubmitBody:
    try:
        return SubmitBody.model_validate_json(raw)
    except ValidationError as exc:
        raise _Refusal(422, "malformed", "malformed request") from exc


def _verified_user(init_data: str, bot_token: str, *, max_age: float, now: float) -> WebAppUser:
    try:
        return verify_init_data(init_data, bot_token, max_age=max_age, now=now)
    except InitDataInvalid as exc:
        raise _Refusal(401, "auth", f"initData refused: {exc.reason.value}") from exc


def _mask(data_url: str, job: RegionJob) -> bytes:
    if not data_url.startswith(PNG_DATA_URL):
        raise _Refusal(422, "bad_mask", "mask must be a PNG data URL")
    try:
        painted = base64.b64decode(data_url.removeprefix(PNG_DATA_URL), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Refusal(422, "bad_mask", "mask is not valid base64") from exc
    try:
        return mask_png(painted, job.width, job.height)
    except MaskInvalid as exc:
        code = "empty_mask" if exc.reason is MaskProblem.EMPTY else "bad_mask"
        raise _Refusal(422, code, f"mask refused: {exc.reason.value}") from exc


async def _hand_over(
    submit: Submit, job: RegionJob, user_id: int, prompt: str, mask: bytes, t: Translator
) -> None:
    try:
        await submit(job.job_id, user_id, prompt, mask)
    except NotYourButton as exc:
        raise _Refusal(403, "forbidden", "not your job") from exc
    except InputNotExpected as exc:
        raise _Refusal(409, "gone", "nothing waits for a region") from exc
    except DomainError as exc:
        message = t(exc.message_id, **exc.args_for_message)
        raise _Refusal(422, "refused", type(exc).__name__, message) from exc
    except Exception as exc:
        # The page must get JSON it can show, never a framework error page; the log keeps the trace.
        log.exception("handing a Vary (Region) mask to job %s failed", job.job_id)
        raise _Refusal(500, "failed", "internal error") from exc


def _static_file(name: str, media_type: str) -> StaticFile:
    body = (STATIC_DIR / name).read_bytes()
    return StaticFile(body, media_type, hashlib.sha256(body).hexdigest()[:VERSION_CHARS])


def _render(
    template: str, job: RegionJob, token: str, t: Translator, statics: Mapping[str, StaticFile]
) -> str:
    """The editor page for `job`; every value is escaped for where it lands."""
    config = {
        "width": job.width,
        "height": job.height,
        "submitUrl": f"{token}/submit",  # relative: right for /region/<token> and /region/app alike
        "maxPromptChars": MAX_PROMPT_CHARS,
        "labels": {key: t(message_id) for key, message_id in SCRIPT_LABELS.items()},
    }
    slots = {message_id: html.escape(t(message_id)) for message_id in PAGE_LABELS}
    slots |= {
        "lang": html.escape(t.language),
        "prompt": html.escape(job.prompt),
        "image-url": html.escape(job.image_url),
        "width": str(job.width),
        "height": str(job.height),
        "max-prompt": str(MAX_PROMPT_CHARS),
        "js-version": statics["region.js"].version,
        "css-version": statics["region.css"].version,
        "config": json.dumps(config, ensure_ascii=True).translate(_JSON_IN_HTML),
    }
    return _SLOT.sub(lambda match: slots[match.group(1)], template)
