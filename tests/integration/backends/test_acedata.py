"""Ace Data Cloud adapter: pure wire mapping, and real HTTP against the fake service on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image

from bot.backends import http
from bot.backends.acedata import (
    AceDataBackend,
    AceError,
    AceResult,
    AceTaskRecord,
    action_ref,
    blend_prompt,
    classify_failure,
    describe_text,
    describe_update,
    modal_task_id,
    parse_action,
    parse_action_ref,
    parse_modal_task_id,
    parse_progress,
    raise_for_error,
    record_to_update,
    result_to_update,
)
from bot.backends.base import Backend
from bot.domain import (
    AccountProblem,
    AccountRefused,
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
from bot.domain.buttons import is_servable
from tests.fakes.acedata import DEFAULT_TOKEN, FakeAceData, Model
from tests.fakes.bot_side import BotSide, RecordingSink, action_of, png_bytes, serving_bot_side
from tests.harness import free_port

JOB_ID = "job-7f3a"
PROMPT = "Lamborghini speeds inside a volcano"
HOOK_PATH = "/hooks/acedata/s3cret"
TASK_ID = "1bae3bec-3ac4-4180-a148-74ee6cb68b98"
IMAGE_ID = "1234197197067915365"
CDN = "https://midjourney.cdn.acedata.cloud/attachments/1233387694839697411"
GRID_NAMES = ["upscale1", "upscale2", "upscale3", "upscale4", "reroll"] + [
    f"variation{i}" for i in range(1, 5)
]
GRID_KINDS = [ActionKind.UPSCALE] * 4 + [ActionKind.REROLL] + [ActionKind.VARIATION] * 4
UPSCALE_KINDS = [
    ActionKind.UPSCALE_2X,
    ActionKind.UPSCALE_4X,
    ActionKind.VARY_SUBTLE,
    ActionKind.VARY_STRONG,
    ActionKind.ZOOM_OUT_2X,
    ActionKind.ZOOM_OUT_1_5X,
    ActionKind.PAN_LEFT,
    ActionKind.PAN_RIGHT,
    ActionKind.PAN_UP,
    ActionKind.PAN_DOWN,
]


VARY_ZOOM_PAN_KINDS = UPSCALE_KINDS[2:]
UPSCALER_KINDS: dict[Model, list[ActionKind]] = {
    "v5": [ActionKind.UPSCALE_2X, ActionKind.UPSCALE_4X],
    "v6": [ActionKind.UPSCALE_SUBTLE, ActionKind.UPSCALE_CREATIVE],
}
REDO_KINDS = {
    ActionKind.UPSCALE_2X: ActionKind.REDO_UPSCALE_2X,
    ActionKind.UPSCALE_4X: ActionKind.REDO_UPSCALE_4X,
    ActionKind.UPSCALE_SUBTLE: ActionKind.REDO_UPSCALE_SUBTLE,
    ActionKind.UPSCALE_CREATIVE: ActionKind.REDO_UPSCALE_CREATIVE,
}
JOBS_IN_FLIGHT = 40


def result(**fields: object) -> AceResult:
    return AceResult.model_validate({"task_id": TASK_ID, "success": True, **fields})


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture
async def bot_side() -> AsyncIterator[BotSide]:
    async with serving_bot_side(HOOK_PATH) as state:
        yield state


@pytest.fixture
async def fake() -> AsyncIterator[FakeAceData]:
    async with FakeAceData() as service:
        yield service


@pytest.fixture
async def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def backend(
    fake: FakeAceData, client: httpx.AsyncClient, bot_side: BotSide, sink: RecordingSink
) -> AsyncIterator[AceDataBackend]:
    """Push mode: callbacks to the bot's hook URL."""
    adapter = AceDataBackend(
        client,
        fake.base_url,
        api_key=DEFAULT_TOKEN,
        callback_url=bot_side.url + HOOK_PATH,
        image_host=bot_side.host,
    )
    await adapter.start(sink)
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def polling(
    fake: FakeAceData, client: httpx.AsyncClient, bot_side: BotSide, sink: RecordingSink
) -> AsyncIterator[AceDataBackend]:
    """No callback URL: jobs are submitted `async` and polled."""
    adapter = AceDataBackend(
        client, fake.base_url, api_key=DEFAULT_TOKEN, callback_url=None, image_host=bot_side.host
    )
    await adapter.start(sink)
    yield adapter
    await adapter.aclose()


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "READ_RETRY_BACKOFF", (0.0, 0.0))


async def finished_grid(fake: FakeAceData, backend: AceDataBackend) -> str:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.run_to_completion(submission.task_id)
    return submission.task_id


# --- pure: actions, refs, failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "index"),
    [
        ("upscale1", ActionKind.UPSCALE, 1),
        ("upscale4", ActionKind.UPSCALE, 4),
        ("variation2", ActionKind.VARIATION, 2),
        ("variation3", ActionKind.VARIATION, 3),
        ("reroll", ActionKind.REROLL, 0),
        ("upscale_2x", ActionKind.UPSCALE_2X, 0),
        ("upscale_4x", ActionKind.UPSCALE_4X, 0),
        ("variation_subtle", ActionKind.VARY_SUBTLE, 0),
        ("variation_strong", ActionKind.VARY_STRONG, 0),
        ("variation_region", ActionKind.VARY_REGION, 0),
        ("zoom_out_2x", ActionKind.ZOOM_OUT_2X, 0),
        ("zoom_out_1_5x", ActionKind.ZOOM_OUT_1_5X, 0),
        ("pan_left", ActionKind.PAN_LEFT, 0),
        ("pan_right", ActionKind.PAN_RIGHT, 0),
        ("pan_up", ActionKind.PAN_UP, 0),
        ("pan_down", ActionKind.PAN_DOWN, 0),
        ("upscale_subtle", ActionKind.UPSCALE_SUBTLE, 0),
        ("upscale_creative", ActionKind.UPSCALE_CREATIVE, 0),
        ("square", ActionKind.MAKE_SQUARE, 0),
        ("redo_upscale_2x", ActionKind.REDO_UPSCALE_2X, 0),
        ("redo_upscale_4x", ActionKind.REDO_UPSCALE_4X, 0),
        ("redo_upscale_subtle", ActionKind.REDO_UPSCALE_SUBTLE, 0),
        ("redo_upscale_creative", ActionKind.REDO_UPSCALE_CREATIVE, 0),
        ("upscale5", ActionKind.UNKNOWN, 0),
        ("animate_high", ActionKind.UNKNOWN, 0),
    ],
)
def test_parse_action_maps_names_and_keeps_the_image_id_in_the_ref(
    name: str, kind: ActionKind, index: int
) -> None:
    action = parse_action(name, IMAGE_ID)
    assert (action.kind, action.index, action.ref) == (kind, index, f"{name}@{IMAGE_ID}")
    assert parse_action_ref(action.ref) == (name, IMAGE_ID)
    if kind is ActionKind.UNKNOWN:
        assert action.label == name
    else:
        assert is_servable(action), "a button the service returns and the bot knows is shown"


