"""ImagineAPI.dev adapter: pure wire mapping, and real HTTP against the fake Directus app on 127.0.0.1."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from bot.backends import http
from bot.backends.base import Backend
from bot.backends.http import BackendHttp
from bot.backends.imagineapi import (
    REROLL_REF,
    DirectusErrors,
    ImagineApiBackend,
    ImagineImage,
    classify_failure,
    grid_actions,
    image_to_update,
    parse_progress,
    parse_upscale_ref,
    parse_upscale_task_id,
    raise_for_error,
    upscale_ref,
    upscale_task_id,
)
from bot.backends.imagineapi.assets import through_api
from bot.backends.imagineapi.status import STATUS_TTL, ServiceWatch
from bot.domain import (
    Action,
    ActionKind,
    BackendBusy,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    Command,
    FailureKind,
    InvalidCallback,
    JobStatus,
    PromptRejected,
    TaskNotFound,
    TaskUpdate,
)
from tests.fakes.bot_side import (
    BotSide,
    RecordingSink,
    action_of,
    png_bytes,
    serving_bot_side,
    statuses_until_final,
)
from tests.fakes.imagineapi import DEFAULT_TOKEN, FakeImagineApi
from tests.harness import free_port

JOB_ID = "job-7f3a"
PROMPT = "a pretty lady at the beach --ar 9:21 --chaos 40"
HOOK_PATH = "/hooks/imagineapi/s3cret"
IMAGE_ID = "41b7ac2b-8a51-481b-a19c-74626a93cacc"
ASSETS = "https://cl.imagineapi.dev/assets"
URLS = [f"{ASSETS}/{n}/{n}.png" for n in ("0f05", "0ed8", "9eff", "f247")]
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
GRID_KINDS = [ActionKind.CROP] * 4 + [ActionKind.REROLL]
FLAVOURS = ["self-hosted", "cloud"]


def image(**fields: object) -> ImagineImage:
    return ImagineImage.model_validate({"id": IMAGE_ID, "status": "pending", **fields})


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[BotSide]:
    async with serving_bot_side(HOOK_PATH) as state:
        yield state


@pytest.fixture(params=FLAVOURS)
async def fake(receiver: BotSide, request: pytest.FixtureRequest) -> AsyncIterator[FakeImagineApi]:
    async with FakeImagineApi(flavour=request.param) as api:
        api.webhook_urls.append(receiver.url + HOOK_PATH)
        yield api


@pytest.fixture
async def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def backend(
    fake: FakeImagineApi, client: httpx.AsyncClient, sink: RecordingSink
) -> AsyncIterator[ImagineApiBackend]:
    adapter = ImagineApiBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, push=True)
    await adapter.start(sink)
    yield adapter
    await adapter.aclose()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch, fake: FakeImagineApi) -> None:
    monkeypatch.setattr(http, "READ_RETRY_BACKOFF", (0.0, 0.0))
    fake.retry_after = 0


def via_api(fake: FakeImagineApi, url: str | None) -> str | None:
    """Where the bot reads one of the server's files: at the address it uses for the API."""
    return url.replace(fake.public_url, fake.base_url, 1) if url else None


async def finished_grid(fake: FakeImagineApi, backend: ImagineApiBackend) -> str:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.run_to_completion(submission.task_id)
    return submission.task_id


# --- pure: progress, failures, refs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "percent"), [(None, None), (0, 0), (15, 15), (15.7, 15), (100, 100), (130, 100), (-3, 0)]
)
def test_parse_progress(raw: float | None, percent: int | None) -> None:
    assert parse_progress(raw) == percent


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("Midjourney credits exhausted", FailureKind.BACKEND),
        (
            "Midjourney message: Sorry! Our moderators feel your prompt might be against our "
            "community standards.",
            FailureKind.BANNED,
        ),
        ("Midjourney message: Banned prompt detected", FailureKind.BANNED),
        ("Midjourney message: Invalid parameter --chaos 400", FailureKind.INVALID),
        ("Midjourney message: Unrecognized parameter(s): `--foo`", FailureKind.INVALID),
        ("Job timed out", FailureKind.TIMEOUT),
        ("Something odd", FailureKind.BACKEND),
        (None, FailureKind.BACKEND),
    ],
)
def test_classify_failure(error: str | None, kind: FailureKind) -> None:
    assert classify_failure(error) is kind


