"""Remix end to end: with the /settings toggle on, 🔄, V1–V4, Vary and the pans ask for the prompt first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.domain import JobStatus
from bot.i18n import Locales
from bot.runtime import Runtime
from bot.storage.jobs import jobs_waiting_for_input
from bot.storage.questions import job_input_request
from tests.fakes.acedata import FakeAceData
from tests.fakes.imagineapi import FakeImagineApi
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, StoredMessage
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    BOB,
    GRID_BUTTONS,
    GROUP,
    PROXY_SECRET,
    free_port,
    running_bot,
    wait_for_caption,
    wait_for_text,
)

EN = Locales().translator("en")
REMIX = EN("settings-btn-remix")
QUESTION = "Edit the prompt"
WAITING = "Waiting for your input"


def proxy_settings(proxy: FakeMjProxy) -> dict[str, Any]:
    port = free_port()
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": PROXY_SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }


def submitted(proxy: FakeMjProxy, endpoint: str) -> list[dict[str, Any]]:
    return [body for path, body in proxy.submissions if path.endswith(f"/mj/submit/{endpoint}")]


async def open_settings(tg: FakeTelegram, user: FakeUser) -> StoredMessage:
    chat = FakeChat(id=user.id, type="private")
    tg.user_sends(chat, user, "/settings")
    return await wait_for_text(tg, chat.id, EN("settings-title-user"))


async def turn_remix_on(tg: FakeTelegram, user: FakeUser) -> None:
    """Press the /settings panel's Remix toggle, as a user would."""
    panel = await open_settings(tg, user)
    tg.press_button(panel.chat_id, panel.message_id, user, text=REMIX)
    await tg.wait_for(lambda: f"✅ {REMIX}" in tg.message(panel.chat_id, panel.message_id).button_texts())


async def proxy_grid(tg: FakeTelegram, proxy: FakeMjProxy, chat: FakeChat, prompt: str) -> StoredMessage:
    """Alice's finished /imagine grid on the fake midjourney-proxy."""
    before = len(proxy.tasks)
    tg.user_sends(chat, ALICE, f"/imagine {prompt}")
    await tg.wait_for(lambda: len(proxy.tasks) == before + 1)
    await proxy.succeed(list(proxy.tasks)[-1])
    return await wait_for_caption(tg, chat.id, prompt, "Done")


async def waiting_jobs(bot: Runtime, chat_id: int, user_id: int) -> list[str]:
    async with bot.db.read() as conn:
        return [job.id for job in await jobs_waiting_for_input(conn, chat_id, user_id)]


# --- midjourney-proxy ---------------------------------------------------------------------------------


async def test_remix_asks_first_and_the_follow_up_runs_the_edited_prompt(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    proxy.remix = True  # the proxy's Discord account has Remix on: enableRemix opens the modal
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        await turn_remix_on(tg, ALICE)
        tg.user_sends(ALICE_CHAT, ALICE, "/prefer suffix in watercolour")
        await wait_for_text(tg, ALICE_CHAT.id, "Suffix saved")
        grid = await proxy_grid(tg, proxy, ALICE_CHAT, "a glass teapot")

        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="V2")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, "a glass teapot in watercolour", WAITING)
        assert waiting.reply_to_message_id == grid.message_id
        assert waiting.button_texts() == ["✅ Use as is", "❌ Cancel"]
        question = await wait_for_text(tg, ALICE_CHAT.id, QUESTION)
        assert question.reply_to_message_id == waiting.message_id
        assert question.reply_markup is not None and question.reply_markup.get("force_reply") is True
        assert question.reply_markup.get("input_field_placeholder") == "a glass teapot in watercolour"
        code = [e for e in question.entities if e["type"] == "code"]
        assert code and (question.text or "")[code[0]["offset"] :].startswith("a glass teapot in watercolour")
        assert submitted(proxy, "action") == [], "nothing reaches the backend before the answer"

        tg.user_sends(ALICE_CHAT, ALICE, "a glass teapot full of koi", reply_to=question.message_id)
        await tg.wait_for(lambda: submitted(proxy, "modal"))
        [action] = submitted(proxy, "action")
        [modal] = submitted(proxy, "modal")
        assert action["enableRemix"] is True and action["customId"].startswith("MJ::JOB::variation::2::")
        assert modal["prompt"] == "a glass teapot full of koi in watercolour", "suffixed like new prompts"
        assert proxy.tasks[modal["taskId"]].prompt == modal["prompt"]

        await proxy.succeed(modal["taskId"])
        result = await wait_for_caption(
            tg, ALICE_CHAT.id, "a glass teapot full of koi in watercolour", "Variations of image #2", "Done"
        )
        assert result.message_id == waiting.message_id, "the waiting message becomes the result"
        assert result.button_texts() == GRID_BUTTONS