@pytest.mark.parametrize("ref", ["upscale1", "@123", "upscale1@", "MJ::JOB::upsample::1::x", "prompt:a cat"])
def test_foreign_refs_do_not_parse(ref: str) -> None:
    assert parse_action_ref(ref) is None


def test_modal_task_ids_round_trip_and_real_ids_are_not_modals() -> None:
    assert parse_modal_task_id(modal_task_id(IMAGE_ID)) == IMAGE_ID
    assert parse_modal_task_id(TASK_ID) is None
    assert parse_modal_task_id(f"modal:{action_ref('upscale1', IMAGE_ID)}") is None


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        ("forbidden", "Sorry! Our moderators feel your prompt might be against", FailureKind.BANNED),
        ("too_many_requests", "You have exceeded the rate limit.", FailureKind.QUEUE_FULL),
        ("timeout", "Timeout to generate the image.", FailureKind.TIMEOUT),
        ("bad_request", "Unrecognized argument(s): `-c`, `x`", FailureKind.INVALID),
        ("api_error", "Internal server error.", FailureKind.BACKEND),
        ("used_up", "The remaining balance of your application is used up.", FailureKind.ACCOUNT),
        ("token_expired", "", FailureKind.ACCOUNT),
        (
            "api_error",
            "Our moderators feel your prompt might be against our community standards",
            FailureKind.BANNED,
        ),
        ("", "", FailureKind.BACKEND),
    ],
)
def test_classify_failure(code: str, message: str, kind: FailureKind) -> None:
    assert classify_failure(code, message) is kind


@pytest.mark.parametrize(("raw", "percent"), [(None, None), (35, 35), (75.5, 75), (100, 100), (180, 100)])
def test_parse_progress(raw: float | None, percent: int | None) -> None:
    assert parse_progress(raw) == percent


# --- pure: results ------------------------------------------------------------------------------------------


def test_progress_line_is_running_with_the_thumbnail_as_preview() -> None:
    thumb = f"{CDN}/1234558451443699803/x_grid_0.webp?ex=66312ba7&is=662fda27&hm=46&width=256&height=256"
    line = result(
        image_url=thumb,
        raw_image_url=thumb.split("width=")[0],
        image_id="1234558451443699803",
        progress=35,
        actions=[],
    )
    assert result_to_update(TASK_ID, line) == TaskUpdate(
        TASK_ID, JobStatus.RUNNING, progress=35, preview_url=thumb
    )


def test_final_line_is_succeeded_with_the_raw_image_and_actions_on_its_image_id() -> None:
    raw = f"{CDN}/{IMAGE_ID}/x.png?ex=662fdb36&is=662e89b6&hm=ca9b&"
    line = result(
        image_url=raw + "width=1024&height=1024",
        raw_image_url=raw,
        image_id=IMAGE_ID,
        progress=100,
        actions=GRID_NAMES,
        image_width=1024,
        raw_image_width=2048,
    )
    update = result_to_update(TASK_ID, line)
    assert (update.status, update.progress, update.image_url, update.preview_url) == (
        JobStatus.SUCCEEDED,
        100,
        raw,
        None,
    )
    assert update.actions is not None and [a.kind for a in update.actions] == GRID_KINDS
    assert [a.ref for a in update.actions] == [f"{name}@{IMAGE_ID}" for name in GRID_NAMES]
    assert [a.label for a in update.actions if a.kind is ActionKind.UPSCALE] == ["U1", "U2", "U3", "U4"]


def test_final_without_raw_url_or_actions_still_succeeds() -> None:
    update = result_to_update(TASK_ID, result(image_url="https://cdn/x.png", image_id=IMAGE_ID, progress=100))
    assert (update.status, update.image_url, update.actions) == (JobStatus.SUCCEEDED, "https://cdn/x.png", ())
    no_image_id = result_to_update(TASK_ID, result(image_url="https://cdn/x.png", actions=["upscale1"]))
    assert no_image_id.status is JobStatus.SUCCEEDED and no_image_id.actions == ()


def test_failure_body_is_failed_with_code_kind_and_message() -> None:
    body = AceResult.model_validate(
        {
            "success": False,
            "task_id": TASK_ID,
            "error": {"code": "bad_request", "message": "Unrecognized argument(s)"},
        }
    )
    assert result_to_update(TASK_ID, body) == TaskUpdate(
        TASK_ID, JobStatus.FAILED, fail_reason="Unrecognized argument(s)", failure=FailureKind.INVALID
    )


def test_numeric_ids_and_unknown_fields_are_accepted() -> None:
    line = AceResult.model_validate(
        {"task_id": TASK_ID, "success": True, "image_id": 1234197197067915365, "progress": 100, "hold": False}
    )
    assert line.image_id == "1234197197067915365"


def test_a_record_without_response_is_queued_and_with_one_is_that_response() -> None:
    queued = AceTaskRecord.model_validate({"id": TASK_ID, "type": "imagine", "request": {"prompt": PROMPT}})
    assert record_to_update(TASK_ID, queued) == TaskUpdate(TASK_ID, JobStatus.QUEUED)
    done = AceTaskRecord.model_validate(
        {
            "id": TASK_ID,
            "image_id": IMAGE_ID,
            "response": {"progress": 100, "image_id": IMAGE_ID, "actions": ["upscale1"], "success": True},
        }
    )
    assert record_to_update(TASK_ID, done).status is JobStatus.SUCCEEDED