def test_upscale_refs_and_task_ids_round_trip() -> None:
    assert parse_upscale_ref(upscale_ref(3, URLS[2])) == (3, URLS[2])
    assert parse_upscale_task_id(upscale_task_id(IMAGE_ID, 4)) == (IMAGE_ID, 4)
    assert parse_upscale_task_id(IMAGE_ID) is None
    for foreign in ("imagineapi:upscale:5@" + URLS[0], "imagineapi:upscale:1", REROLL_REF, "MJ::JOB::x"):
        assert parse_upscale_ref(foreign) is None
    assert parse_upscale_task_id(f"{IMAGE_ID}#u9") is None


# --- pure: image mapping ------------------------------------------------------------------------------------


def test_pending_is_queued() -> None:
    assert image_to_update(image()) == TaskUpdate(IMAGE_ID, JobStatus.QUEUED)


def test_in_progress_with_null_progress_has_no_preview() -> None:
    update = image_to_update(image(status="in-progress", progress=None, url=None))
    assert (update.status, update.progress, update.preview_url) == (JobStatus.RUNNING, None, None)


def test_in_progress_url_is_a_preview_only_above_zero() -> None:
    preview = f"{ASSETS}/81d2/81d2.webp"
    update = image_to_update(image(status="in-progress", progress=15, url=preview))
    assert (update.status, update.progress, update.preview_url, update.image_url) == (
        JobStatus.RUNNING,
        15,
        preview,
        None,
    )
    zero = image_to_update(image(status="in-progress", progress=0, url=preview))
    assert zero.preview_url is None


def test_completed_maps_upscales_by_url_order_not_by_upscaled() -> None:
    done = image(
        status="completed",
        progress=None,
        url=f"{ASSETS}/23a8/23a8.png",
        upscaled_urls=URLS,
        upscaled=["0ed8", "0f05", "9eff", "f247"],  # the seed example: another order than the URLs
    )
    update = image_to_update(done)
    assert (update.status, update.progress, update.image_url, update.preview_url) == (
        JobStatus.SUCCEEDED,
        100,
        f"{ASSETS}/23a8/23a8.png",
        None,
    )
    assert update.actions is not None and [a.kind for a in update.actions] == GRID_KINDS
    crops = [a for a in update.actions if a.kind is ActionKind.CROP]
    assert [a.index for a in crops] == [1, 2, 3, 4]
    assert [parse_upscale_ref(a.ref) for a in crops] == [(i, url) for i, url in enumerate(URLS, start=1)]
    assert update.actions[-1].ref == REROLL_REF


def test_completed_without_upscales_offers_only_reroll() -> None:
    update = image_to_update(image(status="completed", url=URLS[0], upscaled_urls=None, upscaled=None))
    assert update.actions is not None and [a.kind for a in update.actions] == [ActionKind.REROLL]
    assert grid_actions(image(upscaled_urls=URLS[:2]))[1].index == 2


def test_failed_carries_reason_and_kind() -> None:
    update = image_to_update(image(status="failed", error="Midjourney message: Banned prompt detected"))
    assert (update.status, update.fail_reason, update.failure, update.actions) == (
        JobStatus.FAILED,
        "Midjourney message: Banned prompt detected",
        FailureKind.BANNED,
        None,
    )


def test_unknown_fields_are_ignored_and_bad_status_refused() -> None:
    parsed = image(status="pending", user_created="x", date_created="2023-12-19T23:01:47.708Z", extra=[1])
    assert parsed.id == IMAGE_ID
    with pytest.raises(ValueError):
        image(status="waiting")


def test_queued_is_a_status_and_reads_as_queued() -> None:
    """shared.ts lists "queued" among an image's statuses; it used to fail to parse."""
    assert image_to_update(image(status="queued")) == TaskUpdate(IMAGE_ID, JobStatus.QUEUED)


