"""midjourney-proxy adapter: pure wire mapping, and real HTTP against the fake proxy on 127.0.0.1."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from PIL import Image

from bot.backends import http
from bot.backends.base import Backend
from bot.backends.mjproxy import (
    MjProxyBackend,
    ProxyTask,
    SubmitReply,
    classify_failure,
    parse_button,
    parse_progress,
    submission_from_reply,
    task_to_update,
)
from bot.domain import (
    Action,
    ActionKind,
    BackendBusy,
    BackendRefused,
    BackendUnavailable,
    BlendDimensions,
    FailureKind,
    InvalidCallback,
    JobKind,
    JobStatus,
    PromptRejected,
    RemixUnavailable,
    TaskNotFound,
    TaskUpdate,
)
from bot.domain.buttons import ButtonPolicy
from tests.fakes.bot_side import BotSide, action_of, png_bytes, serving_bot_side, statuses_until_final
from tests.fakes.mjproxy import DEFAULT_SECRET, FakeMjProxy
from tests.harness import free_port

JOB_ID = "job-7f3a"
PROMPT = "a lighthouse at dusk, oil painting"
HOOK_PATH = "/hooks/mjproxy/s3cret"
H = "85a4b4c1-8835-46c5-a15c-aea34fad1862"
GRID_KINDS = [ActionKind.UPSCALE] * 4 + [ActionKind.REROLL] + [ActionKind.VARIATION] * 4
UPSCALE_COMMON = {
    ActionKind.VARY_SUBTLE,
    ActionKind.VARY_STRONG,
    ActionKind.VARY_REGION,
    ActionKind.ANIMATE_HIGH,
    ActionKind.ANIMATE_LOW,
    ActionKind.BOOKMARK,
}
ZOOM_AND_PAN = {
    ActionKind.ZOOM_OUT_2X,
    ActionKind.ZOOM_OUT_1_5X,
    ActionKind.CUSTOM_ZOOM,
    ActionKind.PAN_LEFT,
    ActionKind.PAN_RIGHT,
    ActionKind.PAN_UP,
    ActionKind.PAN_DOWN,
}


# --- fixtures -----------------------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[BotSide]:
    async with serving_bot_side(HOOK_PATH) as state:
        yield state


@pytest.fixture
async def fake() -> AsyncIterator[FakeMjProxy]:
    async with FakeMjProxy() as proxy:
        yield proxy


@pytest.fixture
def backend(fake: FakeMjProxy, client: httpx.AsyncClient, receiver: BotSide) -> MjProxyBackend:
    return MjProxyBackend(client, fake.base_url, api_key=DEFAULT_SECRET, notify_url=receiver.url + HOOK_PATH)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "READ_RETRY_BACKOFF", (0.0, 0.0))


async def finished_grid(fake: FakeMjProxy, backend: MjProxyBackend) -> str:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.run_to_success(submission.task_id)
    return submission.task_id


# --- pure: submit codes -------------------------------------------------------------------------------------


def reply(
    code: int, result: str | None = "1763772345123456", description: str = "", **props: object
) -> SubmitReply:
    return SubmitReply.model_validate(
        {"code": code, "description": description, "result": result, "properties": props}
    )


def test_code_1_is_queued_until_the_proxy_reports_progress() -> None:
    submission = submission_from_reply(reply(1, description="提交成功", discordInstanceId="111"))
    assert (submission.task_id, submission.status, submission.queue_position) == (
        "1763772345123456",
        JobStatus.QUEUED,
        None,
    )


def test_code_22_is_accepted_with_the_queue_position() -> None:
    submission = submission_from_reply(reply(22, description="排队中，前面还有3个任务", numberOfQueues=3))
    assert submission.status is JobStatus.QUEUED
    assert submission.queue_position == 3


@pytest.mark.parametrize(
    "props",
    [
        {"finalPrompt": "2️⃣ a fox in snow --ar 1:1", "remix": True},
        {"status": "MODAL"},
        {},  # the plus doc's own example: description "窗口等待", no properties
    ],
)
def test_code_21_modal_needs_input(props: dict[str, object]) -> None:
    modal = SubmitReply.model_validate(
        {"code": 21, "description": "窗口等待", "result": "1", "properties": props}
    )
    submission = submission_from_reply(modal)
    assert submission.status is JobStatus.NEEDS_INPUT
    expected = "a fox in snow --ar 1:1" if "finalPrompt" in props else None
    assert submission.modal_prompt == expected  # trueai's keycap prefix is stripped


def test_code_21_already_exists_from_old_builds_is_accepted() -> None:
    existed = reply(21, description="任务已存在", status="SUCCESS", imageUrl="https://cdn.example/x.png")
    submission = submission_from_reply(existed)
    assert submission.status is JobStatus.QUEUED
    assert submission.modal_prompt is None


@pytest.mark.parametrize(
    ("code", "description", "error"),
    [
        (23, "队列已满，请稍后尝试", BackendBusy),
        (9, "提交失败，队列已满，请稍后重试", BackendBusy),
        (9, "无可用的账号实例", BackendUnavailable),
        (3, "关联任务不存在或已失效", TaskNotFound),
        (4, "prompt不能为空", BackendRefused),
        (42, "新的错误", BackendRefused),
    ],
)
def test_refusal_codes_raise_domain_errors(code: int, description: str, error: type[Exception]) -> None:
    with pytest.raises(error, match=description if code in (4, 9, 23, 42) else "不存在"):
        submission_from_reply(reply(code, description=description))


def test_code_24_carries_the_banned_word() -> None:
    with pytest.raises(PromptRejected) as caught:
        submission_from_reply(reply(24, result=None, description="可能包含敏感词", bannedWord="nude"))
    assert caught.value.banned_word == "nude"


def test_accepted_without_task_id_is_a_broken_backend() -> None:
    with pytest.raises(BackendUnavailable):
        submission_from_reply(reply(1, result=None))


def test_comma_joined_result_lists_extra_tasks() -> None:
    submission = submission_from_reply(reply(1, result="11,12,13,14"))
    assert submission.task_id == "11"
    assert submission.extra_task_ids == ("12", "13", "14")


# --- pure: progress, failures, task mapping -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "percent"),
    [
        ("46%", 46),
        ("0%", 0),
        ("100%", 100),
        ("", None),
        (None, None),
        ("n/a", None),
        ("150%", 100),
        ("12.5%", 12),
    ],
)
def test_parse_progress(raw: str | None, percent: int | None) -> None:
    assert parse_progress(raw) == percent


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        (
            "[Banned prompt detected] Sorry! This prompt may be against our community standards.",
            FailureKind.BANNED,
        ),
        ("Banned prompt: gore", FailureKind.BANNED),
        ("可能包含敏感词", FailureKind.BANNED),
        ("[Invalid parameter] Invalid value for --ar", FailureKind.INVALID),
        ("任务超时", FailureKind.TIMEOUT),
        ("任务超时，自动取消", FailureKind.TIMEOUT),
        ("Job timeout", FailureKind.TIMEOUT),
        ("取消任务", FailureKind.CANCELLED),
        ("提交失败，队列已满", FailureKind.QUEUE_FULL),
        ("Internal error", FailureKind.BACKEND),
        (None, FailureKind.BACKEND),
    ],
)
def test_classify_failure(reason: str | None, kind: FailureKind) -> None:
    assert classify_failure(reason) is kind


def task(**fields: object) -> ProxyTask:
    return ProxyTask.model_validate({"id": "1763772345123456", **fields})


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("NOT_START", JobStatus.QUEUED),
        ("SUBMITTED", JobStatus.RUNNING),
        ("IN_PROGRESS", JobStatus.RUNNING),
        ("MODAL", JobStatus.NEEDS_INPUT),
        ("SUCCESS", JobStatus.SUCCEEDED),
        ("FAILURE", JobStatus.FAILED),
        ("CANCEL", JobStatus.FAILED),
    ],
)
def test_status_mapping(status: str, expected: JobStatus) -> None:
    assert task_to_update(task(status=status)).status is expected


def test_running_image_is_a_preview_and_success_image_is_the_result() -> None:
    running = task_to_update(task(status="IN_PROGRESS", progress="46%", imageUrl="https://cdn/x_grid_0.webp"))
    assert (running.progress, running.preview_url, running.image_url, running.actions) == (
        46,
        "https://cdn/x_grid_0.webp",
        None,
        None,
    )
    done = task_to_update(task(status="SUCCESS", progress="100%", imageUrl="https://cdn/x.png", buttons=[]))
    assert (done.progress, done.preview_url, done.image_url, done.actions) == (
        100,
        None,
        "https://cdn/x.png",
        (),
    )


def test_unknown_fields_and_numeric_ids_are_accepted() -> None:
    payload = ProxyTask.model_validate(
        {"id": 1763772345123456, "status": "SUBMITTED", "progress": "0%", "mode": "FAST", "imageUrls": []}
    )
    update = task_to_update(payload)
    assert (update.task_id, update.progress) == ("1763772345123456", 0)


def test_describe_and_shorten_results_are_text() -> None:
    four = "1️⃣ Cat --ar 5:4\n\n2️⃣ Cat2 --ar 5:4\n\n3️⃣ Cat3 --ar 5:4\n\n4️⃣ Cat4 --ar 5:4"
    described = task(status="SUCCESS", action="DESCRIBE", properties={"finalPrompt": four})
    assert task_to_update(described).text == four
    shortened = task(status="SUCCESS", action="SHORTEN", prompt="only the prompt", properties=None)
    assert task_to_update(shortened).text == "only the prompt"
    imagined = task(status="SUCCESS", action="IMAGINE", properties={"finalPrompt": "Cat"})
    assert task_to_update(imagined).text is None


def test_failure_carries_reason_and_kind() -> None:
    update = task_to_update(
        task(status="FAILURE", progress="", failReason="[Invalid parameter] Invalid value")
    )
    assert (update.progress, update.fail_reason, update.failure) == (
        None,
        "[Invalid parameter] Invalid value",
        FailureKind.INVALID,
    )
    assert task_to_update(task(status="CANCEL")).failure is FailureKind.CANCELLED


VIDEO_URL = f"https://cdn.midjourney.com/video/{H}/0_0.mp4"


def test_finished_video_task_reports_its_video_url() -> None:
    video = task(status="SUCCESS", action="VIDEO", imageUrl="https://cdn/still.png", videoUrl=VIDEO_URL)
    update = task_to_update(video)
    assert (update.video_url, update.image_url) == (VIDEO_URL, "https://cdn/still.png")


def test_video_urls_list_stands_in_for_a_missing_video_url() -> None:
    listed = [{"url": None, "thumbnail": None}, {"url": VIDEO_URL, "thumbnail": "https://cdn/0_0_640_N.webp"}]
    assert task_to_update(
        task(status="SUCCESS", action="VIDEO", videoUrl=None, videoUrls=listed)
    ).video_url == (VIDEO_URL)
    assert task_to_update(task(status="SUCCESS", action="VIDEO", videoUrls=None)).video_url is None


def test_image_url_that_is_the_video_is_not_taken_for_a_picture() -> None:
    # trueai can fill imageUrl (and nothing else) with the mp4 of a VIDEO task.
    only_image = task_to_update(task(status="SUCCESS", action="VIDEO", imageUrl=VIDEO_URL + "?ex=1"))
    assert (only_image.video_url, only_image.image_url) == (VIDEO_URL + "?ex=1", None)
    both = task_to_update(task(status="SUCCESS", action="VIDEO", imageUrl=VIDEO_URL, videoUrl=VIDEO_URL))
    assert (both.video_url, both.image_url) == (VIDEO_URL, None)
    # The attachment's contentType decides, not the action: a clip pick is an UPSCALE task that is a video.
    picture = task_to_update(
        task(status="SUCCESS", action="UPSCALE", imageUrl="https://cdn/x.mp4", contentType="image/png")
    )
    assert (picture.video_url, picture.image_url) == (None, "https://cdn/x.mp4")
    clip = task_to_update(
        task(status="SUCCESS", action="UPSCALE", imageUrl="https://cdn/x?ex=1", contentType="video/mp4")
    )
    assert (clip.video_url, clip.image_url) == ("https://cdn/x?ex=1", None)


def test_unfinished_video_task_reports_no_video_yet() -> None:
    running = task_to_update(task(status="IN_PROGRESS", action="VIDEO", progress="30%", videoUrl=VIDEO_URL))
    assert (running.video_url, running.progress) == (None, 30)


def test_queued_task_reports_its_queue_position() -> None:
    assert task_to_update(task(status="NOT_START", properties={"numberOfQueues": 2})).queue_position == 2


def test_buttons_without_custom_id_are_dropped() -> None:
    buttons = [
        {"customId": f"MJ::JOB::upsample::1::{H}", "label": "U1", "emoji": None},
        {"customId": None, "label": "Web", "emoji": "🌐"},
    ]
    update = task_to_update(task(status="SUCCESS", buttons=buttons))
    assert update.actions == (Action(ActionKind.UPSCALE, f"MJ::JOB::upsample::1::{H}", 1, "U1", ""),)


# --- pure: buttons ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("custom_id", "kind", "index"),
    [
        (f"MJ::JOB::upsample::1::{H}", ActionKind.UPSCALE, 1),
        (f"MJ::JOB::upsample::4::{H}", ActionKind.UPSCALE, 4),
        (f"MJ::JOB::variation::2::{H}", ActionKind.VARIATION, 2),
        (f"MJ::JOB::reroll::0::{H}::SOLO", ActionKind.REROLL, 0),
        (f"MJ::JOB::upsample_v7_2x_subtle::1::{H}::SOLO", ActionKind.UPSCALE_SUBTLE, 0),
        (f"MJ::JOB::upsample_v6_2x_subtle::1::{H}::SOLO", ActionKind.UPSCALE_SUBTLE, 0),
        (f"MJ::JOB::upsample_v6r1_2x_subtle::1::{H}::SOLO", ActionKind.UPSCALE_SUBTLE, 0),
        (f"MJ::JOB::upsample_v6r1_2x_creative::1::{H}::SOLO", ActionKind.UPSCALE_CREATIVE, 0),
        (f"MJ::JOB::upsample_v7_2x_creative::1::{H}::SOLO", ActionKind.UPSCALE_CREATIVE, 0),
        (f"MJ::JOB::upsample_v5_2x::1::{H}::SOLO", ActionKind.UPSCALE_2X, 0),
        (f"MJ::JOB::upsample_v5_4x::1::{H}::SOLO", ActionKind.UPSCALE_4X, 0),
        (f"MJ::JOB::low_variation::1::{H}::SOLO", ActionKind.VARY_SUBTLE, 0),
        (f"MJ::JOB::high_variation::1::{H}::SOLO", ActionKind.VARY_STRONG, 0),
        (f"MJ::Inpaint::1::{H}::SOLO", ActionKind.VARY_REGION, 0),
        (f"MJ::Outpaint::50::1::{H}::SOLO", ActionKind.ZOOM_OUT_2X, 0),
        (f"MJ::Outpaint::75::1::{H}::SOLO", ActionKind.ZOOM_OUT_1_5X, 0),
        (f"MJ::Outpaint::100::1::{H}::SOLO", ActionKind.MAKE_SQUARE, 0),
        (f"MJ::CustomZoom::{H}", ActionKind.CUSTOM_ZOOM, 0),
        (f"MJ::CustomZoom::1::{H}", ActionKind.CUSTOM_ZOOM, 0),
        (f"MJ::JOB::pan_left::1::{H}::SOLO", ActionKind.PAN_LEFT, 0),
        (f"MJ::JOB::pan_right::1::{H}::SOLO", ActionKind.PAN_RIGHT, 0),
        (f"MJ::JOB::pan_up::1::{H}::SOLO", ActionKind.PAN_UP, 0),
        (f"MJ::JOB::pan_down::1::{H}::SOLO", ActionKind.PAN_DOWN, 0),
        ("MJ::Job::PicReader::3", ActionKind.PROMPT_PICK, 3),
        ("MJ::Job::PicReader::all", ActionKind.IMAGINE_ALL, 0),
        ("MJ::Picread::Retry", ActionKind.DESCRIBE_AGAIN, 0),
        ("MJ::Job::PromptAnalyzer::5", ActionKind.PROMPT_PICK, 5),
        # trueai refuses Show Details ("未知的 Action 类型"): it is not offered.
        ("MJ::Job::PromptAnalyzerExtended", ActionKind.UNKNOWN, 0),
        (f"MJ::BOOKMARK::{H}", ActionKind.BOOKMARK, 0),
        (f"MJ::JOB::animate_high::1::{H}::SOLO", ActionKind.ANIMATE_HIGH, 0),
        (f"MJ::JOB::animate_low::1::{H}::SOLO", ActionKind.ANIMATE_LOW, 0),
        (f"MJ::JOB::animate_high_extend::1::{H}", ActionKind.EXTEND_HIGH, 0),
        (f"MJ::JOB::animate_low_extend::1::{H}", ActionKind.EXTEND_LOW, 0),
        (f"MJ::JOB::video_virtual_upscale::3::{H}", ActionKind.PICK_CLIP, 3),
        (f"MJ::JOB::upsample_v8_3x_turbo::1::{H}::SOLO", ActionKind.UNKNOWN, 0),
        ("https://www.midjourney.com/jobs/x", ActionKind.UNKNOWN, 0),
    ],
)
def test_parse_button_by_custom_id_prefix(custom_id: str, kind: ActionKind, index: int) -> None:
    action = parse_button(custom_id, "label", "emoji")
    assert (action.kind, action.index, action.ref) == (kind, index, custom_id)


def test_parse_button_keeps_label_and_emoji_and_never_reads_the_emoji() -> None:
    # trueai sends the custom emoji *name* for HD upscales; a 🔄 emoji alone must not make a reroll.
    hd = parse_button(f"MJ::JOB::upsample_v6_2x_subtle::1::{H}::SOLO", "Upscale (Subtle)", "upscale_1")
    assert (hd.kind, hd.label, hd.emoji) == (ActionKind.UPSCALE_SUBTLE, "Upscale (Subtle)", "upscale_1")
    assert parse_button("MJ::Unknown::thing", None, "🔄") == Action(
        ActionKind.UNKNOWN, "MJ::Unknown::thing", emoji="🔄"
    )


# --- adapter over HTTP: identity and submit fields ----------------------------------------------------------


def test_backend_satisfies_the_protocol_and_declares_push(client: httpx.AsyncClient) -> None:
    pushing = MjProxyBackend(client, "http://proxy:8080/mj/", api_key=None, notify_url="https://bot/hook")
    polling = MjProxyBackend(
        client, "http://proxy:8080", api_key=None, notify_url=None, max_prompt_length=500
    )
    assert isinstance(pushing, Backend)
    assert (pushing.name, pushing.capabilities.push, polling.capabilities.push) == ("mjproxy", True, False)
    assert polling.capabilities.max_prompt_length == 500
    assert len(pushing.capabilities.commands) == 5


async def test_submit_sends_hook_state_and_secret(
    fake: FakeMjProxy, backend: MjProxyBackend, receiver: BotSide
) -> None:
    await backend.imagine(PROMPT, job_id=JOB_ID)
    await backend.shorten(PROMPT, job_id="job-2")
    assert [(path, body["state"], body["notifyHook"]) for path, body in fake.submissions] == [
        ("/mj/submit/imagine", JOB_ID, receiver.url + HOOK_PATH),
        ("/mj/submit/shorten", "job-2", receiver.url + HOOK_PATH),
    ]
    assert all(r.headers.get("mj-api-secret") == DEFAULT_SECRET for r in fake.requests)


async def test_base_url_with_mj_suffix_and_no_hook(fake: FakeMjProxy, client: httpx.AsyncClient) -> None:
    polling = MjProxyBackend(client, fake.base_url + "/mj/", api_key=DEFAULT_SECRET, notify_url=None)
    submission = await polling.imagine(PROMPT, job_id=JOB_ID)
    assert submission.task_id in fake.tasks
    assert "notifyHook" not in fake.submissions[0][1]


async def test_overlong_prompt_is_refused_before_sending(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    short = MjProxyBackend(
        client, fake.base_url, api_key=DEFAULT_SECRET, notify_url=None, max_prompt_length=10
    )
    with pytest.raises(PromptRejected):
        await short.imagine("x" * 11, job_id=JOB_ID)
    assert fake.submissions == []


# --- adapter over HTTP: the imagine → upscale path ----------------------------------------------------------


async def test_imagine_fetch_goes_queued_running_succeeded_with_grid_buttons(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    assert submission.status is JobStatus.QUEUED and submission.task_id in fake.tasks

    queued = await backend.fetch(submission.task_id)
    assert queued is not None and queued.status is JobStatus.QUEUED

    await fake.advance(submission.task_id, 0)
    started = await backend.fetch(submission.task_id)
    assert started is not None and (started.status, started.progress) == (JobStatus.RUNNING, 0)

    await fake.advance(submission.task_id, 46)
    running = await backend.fetch(submission.task_id)
    assert running is not None and (running.status, running.progress) == (JobStatus.RUNNING, 46)
    assert running.preview_url is not None and ".webp?" in running.preview_url

    await fake.succeed(submission.task_id)
    done = await backend.fetch(submission.task_id)
    assert done is not None and done.status is JobStatus.SUCCEEDED and done.progress == 100
    assert done.preview_url is None and done.image_url is not None and ".png?ex=" in done.image_url
    assert done.actions is not None
    assert [a.kind for a in done.actions] == GRID_KINDS
    assert [a.label for a in done.actions if a.kind is ActionKind.UPSCALE] == ["U1", "U2", "U3", "U4"]
    assert [a.index for a in done.actions if a.kind is ActionKind.VARIATION] == [1, 2, 3, 4]


async def test_u2_starts_an_upscale_with_the_upscale_action_set(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    grid = await finished_grid(fake, backend)
    u2 = await action_of(backend, grid, ActionKind.UPSCALE, 2)
    submission = await backend.act(grid, u2, job_id="job-u2")
    assert fake.tasks[submission.task_id].action == "UPSCALE"
    assert fake.submissions[-1] == (
        "/mj/submit/action",
        {
            "taskId": grid,
            "customId": u2.ref,
            "state": "job-u2",
            "notifyHook": fake.submissions[0][1]["notifyHook"],
        },
    )
    await fake.run_to_success(submission.task_id, steps=(0,))
    upscaled = await backend.fetch(submission.task_id)
    assert upscaled is not None and upscaled.actions is not None
    kinds = {a.kind for a in upscaled.actions}
    assert kinds == {ActionKind.UPSCALE_SUBTLE, ActionKind.UPSCALE_CREATIVE} | UPSCALE_COMMON | ZOOM_AND_PAN


async def finished_upscale(client: httpx.AsyncClient, fake: FakeMjProxy) -> TaskUpdate:
    """U1 of a finished grid, run to the end: the upscale's final update."""
    backend = MjProxyBackend(client, fake.base_url, api_key=DEFAULT_SECRET, notify_url=None)
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 1), job_id=JOB_ID)
    await fake.succeed(upscale.task_id)
    update = await backend.fetch(upscale.task_id)
    assert update is not None
    return update