def test_describe_result_is_four_numbered_prompts_and_their_picks() -> None:
    descriptions = ("a cat --ar 1:1", "a dog\nin snow --ar 1:1", "a fox --ar 1:1", "an owl --ar 1:1")
    assert describe_text(descriptions) == (
        "1️⃣ a cat --ar 1:1\n\n2️⃣ a dog in snow --ar 1:1\n\n3️⃣ a fox --ar 1:1\n\n4️⃣ an owl --ar 1:1"
    )
    update = describe_update("describe:1", descriptions)
    assert (update.status, update.image_url, update.progress) == (JobStatus.SUCCEEDED, None, 100)
    assert update.actions is not None
    assert [(a.kind, a.index, a.ref) for a in update.actions] == [
        (ActionKind.PROMPT_PICK, 1, "prompt:a cat --ar 1:1"),
        (ActionKind.PROMPT_PICK, 2, "prompt:a dog in snow --ar 1:1"),
        (ActionKind.PROMPT_PICK, 3, "prompt:a fox --ar 1:1"),
        (ActionKind.PROMPT_PICK, 4, "prompt:an owl --ar 1:1"),
    ]


def test_blend_prompt_puts_the_images_first_and_the_ratio_last() -> None:
    urls = ["https://bot/public/a", "https://bot/public/b"]
    assert (
        blend_prompt(urls, BlendDimensions.PORTRAIT) == "https://bot/public/a https://bot/public/b --ar 2:3"
    )
    assert blend_prompt(urls, BlendDimensions.SQUARE).endswith(" --ar 1:1")
    assert blend_prompt(urls, BlendDimensions.LANDSCAPE).endswith(" --ar 3:2")


@pytest.mark.parametrize(
    ("status", "code", "error", "match"),
    [
        (400, "bad_request", BackendRefused, "prompt is required"),
        (400, "token_mismatched", BackendRefused, "token_mismatched"),
        (400, "api_not_implemented", BackendRefused, "api_not_implemented"),
        (401, "invalid_token", AccountRefused, "authentication failed"),
        (401, "token_expired", AccountRefused, "authentication failed"),
        (401, "no_token", AccountRefused, "authentication failed"),
        (403, "used_up", AccountRefused, "balance is used up"),
        (402, "used_up", AccountRefused, "balance is used up"),
        (403, "disabled", AccountRefused, "disabled"),
        (401, None, AccountRefused, "authentication failed"),
        (403, "forbidden", PromptRejected, "moderators"),
        (403, None, PromptRejected, "refused the prompt"),
        (429, "too_many_requests", BackendBusy, "rate limit"),
        (500, "api_error", BackendUnavailable, "api_error"),
        (504, "timeout", BackendUnavailable, "timeout"),
        (502, None, BackendUnavailable, "502"),
        (404, None, BackendRefused, "HTTP 404"),
    ],
)
def test_raise_for_error_maps_every_documented_code(
    status: int, code: str | None, error: type[Exception], match: str
) -> None:
    messages = {
        "bad_request": "prompt is required",
        "forbidden": "Sorry! Our moderators feel your prompt might be against our community standards.",
        "too_many_requests": "You have exceeded the rate limit.",
    }
    body = AceError(code=code, message=messages.get(code, "x")) if code else None
    with pytest.raises(error, match=match):
        raise_for_error(status, body)


# --- adapter over HTTP: identity ----------------------------------------------------------------------------


async def test_backend_satisfies_the_protocol_and_declares_what_it_can_do(client: httpx.AsyncClient) -> None:
    async def host(data: bytes, mime_type: str) -> str:
        return "https://bot.example/public/x"

    pushing = AceDataBackend(
        client, "https://api.acedata.cloud/", api_key="t", callback_url="https://bot/h", image_host=host
    )
    polling = AceDataBackend(
        client, "https://api.acedata.cloud", api_key="t", callback_url=None, max_prompt_length=99
    )
    assert isinstance(pushing, Backend)
    assert (pushing.name, pushing.capabilities.push, polling.capabilities.push) == ("acedata", True, False)
    assert pushing.capabilities.commands == frozenset(
        {Command.IMAGINE, Command.DESCRIBE, Command.BLEND, Command.SEED, Command.SHORTEN}
    )
    # Without a public URL for images, describe and blend cannot be offered.
    assert polling.capabilities.commands == frozenset({Command.IMAGINE, Command.SEED, Command.SHORTEN})
    assert polling.capabilities.batch_fetch
    assert polling.capabilities.max_prompt_length == 99


async def test_overlong_prompt_is_refused_before_sending(
    fake: FakeAceData, client: httpx.AsyncClient
) -> None:
    short = AceDataBackend(
        client, fake.base_url, api_key=DEFAULT_TOKEN, callback_url=None, max_prompt_length=10
    )
    with pytest.raises(PromptRejected):
        await short.imagine("x" * 11, job_id=JOB_ID)
    with pytest.raises(PromptRejected):
        await short.shorten("x" * 11, job_id=JOB_ID)
    assert fake.requests == []


# --- adapter over HTTP: callbacks ---------------------------------------------------------------------------