@pytest.mark.parametrize(
    ("status", "body", "error", "match"),
    [
        (401, ("INVALID_CREDENTIALS", "Invalid user credentials."), BackendRefused, "authentication failed"),
        (403, ("FORBIDDEN", "You don't have permission to access this."), BackendRefused, "forbidden"),
        (400, ("FAILED_VALIDATION", 'Validation failed for field "prompt".'), BackendRefused, "prompt"),
        (400, ("INVALID_PAYLOAD", "Invalid payload. Bad JSON."), BackendRefused, "Invalid payload"),
        (429, ("REQUESTS_EXCEEDED", "Too many requests, retry after 1s."), BackendBusy, "Too many"),
        (503, ("SERVICE_UNAVAILABLE", "Service is unavailable."), BackendUnavailable, "503"),
        (500, None, BackendUnavailable, "500"),
        (418, None, BackendRefused, "418"),
    ],
)
def test_directus_errors_map_to_domain_errors(
    status: int, body: tuple[str, str] | None, error: type[Exception], match: str
) -> None:
    errors = (
        DirectusErrors.model_validate({"errors": [{"message": body[1], "extensions": {"code": body[0]}}]})
        if body
        else None
    )
    with pytest.raises(error, match=match):
        raise_for_error(status, errors)


# --- adapter over HTTP: identity and submits ----------------------------------------------------------------


def test_backend_satisfies_the_protocol_and_declares_push(client: httpx.AsyncClient) -> None:
    pushing = ImagineApiBackend(client, "https://cl.imagineapi.dev/", api_key="k", push=True)
    polling = ImagineApiBackend(
        client, "https://cl.imagineapi.dev", api_key="k", push=False, max_prompt_length=9
    )
    assert isinstance(pushing, Backend)
    assert (pushing.name, pushing.capabilities.push, polling.capabilities.push) == ("imagineapi", True, False)
    assert pushing.capabilities.commands == frozenset({Command.IMAGINE})
    assert polling.capabilities.max_prompt_length == 9


async def test_imagine_sends_only_the_prompt_with_the_bearer_token(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    assert submission.status is JobStatus.QUEUED and submission.task_id in fake.images
    assert fake.submissions == [("/items/images/", {"prompt": PROMPT})]
    assert all(r.headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}" for r in fake.requests)


async def test_self_hosted_create_fails_with_500_on_any_unknown_field(client: httpx.AsyncClient) -> None:
    """Regression: `ref` made every /imagine fail on a self-hosted server (its strict create schema)."""
    auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    async with FakeImagineApi(flavour="self-hosted") as fake:
        for body in ({"prompt": PROMPT, "ref": JOB_ID}, {"prompt": PROMPT, "ref": None}):
            answer = await client.post(fake.base_url + "/items/images/", json=body, headers=auth)
            assert (answer.status_code, answer.json()["errors"][0]["extensions"]["code"]) == (
                500,
                "INTERNAL_SERVER_ERROR",
            )
        assert fake.images == {}
        accepted = await client.post(fake.base_url + "/items/images/", json={"prompt": PROMPT}, headers=auth)
        assert accepted.status_code == 200 and "ref" not in accepted.json()["data"]


async def test_overlong_prompt_is_refused_before_sending(
    fake: FakeImagineApi, client: httpx.AsyncClient
) -> None:
    short = ImagineApiBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, push=False, max_prompt_length=10)
    with pytest.raises(PromptRejected):
        await short.imagine("x" * 11, job_id=JOB_ID)
    assert fake.requests == []


