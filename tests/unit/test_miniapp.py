"""Vary (Region) Mini App: initData checks, editor links, masks, and the routes that use them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import cast
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from aiogram.utils.web_app import check_webapp_signature
from fastapi import FastAPI
from PIL import Image, ImageDraw

from bot.backends.base import Backend
from bot.domain import Action, ActionKind, FailureKind, Job, JobKind, JobStatus
from bot.domain.errors import InputNotExpected, PromptTooLong
from bot.imagehost import MemoryImageHost
from bot.jobs import JobService
from bot.miniapp import (
    InitDataInvalid,
    InitDataProblem,
    MaskInvalid,
    MaskProblem,
    MaskTaken,
    RegionGrant,
    RegionJob,
    RegionLinkInvalid,
    WebAppUser,
    mask_png,
    read_region_token,
    region_token,
    verify_init_data,
)
from bot.region import RegionEditor
from tests.browser.launch import signed_init_data
from webhook.miniapp import MAX_SUBMIT_BYTES, create_region_router

TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz"
NOW = 1_760_000_000
DAY = 86400.0
ALICE = {"id": 1001, "first_name": "Alice", "language_code": "ru", "username": "alice"}
MALLORY = {"id": 666, "first_name": "Mallory"}
LINK_SECRET = "link-secret-for-tests"
JOB_ID = "3f1c2d4e5a6b4c7d"


def init_data(user: dict[str, object] | None = ALICE, *, auth_date: int = NOW, **extra: str) -> str:
    return signed_init_data(TOKEN, auth_date=auth_date, user=user, **extra)


def problem(data: str, *, token: str = TOKEN, now: float = NOW) -> InitDataProblem:
    with pytest.raises(InitDataInvalid) as caught:
        verify_init_data(data, token, max_age=DAY, now=now)
    return caught.value.reason


def resigned(fields: dict[str, str]) -> str:
    """Fields with a valid hash, whatever they hold (to reach the checks after the signature)."""
    unsigned = {k: v for k, v in fields.items() if k != "hash"}
    check = "\n".join(f"{k}={unsigned[k]}" for k in sorted(unsigned))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    return urlencode({**unsigned, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})


# --- initData -------------------------------------------------------------------------------------------


def test_valid_init_data_names_the_user() -> None:
    user = verify_init_data(init_data(), TOKEN, max_age=DAY, now=NOW + 10)
    assert user == WebAppUser(id=1001, first_name="Alice", language_code="ru")


def test_our_signer_agrees_with_aiogram() -> None:
    # Two independent implementations of Telegram's documented check, so the test signer is not self-serving.
    assert check_webapp_signature(TOKEN, init_data())


def test_newer_fields_such_as_signature_are_part_of_the_signed_string() -> None:
    data = init_data(signature="c2lnbmF0dXJl", chat_instance="-42")
    assert verify_init_data(data, TOKEN, max_age=DAY, now=NOW).id == 1001


def test_tampered_user_is_refused() -> None:
    fields = dict(parse_qsl(init_data()))
    fields["user"] = fields["user"].replace("1001", "1002")
    assert problem(urlencode(fields)) is InitDataProblem.BAD_SIGNATURE


def test_tampered_auth_date_is_refused() -> None:
    fields = dict(parse_qsl(init_data(auth_date=NOW - 10 * int(DAY))))
    fields["auth_date"] = str(NOW)
    assert problem(urlencode(fields)) is InitDataProblem.BAD_SIGNATURE


def test_added_field_is_refused() -> None:
    assert problem(init_data() + "&start_param=other") is InitDataProblem.BAD_SIGNATURE


def test_another_bots_token_is_refused() -> None:
    assert problem(init_data(), token="987654321:OTHER-token") is InitDataProblem.BAD_SIGNATURE


def test_missing_hash_is_refused() -> None:
    fields = dict(parse_qsl(init_data()))
    del fields["hash"]
    assert problem(urlencode(fields)) is InitDataProblem.MISSING_HASH


def test_hash_in_another_case_or_length_is_refused() -> None:
    fields = dict(parse_qsl(init_data()))
    fields["hash"] = fields["hash"].upper()
    assert problem(urlencode(fields)) is InitDataProblem.BAD_SIGNATURE
    fields["hash"] = fields["hash"][:10]
    assert problem(urlencode(fields)) is InitDataProblem.BAD_SIGNATURE


def test_expired_init_data_is_refused() -> None:
    assert problem(init_data(auth_date=NOW - int(DAY) - 1)) is InitDataProblem.STALE
    assert verify_init_data(init_data(auth_date=NOW - int(DAY)), TOKEN, max_age=DAY, now=NOW).id == 1001


def test_auth_date_in_the_future_is_refused_beyond_a_small_skew() -> None:
    assert verify_init_data(init_data(auth_date=NOW + 30), TOKEN, max_age=DAY, now=NOW).id == 1001
    assert problem(init_data(auth_date=NOW + 3600)) is InitDataProblem.FROM_THE_FUTURE


def test_another_user_is_reported_as_that_user() -> None:
    assert verify_init_data(init_data(MALLORY), TOKEN, max_age=DAY, now=NOW).id == 666


@pytest.mark.parametrize(
    "data",
    ["", "no-equals-sign", "a=1&a=2&hash=" + "0" * 64, "x" * 9000],
    ids=["empty", "not-a-query", "repeated-key", "huge"],
)
def test_malformed_init_data_is_refused(data: str) -> None:
    assert problem(data) is InitDataProblem.MALFORMED


@pytest.mark.parametrize(
    "user",
    [
        None,
        "not json",
        "[1, 2]",
        '{"first_name": "A"}',
        '{"id": "1", "first_name": "A"}',
        '{"id": true, "first_name": "A"}',
        '{"id": 5}',
    ],
    ids=["absent", "not-json", "not-an-object", "no-id", "string-id", "bool-id", "no-name"],
)
def test_malformed_user_is_refused_even_when_signed(user: str | None) -> None:
    fields = {"auth_date": str(NOW), "query_id": "q"}
    if user is not None:
        fields["user"] = user
    assert problem(resigned(fields)) is InitDataProblem.BAD_USER


def test_non_numeric_auth_date_is_refused_even_when_signed() -> None:
    fields = {"auth_date": "yesterday", "user": json.dumps(ALICE)}
    assert problem(resigned(fields)) is InitDataProblem.MALFORMED


def test_the_error_never_echoes_the_token() -> None:
    with pytest.raises(InitDataInvalid) as caught:
        verify_init_data(init_data(), "999:" + TOKEN[::-1], max_age=DAY, now=NOW)
    assert TOKEN not in str(caught.value) and TOKEN[::-1] not in repr(caught.value)


# --- editor links ---------------------------------------------------------------------------------------


def link(job_id: str = JOB_ID, user_id: int = 1001, *, expires_at: int = NOW + 600) -> str:
    return region_token(job_id, user_id, secret=LINK_SECRET, expires_at=expires_at)


def test_link_round_trip() -> None:
    assert read_region_token(link(), secret=LINK_SECRET, now=NOW) == RegionGrant(JOB_ID, 1001)


def test_link_is_compact_and_url_safe_enough_for_a_start_parameter() -> None:
    token = link(user_id=7_999_999_999)
    assert len(token) <= 64
    assert token.replace("-", "").replace("_", "").isalnum()


def test_expired_link_is_refused() -> None:
    token = link(expires_at=NOW)
    with pytest.raises(RegionLinkInvalid, match="expired"):
        read_region_token(token, secret=LINK_SECRET, now=NOW)


def test_link_signed_with_another_secret_is_refused() -> None:
    token = region_token(JOB_ID, 1001, secret="someone-else", expires_at=NOW + 600)
    with pytest.raises(RegionLinkInvalid, match="signature"):
        read_region_token(token, secret=LINK_SECRET, now=NOW)


def test_every_altered_character_breaks_the_link() -> None:
    token = link()
    alphabet = "AbQz09_-"
    for position in range(len(token)):
        swapped = next(c for c in alphabet if c != token[position])
        forged = token[:position] + swapped + token[position + 1 :]
        with pytest.raises(RegionLinkInvalid):
            read_region_token(forged, secret=LINK_SECRET, now=NOW)


def test_links_for_other_jobs_or_users_are_distinct() -> None:
    assert len({link(), link(job_id="other"), link(user_id=1002), link(expires_at=NOW + 601)}) == 4


@pytest.mark.parametrize("token", ["", "a", "a.b", "%%%", "x" * 300, link()[:-4]])
def test_malformed_links_are_refused(token: str) -> None:
    with pytest.raises(RegionLinkInvalid):
        read_region_token(token, secret=LINK_SECRET, now=NOW)


@pytest.mark.parametrize("job_id", ["", "has space", "a/b", "x" * 65])
def test_links_only_carry_plain_job_ids(job_id: str) -> None:
    with pytest.raises(ValueError):
        region_token(job_id, 1, secret=LINK_SECRET, expires_at=NOW)


# --- masks -----------------------------------------------------------------------------------------------

W, H = 200, 100
BOX = (50, 20, 120, 70)  # left, top, right, bottom (exclusive) in image pixels


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def strokes(size: tuple[int, int] = (W, H), *, fill: tuple[int, ...] = (255, 40, 120, 255)) -> Image.Image:
    """What the page submits: opaque-ish paint on a clear canvas, covering BOX scaled to `size`."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    sx, sy = size[0] / W, size[1] / H
    box = (BOX[0] * sx, BOX[1] * sy, BOX[2] * sx - 1, BOX[3] * sy - 1)
    ImageDraw.Draw(image).rectangle(box, fill=fill)
    return image


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


