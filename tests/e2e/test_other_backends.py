"""ImagineAPI.dev and Ace Data Cloud behind the same bot: push and poll/stream, buttons, refusals."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fakes.acedata import FakeAceData
from tests.fakes.imagineapi import FakeImagineApi, Flavour
from tests.fakes.telegram import FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    TOKEN,
    free_port,
    not_modified_errors,
    photos,
    running_bot,
    wait_for_caption,
    wait_for_text,
)

HOOK_SECRET = "hook-secret-for-tests-0123456789"


def settings_for(backend: str, base_url: str, key: str, *, push: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "mj_backend": backend,
        "mj_base_url": base_url,
        "mj_api_key": key,
        "webhook_secret": HOOK_SECRET,
    }
    if push:
        port = free_port()
        values.update(http_port=port, public_url=f"http://127.0.0.1:{port}")
    return values


# --- ImagineAPI.dev ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["self-hosted", "cloud"])
async def test_imagineapi_webhooks_grid_and_ready_crops(
    tg: FakeTelegram, tmp_path: Path, flavour: Flavour
) -> None:
    async with FakeImagineApi("ia-token", flavour=flavour) as api:
        settings = settings_for("imagineapi", api.base_url, "ia-token", push=True)
        async with running_bot(tg, tmp_path, **settings) as bot:
            api.webhook_urls.append(f"http://127.0.0.1:{bot.http_port}/hooks/imagineapi/{HOOK_SECRET}")
            tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse in fog")
            await tg.wait_for(lambda: len(api.images) == 1)
            image_id = next(iter(api.images))
            assert api.submissions[0][1] == {"prompt": "a lighthouse in fog"}, (
                "no `ref`: self-hosted fails it"
            )
            await api.hold(image_id)  # "queued" arrives by webhook and parses
            await api.advance(image_id, 40)
            await wait_for_caption(tg, ALICE_CHAT.id, "40%")
            await api.complete(image_id)
            grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
            crops = ["✂️ Part 1", "✂️ Part 2", "✂️ Part 3", "✂️ Part 4"]
            assert grid.button_texts() == [*crops, "🔄"], "quarters of the grid, not upscales; no V buttons"
            requests_before = len(api.requests)
            tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="✂️ Part 3")
            crop = await wait_for_caption(tg, ALICE_CHAT.id, "Part #3 of the grid", "not upscaled", "Done")
            assert crop.reply_to_message_id == grid.message_id
            await tg.wait_for(lambda: any(m.document for m in tg.chat_messages(ALICE_CHAT.id)))
            asked = [r for r in api.requests[requests_before:] if r.path.startswith("/items/")]
            assert asked == [], "the crop was already made: no backend call"
            files = [r for r in api.requests if r.path.startswith("/assets/")]
            assert files and all(r.headers.get("Authorization") == "Bearer ia-token" for r in files)
            tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="✅ ✂️ Part 3")
            await wait_for_text(tg, ALICE_CHAT.id, "This part of the grid was sent already")
            tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="🔄")
            await tg.wait_for(lambda: len(api.images) == 2)
            assert not_modified_errors(tg) == []


async def test_imagineapi_warns_that_jobs_wait_while_its_bot_is_paused(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with (
        FakeImagineApi("ia-token", auto_steps=(None, 50), step_delay=0.05) as api,
        running_bot(tg, tmp_path, **settings_for("imagineapi", api.base_url, "ia-token", push=False)),
    ):
        api.bot_status = "paused"
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a quiet harbour")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, "a quiet harbour", "Queued", "paused")
        assert "waits in its queue until it resumes" in (waiting.caption or "")
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a busy harbour")
        await wait_for_caption(tg, ALICE_CHAT.id, "a busy harbour", "paused")
        assert api.status_requests() == 1, "one status request a minute, however many jobs"
        api.bot_status = "healthy"
        done = await wait_for_caption(tg, ALICE_CHAT.id, "a quiet harbour", "Done")
        assert "paused" not in (done.caption or "")


async def test_imagineapi_polls_without_public_url_and_reports_failure(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with (
        FakeImagineApi("ia-token", auto_steps=(None, 30, 80), step_delay=0.05) as api,
        running_bot(tg, tmp_path, **settings_for("imagineapi", api.base_url, "ia-token", push=False)),
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a copper kettle")
        await wait_for_caption(tg, ALICE_CHAT.id, "a copper kettle", "Done")
    async with (
        FakeImagineApi("ia-token") as api,
        running_bot(tg, tmp_path, **settings_for("imagineapi", api.base_url, "ia-token", push=False)),
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a silver kettle")
        await tg.wait_for(lambda: len(api.images) == 1)
        await api.fail(next(iter(api.images)), "Midjourney credits exhausted")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "a silver kettle", "Failed")
        assert "credits exhausted" in (failed.caption or "")


async def test_imagineapi_explains_commands_it_cannot_run(tg: FakeTelegram, tmp_path: Path) -> None:
    async with (
        FakeImagineApi("ia-token") as api,
        running_bot(tg, tmp_path, **settings_for("imagineapi", api.base_url, "ia-token", push=False)),
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/shorten a very long prompt")
        await wait_for_text(tg, ALICE_CHAT.id, "can't do /shorten")
        tg.user_sends(ALICE_CHAT, ALICE, "/blend")
        await wait_for_text(tg, ALICE_CHAT.id, "can't do /blend")
        commands = tg.my_commands()
        assert [c["command"] for c in commands] == ["imagine", "history", "settings", "me", "cancel", "help"]
        assert api.submissions == []


# --- Ace Data Cloud ---------------------------------------------------------------------------------


async def test_acedata_callbacks_grid_and_upscale_by_image_id(tg: FakeTelegram, tmp_path: Path) -> None:
    async with (
        FakeAceData("ad-token") as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=True)) as bot,
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a paper crane")
        task_id = await api.wait_for_task()
        assert api.tasks[task_id].callback_url == (
            f"http://127.0.0.1:{bot.http_port}/hooks/acedata/{HOOK_SECRET}"
        )
        await api.advance(task_id, 35)
        await wait_for_caption(tg, ALICE_CHAT.id, "35%")
        await api.complete(task_id)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert grid.button_texts()[:9] == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U2")
        upscale_task = await api.wait_for_task(2)
        body = api.submissions[-1][1]
        assert body["action"] == "upscale2" and body["image_id"] == api.result_image(task_id).id
        await api.complete(upscale_task)
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #2", "Done")
        assert "🪄 Vary (Strong)" in upscale.button_texts()


async def test_acedata_polls_async_jobs_without_public_url_and_holds_no_connection(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with (
        FakeAceData("ad-token", auto_steps=(30, 70), step_delay=0.2) as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=False)),
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine an origami fox")
        done = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert any("%" in (h.get("caption") or "") for h in done.history)
        assert "callback_url" not in api.submissions[0][1] and api.submissions[0][1]["async"] is True
        assert api.most_open_connections == 0, "no connection held open per running job"
        tg.user_sends(ALICE_CHAT, ALICE, "/describe")
        await wait_for_text(tg, ALICE_CHAT.id, "can't do /describe")


async def test_acedata_v6_upscale_offers_subtle_creative_and_redo(tg: FakeTelegram, tmp_path: Path) -> None:
    async with (
        FakeAceData("ad-token", model="v6") as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=True)),
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a paper lantern --ar 3:2")
        grid_task = await api.wait_for_task()
        await api.complete(grid_task)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U1")
        await api.complete(await api.wait_for_task(2))
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #1", "Done")
        assert {"Upscale (Subtle)", "Upscale (Creative)", "↔️ Make Square"} <= set(upscale.button_texts())
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text="Upscale (Creative)")
        creative_task = await api.wait_for_task(3)
        assert api.submissions[-1][1]["action"] == "upscale_creative"
        await api.complete(creative_task)
        await tg.wait_for(
            lambda: any(
                "🔁 Redo Upscale (Creative)" in m.button_texts() for m in tg.chat_messages(ALICE_CHAT.id)
            )
        )


async def test_acedata_used_up_balance_is_the_operators_problem_not_a_banned_prompt(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        FakeAceData("ad-token") as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=False)),
    ):
        api.balance = 0
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a quiet harbour")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "Failed")
        caption = failed.caption or ""
        assert "run out of credit" in caption and "Nothing was charged" in caption
        assert "moderation" not in caption
        assert any(r.levelno == logging.ERROR and "used_up" in r.getMessage() for r in caplog.records)


async def test_acedata_a_failed_task_state_fails_the_job(tg: FakeTelegram, tmp_path: Path) -> None:
    async with (
        FakeAceData("ad-token") as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=False)),
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a windmill")
        task_id = await api.wait_for_task()
        await api.advance(task_id, 20)
        api.abandon(task_id)
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "a windmill", "Failed")
        assert "reported an error" in (failed.caption or "")


async def test_acedata_shorten_offers_its_prompts_as_picks(tg: FakeTelegram, tmp_path: Path) -> None:
    async with (
        FakeAceData("ad-token") as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=False)),
    ):
        assert "shorten" in [c["command"] for c in tg.my_commands()]
        tg.user_sends(ALICE_CHAT, ALICE, "/shorten a lighthouse on a cliff, stormy sea, dramatic clouds, oil")
        result = await wait_for_text(tg, ALICE_CHAT.id, "1️⃣")
        assert api.submissions[-1][0] == "/midjourney/shorten"
        assert "1️⃣" in result.button_texts() and "2️⃣" in result.button_texts()


async def test_acedata_describe_fetches_our_hosted_copy(tg: FakeTelegram, tmp_path: Path) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (300, 200), (120, 40, 160)).save(picture, "PNG")
    async with (
        FakeAceData("ad-token") as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=True)) as bot,
    ):
        tg.user_sends(ALICE_CHAT, ALICE, photo=picture.getvalue(), caption="/describe")
        result = await wait_for_text(tg, ALICE_CHAT.id, "Prompts for your image")
        await tg.wait_for(lambda: "Done" in (tg.message(ALICE_CHAT.id, result.message_id).text or ""))
        assert api.described and api.described[0].startswith(f"http://127.0.0.1:{bot.http_port}/files/")
        assert TOKEN.split(":")[1] not in api.described[0], "never a Telegram file URL"


async def test_acedata_moderation_refusal(tg: FakeTelegram, tmp_path: Path) -> None:
    async with (
        FakeAceData("ad-token") as api,
        running_bot(tg, tmp_path, **settings_for("acedata", api.base_url, "ad-token", push=True)),
    ):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine gore and more")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "Failed")
        assert "moderation" in (failed.caption or "") and "Nothing was charged" in (failed.caption or "")
        assert photos(tg, ALICE_CHAT.id) == [failed]