async def test_imagine_fetch_goes_queued_running_succeeded_with_grid_actions(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    queued = await backend.fetch(submission.task_id)
    assert queued is not None and queued.status is JobStatus.QUEUED

    await fake.advance(submission.task_id, None)
    started = await backend.fetch(submission.task_id)
    assert started is not None and (started.status, started.progress, started.preview_url) == (
        JobStatus.RUNNING,
        None,
        None,
    )

    await fake.advance(submission.task_id, 40)
    running = await backend.fetch(submission.task_id)
    assert running is not None and (running.status, running.progress) == (JobStatus.RUNNING, 40)
    assert running.preview_url is not None and running.preview_url.endswith(".webp")
    preview = await backend.download(running.preview_url, max_bytes=1_000_000)
    with Image.open(io.BytesIO(preview)) as picture:
        assert picture.format == "WEBP"

    await fake.complete(submission.task_id)
    done = await backend.fetch(submission.task_id)
    assert done is not None and (done.status, done.progress, done.preview_url) == (
        JobStatus.SUCCEEDED,
        100,
        None,
    )
    assert done.image_url is not None and done.image_url.endswith(".png")
    assert done.image_url == via_api(fake, fake.images[submission.task_id].url)
    assert done.actions is not None and [a.kind for a in done.actions] == GRID_KINDS
    stored = fake.images[submission.task_id]
    assert stored.upscaled != [url.rsplit("/", 2)[1] for url in stored.upscaled_urls or []]
    assert [parse_upscale_ref(a.ref) for a in done.actions[:4]] == [
        (i, via_api(fake, url)) for i, url in enumerate(stored.upscaled_urls or [], start=1)
    ]


async def test_upscale_is_a_synthetic_finished_task_without_a_backend_call(
    fake: FakeImagineApi, backend: ImagineApiBackend, sink: RecordingSink
) -> None:
    grid = await finished_grid(fake, backend)
    u2 = await action_of(backend, grid, ActionKind.CROP, 2)
    seen = len(fake.requests)

    submission = await backend.act(grid, u2, job_id="job-u2")
    reported = await sink.next()

    assert len(fake.requests) == seen and len(fake.images) == 1
    expected_url = via_api(fake, (fake.images[grid].upscaled_urls or [])[1])
    assert submission.task_id == f"{grid}#u2" and submission.status is JobStatus.QUEUED
    assert reported == TaskUpdate(
        submission.task_id, JobStatus.SUCCEEDED, progress=100, image_url=expected_url, actions=()
    )
    assert await backend.fetch(submission.task_id) == reported  # polling resolves it from the parent

    assert expected_url is not None
    data = await backend.download(expected_url, max_bytes=10 * 1024 * 1024)
    with Image.open(io.BytesIO(data)) as picture:
        assert (picture.format, picture.size) == ("PNG", (512, 512)), "a quarter of the 1024² grid"
        assert picture.convert("RGB").getpixel((0, 0)) == fake.quadrant_colour(grid, 2)


async def test_upscale_without_a_sink_is_found_by_polling(
    fake: FakeImagineApi, client: httpx.AsyncClient
) -> None:
    unstarted = ImagineApiBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, push=False)
    grid = await finished_grid(fake, unstarted)
    u4 = await action_of(unstarted, grid, ActionKind.CROP, 4)
    submission = await unstarted.act(grid, u4, job_id="job-u4")
    update = await unstarted.fetch(submission.task_id)
    assert update is not None and update.image_url == via_api(
        fake, (fake.images[grid].upscaled_urls or [])[3]
    )