async def test_remix_cancel_leaves_nothing_hanging(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)) as bot:
        await turn_remix_on(tg, ALICE)
        grid = await proxy_grid(tg, proxy, ALICE_CHAT, "a stone lion")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="🔄")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, WAITING)
        question = await wait_for_text(tg, ALICE_CHAT.id, QUESTION)

        query = tg.press_button(ALICE_CHAT.id, waiting.message_id, ALICE, text="❌ Cancel")
        cancelled = await wait_for_caption(tg, ALICE_CHAT.id, "the job was cancelled")
        assert tg.callback_answers[query]["text"] == "Cancelled."
        assert cancelled.message_id == waiting.message_id and cancelled.button_texts() == []
        assert await waiting_jobs(bot, ALICE_CHAT.id, ALICE.id) == []

        tg.user_sends(ALICE_CHAT, ALICE, "a bronze lion", reply_to=question.message_id)
        await tg.wait_for(lambda: tg.updates_pending() == 0)
        await bot.delivery.wait_idle()
        assert submitted(proxy, "action") == [] and submitted(proxy, "modal") == []
        assert [t.status for t in proxy.tasks.values()] == ["SUCCESS"], "no task was opened on the proxy"


async def test_remix_off_runs_the_button_at_once(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        panel = await open_settings(tg, ALICE)
        assert REMIX in panel.button_texts(), "offered, but off"
        grid = await proxy_grid(tg, proxy, ALICE_CHAT, "a copper fox")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="V2")
        await tg.wait_for(lambda: submitted(proxy, "action"))
        [action] = submitted(proxy, "action")
        assert "enableRemix" not in action
        await proxy.succeed(list(proxy.tasks)[-1])
        result = await wait_for_caption(tg, ALICE_CHAT.id, "Variations of image #2", "Done")
        assert all(WAITING not in (state.get("caption") or "") for state in result.history)
        assert not any(QUESTION in (m.text or "") for m in tg.chat_messages(ALICE_CHAT.id))
        assert submitted(proxy, "modal") == []


async def test_remix_in_a_group_only_the_pressers_reply_counts(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    proxy.remix = True
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)) as bot:
        await bot.dispatcher["preferences"].update_chat(GROUP.id, buttons_open=True)
        await turn_remix_on(tg, BOB)
        grid = await proxy_grid(tg, proxy, GROUP, "a paper lantern")

        tg.press_button(GROUP.id, grid.message_id, BOB, text="V1")
        waiting = await wait_for_caption(tg, GROUP.id, WAITING)
        question = await wait_for_text(tg, GROUP.id, QUESTION)
        tg.user_sends(GROUP, ALICE, "alice takes over", reply_to=question.message_id)
        await tg.wait_for(lambda: tg.updates_pending() == 0)
        query = tg.press_button(GROUP.id, waiting.message_id, ALICE, text="✅ Use as is")
        await tg.wait_for(lambda: query in tg.callback_answers)
        assert tg.callback_answers[query]["text"] == EN("press-not-yours")
        await bot.delivery.wait_idle()
        job = await bot.jobs.job_for_message(GROUP.id, waiting.message_id)
        assert job is not None and job.status is JobStatus.NEEDS_INPUT and job.user_id == BOB.id
        assert submitted(proxy, "action") == []

        tg.user_sends(GROUP, BOB, "a paper lantern on a dark river", reply_to=question.message_id)
        await tg.wait_for(lambda: submitted(proxy, "modal"))
        [modal] = submitted(proxy, "modal")
        assert modal["prompt"] == "a paper lantern on a dark river"
        await proxy.succeed(modal["taskId"])
        result = await wait_for_caption(tg, GROUP.id, "a paper lantern on a dark river", "Bob", "Done")
        assert result.message_id == waiting.message_id
        assert len(submitted(proxy, "action")) == 1