async def test_callback_mode_answers_at_once_and_every_line_is_posted(
    fake: FakeAceData, backend: AceDataBackend, bot_side: BotSide
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    assert submission.status is JobStatus.QUEUED and submission.task_id in fake.tasks
    path, body = fake.submissions[0]
    assert (path, body) == (
        "/midjourney/imagine",
        {"prompt": PROMPT, "action": "generate", "callback_url": bot_side.url + HOOK_PATH},
    )
    headers = fake.requests[0].headers
    assert (headers["authorization"], headers["accept"]) == (
        f"Bearer {DEFAULT_TOKEN}",
        "application/x-ndjson",
    )

    await fake.advance(submission.task_id, 35)
    [running] = backend.parse_callback(bot_side.bodies[-1], {})
    assert running.preview_url is not None and "_grid_0.webp" in running.preview_url
    preview = await backend.download(running.preview_url, max_bytes=1_000_000)
    with Image.open(io.BytesIO(preview)) as picture:
        assert (picture.format, picture.size) == ("WEBP", (128, 128))

    await fake.advance(submission.task_id, 75)
    await fake.complete(submission.task_id)
    updates = [u for body in bot_side.bodies for u in backend.parse_callback(body, {})]
    assert [(u.task_id, u.status, u.progress) for u in updates] == [
        (submission.task_id, JobStatus.RUNNING, 35),
        (submission.task_id, JobStatus.RUNNING, 75),
        (submission.task_id, JobStatus.SUCCEEDED, 100),
    ]
    final = fake.result_image(submission.task_id)
    assert updates[-1].actions is not None and [a.kind for a in updates[-1].actions] == GRID_KINDS
    assert all(a.ref.endswith(f"@{final.id}") for a in updates[-1].actions)
    assert [status for _, _, status in fake.callbacks] == [200, 200, 200]
    with pytest.raises(BackendUnavailable):  # progress images are deleted once the job is done
        await backend.download(running.preview_url, max_bytes=1_000_000)


async def test_failure_callback_carries_code_kind_and_message(
    fake: FakeAceData, backend: AceDataBackend, bot_side: BotSide
) -> None:
    submission = await backend.imagine(PROMPT + " -c x", job_id=JOB_ID)
    await fake.fail(submission.task_id)
    [update] = backend.parse_callback(bot_side.bodies[-1], {})
    assert (update.task_id, update.status, update.failure, update.fail_reason) == (
        submission.task_id,
        JobStatus.FAILED,
        FailureKind.INVALID,
        "Unrecognized argument(s): `-c`, `x`",
    )


async def test_duplicate_and_late_callbacks_parse_identically(
    fake: FakeAceData, backend: AceDataBackend, bot_side: BotSide
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.advance(submission.task_id, 35)
    older = fake.tasks[submission.task_id].lines[-1]
    await fake.complete(submission.task_id)
    final = fake.tasks[submission.task_id].lines[-1]
    await fake.renotify(submission.task_id, final)
    await fake.renotify(submission.task_id, older)
    *_, first_final, duplicate, late = bot_side.bodies
    assert backend.parse_callback(first_final, {}) == backend.parse_callback(duplicate, {})
    assert [(u.status, u.progress) for u in backend.parse_callback(late, {})] == [(JobStatus.RUNNING, 35)]


async def test_lost_callbacks_leave_polling_to_find_the_result(
    fake: FakeAceData, backend: AceDataBackend, bot_side: BotSide
) -> None:
    fake.drop_callbacks = True
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    queued = await backend.fetch(submission.task_id)
    assert queued is not None and queued.status is JobStatus.QUEUED
    await fake.advance(submission.task_id, 35)
    running = await backend.fetch(submission.task_id)
    assert running is not None and (running.status, running.progress) == (JobStatus.RUNNING, 35)
    await fake.complete(submission.task_id)
    done = await backend.fetch(submission.task_id)
    assert bot_side.bodies == [] and done is not None and done.status is JobStatus.SUCCEEDED
    assert fake.submissions[-1] == ("/midjourney/tasks", {"action": "retrieve", "id": submission.task_id})


@pytest.mark.parametrize(
    "body",
    [
        b'{"success": true, "progress": 100}',
        b'{"task_id": "", "success": true}',
        b'{"task_id": "1bae3bec"}',
        b'{"task_id": "1bae3bec", "success": "maybe"}',
        b'{"task_id": "1bae3bec", "success": true, "actions": "upscale1"}',
        b'{"task_id": "1bae3bec", "success": false, "error": "bad"}',
    ],
)
def test_malformed_callbacks_raise(backend: AceDataBackend, body: bytes) -> None:
    with pytest.raises(InvalidCallback):
        backend.parse_callback(body, {"content-type": "application/json"})


# --- adapter over HTTP: no callback URL: async submits, polled together ----------------------------------


async def test_without_a_callback_jobs_are_submitted_async_and_hold_no_connection(
    fake: FakeAceData, polling: AceDataBackend, sink: RecordingSink
) -> None:
    submission = await polling.imagine(PROMPT, job_id=JOB_ID)
    assert submission.status is JobStatus.QUEUED and submission.task_id in fake.tasks
    assert fake.submissions[0] == (
        "/midjourney/imagine",
        {"prompt": PROMPT, "action": "generate", "async": True},
    )
    assert fake.requests[0].headers.get("accept") == "application/json"
    assert fake.tasks[submission.task_id].mode == "async"
    assert (fake.open_connections, fake.most_open_connections) == (0, 0)
    pending = await polling.fetch(submission.task_id)
    assert pending == TaskUpdate(submission.task_id, JobStatus.QUEUED)
    await fake.advance(submission.task_id, 35)
    [running] = (await polling.fetch_many([submission.task_id])).values()
    assert (running.status, running.progress) == (JobStatus.RUNNING, 35) and running.preview_url
    await fake.complete(submission.task_id)
    [done] = (await polling.fetch_many([submission.task_id])).values()
    assert done.status is JobStatus.SUCCEEDED and done.actions is not None
    assert [a.kind for a in done.actions] == GRID_KINDS
    assert sink.updates == [] and fake.callbacks == []


async def test_open_connections_per_running_job_without_public_url(
    fake: FakeAceData, polling: AceDataBackend
) -> None:
    """Regression: each job used to hold its NDJSON stream open until it finished (one per running job)."""
    running = JOBS_IN_FLIGHT
    submissions = [await polling.imagine(f"{PROMPT} {n}", job_id=f"job-{n}") for n in range(running)]
    for submission in submissions:
        await fake.advance(submission.task_id, 35)
    assert fake.open_connections == 0 and fake.most_open_connections == 0
    updates = await polling.fetch_many([s.task_id for s in submissions])
    assert {u.progress for u in updates.values()} == {35} and len(updates) == running


async def test_fetch_many_reads_fifty_tasks_a_call_and_leaves_unknown_ids_out(
    fake: FakeAceData, polling: AceDataBackend, sink: RecordingSink
) -> None:
    submissions = [await polling.imagine(f"{PROMPT} {n}", job_id=f"job-{n}") for n in range(120)]
    ids = [s.task_id for s in submissions]
    await fake.complete(ids[-1])
    described = await polling.describe(png_bytes(), "image/png", job_id="job-d")
    modal = modal_task_id(IMAGE_ID)
    asked = fake.requests_to("/midjourney/tasks")

    updates = await polling.fetch_many([*ids, TASK_ID, described.task_id, modal, ids[0]])

    assert fake.requests_to("/midjourney/tasks") - asked == 3  # 50 + 50 + 21 ids (the unknown one too)
    batches = [body for path, body in fake.submissions if path == "/midjourney/tasks"]
    assert [(b["action"], len(b["ids"]), b["limit"]) for b in batches] == [
        ("retrieve_batch", 50, 50),
        ("retrieve_batch", 50, 50),
        ("retrieve_batch", 21, 21),
    ]
    assert set(updates) == {*ids, described.task_id, modal}, "an id the service does not know is left out"
    assert updates[ids[0]].status is JobStatus.QUEUED and updates[ids[-1]].status is JobStatus.SUCCEEDED
    assert updates[described.task_id] == await sink.next()
    assert updates[modal] == TaskUpdate(modal, JobStatus.NEEDS_INPUT)


async def test_fetch_many_retries_like_any_read_and_maps_refusals(
    fake: FakeAceData, polling: AceDataBackend, no_backoff: None
) -> None:
    submission = await polling.imagine(PROMPT, job_id=JOB_ID)
    fake.fail_next_http(502, bare=True)
    assert set(await polling.fetch_many([submission.task_id])) == {submission.task_id}
    fake.fail_next_http(401, "token_expired")
    with pytest.raises(AccountRefused):
        await polling.fetch_many([submission.task_id])
    assert await polling.fetch_many([]) == {}


async def test_async_failure_is_found_by_polling(fake: FakeAceData, polling: AceDataBackend) -> None:
    submission = await polling.imagine(PROMPT, job_id=JOB_ID)
    await fake.fail(submission.task_id, "timeout", "Timeout to generate the image.")
    failed = await polling.fetch(submission.task_id)
    assert failed is not None and (failed.status, failed.failure) == (JobStatus.FAILED, FailureKind.TIMEOUT)


async def test_auto_paced_async_job_needs_no_test_control(client: httpx.AsyncClient) -> None:
    async with FakeAceData(auto_steps=(35, 75), step_delay=0.01) as fake:
        adapter = AceDataBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, callback_url=None)
        submission = await adapter.imagine(PROMPT, job_id=JOB_ID)
        await fake.tasks[submission.task_id].done.wait()
        done = await adapter.fetch(submission.task_id)
    assert done is not None and done.status is JobStatus.SUCCEEDED


# --- task state (item: a "failed" state ends the job) -------------------------------------------------------


@pytest.mark.parametrize("progress", [None, 35])
async def test_a_failed_state_fails_the_job_without_a_failure_response(
    fake: FakeAceData, polling: AceDataBackend, progress: int | None
) -> None:
    """Regression: a record in state "failed" without `success: false` stayed queued until the timeout."""
    submission = await polling.imagine(PROMPT, job_id=JOB_ID)
    if progress is not None:
        await fake.advance(submission.task_id, progress)
    fake.abandon(submission.task_id)
    failed = await polling.fetch(submission.task_id)
    assert failed is not None and (failed.status, failed.failure) == (JobStatus.FAILED, FailureKind.BACKEND)
    [batched] = (await polling.fetch_many([submission.task_id])).values()
    assert batched == failed


def test_task_states_map_onto_job_statuses() -> None:
    def record(state: str, response: dict[str, object] | None = None) -> AceTaskRecord:
        return AceTaskRecord.model_validate({"id": TASK_ID, "state": state, "response": response})

    assert record_to_update(TASK_ID, record("pending")).status is JobStatus.QUEUED
    line = {"success": True, "progress": 40, "image_url": "https://cdn/p.webp"}
    assert record_to_update(TASK_ID, record("generating", line)).status is JobStatus.RUNNING
    failure = {"success": False, "error": {"code": "forbidden", "message": "moderators"}}
    assert record_to_update(TASK_ID, record("failed", failure)).failure is FailureKind.BANNED
    assert record_to_update(TASK_ID, record("failed", line)).status is JobStatus.FAILED


# --- adapter over HTTP: actions -----------------------------------------------------------------------------


async def test_upscale_sends_the_results_image_id_not_the_task_id(
    fake: FakeAceData, backend: AceDataBackend, bot_side: BotSide
) -> None:
    grid = await finished_grid(fake, backend)
    u2 = await action_of(backend, grid, ActionKind.UPSCALE, 2)
    submission = await backend.act(grid, u2, job_id="job-u2")
    grid_image = fake.result_image(grid)
    assert fake.submissions[-1] == (
        "/midjourney/imagine",
        {"action": "upscale2", "image_id": grid_image.id, "callback_url": bot_side.url + HOOK_PATH},
    )
    await fake.run_to_completion(submission.task_id, steps=(50,))
    upscaled = await backend.fetch(submission.task_id)
    assert upscaled is not None and upscaled.actions is not None and upscaled.image_url is not None
    assert [a.kind for a in upscaled.actions] == UPSCALE_KINDS
    data = await backend.download(upscaled.image_url, max_bytes=10 * 1024 * 1024)
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (512, 512)
        assert picture.convert("RGB").getpixel((0, 0)) == fake.quadrant_colour(grid, 2)


@pytest.mark.parametrize(("kind", "index"), [(ActionKind.REROLL, 0), (ActionKind.VARIATION, 3)])
async def test_grid_actions_start_new_grids(
    fake: FakeAceData, backend: AceDataBackend, kind: ActionKind, index: int
) -> None:
    grid = await finished_grid(fake, backend)
    submission = await backend.act(grid, await action_of(backend, grid, kind, index), job_id="job-2")
    assert submission.task_id != grid and fake.tasks[submission.task_id].prompt == PROMPT
    await fake.complete(submission.task_id)
    update = await backend.fetch(submission.task_id)
    assert (
        update is not None and update.actions is not None and [a.kind for a in update.actions] == GRID_KINDS
    )


@pytest.mark.parametrize("model", ["v5", "v6"])
@pytest.mark.parametrize("prompt", [PROMPT, f"{PROMPT} --ar 3:2"])
async def test_each_model_flavours_upscale_buttons_are_offered_and_run(
    client: httpx.AsyncClient, model: Model, prompt: str
) -> None:
    """v5 upscales offer 2x/4x, v6 and v7 Subtle/Creative; a non-square one Make Square; each further
    upscale its Redo. Regression: the v6/v7 ones, Make Square and Redo were unknown and hidden."""
    async with FakeAceData(model=model) as fake:
        adapter = AceDataBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, callback_url=None)
        grid = await adapter.imagine(prompt, job_id=JOB_ID)
        await fake.complete(grid.task_id)
        upscale = await adapter.act(
            grid.task_id, await action_of(adapter, grid.task_id, ActionKind.UPSCALE, 1), job_id=JOB_ID
        )
        await fake.complete(upscale.task_id)
        offered = await adapter.fetch(upscale.task_id)
        assert offered is not None and offered.actions is not None
        square = [ActionKind.MAKE_SQUARE] if "--ar 3:2" in prompt else []
        assert [a.kind for a in offered.actions] == [*UPSCALER_KINDS[model], *VARY_ZOOM_PAN_KINDS, *square]
        assert all(is_servable(a) and a.result_kind is not None for a in offered.actions)
        for kind in UPSCALER_KINDS[model]:
            further = await adapter.act(
                upscale.task_id, await action_of(adapter, upscale.task_id, kind), job_id=JOB_ID
            )
            await fake.complete(further.task_id)
            made = await adapter.fetch(further.task_id)
            assert made is not None and made.actions is not None
            assert [a.kind for a in made.actions] == [REDO_KINDS[kind], *VARY_ZOOM_PAN_KINDS]
            redo = await adapter.act(
                further.task_id, await action_of(adapter, further.task_id, REDO_KINDS[kind]), job_id=JOB_ID
            )
            assert fake.tasks[redo.task_id].action == f"redo_{fake.tasks[further.task_id].action}"
        if square:
            squared = await adapter.act(
                upscale.task_id,
                await action_of(adapter, upscale.task_id, ActionKind.MAKE_SQUARE),
                job_id=JOB_ID,
            )
            assert fake.submissions[-1][1]["action"] == "square" and squared.task_id in fake.tasks


