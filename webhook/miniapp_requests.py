"""What the Vary (Region) Mini App posts: its body read and parsed, its user verified, its mask decoded, and
the refusals it gets back as JSON."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.errors import DomainError, InputNotExpected, NotYourButton
from bot.i18n import Translator
from bot.miniapp import (
    INIT_DATA_MAX_CHARS,
    InitDataInvalid,
    MaskInvalid,
    MaskProblem,
    RegionJob,
    WebAppUser,
    mask_png,
    verify_init_data,
)

log = logging.getLogger(__name__)

MAX_SUBMIT_BYTES: Final = 8 * 1024 * 1024
MAX_PROMPT_CHARS: Final = 6000
PNG_DATA_URL: Final = "data:image/png;base64,"

Submit = Callable[[str, int, str, bytes], Awaitable[None]]


class SubmitBody(BaseModel):
    """What the editor page posts."""

    model_config = ConfigDict(extra="ignore")

    init_data: str = Field(max_length=INIT_DATA_MAX_CHARS)
    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    mask: str = Field(max_length=MAX_SUBMIT_BYTES)


class Refusal(Exception):
    """An answer other than success, as JSON: status, machine code, short reason."""

    def __init__(self, status: int, code: str, detail: str, message: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.message = status, code, detail, message

    def response(self) -> JSONResponse:
        body = {"ok": False, "code": self.code, "detail": self.detail}
        if self.message is not None:
            body["message"] = self.message
        return JSONResponse(body, status_code=self.status, headers={"Cache-Control": "no-store"})


class MaskClaims:
    """One mask at a time per job on this replica: a second one while the first is decoded or handed over
    is refused before it costs a decode.

    That a job took its mask is a fact of its row, not of this process: handing the mask over moves the
    job out of waiting for input (`InputFlow.take`, row locked), so any replica then finds nothing
    waiting, and of two submits racing on two replicas the second is refused by the job service.
    """

    def __init__(self) -> None:
        self._busy: set[str] = set()

    def claim(self, job_id: str) -> None:
        if job_id in self._busy:
            raise Refusal(409, "gone", "this job has its mask already")
        self._busy.add(job_id)

    def release(self, job_id: str) -> None:
        self._busy.discard(job_id)


async def read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, "too_large", "body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, "too_large", "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_submit(raw: bytes) -> SubmitBody:
    try:
        return SubmitBody.model_validate_json(raw)
    except ValidationError as exc:
        raise Refusal(422, "malformed", "malformed request") from exc


def verified_user(init_data: str, bot_token: str, *, max_age: float, now: float) -> WebAppUser:
    try:
        return verify_init_data(init_data, bot_token, max_age=max_age, now=now)
    except InitDataInvalid as exc:
        raise Refusal(401, "auth", f"initData refused: {exc.reason.value}") from exc


def decode_mask(data_url: str, job: RegionJob) -> bytes:
    if not data_url.startswith(PNG_DATA_URL):
        raise Refusal(422, "bad_mask", "mask must be a PNG data URL")
    try:
        painted = base64.b64decode(data_url.removeprefix(PNG_DATA_URL), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Refusal(422, "bad_mask", "mask is not valid base64") from exc
    try:
        return mask_png(painted, job.width, job.height)
    except MaskInvalid as exc:
        code = "empty_mask" if exc.reason is MaskProblem.EMPTY else "bad_mask"
        raise Refusal(422, code, f"mask refused: {exc.reason.value}") from exc


async def hand_over(
    submit: Submit, job: RegionJob, user_id: int, prompt: str, mask: bytes, t: Translator
) -> None:
    try:
        await submit(job.job_id, user_id, prompt, mask)
    except NotYourButton as exc:
        raise Refusal(403, "forbidden", "not your job") from exc
    except InputNotExpected as exc:
        raise Refusal(409, "gone", "nothing waits for a region") from exc
    except DomainError as exc:
        message = t(exc.message_id, **exc.args_for_message)
        raise Refusal(422, "refused", type(exc).__name__, message) from exc
    except Exception as exc:
        # The page must get JSON it can show, never a framework error page; the log keeps the trace.
        log.exception("handing a Vary (Region) mask to job %s failed", job.job_id)
        raise Refusal(500, "failed", "internal error") from exc
