"""/imagine through midjourney-proxy: notify hooks and polling, buttons, restarts, refusals and floods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    GRID_BUTTONS,
    free_port,
    not_modified_errors,
    photos,
    running_bot,
    wait_for_caption,
    wait_for_text,
)

SECRET = "proxy-secret"
HOOK_SECRET = "hook-secret-for-tests-0123456789"


def proxy_settings(
    proxy: FakeMjProxy, *, push: bool, port: int | None = None, **extra: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": SECRET,
        "webhook_secret": HOOK_SECRET,
    }
    if push:
        port = port or free_port()
        values.update(http_port=port, public_url=f"http://127.0.0.1:{port}")
    values.update(extra)
    return values


async def submitted_task(tg: FakeTelegram, proxy: FakeMjProxy, index: int = 0) -> str:
    """Id of the index-th task the proxy accepted (waits for it)."""
    return await tg.wait_for(lambda: list(proxy.tasks)[index] if len(proxy.tasks) > index else None)


async def test_notify_flow_from_prompt_to_upscale(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a koi pond, ukiyo-e")
        task_id = await submitted_task(tg, proxy)
        path, body = proxy.submissions[0]
        assert path.endswith("/mj/submit/imagine") and body["prompt"] == "a koi pond, ukiyo-e"
        assert body["notifyHook"] == f"http://127.0.0.1:{bot.http_port}/hooks/mjproxy/{HOOK_SECRET}"
        await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        await proxy.advance(task_id, 0)
        await proxy.advance(task_id, 46)
        running = await wait_for_caption(tg, ALICE_CHAT.id, "46%")
        assert running.photo is not None
        await proxy.succeed(task_id)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert grid.message_id == running.message_id
        assert grid.button_texts() == GRID_BUTTONS
        assert all(len(data.encode()) <= 64 for row in grid.buttons() for _, data in row if data)

        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U2")
        upscale_id = await submitted_task(tg, proxy, 1)
        action_path, action = proxy.submissions[1]
        assert action_path.endswith("/mj/submit/action")
        assert action["taskId"] == task_id and action["customId"].startswith("MJ::JOB::upsample::2::")
        await proxy.succeed(upscale_id)
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #2", "Done")
        assert upscale.reply_to_message_id == grid.message_id
        document = await tg.wait_for(
            lambda: next((m for m in tg.chat_messages(ALICE_CHAT.id) if m.document), None)
        )
        assert document.reply_to_message_id == upscale.message_id
        labels = upscale.button_texts()
        assert {"Upscale (Subtle)", "🪄 Vary (Strong)", "🔍 Zoom Out 2x", "⬅️", "➡️", "⬆️", "⬇️"} <= set(labels)
        assert "🔍 Custom Zoom" in labels
        assert "🖌️ Vary (Region)" not in labels and "❤️" not in labels, "no dead buttons"

        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text="⬅️")
        await submitted_task(tg, proxy, 2)
        assert proxy.submissions[2][1]["customId"].startswith("MJ::JOB::pan_left::1::")
        assert not_modified_errors(tg) == []


async def test_polling_without_public_url(tg: FakeTelegram, tmp_path: Path) -> None:
    proxy = FakeMjProxy(api_secret=SECRET, auto_steps=(0, 40, 80), step_delay=0.05)
    async with proxy, running_bot(tg, tmp_path, **proxy_settings(proxy, push=False)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a paper lantern")
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert grid.button_texts() == GRID_BUTTONS
        assert not proxy.submissions[0][1].get("notifyHook")
        # Every running task is checked with one list-by-condition per interval, never a fetch per task.
        assert proxy.requests_to("/mj/task/list-by-condition")
        assert not proxy.requests_to("/fetch")
        assert len(photos(tg, ALICE_CHAT.id)) == 1


async def test_duplicate_and_late_notifications_change_nothing(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine an owl")
        task_id = await submitted_task(tg, proxy)
        await proxy.advance(task_id, 30)
        early = proxy.snapshot(task_id)
        await wait_for_caption(tg, ALICE_CHAT.id, "30%")
        await proxy.succeed(task_id)
        final = proxy.snapshot(task_id)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        await bot.delivery.wait_idle()
        calls_before = len(tg.calls)
        await proxy.renotify(task_id, early)
        await proxy.renotify(task_id, final)
        await proxy.renotify(task_id, final)
        await bot.delivery.wait_idle()
        assert [s for _, _, s in proxy.notifications[-3:]] == [200, 200, 200]
        assert len(tg.calls) == calls_before
        assert tg.message(ALICE_CHAT.id, grid.message_id).caption == grid.caption
        assert len(photos(tg, ALICE_CHAT.id)) == 1


async def test_restart_mid_job_finishes_in_the_same_message(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    settings = proxy_settings(proxy, push=True)
    async with running_bot(tg, tmp_path, **settings):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a tidal island")
        task_id = await submitted_task(tg, proxy)
        await proxy.advance(task_id, 25)
        running = await wait_for_caption(tg, ALICE_CHAT.id, "25%")
    await proxy.succeed(task_id)  # the notification goes nowhere: the bot is down
    assert proxy.notifications[-1][2] != 200
    async with running_bot(tg, tmp_path, **settings):
        done = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
    assert done.message_id == running.message_id
    assert done.button_texts() == GRID_BUTTONS
    assert len(photos(tg, ALICE_CHAT.id)) == 1


async def test_banned_prompt_names_the_word_and_charges_nothing(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine gore everywhere")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "Failed")
        assert "moderation (gore)" in failed.caption and "Nothing was charged" in failed.caption
        assert failed.button_texts() == [], "a banned prompt is not retried as is"


async def test_moderation_failure_after_start(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a harmless kitten")
        task_id = await submitted_task(tg, proxy)
        await proxy.fail(
            task_id, "[Banned prompt detected] Sorry! Our AI moderator thinks this prompt is not allowed"
        )
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "Failed")
        assert "rejected by moderation" in failed.caption


async def test_queue_full_then_retry_button(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    proxy.queue_full = True
    proxy.queue_full_code = 9
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a busy market")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "queue is full")
        assert failed.button_texts() == ["🔁 Try again"]
        proxy.queue_full = False
        tg.press_button(ALICE_CHAT.id, failed.message_id, ALICE, text="🔁 Try again")
        task_id = await submitted_task(tg, proxy)
        await proxy.succeed(task_id)
        retried = await wait_for_caption(tg, ALICE_CHAT.id, "a busy market", "Done")
        assert retried.reply_to_message_id == failed.message_id


async def test_queued_position_is_shown(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    proxy.queue_ahead = 3
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a quiet library")
        await wait_for_caption(tg, ALICE_CHAT.id, "3 jobs ahead")


async def test_backend_down_is_reported(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        proxy.fail_next_http(502)  # after start-up, whose probe would take it
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a bridge")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "could not be reached")
        assert failed.button_texts() == ["🔁 Try again"]
        assert len(proxy.submissions) <= 1, "a failed submit is never re-sent blindly"


async def test_silent_job_times_out_with_retry(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    settings = proxy_settings(proxy, push=True, job_timeout=0.5, push_silence=0.1)
    async with running_bot(tg, tmp_path, **settings):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a slow sunrise")
        await submitted_task(tg, proxy)
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "no result after")
        assert failed.button_texts() == ["🔁 Try again"]
        # Every running task is checked with one list-by-condition per interval, never a fetch per task.
        assert proxy.requests_to("/mj/task/list-by-condition")
        assert not proxy.requests_to("/fetch"), "checked once more before failing"


async def test_telegram_429_storm_is_obeyed(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a storm at sea")
        task_id = await submitted_task(tg, proxy)
        await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        tg.fail_next("editMessageMedia", error_code=429, retry_after=1, times=2)
        tg.fail_next("editMessageCaption", error_code=429, retry_after=1, times=2)
        await proxy.advance(task_id, 50)
        await proxy.succeed(task_id)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done", within=20)
        assert grid.button_texts() == GRID_BUTTONS
        refused = [c for c in tg.calls if not c.ok and c.error and "Too Many Requests" in c.error]
        assert refused, "the storm happened"
        first_refusal = refused[0].at
        later = [c for c in tg.calls if c.at > first_refusal and c.method.startswith("edit")]
        assert later and later[0].at - first_refusal >= 1.0, "retry_after was obeyed"


async def test_message_deleted_mid_job_is_posted_again(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a windmill")
        task_id = await submitted_task(tg, proxy)
        await proxy.advance(task_id, 20)
        running = await wait_for_caption(tg, ALICE_CHAT.id, "20%")
        await bot.delivery.wait_idle()
        tg.delete_message_by_user(ALICE_CHAT.id, running.message_id)
        await proxy.succeed(task_id)
        done = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert done.message_id != running.message_id and done.button_texts() == GRID_BUTTONS


async def test_webhook_refuses_forged_and_malformed_calls(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)) as bot:
        base = f"http://127.0.0.1:{bot.http_port}"
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            wrong = await client.post("/hooks/mjproxy/not-the-secret", json={"id": "1", "status": "SUCCESS"})
            assert wrong.status_code == 404
            other = await client.post(f"/hooks/acedata/{HOOK_SECRET}", json={"id": "1"})
            assert other.status_code == 404
            malformed = await client.post(f"/hooks/mjproxy/{HOOK_SECRET}", content=b"{not json")
            assert malformed.status_code == 422
            unknown = await client.post(
                f"/hooks/mjproxy/{HOOK_SECRET}", json={"id": "999", "status": "SUCCESS", "progress": "100%"}
            )
            assert unknown.status_code == 404
            huge = await client.post(f"/hooks/mjproxy/{HOOK_SECRET}", content=b"x" * (2 * 1024 * 1024))
            assert huge.status_code == 413
            form = await client.post(f"/hooks/mjproxy/{HOOK_SECRET}", data={"id": "1", "status": "SUCCESS"})
            assert form.status_code == 415
        assert photos(tg, ALICE_CHAT.id) == []


# --- what users see of the real servers' answers ------------------------------------------------------------


async def _grid(tg: FakeTelegram, proxy: FakeMjProxy, prompt: str) -> Any:
    before = len(proxy.tasks)
    tg.user_sends(ALICE_CHAT, ALICE, f"/imagine {prompt}")
    await tg.wait_for(lambda: len(proxy.tasks) == before + 1)
    await proxy.succeed(list(proxy.tasks)[-1])
    return await wait_for_caption(tg, ALICE_CHAT.id, prompt, "Done")


async def _remix(tg: FakeTelegram, bot: Any, grid: Any, button: str, prompt: str) -> Any:
    await bot.dispatcher["preferences"].update_user(ALICE.id, remix=True)

    def questions() -> list[Any]:
        return [m for m in tg.chat_messages(ALICE_CHAT.id) if m.text and "Edit the prompt" in m.text]

    asked = len(questions())
    tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text=button)
    question = await tg.wait_for(lambda: questions()[asked] if len(questions()) > asked else None)
    tg.user_sends(ALICE_CHAT, ALICE, prompt, reply_to=question.message_id)
    return question


async def test_remix_on_an_account_without_remix_rerolls_the_edit_and_explains_a_variation(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    assert proxy.remix is False  # the proxy's Discord account: enableRemix answers code 4
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)) as bot:
        grid = await _grid(tg, proxy, "a stone bridge")
        await _remix(tg, bot, grid, "🔄", "a wooden bridge")
        await tg.wait_for(lambda: any(t.prompt == "a wooden bridge" for t in proxy.tasks.values()))
        rerun = next(t for t in proxy.tasks.values() if t.prompt == "a wooden bridge")
        assert rerun.action == "IMAGINE"
        await proxy.succeed(rerun.id)
        await wait_for_caption(tg, ALICE_CHAT.id, "a wooden bridge", "Done")

        await _remix(tg, bot, grid, "V2", "a rope bridge")
        refused = await wait_for_caption(tg, ALICE_CHAT.id, "can't use an edited prompt with this button")
        assert "Remix off in /settings" in (refused.caption or "")
        assert "当前账号" not in (refused.caption or ""), "never the proxy's raw refusal"


async def test_shorten_offers_its_picks_and_no_show_details(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/shorten a koi pond, ukiyo-e, gold leaf, morning mist")
        task_id = await submitted_task(tg, proxy)
        await proxy.succeed(task_id)
        answer = await wait_for_text(tg, ALICE_CHAT.id, "Shortened prompts")
        texts = answer.button_texts()
        assert "1️⃣" in texts and not any("details" in text.lower() for text in texts)


async def test_no_live_proxy_account_says_try_later_and_nothing_charged(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    proxy.accounts_alive = False
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a bridge")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "no Midjourney account online")
        assert "lost track" not in (failed.caption or "")


async def test_cancel_with_a_non_admin_key_says_only_the_admin_can(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    proxy.admin = False
    async with running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a slow kite")
        task_id = await submitted_task(tg, proxy)
        await proxy.advance(task_id, 10)
        await wait_for_caption(tg, ALICE_CHAT.id, "10%")  # the job knows its task: it can be cancelled
        tg.user_sends(ALICE_CHAT, ALICE, "/cancel")
        await wait_for_text(tg, ALICE_CHAT.id, "Only the image service's administrator")
        assert proxy.tasks[task_id].status == "IN_PROGRESS", "the proxy refused: the task runs on"


async def test_the_java_build_gets_u_v_reroll_and_no_commands_it_lacks(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    proxy = FakeMjProxy(api_secret=SECRET, flavour="java")
    async with proxy, running_bot(tg, tmp_path, **proxy_settings(proxy, push=True)):
        menu = [c["command"] for c in tg.calls_of("setMyCommands")[0].params["commands"]]
        assert "shorten" not in menu and "seed" not in menu and "imagine" in menu
        grid = await _grid(tg, proxy, "a paper lantern")
        assert grid.button_texts() == [b for b in GRID_BUTTONS if "Seed" not in b], "no seed there"
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U2")
        await tg.wait_for(lambda: len(proxy.tasks) == 2)
        assert proxy.submissions[-1][0] == "/mj/submit/change"
        await proxy.succeed(list(proxy.tasks)[-1])
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #2", "Done")
        assert upscale.button_texts() == [], "no dead buttons under the Java build's upscale"