async def test_progress_image_ids_cannot_be_acted_on(fake: FakeAceData, backend: AceDataBackend) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.advance(submission.task_id, 35)
    preview_id = fake.tasks[submission.task_id].lines[-1]["image_id"]
    await fake.complete(submission.task_id)
    stale = Action(ActionKind.UPSCALE, action_ref("upscale1", preview_id), 1)
    with pytest.raises(BackendRefused, match="not valid"):
        await backend.act(submission.task_id, stale, job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="does not belong"):
        await backend.act(
            submission.task_id, Action(ActionKind.UPSCALE, "MJ::JOB::upsample::1::x", 1), job_id=JOB_ID
        )


async def test_vary_region_asks_for_input_then_sends_mask_and_prompt(
    fake: FakeAceData, backend: AceDataBackend
) -> None:
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 1), job_id=JOB_ID)
    await fake.complete(upscale.task_id)
    image_id = fake.result_image(upscale.task_id).id
    region = Action(ActionKind.VARY_REGION, action_ref("variation_region", image_id))
    sent = len(fake.submissions)

    opened = await backend.act(upscale.task_id, region, job_id="job-region")
    assert (opened.status, len(fake.submissions)) == (JobStatus.NEEDS_INPUT, sent)
    waiting = await backend.fetch(opened.task_id)
    assert waiting == TaskUpdate(opened.task_id, JobStatus.NEEDS_INPUT)
    with pytest.raises(BackendRefused, match="mask"):
        await backend.submit_modal(opened.task_id, "a red door", job_id="job-region")

    mask = png_bytes((512, 512), (255, 255, 255))
    confirmed = await backend.submit_modal(opened.task_id, "a red door", job_id="job-region", mask_png=mask)
    body = fake.submissions[-1][1]
    assert (body["action"], body["image_id"], body["prompt"]) == ("variation_region", image_id, "a red door")
    assert base64.b64decode(body["mask"]) == mask
    await fake.complete(confirmed.task_id)
    update = await backend.fetch(confirmed.task_id)
    assert (
        update is not None and update.actions is not None and [a.kind for a in update.actions] == GRID_KINDS
    )
    with pytest.raises(BackendRefused, match="Vary"):
        await backend.submit_modal(grid, "anything", job_id=JOB_ID, mask_png=mask)


