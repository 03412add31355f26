"""Routes of the Vary (Region) Mini App: the editor page, its static files, and the mask it submits."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from bot.i18n import Locales
from bot.media import ImageDecoder
from bot.miniapp import MaskTaken, RegionGrant, RegionJob, RegionLinkInvalid, read_region_token
from webhook.miniapp_page import PAGE_HEADERS, page_template, render, static_files
from webhook.miniapp_requests import (
    MAX_SUBMIT_BYTES,
    MaskClaims,
    Refusal,
    Submit,
    decode_mask,
    hand_over,
    parse_submit,
    read_capped,
    verified_user,
)

__all__ = ["MAX_SUBMIT_BYTES", "REGION_PATH", "LoadJob", "Submit", "create_region_router"]

REGION_PATH: Final = "/region"
# A direct-link Mini App (t.me/<bot>/<app>?startapp=<token>) opens its registered URL, here
# PUBLIC_URL/region/app, with the token in the tgWebAppStartParam query parameter.
LAUNCH_SEGMENT: Final = "app"
START_PARAM: Final = "tgWebAppStartParam"
STATIC_MAX_AGE: Final = 86400  # links carry a content hash, so a new release is fetched at once

LoadJob = Callable[[str], Awaitable[RegionJob | None]]
"""The job waiting for its mask; None when nothing waits; raises MaskTaken when it took one."""


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
    claims = MaskClaims()
    template = page_template()
    statics = static_files()
    router = APIRouter(prefix=REGION_PATH)

    def grant_for(token: str) -> RegionGrant:
        try:
            return read_region_token(token, secret=link_secret, now=clock())
        except RegionLinkInvalid as exc:
            raise Refusal(404, "not_found", "link expired or invalid") from exc

    async def waiting_job(grant: RegionGrant, *, submitting: bool = False) -> RegionJob:
        try:
            job = await load_job(grant.job_id)
        except MaskTaken as exc:
            # Known from the job's row, so any replica answers the same; the page is simply gone.
            status = 409 if submitting else 404
            raise Refusal(status, "gone", "this job has its mask already") from exc
        if job is None or job.job_id != grant.job_id:
            raise Refusal(404, "gone", "nothing waits for a region")
        if job.owner_user_id != grant.user_id:
            raise Refusal(403, "forbidden", "not your job")
        return job

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        file = statics.get(name)
        if file is None:
            return Refusal(404, "not_found", "no such file").response()
        headers = {"Cache-Control": f"public, max-age={STATIC_MAX_AGE}", "X-Content-Type-Options": "nosniff"}
        return Response(file.body, media_type=file.media_type, headers=headers)

    @router.get("/{token}")
    async def editor(token: str, request: Request) -> Response:
        if token == LAUNCH_SEGMENT:
            token = request.query_params.get(START_PARAM, "")
        try:
            job = await waiting_job(grant_for(token))
        except Refusal as refusal:
            return refusal.response()
        page = render(template, job, token, texts.translator(job.language), statics)
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @router.post("/{token}/submit")
    async def submit_region(token: str, request: Request) -> JSONResponse:
        try:
            grant = grant_for(token)
            body = parse_submit(await read_capped(request, MAX_SUBMIT_BYTES))
            user = verified_user(body.init_data, bot_token, max_age=max_age, now=clock())
            if user.id != grant.user_id:
                raise Refusal(403, "forbidden", "this link belongs to someone else")
            job = await waiting_job(grant, submitting=True)
            claims.claim(job.job_id)
        except Refusal as refusal:
            return refusal.response()
        try:
            mask = await decoding.run(decode_mask, body.mask, job)  # off the event loop, a few at a time
            prompt = body.prompt.strip() or job.prompt  # a cleared field means "keep the prompt"
            await hand_over(submit, job, user.id, prompt, mask, texts.translator(job.language))
        except Refusal as refusal:
            return refusal.response()
        finally:
            claims.release(job.job_id)
        return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})

    return router