async def test_synthetic_upscale_of_an_unknown_or_unfinished_image_is_unknown(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    assert await backend.fetch(upscale_task_id("00000000-0000-4000-8000-000000000000", 1)) is None
    running = await backend.imagine(PROMPT, job_id=JOB_ID)
    assert await backend.fetch(upscale_task_id(running.task_id, 1)) is None


async def test_reroll_submits_the_parents_prompt_again(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    grid = await finished_grid(fake, backend)
    reroll = await action_of(backend, grid, ActionKind.REROLL)
    submission = await backend.act(grid, reroll, job_id="job-reroll")
    assert submission.task_id != grid and submission.task_id in fake.images
    assert fake.submissions[-1] == ("/items/images/", {"prompt": PROMPT})


async def test_reroll_of_an_unknown_image_is_not_found(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    with pytest.raises(TaskNotFound):
        await backend.act(IMAGE_ID, Action(ActionKind.REROLL, REROLL_REF), job_id=JOB_ID)
    assert fake.submissions == []


@pytest.mark.parametrize(
    "action",
    [
        Action(ActionKind.VARIATION, "MJ::JOB::variation::1::x", 1),
        Action(ActionKind.UPSCALE, "MJ::JOB::upsample::1::x", 1),
        Action(ActionKind.UPSCALE_2X, "imagineapi:upscale_2x"),
    ],
)
async def test_actions_imagineapi_does_not_have_are_refused(
    fake: FakeImagineApi, backend: ImagineApiBackend, action: Action
) -> None:
    with pytest.raises(BackendRefused):
        await backend.act(IMAGE_ID, action, job_id=JOB_ID)
    assert fake.requests == []


async def test_commands_imagineapi_does_not_have_are_refused(backend: ImagineApiBackend) -> None:
    with pytest.raises(BackendRefused, match="describe"):
        await backend.describe(png_bytes(), "image/png", job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="blend"):
        await backend.blend([(png_bytes(), "image/png")] * 2, BlendDimensions.SQUARE, job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="shorten"):
        await backend.shorten(PROMPT, job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="seed"):
        await backend.image_seed(IMAGE_ID)
    with pytest.raises(BackendRefused):
        await backend.submit_modal(IMAGE_ID, PROMPT, job_id=JOB_ID)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("Midjourney credits exhausted", FailureKind.BACKEND),
        (
            "Midjourney message: Sorry! Our moderators feel your prompt might be against",
            FailureKind.BANNED,
        ),
    ],
)
async def test_failure_is_reported_with_its_kind(
    fake: FakeImagineApi, backend: ImagineApiBackend, error: str, kind: FailureKind
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.advance(submission.task_id, None)
    await fake.fail(submission.task_id, error)
    update = await backend.fetch(submission.task_id)
    assert update is not None and (update.status, update.fail_reason, update.failure) == (
        JobStatus.FAILED,
        error,
        kind,
    )


# --- adapter over HTTP: webhooks ----------------------------------------------------------------------------


async def test_webhooks_round_trip_through_parse_callback_matched_by_id(
    fake: FakeImagineApi, backend: ImagineApiBackend, receiver: BotSide
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.drain()  # the create webhook runs after the create answered
    await fake.run_to_completion(submission.task_id, steps=(None, 30))
    bodies = [json.loads(body) for body in receiver.bodies]
    assert [b["event"] for b in bodies] == ["images.items.create"] + ["images.items.update"] * 3
    # The self-hosted flow re-reads a field list without `ref`; the cloud's payloads carry it.
    assert all(("ref" in b["payload"]) is (fake.flavour == "cloud") for b in bodies)
    updates = [u for body in receiver.bodies for u in backend.parse_callback(body, {})]
    assert [(u.task_id, u.status, u.progress) for u in updates] == [
        (submission.task_id, JobStatus.QUEUED, None),
        (submission.task_id, JobStatus.RUNNING, None),
        (submission.task_id, JobStatus.RUNNING, 30),
        (submission.task_id, JobStatus.SUCCEEDED, 100),
    ]
    assert updates[-1].actions is not None and [a.kind for a in updates[-1].actions] == GRID_KINDS
    assert [status for _, _, status in fake.webhooks] == [200] * 4


async def test_duplicate_and_late_webhooks_parse_identically(
    fake: FakeImagineApi, backend: ImagineApiBackend, receiver: BotSide
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.drain()  # the create webhook is out of the way before the ones this test compares
    await fake.advance(submission.task_id, 30)
    older = fake.snapshot(submission.task_id)
    await fake.complete(submission.task_id)
    final = fake.snapshot(submission.task_id)
    await fake.renotify(submission.task_id, final)  # two identical payloads
    await fake.renotify(submission.task_id, older)  # an older state arriving after completion
    *_, first_final, duplicate, late = receiver.bodies
    assert backend.parse_callback(first_final, {}) == backend.parse_callback(duplicate, {})
    assert [(u.status, u.progress) for u in backend.parse_callback(late, {})] == [(JobStatus.RUNNING, 30)]
    assert backend.parse_callback(late, {}) == backend.parse_callback(late, {})


async def test_lost_webhooks_leave_polling_to_find_the_result(
    fake: FakeImagineApi, backend: ImagineApiBackend, receiver: BotSide
) -> None:
    fake.drop_webhooks = True
    grid = await finished_grid(fake, backend)
    await fake.drain()
    assert receiver.bodies == [] and fake.webhooks == []
    update = await backend.fetch(grid)
    assert update is not None and update.status is JobStatus.SUCCEEDED


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "images.items.update"}',
        b'{"payload": {"id": "x", "status": "pending"}}',
        b'{"event": "images.items.delete", "payload": {"id": "x", "status": "pending"}}',
        b'{"event": "users.items.update", "payload": {"id": "x", "status": "pending"}}',
        b'{"event": "images.items.update", "payload": {"status": "pending"}}',
        b'{"event": "images.items.update", "payload": {"id": "", "status": "pending"}}',
        b'{"event": "images.items.update", "payload": {"id": "x", "status": "waiting"}}',
        b'{"event": "images.items.update", "payload": {"id": "x", "status": "failed", "upscaled_urls": "u"}}',
    ],
)
def test_malformed_webhooks_raise(backend: ImagineApiBackend, body: bytes) -> None:
    with pytest.raises(InvalidCallback):
        backend.parse_callback(body, {"content-type": "application/json"})


# --- adapter over HTTP: errors ------------------------------------------------------------------------------


async def test_unknown_image_fetch_is_none(fake: FakeImagineApi, backend: ImagineApiBackend) -> None:
    assert await backend.fetch(IMAGE_ID) is None
    assert fake.requests[-1].path == f"/items/images/{IMAGE_ID}"


async def test_wrong_token_is_refused_without_echoing_it(
    fake: FakeImagineApi, client: httpx.AsyncClient
) -> None:
    wrong = ImagineApiBackend(client, fake.base_url, api_key="wrong-token", push=False)
    with pytest.raises(BackendRefused, match="authentication failed") as caught:
        await wrong.imagine(PROMPT, job_id=JOB_ID)
    assert "wrong-token" not in str(caught.value)
    with pytest.raises(BackendRefused, match="INVALID_CREDENTIALS"):
        await wrong.fetch(IMAGE_ID)
    assert fake.images == {}


async def test_missing_token_is_forbidden(fake: FakeImagineApi, client: httpx.AsyncClient) -> None:
    anonymous = ImagineApiBackend(client, fake.base_url, api_key=None, push=False)
    with pytest.raises(BackendRefused, match="forbidden"):
        await anonymous.imagine(PROMPT, job_id=JOB_ID)
    assert "Authorization" not in fake.requests[0].headers


async def test_validation_failure_is_refused_with_directus_message(client: httpx.AsyncClient) -> None:
    async with FakeImagineApi(flavour="cloud") as fake:
        backend = ImagineApiBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, push=False)
        await _refused_with_directus_message(fake, backend)