@pytest.mark.parametrize(
    ("version", "hd_kinds", "zoom_pan"),
    [
        (5, {ActionKind.UPSCALE_2X, ActionKind.UPSCALE_4X}, True),
        (7, {ActionKind.UPSCALE_SUBTLE, ActionKind.UPSCALE_CREATIVE}, True),
        (8, set(), False),
    ],
)
async def test_upscale_buttons_follow_the_model_version(
    client: httpx.AsyncClient, version: int, hd_kinds: set[ActionKind], zoom_pan: bool
) -> None:
    async with FakeMjProxy(version=version) as fake:
        update = await finished_upscale(client, fake)
    assert update.actions is not None
    assert {a.kind for a in update.actions} == hd_kinds | UPSCALE_COMMON | (
        ZOOM_AND_PAN if zoom_pan else set()
    )


async def test_upscales_offer_no_animate_when_the_proxy_has_video_off(client: httpx.AsyncClient) -> None:
    async with FakeMjProxy(video=False) as fake:
        update = await finished_upscale(client, fake)
    assert update.actions is not None
    assert not {a.kind for a in update.actions} & {ActionKind.ANIMATE_HIGH, ActionKind.ANIMATE_LOW}


async def test_animate_is_an_action_whose_task_reports_a_downloadable_mp4(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    assert backend.capabilities.animate
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 3), job_id=JOB_ID)
    await fake.succeed(upscale.task_id)
    animate = await action_of(backend, upscale.task_id, ActionKind.ANIMATE_LOW)
    submission = await backend.act(upscale.task_id, animate, job_id="job-video")
    assert fake.submissions[-1][0] == "/mj/submit/action"
    assert fake.submissions[-1][1]["customId"] == animate.ref
    assert fake.tasks[submission.task_id].action == "VIDEO"
    await fake.run_to_success(submission.task_id, steps=(0, 50))
    update = await backend.fetch(submission.task_id)
    assert update is not None and update.status is JobStatus.SUCCEEDED
    assert update.video_url is not None and update.image_url is None
    video = await backend.download(update.video_url, max_bytes=1024 * 1024)
    assert video == fake.video_of(submission.task_id) and video[4:8] == b"ftyp"