def levels(image: Image.Image) -> set[int]:
    """The grey levels present in a mode L picture."""
    return {level for level, count in enumerate(image.histogram()) if count}


def white_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    return image.getbbox()


def test_mask_is_black_and_white_at_the_image_size() -> None:
    mask = decoded(mask_png(png(strokes()), W, H))
    assert mask.mode == "L" and mask.size == (W, H)
    assert levels(mask) == {0, 255}
    assert white_box(mask) == BOX
    assert mask.histogram()[255] == (BOX[2] - BOX[0]) * (BOX[3] - BOX[1])


def test_smaller_drawing_is_scaled_up_to_the_image_size() -> None:
    mask = decoded(mask_png(png(strokes((W // 2, H // 2))), W, H))
    assert mask.size == (W, H) and levels(mask) == {0, 255}
    left, top, right, bottom = white_box(mask) or (0, 0, 0, 0)
    assert abs(left - BOX[0]) <= 2 and abs(top - BOX[1]) <= 2
    assert abs(right - BOX[2]) <= 2 and abs(bottom - BOX[3]) <= 2


def test_drawing_larger_than_the_image_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page paints at the picture's own size: a bigger drawing is an attack on memory and time
    (a 155 KB PNG of 40 megapixels took 0.66 s and ~390 MB to decode), refused from its header."""
    drawings = [png(strokes(size)) for size in ((W * 3, H * 3), (W + 1, H), (6000, 3000))]
    loaded: list[tuple[int, int]] = []
    real_load = Image.Image.load

    def spy(self: Image.Image) -> object:
        loaded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(Image.Image, "load", spy)
    for drawing in drawings:
        with pytest.raises(MaskInvalid) as caught:
            mask_png(drawing, W, H)
        assert caught.value.reason is MaskProblem.BAD_SIZE
    assert loaded == [], "nothing was decoded"


@pytest.mark.parametrize("kind", ["JPEG", "GIF", "WEBP", "BMP"])
def test_only_png_drawings_are_read(kind: str) -> None:
    out = io.BytesIO()
    strokes().convert("RGB").save(out, kind)
    with pytest.raises(MaskInvalid) as caught:
        mask_png(out.getvalue(), W, H)
    assert caught.value.reason is MaskProblem.UNREADABLE


def test_faint_paint_below_the_threshold_does_not_count() -> None:
    image = strokes()
    ImageDraw.Draw(image).rectangle((150, 10, 190, 90), fill=(255, 255, 255, 60))
    assert white_box(decoded(mask_png(png(image), W, H))) == BOX


def test_coloured_strokes_on_an_opaque_black_picture_count_as_painted() -> None:
    image = Image.new("RGB", (W, H), (0, 0, 0))
    ImageDraw.Draw(image).rectangle((BOX[0], BOX[1], BOX[2] - 1, BOX[3] - 1), fill=(0, 0, 255))
    mask = decoded(mask_png(png(image), W, H))
    assert white_box(mask) == BOX and levels(mask) == {0, 255}


def test_grey_mask_picture_is_thresholded() -> None:
    image = Image.new("L", (W, H), 30)
    ImageDraw.Draw(image).rectangle((BOX[0], BOX[1], BOX[2] - 1, BOX[3] - 1), fill=200)
    assert white_box(decoded(mask_png(png(image), W, H))) == BOX


def test_fully_painted_opaque_canvas_is_all_white() -> None:
    image = Image.new("RGBA", (W, H), (255, 40, 120, 255))
    mask = decoded(mask_png(png(image), W, H))
    assert levels(mask) == {255}


@pytest.mark.parametrize(
    "picture",
    [
        Image.new("RGBA", (W, H), (255, 0, 0, 0)),
        Image.new("RGB", (W, H), (0, 0, 0)),
        Image.new("L", (W, H), 90),
    ],
    ids=["transparent", "black", "dark-grey"],
)
def test_nothing_painted_is_refused(picture: Image.Image) -> None:
    with pytest.raises(MaskInvalid) as caught:
        mask_png(png(picture), W, H)
    assert caught.value.reason is MaskProblem.EMPTY


def test_unreadable_bytes_are_refused() -> None:
    with pytest.raises(MaskInvalid) as caught:
        mask_png(b"\x89PNG\r\n\x1a\n not really", W, H)
    assert caught.value.reason is MaskProblem.UNREADABLE


@pytest.mark.parametrize("size", [(0, 100), (100, -1), (9000, 100), (8000, 8000)])
def test_absurd_image_sizes_are_refused(size: tuple[int, int]) -> None:
    with pytest.raises(MaskInvalid) as caught:
        mask_png(png(strokes()), *size)
    assert caught.value.reason is MaskProblem.BAD_SIZE


def test_absurd_drawing_sizes_are_refused() -> None:
    huge = Image.new("1", (8200, 10))
    with pytest.raises(MaskInvalid) as caught:
        mask_png(png(huge), W, H)
    assert caught.value.reason is MaskProblem.BAD_SIZE


def test_drawing_of_another_shape_is_refused() -> None:
    with pytest.raises(MaskInvalid) as caught:
        mask_png(png(strokes((W, W))), W, H)
    assert caught.value.reason is MaskProblem.WRONG_SHAPE


def test_region_job_accepts_only_page_loadable_urls_and_sane_sizes() -> None:
    RegionJob(JOB_ID, 1, "p", "/files/x.png", 10, 10, "en")
    for url in ("javascript:alert(1)", "//evil.example/x.png", "data:image/png;base64,AA"):
        with pytest.raises(ValueError):
            RegionJob(JOB_ID, 1, "p", url, 10, 10, "en")
    with pytest.raises(ValueError):
        RegionJob(JOB_ID, 1, "p", "/x.png", 0, 10, "en")


# --- routes ------------------------------------------------------------------------------------------------

PROMPT = 'a fox <script>alert("x")</script> & friends'


@dataclass
class Hooks:
    """Fake load_job/submit: one job waiting for a region, and what was submitted.

    As with the job service, a job whose mask was taken says so when loaded again (its row moved on)."""

    jobs: dict[str, RegionJob] = field(default_factory=dict)
    submitted: list[tuple[str, int, str, bytes]] = field(default_factory=list)
    error: Exception | None = None
    hold: asyncio.Event | None = None  # set: submit waits for it (a slow job service)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def load_job(self, job_id: str) -> RegionJob | None:
        if any(submitted[0] == job_id for submitted in self.submitted):
            raise MaskTaken()
        return self.jobs.get(job_id)

    async def submit(self, job_id: str, user_id: int, prompt: str, mask: bytes) -> None:
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.error is not None:
            raise self.error
        self.submitted.append((job_id, user_id, prompt, mask))


@pytest.fixture
def hooks() -> Hooks:
    job = RegionJob(JOB_ID, 1001, PROMPT, '/files/pic.png?a=1&b="2"', W, H, "ru")
    return Hooks(jobs={JOB_ID: job})


@pytest.fixture
async def client(hooks: Hooks) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(
        create_region_router(
            bot_token=TOKEN,
            link_secret=LINK_SECRET,
            load_job=hooks.load_job,
            submit=hooks.submit,
            max_age=DAY,
            clock=lambda: float(NOW),
        )
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def painted_data_url(picture: Image.Image | None = None) -> str:
    return "data:image/png;base64," + base64.b64encode(png(picture or strokes())).decode()


def submission(**overrides: str) -> dict[str, str]:
    return {"init_data": init_data(), "prompt": "a cat", "mask": painted_data_url(), **overrides}


async def test_page_shows_the_job_with_everything_escaped(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/region/{link()}")
    assert response.status_code == 200
    page = response.text
    assert "<script>alert" not in page
    assert "a fox &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends" in page
    assert 'src="/files/pic.png?a=1&amp;b=&quot;2&quot;"' in page
    assert 'lang="ru"' in page and "Кисть" in page and "Отправить" in page
    config_text = page.split('id="region-config">', 1)[1].split("</script>", 1)[0]
    config = json.loads(config_text)
    assert config["width"] == W and config["height"] == H
    assert config["submitUrl"] == f"{link()}/submit"
    assert config["labels"]["empty_mask"] == "Сначала закрасьте область, которую нужно изменить."
    assert "{{" not in page


async def test_page_headers_forbid_outside_resources(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/region/{link()}")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe" not in csp and "http" not in csp.replace("https://web.telegram.org", "")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


async def test_page_refers_only_to_our_own_files(client: httpx.AsyncClient) -> None:
    page = (await client.get(f"/region/{link()}")).text
    js = (await client.get("/region/static/region.js")).text
    for text in (page, js):
        assert "telegram.org/js" not in text and "cdn" not in text.lower()
    assert 'src="static/region.js?v=' in page and 'href="static/region.css?v=' in page


async def test_direct_link_launch_reads_the_token_from_the_start_parameter(client: httpx.AsyncClient) -> None:
    response = await client.get("/region/app", params={"tgWebAppStartParam": link()})
    assert response.status_code == 200
    assert json.loads(response.text.split('id="region-config">')[1].split("</script>")[0])["submitUrl"] == (
        f"{link()}/submit"
    )
    assert (await client.get("/region/app")).status_code == 404


async def test_static_files_are_served_with_their_types(client: httpx.AsyncClient) -> None:
    js, css = await client.get("/region/static/region.js"), await client.get("/region/static/region.css")
    assert js.status_code == css.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert css.headers["content-type"].startswith("text/css")
    for name in ("index.html", "..%2Fminiapp.py", "nope.js"):
        assert (await client.get(f"/region/static/{name}")).status_code == 404


@pytest.mark.parametrize("token", ["forged", "static", link(expires_at=NOW - 1), link()[:-1] + "A"])
async def test_bad_links_are_not_found_without_echoing_them(client: httpx.AsyncClient, token: str) -> None:
    for response in (
        await client.get(f"/region/{token}"),
        await client.post(f"/region/{token}/submit", json=submission()),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found" and token not in response.text


async def test_link_to_a_job_no_longer_waiting_is_gone(client: httpx.AsyncClient, hooks: Hooks) -> None:
    hooks.jobs.clear()
    response = await client.get(f"/region/{link()}")
    assert response.status_code == 404 and response.json()["code"] == "gone"


async def test_submit_hands_over_the_mask_at_the_image_size(client: httpx.AsyncClient, hooks: Hooks) -> None:
    response = await client.post(f"/region/{link()}/submit", json=submission())
    assert response.status_code == 200 and response.json() == {"ok": True}
    [(job_id, user_id, prompt, mask)] = hooks.submitted
    assert (job_id, user_id, prompt) == (JOB_ID, 1001, "a cat")
    image = decoded(mask)
    assert image.size == (W, H) and image.getbbox() == BOX


async def test_cleared_prompt_keeps_the_jobs_prompt(client: httpx.AsyncClient, hooks: Hooks) -> None:
    await client.post(f"/region/{link()}/submit", json=submission(prompt="   "))
    assert hooks.submitted[0][2] == PROMPT


@pytest.mark.parametrize(
    "init",
    [
        "",
        "garbage",
        init_data(auth_date=NOW - 2 * int(DAY)),
        signed_init_data("1:other", auth_date=NOW, user=ALICE),
    ],
    ids=["missing", "garbage", "stale", "other-bot"],
)
async def test_unverified_init_data_is_unauthorised(
    client: httpx.AsyncClient, hooks: Hooks, init: str
) -> None:
    response = await client.post(f"/region/{link()}/submit", json=submission(init_data=init))
    assert response.status_code == 401 and response.json()["code"] == "auth"
    assert hooks.submitted == [] and TOKEN not in response.text


async def test_someone_else_with_the_link_is_forbidden(client: httpx.AsyncClient, hooks: Hooks) -> None:
    response = await client.post(f"/region/{link()}/submit", json=submission(init_data=init_data(MALLORY)))
    assert response.status_code == 403 and hooks.submitted == []


async def test_link_minted_for_a_non_owner_is_forbidden(client: httpx.AsyncClient, hooks: Hooks) -> None:
    token = link(user_id=666)
    response = await client.post(f"/region/{token}/submit", json=submission(init_data=init_data(MALLORY)))
    assert response.status_code == 403 and hooks.submitted == []
    assert (await client.get(f"/region/{token}")).status_code == 403


async def test_empty_mask_is_unprocessable(client: httpx.AsyncClient, hooks: Hooks) -> None:
    empty = painted_data_url(Image.new("RGBA", (W, H)))
    response = await client.post(f"/region/{link()}/submit", json=submission(mask=empty))
    assert response.status_code == 422 and response.json()["code"] == "empty_mask"
    assert hooks.submitted == []


@pytest.mark.parametrize(
    "mask",
    [
        "data:image/jpeg;base64,AAAA",
        "data:image/png;base64,***",
        "data:image/png;base64,AAAA",
        "https://x/y.png",
    ],
)
async def test_invalid_mask_is_unprocessable(client: httpx.AsyncClient, mask: str) -> None:
    response = await client.post(f"/region/{link()}/submit", json=submission(mask=mask))
    assert response.status_code == 422 and response.json()["code"] == "bad_mask"


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"init_data": 1, "prompt": "", "mask": ""}'])
async def test_malformed_body_is_unprocessable(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(f"/region/{link()}/submit", content=body)
    assert response.status_code == 422 and response.json()["code"] == "malformed"


async def test_oversized_body_is_refused_before_reading_it(client: httpx.AsyncClient, hooks: Hooks) -> None:
    body = json.dumps(submission(mask="data:image/png;base64," + "A" * MAX_SUBMIT_BYTES)).encode()
    response = await client.post(f"/region/{link()}/submit", content=body)
    assert response.status_code == 413 and hooks.submitted == []


async def test_refusal_by_the_job_service_is_told_in_the_users_language(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    hooks.error = PromptTooLong(length=7000, limit=6000)
    response = await client.post(f"/region/{link()}/submit", json=submission())
    assert response.status_code == 422
    assert response.json()["code"] == "refused" and "символов" in response.json()["message"]
    hooks.error = InputNotExpected()
    response = await client.post(f"/region/{link()}/submit", json=submission())
    assert response.status_code == 409 and response.json()["code"] == "gone"


async def test_unexpected_failure_answers_json_without_a_trace(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    hooks.error = RuntimeError("database exploded at /secret/path")
    response = await client.post(f"/region/{link()}/submit", json=submission())
    assert response.status_code == 500
    assert response.json() == {"ok": False, "code": "failed", "detail": "internal error"}


async def test_a_job_that_got_its_mask_takes_no_other(client: httpx.AsyncClient, hooks: Hooks) -> None:
    assert (await client.post(f"/region/{link()}/submit", json=submission())).status_code == 200
    again = await client.post(f"/region/{link()}/submit", json=submission())
    assert again.status_code == 409 and again.json()["code"] == "gone"
    assert len(hooks.submitted) == 1


async def test_a_second_mask_while_the_first_is_handed_over_is_refused(
    client: httpx.AsyncClient, hooks: Hooks
) -> None:
    hooks.hold = asyncio.Event()
    first = asyncio.create_task(client.post(f"/region/{link()}/submit", json=submission()))
    await hooks.entered.wait()
    second = await client.post(f"/region/{link()}/submit", json=submission())
    assert second.status_code == 409 and second.json()["code"] == "gone"
    hooks.hold.set()
    assert (await first).status_code == 200 and len(hooks.submitted) == 1


async def test_a_refused_mask_can_be_painted_again(client: httpx.AsyncClient, hooks: Hooks) -> None:
    empty = painted_data_url(Image.new("RGBA", (W, H)))
    assert (await client.post(f"/region/{link()}/submit", json=submission(mask=empty))).status_code == 422
    assert (await client.post(f"/region/{link()}/submit", json=submission())).status_code == 200


# --- the job side: the picture the editor paints on ---------------------------------------------------------


def bomb_png(width: int, height: int) -> bytes:
    """~70 bytes that Pillow opens as a picture of width x height (its pixels never follow)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(64)))
        + chunk(b"IEND", b"")
    )


@dataclass
class StoredJobs:
    """The part of the job service the editor reads: jobs by id."""

    jobs: dict[str, Job]

    async def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)


@dataclass
class ServedPicture:
    """The part of the backend the editor uses: the parent's picture, as the backend serves it."""

    data: bytes

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        return self.data


def editor_for(picture: bytes) -> RegionEditor:
    parent = Job("parent", JobKind.UPSCALE, "p", 1, 1001, "Alice", "mjproxy", image_url="https://cdn/x.png")
    waiting = Job(
        JOB_ID,
        JobKind.INPAINT,
        "p",
        1,
        1001,
        "Alice",
        "mjproxy",
        status=JobStatus.NEEDS_INPUT,
        parent_id="parent",
        origin=Action(ActionKind.VARY_REGION, "MJ::Inpaint::1"),
    )
    jobs = StoredJobs({"parent": parent, JOB_ID: waiting})
    return RegionEditor(
        cast(JobService, jobs), cast(Backend, ServedPicture(picture)), MemoryImageHost("https://bot.example")
    )


@pytest.mark.parametrize(
    "picture",
    [bomb_png(20_000, 20_000), bomb_png(9_000, 9_000), bomb_png(9_000, 10), b"%!PS-Adobe-3.0 EPSF-3.0\n"],
    ids=["over-pillows-limit", "over-the-mask-cap", "too-wide", "eps"],
)
async def test_a_picture_the_editor_cannot_paint_on_is_not_found_not_a_crash(picture: bytes) -> None:
    editor = editor_for(picture)
    app = FastAPI()
    app.include_router(
        create_region_router(
            bot_token=TOKEN,
            link_secret=LINK_SECRET,
            load_job=editor.load_job,
            submit=editor.submit,
            max_age=DAY,
            clock=lambda: float(NOW),
        )
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get(f"/region/{link()}")
        sent = await client.post(f"/region/{link()}/submit", json=submission())
    assert (page.status_code, page.json()["code"]) == (404, "gone")
    assert (sent.status_code, sent.json()["code"]) == (404, "gone")


async def test_the_editor_paints_on_a_readable_picture() -> None:
    out = io.BytesIO()
    Image.new("RGB", (W, H), (1, 2, 3)).save(out, "PNG")
    region = await editor_for(out.getvalue()).load_job(JOB_ID)
    assert region is not None and (region.width, region.height) == (W, H)


@pytest.mark.parametrize(
    ("status", "failure", "took"),
    [
        (JobStatus.QUEUED, None, True),
        (JobStatus.RUNNING, None, True),
        (JobStatus.SUCCEEDED, None, True),
        (JobStatus.FAILED, FailureKind.CANCELLED, False),
        (JobStatus.FAILED, FailureKind.BACKEND, False),
    ],
)
async def test_whether_a_job_took_its_mask_is_read_from_the_job_itself(
    status: JobStatus, failure: FailureKind | None, took: bool
) -> None:
    editor = editor_for(b"unused")
    jobs = cast(StoredJobs, editor.jobs)
    jobs.jobs[JOB_ID] = replace(jobs.jobs[JOB_ID], status=status, failure=failure)
    if took:
        with pytest.raises(MaskTaken):
            await editor.load_job(JOB_ID)
    else:
        assert await editor.load_job(JOB_ID) is None