async def _refused_with_directus_message(fake: FakeImagineApi, backend: ImagineApiBackend) -> None:
    with pytest.raises(BackendRefused, match='field "prompt"'):
        await backend.imagine("   ", job_id=JOB_ID)
    fake.fail_next_http(400)
    with pytest.raises(BackendRefused, match="Invalid payload"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert fake.images == {}


async def test_rate_limited_create_is_busy_and_never_resent(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    fake.fail_next_http(429)
    with pytest.raises(BackendBusy, match="Too many requests"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert len(fake.submissions) == 1


@pytest.mark.parametrize(("status", "bare"), [(503, False), (500, False), (502, True)])
async def test_create_5xx_is_unavailable_and_never_resent(
    fake: FakeImagineApi, backend: ImagineApiBackend, status: int, bare: bool
) -> None:
    fake.fail_next_http(status, bare=bare)
    with pytest.raises(BackendUnavailable, match=str(status)):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert len(fake.submissions) == 1 and fake.images == {}


async def test_non_json_success_is_unavailable(fake: FakeImagineApi, backend: ImagineApiBackend) -> None:
    fake.fail_next_http(200, bare=True)
    with pytest.raises(BackendUnavailable):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert len(fake.submissions) == 1


async def test_fetch_retries_503_and_429_then_succeeds(
    fake: FakeImagineApi, backend: ImagineApiBackend, no_backoff: None
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    fake.fail_next_http(503)
    fake.fail_next_http(429)
    update = await backend.fetch(submission.task_id)
    assert update is not None and update.status is JobStatus.QUEUED
    assert sum(r.method == "GET" and r.path.startswith("/items/images/") for r in fake.requests) == 3


@pytest.mark.parametrize(("status", "error"), [(503, BackendUnavailable), (429, BackendBusy)])
async def test_fetch_gives_up_after_the_retries(
    fake: FakeImagineApi, backend: ImagineApiBackend, no_backoff: None, status: int, error: type[Exception]
) -> None:
    fake.fail_next_http(status, times=3)
    with pytest.raises(error):
        await backend.fetch(IMAGE_ID)
    assert len(fake.requests) == 1 + len(http.READ_RETRY_BACKOFF)


async def test_unreachable_backend_is_unavailable(client: httpx.AsyncClient, no_backoff: None) -> None:
    backend = ImagineApiBackend(client, f"http://127.0.0.1:{free_port()}", api_key="k", push=False)
    with pytest.raises(BackendUnavailable, match="unreachable"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    with pytest.raises(BackendUnavailable, match="unreachable"):
        await backend.fetch(IMAGE_ID)


# --- adapter over HTTP: queued images -----------------------------------------------------------------------


async def test_a_queued_image_is_queued_when_fetched_and_when_pushed(
    fake: FakeImagineApi, backend: ImagineApiBackend, receiver: BotSide
) -> None:
    """Regression: "queued" (valid in shared.ts) failed to parse, both read and in a webhook."""
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.drain()
    await fake.hold(submission.task_id)
    fetched = await backend.fetch(submission.task_id)
    assert fetched == TaskUpdate(submission.task_id, JobStatus.QUEUED)
    pushed = json.loads(receiver.bodies[-1])
    assert pushed["payload"]["status"] == "queued"
    assert backend.parse_callback(receiver.bodies[-1], {}) == [fetched]


# --- adapter over HTTP: the server's status -----------------------------------------------------------------


@pytest.mark.parametrize("state", ["paused", "unhealthy", "starting", "not started"])
async def test_jobs_submitted_while_the_bot_is_not_healthy_know_they_will_wait(
    fake: FakeImagineApi, backend: ImagineApiBackend, state: str
) -> None:
    assert backend.waiting_reason() is None  # nothing asked yet: nothing to say
    fake.bot_status = state  # type: ignore[assignment]  # the parametrised BotStatus values
    await backend.imagine(PROMPT, job_id=JOB_ID)
    assert backend.waiting_reason() == ("starting" if state == "not started" else state)
    assert fake.requests[-1].path == "/items/status"
    assert fake.requests[-1].headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}"


async def test_the_status_is_asked_at_most_once_a_minute_however_many_jobs(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    fake.bot_status = "paused"
    for n in range(5):
        await backend.imagine(f"{PROMPT} {n}", job_id=f"{JOB_ID}-{n}")
    assert len(fake.images) == 5 and fake.status_requests() == 1
    fake.bot_status = "healthy"
    await backend.imagine(PROMPT, job_id=JOB_ID)
    assert backend.waiting_reason() == "paused", "the answer stands for a minute"
    assert fake.status_requests() == 1


async def test_the_status_is_asked_again_after_a_minute(
    fake: FakeImagineApi, client: httpx.AsyncClient
) -> None:
    now = [1000.0]
    watch = ServiceWatch(
        BackendHttp(client, fake.base_url, label="ImagineAPI", credentials=AUTH), clock=lambda: now[0]
    )
    fake.bot_status = "unhealthy"
    await watch.refresh()
    fake.bot_status = "healthy"
    now[0] += STATUS_TTL - 1
    await watch.refresh()
    assert (watch.waiting_reason(), fake.status_requests()) == ("unhealthy", 1)
    now[0] += 1
    await watch.refresh()
    assert (watch.waiting_reason(), fake.status_requests()) == (None, 2)


@pytest.mark.parametrize("status", [503, 403, 200])
async def test_an_unreadable_status_says_nothing_and_waits_a_minute(
    fake: FakeImagineApi, client: httpx.AsyncClient, status: int
) -> None:
    watch = ServiceWatch(BackendHttp(client, fake.base_url, label="ImagineAPI", credentials=AUTH))
    fake.bot_status = "paused"
    fake.fail_next_http(status, bare=status == 200)
    await watch.refresh()  # never raises
    await watch.refresh()
    assert (watch.waiting_reason(), fake.status_requests()) == (None, 1)


async def test_a_failing_create_does_not_ask_the_status(
    fake: FakeImagineApi, backend: ImagineApiBackend
) -> None:
    fake.fail_next_http(503)
    with pytest.raises(BackendUnavailable):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert fake.status_requests() == 0


# --- adapter over HTTP: downloads ---------------------------------------------------------------------------


# Caps, refused URLs and where the token goes: test_contract.py.


async def test_self_hosted_files_are_read_through_the_api_address_with_the_token(
    client: httpx.AsyncClient, receiver: BotSide
) -> None:
    """Regression: files named under the server's PUBLIC_URL (another origin) could not be downloaded."""
    async with FakeImagineApi(flavour="self-hosted") as fake:
        fake.webhook_urls.append(receiver.url + HOOK_PATH)
        backend = ImagineApiBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, push=True)
        submission = await backend.imagine(PROMPT, job_id=JOB_ID)
        await fake.advance(submission.task_id, 40)
        await fake.complete(submission.task_id)
        stored = fake.images[submission.task_id]
        assert stored.url is not None and stored.url.startswith("http://localhost:")
        anonymous = await client.get(stored.url.replace(fake.public_url, fake.base_url))
        assert anonymous.status_code == 403, "self-hosted files need the token"

        [running] = backend.parse_callback(receiver.bodies[-2], {})
        [pushed] = backend.parse_callback(receiver.bodies[-1], {})
        fetched = await backend.fetch(submission.task_id)
        assert fetched == pushed and pushed.image_url == via_api(fake, stored.url)
        assert running.preview_url is not None and running.preview_url.startswith(fake.base_url + "/assets/")
        crops = [parse_upscale_ref(a.ref) for a in pushed.actions or () if a.kind is ActionKind.CROP]
        assert [url for _, url in crops] == [via_api(fake, u) for u in stored.upscaled_urls or []]

        for url in (running.preview_url, pushed.image_url, crops[0][1]):
            assert url is not None
            assert len(await backend.download(url, max_bytes=10 * 1024 * 1024)) > 0
            assert fake.requests[-1].headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}"
            assert fake.requests[-1].headers["Host"] == fake.base_url.removeprefix("http://")


async def test_a_third_party_url_in_an_answer_keeps_its_host_and_gets_no_token(
    fake: FakeImagineApi, backend: ImagineApiBackend, receiver: BotSide
) -> None:
    elsewhere = receiver.url + "/cdn/picture.png"
    lookalike = f"{receiver.url}/assets/0f05/0f05.png"  # Directus' shape, but not one of the image's files
    body = json.dumps(
        {
            "event": "images.items.update",
            "payload": {
                "id": IMAGE_ID,
                "status": "completed",
                "results": "23a8",
                "url": elsewhere,
                "upscaled_urls": [lookalike],
                "upscaled": ["0ed8"],
            },
        }
    ).encode()
    [update] = backend.parse_callback(body, {})
    assert update.image_url == elsewhere
    assert update.actions is not None and parse_upscale_ref(update.actions[0].ref) == (1, lookalike)
    assert await backend.download(elsewhere, max_bytes=1_000_000) == receiver.image
    assert "authorization" not in {key.lower() for key in receiver.image_request_headers[-1]}


def test_only_the_images_own_files_move_to_the_api_address() -> None:
    own = image(
        status="completed",
        results="23a8",
        url="http://gizmo.example.ts.net:8055/assets/23a8/23a8.png",
        upscaled_urls=["http://gizmo.example.ts.net:8055/assets/0f05/0f05.png", "https://cdn.example/x.png"],
        upscaled=["0f05"],
    )
    moved = through_api(own, "http://imagineapi:8055")
    assert moved.url == "http://imagineapi:8055/assets/23a8/23a8.png"
    assert moved.upscaled_urls == ("http://imagineapi:8055/assets/0f05/0f05.png", "https://cdn.example/x.png")
    assert through_api(image(url=URLS[0]), "http://imagineapi:8055").url == URLS[0], "no files listed"


async def test_download_returns_the_final_png(fake: FakeImagineApi, backend: ImagineApiBackend) -> None:
    done = await backend.fetch(await finished_grid(fake, backend))
    assert done is not None and done.image_url is not None
    data = await backend.download(done.image_url, max_bytes=10 * 1024 * 1024)
    with Image.open(io.BytesIO(data)) as picture:
        assert (picture.format, picture.size) == ("PNG", (1024, 1024))


# --- the fake on its own clock ------------------------------------------------------------------------------


async def test_auto_steps_let_a_poller_see_the_job_finish(client: httpx.AsyncClient) -> None:
    async with FakeImagineApi(auto_steps=(None, 50), step_delay=0.01) as fake:
        backend = ImagineApiBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, push=False)
        submission = await backend.imagine(PROMPT, job_id=JOB_ID)
        seen = await statuses_until_final(backend, submission.task_id)
    assert seen[-1] is JobStatus.SUCCEEDED
    assert seen == sorted(seen, key=lambda status: status.rank)


async def test_fake_reports_bot_status_and_hides_missing_items(
    fake: FakeImagineApi, client: httpx.AsyncClient
) -> None:
    auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    fake.bot_status = "paused"
    status = await client.get(fake.base_url + "/items/status", headers=auth)
    assert status.json()["data"]["bot_status"] == "paused"
    missing = await client.get(fake.base_url + f"/items/images/{IMAGE_ID}", headers=auth)
    assert (missing.status_code, missing.json()["errors"][0]["extensions"]["code"]) == (403, "FORBIDDEN")