# --- adapter over HTTP: errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "bad_request", BackendRefused),
        (400, "token_mismatched", BackendRefused),
        (400, "api_not_implemented", BackendRefused),
        (401, "invalid_token", AccountRefused),
        (403, "used_up", AccountRefused),
        (403, "forbidden", PromptRejected),
        (429, "too_many_requests", BackendBusy),
        (500, "api_error", BackendUnavailable),
        (504, "timeout", BackendUnavailable),
    ],
)
@pytest.mark.parametrize("mode", ["callback", "async"])
async def test_submit_errors_map_to_domain_errors_and_are_never_resent(
    fake: FakeAceData, client: httpx.AsyncClient, status: int, code: str, error: type[Exception], mode: str
) -> None:
    callback = "http://127.0.0.1:9/hook" if mode == "callback" else None
    adapter = AceDataBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, callback_url=callback)
    fake.fail_next_http(status, code)
    with pytest.raises(error):
        await adapter.imagine(PROMPT, job_id=JOB_ID)
    assert len(fake.submissions) == 1 and fake.tasks == {}


async def test_moderated_prompt_is_rejected_with_the_services_wording(
    fake: FakeAceData, backend: AceDataBackend
) -> None:
    with pytest.raises(PromptRejected, match="community standards"):
        await backend.imagine("a nude figure study", job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="prompt is required"):
        await backend.imagine("  ", job_id=JOB_ID)
    assert fake.tasks == {}


async def test_wrong_token_is_refused_without_echoing_it(
    fake: FakeAceData, client: httpx.AsyncClient
) -> None:
    wrong = AceDataBackend(client, fake.base_url, api_key="wrong-token", callback_url=None)
    with pytest.raises(BackendRefused, match="authentication failed") as caught:
        await wrong.imagine(PROMPT, job_id=JOB_ID)
    assert "wrong-token" not in str(caught.value)
    with pytest.raises(BackendRefused, match="authentication failed"):
        await wrong.fetch(TASK_ID)


def _used_up(fake: FakeAceData) -> str | None:
    fake.balance = 0
    return DEFAULT_TOKEN


def _disabled(fake: FakeAceData) -> str | None:
    fake.disabled = True
    return DEFAULT_TOKEN


def _expired(fake: FakeAceData) -> str | None:
    fake.expired_tokens.add("old-token")
    return "old-token"


def _no_token(fake: FakeAceData) -> str | None:
    return None


ACCOUNT_CASES = {
    "used_up": (_used_up, AccountProblem.BALANCE),
    "disabled": (_disabled, AccountProblem.DISABLED),
    "token_expired": (_expired, AccountProblem.TOKEN),
    "no_token": (_no_token, AccountProblem.TOKEN),
}