VIDEO_KINDS = (ActionKind.PICK_CLIP, ActionKind.EXTEND_HIGH, ActionKind.EXTEND_LOW)


async def finished_video(fake: FakeMjProxy, backend: MjProxyBackend) -> str:
    """Animate (High motion) of U1, run to the end: the VIDEO task's id (a batch of four clips)."""
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 1), job_id=JOB_ID)
    await fake.succeed(upscale.task_id)
    animate = await action_of(backend, upscale.task_id, ActionKind.ANIMATE_HIGH)
    video = await backend.act(upscale.task_id, animate, job_id="job-video")
    await fake.run_to_success(video.task_id, steps=(0,))
    return video.task_id


async def test_a_video_batch_offers_its_clip_picks_and_a_picked_clip_is_a_video_with_extends(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    batch = await fetched(backend, await finished_video(fake, backend))
    assert batch.actions is not None
    picks = [a for a in batch.actions if a.kind is ActionKind.PICK_CLIP]
    assert [a.index for a in picks] == [1, 2, 3, 4]  # TaskInfo.SetVideoUpscaleButtons
    policy = ButtonPolicy(backend.capabilities)
    assert all(policy.offers(a) and a.result_kind is JobKind.VIDEO and a.result_kept for a in picks)

    clip = await backend.act(batch.task_id, picks[1], job_id="job-clip")
    assert (
        fake.submissions[-1][1]["customId"]
        == f"MJ::JOB::video_virtual_upscale::2::{fake.tasks[batch.task_id].hash}"
    )
    assert fake.tasks[clip.task_id].action == "UPSCALE"  # SubmitController: a clip pick is an UPSCALE
    await fake.run_to_success(clip.task_id, steps=(0,))
    picked = await fetched(backend, clip.task_id)
    assert fake.tasks[clip.task_id].content_type == "video/mp4" and picked.image_url is None
    assert picked.video_url == fake.tasks[clip.task_id].image_url
    assert await backend.download(picked.video_url, max_bytes=1024 * 1024) == fake.video_of(clip.task_id)
    assert picked.actions is not None
    assert [a.kind for a in picked.actions] == [ActionKind.EXTEND_HIGH, ActionKind.EXTEND_LOW]
    assert all(policy.offers(a) and a.result_kind is JobKind.VIDEO for a in picked.actions)


async def test_extend_runs_as_a_video_task_whose_result_is_another_batch(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    batch = await finished_video(fake, backend)
    clip = await backend.act(
        batch, await action_of(backend, batch, ActionKind.PICK_CLIP, 4), job_id="job-clip"
    )
    await fake.run_to_success(clip.task_id, steps=(0,))
    extend = await action_of(backend, clip.task_id, ActionKind.EXTEND_LOW)
    longer = await backend.act(clip.task_id, extend, job_id="job-extend")
    assert fake.submissions[-1][1]["customId"].startswith("MJ::JOB::animate_low_extend::1::")
    assert fake.tasks[longer.task_id].action == "VIDEO"
    await fake.run_to_success(longer.task_id, steps=(0, 50))
    update = await fetched(backend, longer.task_id)
    assert update.video_url is not None and update.image_url is None
    assert update.actions is not None
    assert [a.kind for a in update.actions if a.kind in VIDEO_KINDS] == [ActionKind.PICK_CLIP] * 4


async def test_video_buttons_are_offered_only_by_a_backend_that_animates(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    batch = await fetched(backend, await finished_video(fake, backend))
    assert batch.actions is not None
    silent = ButtonPolicy(replace(backend.capabilities, animate=False))
    assert not [a for a in batch.actions if a.kind in VIDEO_KINDS and silent.offers(a)]


async def fetched(backend: MjProxyBackend, task_id: str) -> TaskUpdate:
    update = await backend.fetch(task_id)
    assert update is not None and update.status is JobStatus.SUCCEEDED
    return update


# --- adapter over HTTP: submit codes ------------------------------------------------------------------------


async def test_queued_submit_reports_position(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    fake.queue_ahead = 3
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    assert (submission.status, submission.queue_position) == (JobStatus.QUEUED, 3)
    assert submission.task_id in fake.tasks


@pytest.mark.parametrize("code", [23, 9])
async def test_full_queue_is_busy_and_starts_nothing(
    fake: FakeMjProxy, backend: MjProxyBackend, code: int
) -> None:
    fake.queue_full, fake.queue_full_code = True, code
    with pytest.raises(BackendBusy, match="队列已满"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert fake.tasks == {}


async def test_banned_prompt_is_rejected_with_the_word(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    with pytest.raises(PromptRejected) as caught:
        await backend.imagine("a Nude figure study", job_id=JOB_ID)
    assert caught.value.banned_word == "nude"
    assert fake.tasks == {}


async def test_remix_turns_variation_into_a_modal_then_confirms_it(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    grid = await finished_grid(fake, backend)
    fake.remix = True
    v1 = await action_of(backend, grid, ActionKind.VARIATION, 1)
    modal = await backend.act(grid, v1, job_id="job-v1")
    assert (modal.status, modal.modal_prompt) == (JobStatus.NEEDS_INPUT, PROMPT)
    assert fake.tasks[modal.task_id].status == "MODAL"
    waiting = await backend.fetch(modal.task_id)
    assert waiting is not None and waiting.status is JobStatus.NEEDS_INPUT

    confirmed = await backend.submit_modal(modal.task_id, "a lighthouse at dawn", job_id="job-v1")
    assert (confirmed.task_id, confirmed.status) == (modal.task_id, JobStatus.QUEUED)
    proxy_task = fake.tasks[modal.task_id]
    assert (proxy_task.status, proxy_task.prompt, proxy_task.action) == (
        "NOT_START",
        "a lighthouse at dawn",
        "VARIATION",
    )


@pytest.mark.parametrize("auto_submit", [False, True])
async def test_remix_sends_enable_remix_and_confirms_the_modal_with_the_edited_prompt(
    fake: FakeMjProxy, backend: MjProxyBackend, auto_submit: bool
) -> None:
    # With enableRemix trueai always opens the modal (code 21), "remix auto submit" or not.
    fake.remix, fake.remix_auto_submit = True, auto_submit
    grid = await finished_grid(fake, backend)
    v2 = await action_of(backend, grid, ActionKind.VARIATION, 2)
    started = await backend.remix(grid, v2, "a lighthouse at dawn", job_id="job-v2")
    action, modal = [body for _, body in fake.submissions[-2:]]
    assert action["enableRemix"] is True and action["customId"] == v2.ref
    assert (modal["taskId"], modal["prompt"]) == (started.task_id, "a lighthouse at dawn")
    assert (started.status, started.prompt_ignored) == (JobStatus.QUEUED, False)
    proxy_task = fake.tasks[started.task_id]
    assert (proxy_task.status, proxy_task.prompt, proxy_task.action) == (
        "NOT_START",
        "a lighthouse at dawn",
        "VARIATION",
    )


async def test_remix_on_an_account_without_remix_rerolls_the_edited_prompt(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    # trueai refuses enableRemix with code 4 when the account's Remix is off; a remixed 🔄 is a new run.
    grid = await finished_grid(fake, backend)
    reroll = await action_of(backend, grid, ActionKind.REROLL)
    started = await backend.remix(grid, reroll, "a lighthouse at dawn", job_id="job-r")
    assert [path.rsplit("/", 1)[-1] for path, _ in fake.submissions[-2:]] == ["action", "imagine"]
    assert (started.status, started.prompt_ignored) == (JobStatus.QUEUED, False)
    assert fake.tasks[started.task_id].prompt == "a lighthouse at dawn"


async def test_remix_on_an_account_without_remix_says_why_for_a_variation(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    grid = await finished_grid(fake, backend)
    v2 = await action_of(backend, grid, ActionKind.VARIATION, 2)
    with pytest.raises(RemixUnavailable, match="remix"):
        await backend.remix(grid, v2, "a lighthouse at dawn", job_id="job-v2")
    assert len(fake.tasks) == 1


async def test_action_on_unknown_task_is_not_found(backend: MjProxyBackend) -> None:
    with pytest.raises(TaskNotFound):
        await backend.act(
            "1763772345000999", Action(ActionKind.UPSCALE, f"MJ::JOB::upsample::1::{H}", 1), job_id=JOB_ID
        )


async def test_action_on_unfinished_parent_is_refused(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    with pytest.raises(BackendRefused, match="关联任务状态错误"):
        await backend.act(
            submission.task_id, Action(ActionKind.REROLL, f"MJ::JOB::reroll::0::{H}::SOLO"), job_id=JOB_ID
        )


async def test_bookmark_is_refused_as_an_unknown_action(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 1), job_id=JOB_ID)
    await fake.succeed(upscale.task_id)
    heart = await action_of(backend, upscale.task_id, ActionKind.BOOKMARK)
    with pytest.raises(BackendRefused, match="未知的 Action 类型"):
        await backend.act(upscale.task_id, heart, job_id=JOB_ID)
    assert len(fake.tasks) == 2


async def test_stale_custom_id_is_accepted_then_fails(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    grid = await finished_grid(fake, backend)
    stale = Action(ActionKind.UPSCALE, f"MJ::JOB::upsample::1::{H}", 1)
    submission = await backend.act(grid, stale, job_id=JOB_ID)
    await fake.advance(submission.task_id, 0)
    update = await backend.fetch(submission.task_id)
    assert update is not None and (update.status, update.failure) == (JobStatus.FAILED, FailureKind.BACKEND)


# --- adapter over HTTP: auth and transport failures ---------------------------------------------------------


@pytest.mark.parametrize("api_key", ["wrong-secret", None])
async def test_bad_secret_is_refused_without_echoing_it(
    fake: FakeMjProxy, client: httpx.AsyncClient, api_key: str | None
) -> None:
    backend = MjProxyBackend(client, fake.base_url, api_key=api_key, notify_url=None)
    with pytest.raises(BackendRefused, match="authentication failed") as caught:
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert "wrong-secret" not in str(caught.value)
    with pytest.raises(BackendRefused, match="authentication failed"):
        await backend.fetch("1763772345000999")


async def test_open_proxy_needs_no_secret(client: httpx.AsyncClient) -> None:
    async with FakeMjProxy(api_secret=None) as fake:
        backend = MjProxyBackend(client, fake.base_url, api_key=None, notify_url=None)
        submission = await backend.imagine(PROMPT, job_id=JOB_ID)
        assert submission.task_id in fake.tasks
        assert "mj-api-secret" not in fake.requests[0].headers


async def test_submit_5xx_is_unavailable_and_never_resent(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    fake.fail_next_http(500)
    with pytest.raises(BackendUnavailable, match="500"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert [path for path, _ in fake.submissions] == ["/mj/submit/imagine"]


async def test_non_json_submit_answer_is_unavailable(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    fake.fail_next_http(200)  # a bare "OK" page, as a misconfigured reverse proxy would send
    with pytest.raises(BackendUnavailable):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert len(fake.submissions) == 1


async def test_fetch_retries_5xx_then_succeeds(
    fake: FakeMjProxy, backend: MjProxyBackend, no_backoff: None
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    fake.fail_next_http(503, times=2)
    update = await backend.fetch(submission.task_id)
    assert update is not None and update.status is JobStatus.QUEUED
    assert sum(r.path.endswith("/fetch") for r in fake.requests) == 3


async def test_fetch_gives_up_after_the_retries(
    fake: FakeMjProxy, backend: MjProxyBackend, no_backoff: None
) -> None:
    fake.fail_next_http(502, times=3)
    with pytest.raises(BackendUnavailable, match="502"):
        await backend.fetch("1763772345000999")
    assert len(fake.requests) == 1 + len(http.READ_RETRY_BACKOFF)


async def test_unreachable_proxy_is_unavailable(client: httpx.AsyncClient, no_backoff: None) -> None:
    backend = MjProxyBackend(client, f"http://127.0.0.1:{free_port()}", api_key="k", notify_url=None)
    with pytest.raises(BackendUnavailable, match="unreachable"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    with pytest.raises(BackendUnavailable, match="unreachable"):
        await backend.fetch("1")


async def test_unknown_task_fetch_is_none(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    assert await backend.fetch("1763772345000999") is None
    assert any(r.path.endswith("/1763772345000999/fetch") for r in fake.requests)


# --- adapter over HTTP: notify hook -------------------------------------------------------------------------


async def test_notify_bodies_round_trip_through_parse_callback(
    fake: FakeMjProxy, backend: MjProxyBackend, receiver: BotSide
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.run_to_success(submission.task_id)
    assert [status for _, _, status in fake.notifications] == [200, 200, 200, 200]
    updates = [u for body in receiver.bodies for u in backend.parse_callback(body, {})]
    assert [(u.task_id, u.status, u.progress) for u in updates] == [
        (submission.task_id, JobStatus.RUNNING, 0),
        (submission.task_id, JobStatus.RUNNING, 35),
        (submission.task_id, JobStatus.RUNNING, 70),
        (submission.task_id, JobStatus.SUCCEEDED, 100),
    ]
    assert updates[-1].actions is not None and [a.kind for a in updates[-1].actions] == GRID_KINDS
    assert fake.notifications[-1][1]["state"] == JOB_ID


async def test_late_snapshot_reposted_parses_as_the_older_state(
    fake: FakeMjProxy, backend: MjProxyBackend, receiver: BotSide
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.advance(submission.task_id, 35)
    older = fake.snapshot(submission.task_id)
    await fake.succeed(submission.task_id)
    await fake.renotify(submission.task_id, older)
    late = backend.parse_callback(receiver.bodies[-1], {})
    assert [(u.status, u.progress) for u in late] == [(JobStatus.RUNNING, 35)]


async def test_lost_callbacks_leave_polling_to_find_the_result(
    fake: FakeMjProxy, backend: MjProxyBackend, receiver: BotSide
) -> None:
    fake.drop_notifications = True
    task_id = await finished_grid(fake, backend)
    assert receiver.bodies == [] and fake.notifications == []
    update = await backend.fetch(task_id)
    assert update is not None and update.status is JobStatus.SUCCEEDED


async def test_failure_is_notified_with_its_kind(
    fake: FakeMjProxy, backend: MjProxyBackend, receiver: BotSide
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await fake.fail(submission.task_id, "[Banned prompt detected] Sorry!")
    [update] = backend.parse_callback(receiver.bodies[-1], {})
    assert (update.status, update.failure, update.fail_reason) == (
        JobStatus.FAILED,
        FailureKind.BANNED,
        "[Banned prompt detected] Sorry!",
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "1763772345123456"}',
        b'{"status": "SUCCESS"}',
        b'{"id": "", "status": "SUCCESS"}',
        b'{"id": "1763772345123456", "status": "EXPLODED"}',
        b'{"id": "1763772345123456", "status": "SUCCESS", "buttons": "U1"}',
    ],
)
def test_malformed_callbacks_raise(backend: MjProxyBackend, body: bytes) -> None:
    with pytest.raises(InvalidCallback):
        backend.parse_callback(body, {"content-type": "application/json"})


# --- adapter over HTTP: downloads ---------------------------------------------------------------------------


# Caps, refused URLs and where the secret goes: test_contract.py.


async def test_download_returns_the_final_png(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    done = await backend.fetch(await finished_grid(fake, backend))
    assert done is not None and done.image_url is not None
    data = await backend.download(done.image_url, max_bytes=10 * 1024 * 1024)
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (1024, 1024))


# --- adapter over HTTP: describe, blend, shorten, modal, seed -----------------------------------------------


async def test_describe_round_trip_then_pick_a_prompt(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    picture = png_bytes((16, 12))
    submission = await backend.describe(picture, "image/png", job_id=JOB_ID)
    assert fake.submissions[-1][1]["base64"].startswith("data:image/png;base64,")
    await fake.run_to_success(submission.task_id, steps=(0,))
    done = await backend.fetch(submission.task_id)
    assert done is not None and done.text is not None and done.actions is not None
    lines = done.text.split("\n\n")
    assert len(lines) == 4 and lines[0].startswith("1️⃣ ")
    assert [a.kind for a in done.actions] == [ActionKind.PROMPT_PICK] * 4 + [
        ActionKind.DESCRIBE_AGAIN,
        ActionKind.IMAGINE_ALL,
    ]
    assert done.image_url is not None and await backend.download(done.image_url, max_bytes=10_000) == picture

    pick = next(a for a in done.actions if a.kind is ActionKind.PROMPT_PICK and a.index == 2)
    modal = await backend.act(submission.task_id, pick, job_id="job-pick")
    assert (modal.status, modal.modal_prompt) == (JobStatus.NEEDS_INPUT, lines[1].removeprefix("2️⃣ "))
    confirmed = await backend.submit_modal(modal.task_id, modal.modal_prompt or "", job_id="job-pick")
    assert confirmed.task_id == modal.task_id
    assert (fake.tasks[modal.task_id].action, fake.tasks[modal.task_id].prompt) == (
        "IMAGINE",
        modal.modal_prompt,
    )


async def test_imagine_all_starts_four_tasks(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    submission = await backend.describe(png_bytes(), "image/png", job_id=JOB_ID)
    await fake.succeed(submission.task_id)
    started = await backend.act(
        submission.task_id,
        await action_of(backend, submission.task_id, ActionKind.IMAGINE_ALL),
        job_id=JOB_ID,
    )
    ids = (started.task_id, *started.extra_task_ids)
    assert len(ids) == 4 and all(fake.tasks[i].action == "IMAGINE" for i in ids)


async def test_describe_of_empty_bytes_is_refused(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    with pytest.raises(BackendRefused, match="base64格式错误"):
        await backend.describe(b"", "image/png", job_id=JOB_ID)


async def test_blend_round_trip_and_count_check(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    images = [(png_bytes(colour=(0, 0, 255)), "image/png"), (png_bytes(colour=(0, 255, 0)), "image/jpeg")]
    submission = await backend.blend(images, BlendDimensions.LANDSCAPE, job_id=JOB_ID)
    body = fake.submissions[-1][1]
    assert body["dimensions"] == "LANDSCAPE"
    assert [url.split(",")[0] for url in body["base64Array"]] == [
        "data:image/png;base64",
        "data:image/jpeg;base64",
    ]
    await fake.run_to_success(submission.task_id, steps=(50,))
    done = await backend.fetch(submission.task_id)
    assert done is not None and done.actions is not None and [a.kind for a in done.actions] == GRID_KINDS

    with pytest.raises(BackendRefused, match="2~5"):
        await backend.blend(images[:1], BlendDimensions.SQUARE, job_id=JOB_ID)


async def test_shorten_offers_its_picks_but_not_show_details(
    fake: FakeMjProxy, backend: MjProxyBackend
) -> None:
    prompt = "appdash appdash, in the style of expert draftsmanship, ethereal, dadaistic, toonami"
    submission = await backend.shorten(prompt, job_id=JOB_ID)
    await fake.run_to_success(submission.task_id, steps=(0,))
    done = await backend.fetch(submission.task_id)
    assert done is not None and done.text is not None and done.actions is not None
    assert done.text.startswith("## Important tokens\n**appdash appdash**")
    assert "## Shortened prompts\n1️⃣ " in done.text and done.image_url is None
    # The picks run as imagines of the bot's own; the proxy refuses both kinds of PromptAnalyzer button.
    assert [a.kind for a in done.actions] == [ActionKind.PROMPT_PICK] * 5 + [ActionKind.UNKNOWN]
    for pressed in (done.actions[2], done.actions[-1]):
        with pytest.raises(BackendRefused, match="未知的 Action 类型"):
            await backend.act(submission.task_id, pressed, job_id="job-pick")


async def test_custom_zoom_modal_checks_the_zoom_value(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 3), job_id=JOB_ID)
    await fake.succeed(upscale.task_id)
    zoom = await backend.act(
        upscale.task_id, await action_of(backend, upscale.task_id, ActionKind.CUSTOM_ZOOM), job_id=JOB_ID
    )
    assert zoom.status is JobStatus.NEEDS_INPUT and zoom.modal_prompt == f"{PROMPT} --zoom 2"
    with pytest.raises(BackendRefused, match="zoom"):
        await backend.submit_modal(zoom.task_id, f"{PROMPT} --zoom 3", job_id=JOB_ID)
    accepted = await backend.submit_modal(zoom.task_id, f"{PROMPT} --zoom 1.5", job_id=JOB_ID)
    assert accepted.task_id == zoom.task_id and fake.tasks[zoom.task_id].action == "ZOOM"


async def test_vary_region_modal_sends_the_mask(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 1), job_id=JOB_ID)
    await fake.succeed(upscale.task_id)
    region = await backend.act(
        upscale.task_id, await action_of(backend, upscale.task_id, ActionKind.VARY_REGION), job_id=JOB_ID
    )
    assert region.status is JobStatus.NEEDS_INPUT
    await backend.submit_modal(
        region.task_id, "a red door", job_id=JOB_ID, mask_png=png_bytes(colour=(255, 255, 255))
    )
    proxy_task = fake.tasks[region.task_id]
    assert proxy_task.mask_base64 is not None and proxy_task.mask_base64.startswith("data:image/png;base64,")
    # SubmitController.Action files Vary (Region) as a VARIATION task.
    assert (proxy_task.action, proxy_task.status) == ("VARIATION", "NOT_START")


async def test_modal_for_unknown_task_is_not_found(backend: MjProxyBackend) -> None:
    with pytest.raises(TaskNotFound):
        await backend.submit_modal("1763772345000999", "anything", job_id=JOB_ID)


async def test_image_seed_round_trip(fake: FakeMjProxy, backend: MjProxyBackend) -> None:
    task_id = await finished_grid(fake, backend)
    seed = await backend.image_seed(task_id)
    assert seed.isdigit() and seed == await backend.image_seed(task_id)
    running = await backend.imagine(PROMPT, job_id="job-2")
    with pytest.raises(BackendRefused):
        await backend.image_seed(running.task_id)
    with pytest.raises(TaskNotFound):
        await backend.image_seed("1763772345000999")


# --- the fake on its own clock ------------------------------------------------------------------------------


async def test_auto_steps_let_a_poller_see_the_job_finish(client: httpx.AsyncClient) -> None:
    async with FakeMjProxy(auto_steps=(0, 50), step_delay=0.01) as fake:
        backend = MjProxyBackend(client, fake.base_url, api_key=DEFAULT_SECRET, notify_url=None)
        submission = await backend.imagine(PROMPT, job_id=JOB_ID)
        seen = await statuses_until_final(backend, submission.task_id)
    assert seen[-1] is JobStatus.SUCCEEDED
    assert seen == sorted(seen, key=lambda status: status.rank)


async def test_fake_lists_known_tasks_and_answers_auth_like_trueai(
    fake: FakeMjProxy, backend: MjProxyBackend, client: httpx.AsyncClient
) -> None:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    listed = await client.post(
        fake.base_url + "/mj/task/list-by-condition",
        json={"ids": [submission.task_id, "1763772345000999"]},
        headers={"mj-api-secret": DEFAULT_SECRET},
    )
    assert [t["id"] for t in listed.json()] == [submission.task_id]
    refused = await client.get(fake.base_url + f"/mj/task/{submission.task_id}/fetch")
    assert (refused.status_code, refused.text) == (401, "Authorization header missing.")
