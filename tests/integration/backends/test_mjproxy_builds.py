"""midjourney-proxy as its builds' source behaves (trueai current, the Java build), over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bot.backends.mjproxy import Flavour, MjProxyBackend, classify_failure
from bot.domain import (
    Action,
    ActionKind,
    BackendBusy,
    BackendOffline,
    BackendRefused,
    BlendDimensions,
    Command,
    FailureKind,
    JobStatus,
    NotPermitted,
    PromptRejected,
    RemixUnavailable,
    TaskNotFound,
)
from tests.fakes.bot_side import BotSide, action_of, png_bytes, serving_bot_side
from tests.fakes.mjproxy import DEFAULT_SECRET, JAVA, FakeMjProxy

JOB_ID = "job-b1d5"
PROMPT = "a lighthouse at dusk, oil painting"
UNKNOWN_ID = "1763772345000999"
QUICK = (0.0, 0.0)  # the rate limiter's backoff, shortened for tests


@pytest.fixture
async def fake() -> AsyncIterator[FakeMjProxy]:
    async with FakeMjProxy() as proxy:
        yield proxy


@pytest.fixture
async def java() -> AsyncIterator[FakeMjProxy]:
    async with FakeMjProxy(flavour=JAVA) as proxy:
        yield proxy


@pytest.fixture
async def host() -> AsyncIterator[BotSide]:
    async with serving_bot_side("/hooks/unused") as state:
        yield state


def adapter(client: httpx.AsyncClient, proxy: FakeMjProxy, host: BotSide | None = None) -> MjProxyBackend:
    return MjProxyBackend(
        client,
        proxy.base_url,
        api_key=DEFAULT_SECRET,
        notify_url=None,
        image_host=host.host if host else None,
        throttle_backoff=QUICK,
    )


async def finished_grid(proxy: FakeMjProxy, backend: MjProxyBackend) -> str:
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await proxy.run_to_success(submission.task_id)
    return submission.task_id


# --- 3: cancel is for admins ------------------------------------------------------------------------------


async def test_cancel_with_a_non_admin_secret_says_only_the_admin_may(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    fake.admin = False
    with pytest.raises(NotPermitted, match="admin"):
        await backend.cancel(submission.task_id)
    assert fake.tasks[submission.task_id].status == "NOT_START"


async def test_cancel_as_admin_ends_the_task_and_an_unknown_id_is_a_quiet_200(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    await backend.cancel(submission.task_id)
    assert (fake.tasks[submission.task_id].status, fake.tasks[submission.task_id].fail_reason) == (
        "FAILURE",
        "取消任务",
    )
    await backend.cancel(UNKNOWN_ID)  # TaskController.Cancel answers Ok() whatever the id


# --- 4: no live account -----------------------------------------------------------------------------------


async def test_no_live_account_is_offline_not_a_lost_task(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    grid = await finished_grid(fake, backend)
    u1 = await action_of(backend, grid, ActionKind.UPSCALE, 1)
    fake.accounts_alive = False
    with pytest.raises(BackendOffline, match="无可用的账号实例"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    with pytest.raises(BackendOffline):
        await backend.act(grid, u1, job_id=JOB_ID)
    with pytest.raises(TaskNotFound):  # code 3 for a task that is gone still says so
        await backend.act(UNKNOWN_ID, u1, job_id=JOB_ID)


# --- 5: the proxy's own limits ----------------------------------------------------------------------------


async def test_a_limit_of_the_proxy_is_refused_with_its_message(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    fake.limit_message = "用户今日绘图次数已达上限"
    with pytest.raises(BackendRefused) as shortened:
        await backend.shorten(PROMPT, job_id=JOB_ID)  # {"success": false, "code": -1, "message": …}
    assert str(shortened.value) == "用户今日绘图次数已达上限"
    with pytest.raises(BackendRefused) as imagined:
        await backend.imagine(PROMPT, job_id=JOB_ID)  # Imagine catches it itself: code 4
    assert str(imagined.value) == "用户今日绘图次数已达上限"


# --- 6: the rate limiter and the IP blacklist -------------------------------------------------------------


async def test_a_throttled_submit_is_sent_again_after_a_pause(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    fake.throttle(2)
    submission = await backend.imagine(PROMPT, job_id=JOB_ID)
    assert len(fake.tasks) == 1 and submission.task_id in fake.tasks
    assert len(fake.requests_to("/mj/submit/imagine")) == 3


async def test_a_submit_throttled_throughout_is_busy_and_started_nothing(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    fake.throttle(10)
    with pytest.raises(BackendBusy, match="429"):
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert fake.tasks == {}


async def test_a_blacklisted_server_is_told_apart_from_a_wrong_secret(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    fake.blacklisted = True
    with pytest.raises(BackendRefused) as refused:
        await backend.imagine(PROMPT, job_id=JOB_ID)
    assert "this server" in str(refused.value) and "secret" not in str(refused.value)


# --- 7: timeouts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["执行超时 10 分钟", "任务提交超时", "超时，未找到消息", "任务超时"])
def test_the_proxies_timeout_reasons_are_timeouts(reason: str) -> None:
    assert classify_failure(reason) is FailureKind.TIMEOUT


# --- 8: video ---------------------------------------------------------------------------------------------


async def test_a_video_without_official_cdn_links_is_read_from_its_content_type(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, fake)
    grid = await finished_grid(fake, backend)
    upscale = await backend.act(grid, await action_of(backend, grid, ActionKind.UPSCALE, 1), job_id=JOB_ID)
    await fake.succeed(upscale.task_id)
    animate = await backend.act(
        upscale.task_id, await action_of(backend, upscale.task_id, ActionKind.ANIMATE_HIGH), job_id=JOB_ID
    )
    await fake.succeed(animate.task_id)
    assert fake.snapshot(animate.task_id)["videoUrl"] is None, "EnableFillOfficialCdn is off"
    video = await backend.fetch(animate.task_id)
    assert video is not None and video.video_url is not None and video.image_url is None
    assert await backend.download(video.video_url, max_bytes=10**6) == fake.video_of(animate.task_id)

    # A clip pick (video_virtual_upscale) is an UPSCALE task whose result is one video.
    clip_button = next(a for a in video.actions or () if "video_virtual_upscale::2" in a.ref)
    clip = await backend.act(animate.task_id, clip_button, job_id=JOB_ID)
    await fake.succeed(clip.task_id)
    assert fake.tasks[clip.task_id].action == "UPSCALE"
    picked = await backend.fetch(clip.task_id)
    assert picked is not None and picked.video_url is not None and picked.image_url is None


# --- 9: the Java build ------------------------------------------------------------------------------------


async def test_the_java_build_is_detected_and_offered_only_what_it_runs(
    java: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, java)
    assert await backend.detect_flavour() is Flavour.JAVA
    caps = backend.capabilities
    assert caps.commands == frozenset({Command.IMAGINE, Command.DESCRIBE, Command.BLEND})
    assert (caps.cancel, caps.animate, caps.remix, caps.batch_fetch) == (
        False,
        False,
        {ActionKind.REROLL},
        True,
    )

    grid = await finished_grid(java, backend)
    done = await backend.fetch(grid)
    assert done is not None and done.actions is not None
    assert [a.kind for a in done.actions] == [ActionKind.UPSCALE] * 4 + [ActionKind.REROLL] + [
        ActionKind.VARIATION
    ] * 4
    upscale = await backend.act(grid, done.actions[1], job_id=JOB_ID)
    assert java.submissions[-1] == (
        "/mj/submit/change",
        {"taskId": grid, "action": "UPSCALE", "index": 2, "state": JOB_ID},
    )
    await java.succeed(upscale.task_id)
    finished = await backend.fetch(upscale.task_id)
    assert finished is not None and finished.actions == (), "the Java build changes no upscale"
    assert await backend.fetch(UNKNOWN_ID) is None  # an empty 200


async def test_a_java_build_not_yet_detected_is_learned_from_a_missing_endpoint(
    java: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, java)  # start-up could not ask: the adapter assumes trueai
    grid = await finished_grid(java, backend)
    v3 = Action(ActionKind.VARIATION, "MJ::JOB::variation::3::85a4b4c1", 3)  # a trueai-style button
    variation = await backend.act(grid, v3, job_id=JOB_ID)  # 404 on /mj/submit/action is no lost task
    assert backend.flavour is Flavour.JAVA
    assert [path for path, _ in java.submissions[-2:]] == ["/mj/submit/action", "/mj/submit/change"]
    assert java.tasks[variation.task_id].action == "VARIATION"
    assert Command.SHORTEN not in backend.capabilities.commands


async def test_a_remixed_reroll_on_the_java_build_runs_the_edited_prompt(
    java: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    backend = adapter(client, java)
    await backend.detect_flavour()
    grid = await finished_grid(java, backend)
    reroll = await action_of(backend, grid, ActionKind.REROLL)
    started = await backend.remix(grid, reroll, "a lighthouse at dawn", job_id=JOB_ID)
    assert java.tasks[started.task_id].prompt == "a lighthouse at dawn"
    v1 = await action_of(backend, grid, ActionKind.VARIATION, 1)
    with pytest.raises(RemixUnavailable):
        await backend.remix(grid, v1, "a lighthouse at dawn", job_id=JOB_ID)


# --- 10: pictures by link ---------------------------------------------------------------------------------


async def test_describe_and_blend_send_links_from_the_image_host(
    fake: FakeMjProxy, client: httpx.AsyncClient, host: BotSide
) -> None:
    fake.base64_uploads = False  # a server that refuses base64 uploads still takes links
    backend = adapter(client, fake, host)
    picture = png_bytes()
    described = await backend.describe(picture, "image/png", job_id=JOB_ID)
    path, body = fake.submissions[-1]
    assert path == "/mj/submit/describe" and "base64" not in body
    assert body["link"].startswith(host.url + "/public/") and fake.fetched_links == [body["link"]]
    assert fake.tasks[described.task_id].upload == ("image/png", picture)

    await backend.blend([(picture, "image/png")] * 2, BlendDimensions.SQUARE, job_id=JOB_ID)
    links = fake.submissions[-1][1]["base64Array"]
    assert all(link.startswith(host.url + "/public/") for link in links)
    assert len(host.hosted) == 3


async def test_without_an_image_host_a_server_refusing_base64_says_so(
    fake: FakeMjProxy, client: httpx.AsyncClient
) -> None:
    fake.base64_uploads = False
    with pytest.raises(BackendRefused, match="禁止上传"):
        await adapter(client, fake).describe(png_bytes(), "image/png", job_id=JOB_ID)


async def test_the_java_build_gets_base64_even_with_an_image_host(
    java: FakeMjProxy, client: httpx.AsyncClient, host: BotSide
) -> None:
    backend = adapter(client, java, host)
    await backend.detect_flavour()
    await backend.describe(png_bytes(), "image/png", job_id=JOB_ID)
    assert java.submissions[-1][1]["base64"].startswith("data:image/png;base64,")
    assert host.hosted == {}


# --- 11: batch polling ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["trueai", "java"])
async def test_all_running_tasks_are_polled_with_one_call(flavour: str, client: httpx.AsyncClient) -> None:
    async with FakeMjProxy(flavour=JAVA if flavour == "java" else "trueai") as proxy:
        backend = adapter(client, proxy)
        await backend.detect_flavour()
        ids = [(await backend.imagine(f"{PROMPT} #{n}", job_id=JOB_ID)).task_id for n in range(5)]
        await proxy.run_to_success(ids[0])
        await proxy.advance(ids[1], 40)
        before = len(proxy.requests)
        updates = await backend.fetch_many([*ids, UNKNOWN_ID])
        assert len(proxy.requests) - before == 1
        assert proxy.requests[-1].path == "/mj/task/list-by-condition"
        assert set(updates) == set(ids)
        assert updates[ids[0]].status is JobStatus.SUCCEEDED and updates[ids[1]].progress == 40
        assert updates[ids[2]].status is JobStatus.QUEUED


async def test_a_banned_word_is_still_a_rejected_prompt(fake: FakeMjProxy, client: httpx.AsyncClient) -> None:
    with pytest.raises(PromptRejected):
        await adapter(client, fake).imagine("a nude study", job_id=JOB_ID)