@pytest.mark.parametrize("legacy", [False, True], ids=["nested", "top-level code"])
@pytest.mark.parametrize("case", list(ACCOUNT_CASES))
async def test_account_refusals_name_the_operators_problem_and_log_it(
    fake: FakeAceData,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    case: str,
    legacy: bool,
) -> None:
    """Regression: `used_up` comes with 403, which used to read as "your prompt is banned"."""
    arrange, problem = ACCOUNT_CASES[case]
    token = arrange(fake)
    fake.legacy_errors = legacy
    adapter = AceDataBackend(client, fake.base_url, api_key=token, callback_url=None)
    with caplog.at_level(logging.ERROR, logger="bot.backends.acedata"):
        for submit in (adapter.imagine(PROMPT, job_id=JOB_ID), adapter.shorten(PROMPT, job_id=JOB_ID)):
            with pytest.raises(AccountRefused) as refused:
                await submit
            assert refused.value.problem is problem
    assert fake.tasks == {}
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(logged) == 2 and all(case in line for line in logged)
    assert not any("old-token" in line or DEFAULT_TOKEN in line for line in logged)


async def test_the_balance_running_out_midway_refuses_only_later_submits(
    fake: FakeAceData, polling: AceDataBackend
) -> None:
    fake.balance = 1
    first = await polling.imagine(PROMPT, job_id=JOB_ID)
    with pytest.raises(AccountRefused, match="balance"):
        await polling.imagine(PROMPT, job_id="job-2")
    assert list(fake.tasks) == [first.task_id]
    assert await polling.fetch(first.task_id) is not None, "reading tasks costs nothing"


def test_a_task_failing_for_the_account_is_an_account_failure() -> None:
    body = AceResult.model_validate(
        {"success": False, "task_id": TASK_ID, "error": {"code": "used_up", "message": "used up"}}
    )
    assert result_to_update(TASK_ID, body) == TaskUpdate(
        TASK_ID, JobStatus.FAILED, fail_reason="balance", failure=FailureKind.ACCOUNT
    )