async def test_remix_uses_the_edited_prompt_on_an_account_with_remix_auto_submit(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    # trueai opens the modal for enableRemix whatever the account's "remix auto submit" (TaskService.cs).
    proxy.remix, proxy.remix_auto_submit = True, True
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)) as bot:
        await turn_remix_on(tg, ALICE)
        grid = await proxy_grid(tg, proxy, ALICE_CHAT, "a stone bridge")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="🔄")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, WAITING)
        question = await wait_for_text(tg, ALICE_CHAT.id, QUESTION)
        tg.user_sends(ALICE_CHAT, ALICE, "a wooden bridge", reply_to=question.message_id)
        await tg.wait_for(lambda: submitted(proxy, "modal"))
        assert submitted(proxy, "action")[0]["enableRemix"] is True
        [modal] = submitted(proxy, "modal")
        assert modal["prompt"] == "a wooden bridge"

        await proxy.succeed(modal["taskId"])
        await tg.wait_for(lambda: "Done" in (tg.message(ALICE_CHAT.id, waiting.message_id).caption or ""))
        caption = tg.message(ALICE_CHAT.id, waiting.message_id).caption or ""
        assert caption.startswith("a wooden bridge"), "the caption names the prompt the picture is of"
        assert await waiting_jobs(bot, ALICE_CHAT.id, ALICE.id) == [], "no question left open"
        job = await bot.jobs.job_for_message(ALICE_CHAT.id, waiting.message_id)
        assert job is not None
        async with bot.db.read() as conn:
            assert await job_input_request(conn, job.id) is None


# --- the other backends -----------------------------------------------------------------------------


async def test_remix_on_the_simulator_draws_the_edited_prompt(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        await turn_remix_on(tg, ALICE)
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a red kite")
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "a red kite", "Done")
        assert grid.photo is not None
        assert grid.photo[-1]["width"] == grid.photo[-1]["height"]

        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="🔄")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, WAITING)
        question = await wait_for_text(tg, ALICE_CHAT.id, QUESTION)
        tg.user_sends(ALICE_CHAT, ALICE, "a red kite over the sea --ar 16:9", reply_to=question.message_id)
        result = await wait_for_caption(tg, ALICE_CHAT.id, "a red kite over the sea --ar 16:9", "Done")
        assert result.message_id == waiting.message_id
        assert result.photo is not None
        size = result.photo[-1]
        assert size["width"] / size["height"] == pytest.approx(16 / 9, rel=0.05), "drawn for the new prompt"


async def test_imagineapi_reroll_remixes_the_prompt(tg: FakeTelegram, tmp_path: Path) -> None:
    async with FakeImagineApi("ia-token") as api:
        settings = {"mj_backend": "imagineapi", "mj_base_url": api.base_url, "mj_api_key": "ia-token"}
        async with running_bot(tg, tmp_path, **settings):
            await turn_remix_on(tg, ALICE)
            tg.user_sends(ALICE_CHAT, ALICE, "/imagine a copper kettle")
            await tg.wait_for(lambda: len(api.images) == 1)
            await api.complete(next(iter(api.images)))
            grid = await wait_for_caption(tg, ALICE_CHAT.id, "a copper kettle", "Done")
            tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="🔄")
            question = await wait_for_text(tg, ALICE_CHAT.id, QUESTION)
            tg.user_sends(ALICE_CHAT, ALICE, "a copper kettle on a stove", reply_to=question.message_id)
            await tg.wait_for(lambda: len(api.images) == 2)
            assert [body["prompt"] for _, body in api.submissions] == [
                "a copper kettle",
                "a copper kettle on a stove",
            ]
            await api.complete(list(api.images)[-1])
            await wait_for_caption(tg, ALICE_CHAT.id, "a copper kettle on a stove", "Done")


async def test_acedata_offers_no_remix_and_its_buttons_never_ask(tg: FakeTelegram, tmp_path: Path) -> None:
    async with FakeAceData("ad-token") as api:
        port = free_port()
        settings = {
            "mj_backend": "acedata",
            "mj_base_url": api.base_url,
            "mj_api_key": "ad-token",
            "http_port": port,
            "public_url": f"http://127.0.0.1:{port}",
        }
        async with running_bot(tg, tmp_path, **settings) as bot:
            await bot.dispatcher["preferences"].update_user(ALICE.id, remix=True)
            panel = await open_settings(tg, ALICE)
            assert REMIX not in " ".join(panel.button_texts())
            assert "Remix" not in (panel.text or "")

            tg.user_sends(ALICE_CHAT, ALICE, "/imagine a paper crane")
            task_id = await api.wait_for_task()
            await api.complete(task_id)
            grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
            tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="V3")
            await api.wait_for_task(2)
            assert api.submissions[-1][1]["action"] == "variation3"
            assert "prompt" not in api.submissions[-1][1]
            assert not any(QUESTION in (m.text or "") for m in tg.chat_messages(ALICE_CHAT.id))
