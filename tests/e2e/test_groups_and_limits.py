"""Groups, access control, quotas, settings and languages, through the real bot and the fakes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.delivery.settings_panel import panel_data
from bot.domain.owners import Scope
from bot.preferences import Setting
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    BOB,
    GROUP,
    free_port,
    photos,
    running_bot,
    wait_for_caption,
    wait_for_text,
)

SECRET = "proxy-secret"
BOB_CHAT = FakeChat(id=BOB.id, type="private")


def on_proxy(proxy: FakeMjProxy, **extra: Any) -> dict[str, Any]:
    port = free_port()
    values: dict[str, Any] = {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }
    values.update(extra)
    return values


def prompts_submitted(proxy: FakeMjProxy) -> list[str]:
    return [body["prompt"] for path, body in proxy.submissions if path.endswith("/mj/submit/imagine")]


async def test_settings_panel_changes_the_submitted_prompt(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/settings")
        panel = await wait_for_text(tg, ALICE_CHAT.id, "Your settings")
        tg.press_button(
            ALICE_CHAT.id,
            panel.message_id,
            ALICE,
            data=panel_data(ALICE.id, Scope.USER, Setting.ASPECT, "16:9"),
        )
        await tg.wait_for(lambda: "16:9" in (tg.message(ALICE_CHAT.id, panel.message_id).text or ""))
        tg.user_sends(ALICE_CHAT, ALICE, "/prefer suffix in the style of woodblock prints")
        await wait_for_text(tg, ALICE_CHAT.id, "Suffix saved")
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a heron")
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a crane --ar 1:1")
        await tg.wait_for(lambda: len(prompts_submitted(proxy)) == 2)
        heron = next(p for p in prompts_submitted(proxy) if "heron" in p)
        crane = next(p for p in prompts_submitted(proxy) if "crane" in p)
        assert heron == "a heron in the style of woodblock prints --ar 16:9"
        assert crane == "a crane in the style of woodblock prints --ar 1:1", "the prompt's own --ar wins"


async def test_stranger_presses_are_refused_until_the_chat_opens_buttons(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.admins[GROUP.id] = {ALICE.id}
    async with running_bot(tg, tmp_path):
        tg.user_sends(GROUP, ALICE, "/imagine@mjgram_test_bot a castle")
        grid = await wait_for_caption(tg, GROUP.id, "Done")
        refused = tg.press_button(GROUP.id, grid.message_id, BOB, text="U1")
        await tg.wait_for(lambda: refused in tg.callback_answers)
        assert "Only the person who asked" in tg.callback_answers[refused]["text"]
        tg.user_sends(GROUP, BOB, "/settings@mjgram_test_bot")
        bobs = await wait_for_text(tg, GROUP.id, "Your settings")
        assert not any("Buttons" in b for b in bobs.button_texts()), "not an admin: no chat options"
        tg.user_sends(GROUP, ALICE, "/settings@mjgram_test_bot")
        await tg.wait_for(
            lambda: len([m for m in tg.chat_messages(GROUP.id) if "Your settings" in (m.text or "")]) == 2
        )
        panel = [m for m in tg.chat_messages(GROUP.id) if "Your settings" in (m.text or "")][-1]
        tg.press_button(GROUP.id, panel.message_id, ALICE, text="👥 Chat defaults")
        await tg.wait_for(
            lambda: "Defaults for this chat" in (tg.message(GROUP.id, panel.message_id).text or "")
        )
        tg.press_button(GROUP.id, panel.message_id, ALICE, text="🔒 Buttons: requester only")
        await tg.wait_for(
            lambda: "Job buttons: everyone in the chat" in (tg.message(GROUP.id, panel.message_id).text or "")
        )
        accepted = tg.press_button(GROUP.id, grid.message_id, BOB, text="U1")
        await tg.wait_for(lambda: accepted in tg.callback_answers)
        assert tg.callback_answers[accepted]["text"].startswith("Started")
        upscale = await wait_for_caption(tg, GROUP.id, "Image #1", "Done")
        assert "Bob" in (upscale.caption or "")


async def test_language_setting_overrides_telegram_language(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, "/settings")
        panel = await wait_for_text(tg, ALICE_CHAT.id, "Your settings")
        tg.press_button(
            ALICE_CHAT.id,
            panel.message_id,
            ALICE,
            data=panel_data(ALICE.id, Scope.USER, Setting.LANGUAGE, "ru"),
        )
        await tg.wait_for(lambda: "Язык" in (tg.message(ALICE_CHAT.id, panel.message_id).text or ""))
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine")
        await wait_for_text(tg, ALICE_CHAT.id, "Что нарисовать?")
        tg.user_sends(ALICE_CHAT, ALICE, "/shorten")
        await wait_for_text(tg, ALICE_CHAT.id, "Напишите запрос для анализа")


async def test_daily_quota_with_reset_time_and_admins_exempt(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy, daily_limit=1, admin_ids=str(ALICE.id))):
        tg.user_sends(BOB_CHAT, BOB, "/imagine first")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        tg.user_sends(BOB_CHAT, BOB, "/imagine second")
        refusal = await wait_for_text(tg, BOB.id, "used all 1 jobs for today")
        assert "resets in" in (refusal.text or "") and "00:00 UTC" in (refusal.text or "")
        tg.user_sends(BOB_CHAT, BOB, "/me")
        await wait_for_text(tg, BOB.id, "Jobs today: 1 of 1")
        for prompt in ("one", "two"):
            tg.user_sends(ALICE_CHAT, ALICE, f"/imagine admin {prompt}")
        await tg.wait_for(lambda: len(proxy.tasks) == 3)
        assert len(photos(tg, BOB.id)) == 1


async def test_running_jobs_limit(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy, max_active_per_user=1)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine one at a time")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine too many")
        await wait_for_text(tg, ALICE_CHAT.id, "already have 1 jobs running")
        await proxy.succeed(next(iter(proxy.tasks)))
        await wait_for_caption(tg, ALICE_CHAT.id, "one at a time", "Done")
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine now there is room")
        await tg.wait_for(lambda: len(proxy.tasks) == 2)


async def test_allowlist_and_admin_rules(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    carol = FakeUser(id=1003, first_name="Carol")
    carol_chat = FakeChat(id=carol.id, type="private")
    settings = on_proxy(proxy, admin_ids=str(ALICE.id), allowed_user_ids=str(BOB.id))
    async with running_bot(tg, tmp_path, **settings):
        tg.user_sends(carol_chat, carol, "/imagine let me in")
        await wait_for_text(tg, carol.id, "not available to you")
        tg.user_sends(carol_chat, carol, "just chatting")
        tg.user_sends(ALICE_CHAT, ALICE, f"/allow {carol.id}")
        await wait_for_text(tg, ALICE_CHAT.id, f"Allowed user {carol.id}")
        tg.user_sends(carol_chat, carol, "/imagine now allowed")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        tg.user_sends(ALICE_CHAT, ALICE, f"/ban {BOB.id}")
        await wait_for_text(tg, ALICE_CHAT.id, f"Banned user {BOB.id}")
        tg.user_sends(BOB_CHAT, BOB, "/imagine banned now")
        await wait_for_text(tg, BOB.id, "not available to you")
        tg.user_sends(BOB_CHAT, BOB, f"/allow {BOB.id}")
        await wait_for_text(tg, BOB.id, "not available to you")
        tg.user_sends(ALICE_CHAT, ALICE, "/access")
        status = await wait_for_text(tg, ALICE_CHAT.id, "Access:")
        assert f"ban: user {BOB.id}" in (status.text or "") and f"allow: user {carol.id}" in (
            status.text or ""
        )
        assert len(proxy.tasks) == 1
        denials = [m for m in tg.chat_messages(carol.id) if "not available" in (m.text or "")]
        assert len(denials) == 1, "plain chatter gets no repeated refusals"


async def test_history_show_and_cancel(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a teal kite")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        await proxy.succeed(next(iter(proxy.tasks)))
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a slow kite")
        await tg.wait_for(lambda: len(proxy.tasks) == 2)
        tg.user_sends(ALICE_CHAT, ALICE, "/cancel")
        await wait_for_text(tg, ALICE_CHAT.id, "Stopped.")
        await wait_for_caption(tg, ALICE_CHAT.id, "a slow kite", "cancelled")
        assert proxy.tasks[list(proxy.tasks)[1]].status == "FAILURE"
        tg.user_sends(ALICE_CHAT, ALICE, "/history")
        listing = await wait_for_text(tg, ALICE_CHAT.id, "Your recent jobs")
        teal_line = next(line for line in (listing.text or "").splitlines() if "teal kite" in line)
        show = teal_line.rsplit(" ", 1)[-1]
        assert re.fullmatch(r"/show_[0-9a-f]{16}", show)
        tg.user_sends(ALICE_CHAT, ALICE, show)
        await tg.wait_for(lambda: len(photos(tg, ALICE_CHAT.id)) == 3)
        copy = photos(tg, ALICE_CHAT.id)[-1]
        assert copy.caption == grid.caption and copy.button_texts() == grid.button_texts()
        tg.user_sends(BOB_CHAT, BOB, show)
        await wait_for_text(tg, BOB.id, "can't find that job")


async def test_group_pool_is_shared_by_its_guests(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy, admin_ids=str(ALICE.id))) as bot:
        await bot.dispatcher["preferences"].update_chat(GROUP.id, daily_pool=1)
        tg.user_sends(GROUP, BOB, "/imagine@mjgram_test_bot the only one")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        carol = FakeUser(id=1003, first_name="Carol")
        tg.user_sends(GROUP, carol, "/imagine@mjgram_test_bot one more")
        refusal = await wait_for_text(tg, GROUP.id, "shared budget of 1 jobs")
        assert refusal.reply_to_message_id is not None
        tg.user_sends(GROUP, ALICE, "/imagine@mjgram_test_bot the bot's admin is not counted")
        await tg.wait_for(lambda: len(proxy.tasks) == 2)
        tg.user_sends(BOB_CHAT, BOB, "/imagine elsewhere is fine")
        await tg.wait_for(lambda: len(proxy.tasks) == 3)