async def test_bare_gateway_error_is_unavailable(fake: FakeAceData, backend: AceDataBackend) -> None:
    fake.fail_next_http(502, bare=True)
    with pytest.raises(BackendUnavailable, match="502"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert len(fake.submissions) == 1


async def test_unknown_task_fetch_is_none(fake: FakeAceData, backend: AceDataBackend) -> None:
    assert await backend.fetch(TASK_ID) is None  # the service retrieves an empty record
    fake.fail_next_http(404, "not_found")
    assert await backend.fetch(TASK_ID) is None


async def test_fetch_retries_5xx_and_429_then_succeeds(
    fake: FakeAceData, backend: AceDataBackend, no_backoff: None
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    fake.fail_next_http(500)
    fake.fail_next_http(429)
    update = await backend.fetch(submission.task_id)
    assert update is not None and update.status is JobStatus.QUEUED
    assert sum(path == "/midjourney/tasks" for path, _ in fake.submissions) == 3


async def test_fetch_gives_up_after_the_retries(
    fake: FakeAceData, backend: AceDataBackend, no_backoff: None
) -> None:
    fake.fail_next_http(504, times=3)
    with pytest.raises(BackendUnavailable, match="504"):
        await backend.fetch(TASK_ID)
    assert len(fake.requests) == 1 + len(http.READ_RETRY_BACKOFF)


async def test_unreachable_service_is_unavailable(client: httpx.AsyncClient, no_backoff: None) -> None:
    for callback in (None, "http://127.0.0.1:9/hook"):
        adapter = AceDataBackend(
            client, f"http://127.0.0.1:{free_port()}", api_key="t", callback_url=callback
        )
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await adapter.imagine(PROMPT, job_id=JOB_ID)
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await adapter.fetch(TASK_ID)


# --- adapter over HTTP: describe, blend, seed, prompt picks -------------------------------------------------


async def test_describe_hosts_the_image_and_reports_a_finished_text_task(
    fake: FakeAceData, backend: AceDataBackend, bot_side: BotSide, sink: RecordingSink
) -> None:
    picture = png_bytes((16, 12))
    submission = await backend.describe(picture, "image/png", job_id=JOB_ID)
    reported = await sink.next()
    [(hosted, mime)] = bot_side.hosted.values()
    assert (hosted, mime) == (picture, "image/png")
    assert fake.submissions[-1] == ("/midjourney/describe", {"image_url": fake.described[-1]})
    assert fake.described[-1].startswith(bot_side.url + "/public/")

    assert reported.task_id == submission.task_id and reported.status is JobStatus.SUCCEEDED
    assert reported.image_url is None and reported.text is not None
    lines = reported.text.split("\n\n")
    assert [line[:2] for line in lines] == ["1️", "2️", "3️", "4️"] and all(
        line.endswith("--ar 4:3") for line in lines
    )
    assert reported.actions is not None
    assert [(a.kind, a.index) for a in reported.actions] == [(ActionKind.PROMPT_PICK, i) for i in range(1, 5)]
    assert await backend.fetch(submission.task_id) == reported


async def test_prompt_pick_imagines_the_picked_prompt(
    fake: FakeAceData, backend: AceDataBackend, sink: RecordingSink
) -> None:
    submission = await backend.describe(png_bytes((10, 10)), "image/png", job_id=JOB_ID)
    described = await sink.next()
    assert described.actions is not None and described.text is not None
    pick = described.actions[2]
    started = await backend.act(submission.task_id, pick, job_id="job-pick")
    expected = described.text.split("\n\n")[2].removeprefix("3️⃣ ")
    assert fake.tasks[started.task_id].prompt == expected
    assert fake.submissions[-1][1]["action"] == "generate"


async def test_shorten_offers_the_services_prompts_as_picks(
    fake: FakeAceData, polling: AceDataBackend, sink: RecordingSink
) -> None:
    long_prompt = "a quiet harbour town at dawn, fishing boats, gulls, soft mist, pastel colours --ar 3:2"
    submission = await polling.shorten(long_prompt, job_id=JOB_ID)
    assert fake.submissions[-1] == ("/midjourney/shorten", {"prompt": long_prompt})
    reported = await sink.next()
    assert reported.task_id == submission.task_id and reported.status is JobStatus.SUCCEEDED
    assert reported.text is not None and reported.actions is not None
    lines = reported.text.split("\n\n")
    assert 1 < len(lines) <= 5 and all(line.endswith("--ar 3:2") for line in lines)
    assert [(a.kind, a.index) for a in reported.actions] == [
        (ActionKind.PROMPT_PICK, i) for i in range(1, len(lines) + 1)
    ]
    assert await polling.fetch(submission.task_id) == reported
    assert (await polling.fetch_many([submission.task_id]))[submission.task_id] == reported
    pick = await polling.act(submission.task_id, reported.actions[1], job_id="job-pick")
    assert fake.tasks[pick.task_id].prompt == lines[1].removeprefix("2️⃣ ")
    with pytest.raises(BackendRefused, match="seed"):
        await polling.image_seed(submission.task_id)


async def test_shorten_refusals_are_domain_errors(fake: FakeAceData, polling: AceDataBackend) -> None:
    with pytest.raises(PromptRejected, match="community standards"):
        await polling.shorten("gore everywhere", job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="prompt is required"):
        await polling.shorten("   ", job_id=JOB_ID)


async def test_describe_needs_a_public_image_host(fake: FakeAceData, client: httpx.AsyncClient) -> None:
    private = AceDataBackend(client, fake.base_url, api_key=DEFAULT_TOKEN, callback_url=None)
    with pytest.raises(BackendRefused, match="PUBLIC_URL"):
        await private.describe(png_bytes(), "image/png", job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="PUBLIC_URL"):
        await private.blend([(png_bytes(), "image/png")] * 2, BlendDimensions.SQUARE, job_id=JOB_ID)
    assert fake.requests == []


async def test_describe_of_an_image_the_service_cannot_fetch_is_unavailable(
    fake: FakeAceData, client: httpx.AsyncClient, bot_side: BotSide
) -> None:
    async def expired_host(data: bytes, mime_type: str) -> str:
        return bot_side.url + "/public/expired"

    adapter = AceDataBackend(
        client, fake.base_url, api_key=DEFAULT_TOKEN, callback_url=None, image_host=expired_host
    )
    with pytest.raises(BackendUnavailable, match="fetch failed"):
        await adapter.describe(png_bytes(), "image/png", job_id=JOB_ID)


async def test_blend_is_an_imagine_with_the_hosted_images_first(
    fake: FakeAceData, backend: AceDataBackend, bot_side: BotSide
) -> None:
    images = [(png_bytes(colour=(0, 0, 255)), "image/png"), (png_bytes(colour=(0, 255, 0)), "image/jpeg")]
    submission = await backend.blend(images, BlendDimensions.LANDSCAPE, job_id=JOB_ID)
    urls = [f"{bot_side.url}/public/{token}" for token in bot_side.hosted]
    assert [mime for _, mime in bot_side.hosted.values()] == ["image/png", "image/jpeg"]
    assert fake.tasks[submission.task_id].prompt == f"{urls[0]} {urls[1]} --ar 3:2"
    assert fake.submissions[-1][1]["action"] == "generate"

    sent = len(fake.submissions)
    for count in (1, 6):
        with pytest.raises(BackendRefused, match="2 to 5"):
            await backend.blend(images[:1] * count, BlendDimensions.SQUARE, job_id=JOB_ID)
    assert len(fake.submissions) == sent


async def test_image_seed_looks_up_the_results_image_id(fake: FakeAceData, backend: AceDataBackend) -> None:
    grid = await finished_grid(fake, backend)
    seed = await backend.image_seed(grid)
    assert seed.isdigit() and seed == await backend.image_seed(grid)
    assert fake.submissions[-1] == ("/midjourney/seed", {"image_id": fake.result_image(grid).id})
    running = await backend.imagine(PROMPT, job_id="job-2")
    with pytest.raises(BackendRefused, match="no finished image"):
        await backend.image_seed(running.task_id)
    with pytest.raises(TaskNotFound):
        await backend.image_seed(TASK_ID)


# --- adapter over HTTP: downloads ---------------------------------------------------------------------------


async def test_download_gets_thumbnail_or_raw(fake: FakeAceData, backend: AceDataBackend) -> None:
    """Caps, refused URLs and where the token goes: test_contract.py."""
    grid = await finished_grid(fake, backend)
    line = fake.tasks[grid].lines[-1]
    raw = await backend.download(line["raw_image_url"], max_bytes=10 * 1024 * 1024)
    thumb = await backend.download(line["image_url"], max_bytes=10 * 1024 * 1024)
    with Image.open(io.BytesIO(raw)) as big, Image.open(io.BytesIO(thumb)) as small:
        assert (big.format, big.size, small.size) == ("PNG", (1024, 1024), (512, 512))


# --- the fake on its own ------------------------------------------------------------------------------------


async def test_fake_long_wait_answers_the_final_result(client: httpx.AsyncClient) -> None:
    async with FakeAceData(step_delay=0.005) as fake:
        answer = await client.post(
            fake.base_url + "/midjourney/imagine",
            json={"prompt": PROMPT},
            headers={"authorization": f"Bearer {DEFAULT_TOKEN}", "accept": "application/json"},
        )
        body = answer.json()
        assert (body["success"], body["progress"], body["actions"]) == (True, 100, GRID_NAMES)
        assert body["image_url"] == body["raw_image_url"] + "width=512&height=512"
        listed = await client.post(
            fake.base_url + "/midjourney/tasks",
            json={"action": "retrieve_batch", "ids": [body["task_id"], TASK_ID]},
            headers={"authorization": DEFAULT_TOKEN},  # the seed docs show the bare token too
        )
    assert [item["id"] for item in listed.json()["items"]] == [body["task_id"]]
    assert listed.json()["items"][0]["response"]["image_id"] == body["image_id"]


async def test_fake_callback_without_ndjson_posts_only_the_result(
    fake: FakeAceData, client: httpx.AsyncClient, bot_side: BotSide
) -> None:
    accepted = await client.post(
        fake.base_url + "/midjourney/imagine",
        json={"prompt": PROMPT, "callback_url": bot_side.url + HOOK_PATH},
        headers={"authorization": f"Bearer {DEFAULT_TOKEN}"},
    )
    task_id = accepted.json()["task_id"]
    await fake.run_to_completion(task_id)
    assert [json.loads(body)["progress"] for body in bot_side.bodies] == [100]
