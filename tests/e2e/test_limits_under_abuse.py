"""Limits under attack through the real bot: double presses, waiting jobs, --repeat, /seed on others' jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    BOB,
    GROUP,
    PROXY_SECRET,
    free_port,
    running_bot,
    wait_for_caption,
    wait_for_text,
)


def on_proxy(proxy: FakeMjProxy, **extra: Any) -> dict[str, Any]:
    port = free_port()
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": PROXY_SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
        **extra,
    }


def actions_submitted(proxy: FakeMjProxy) -> list[dict[str, Any]]:
    return [body for path, body in proxy.submissions if path.endswith("/mj/submit/action")]


async def test_two_presses_of_u1_at_once_start_one_upscale(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a fox in the snow")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        await proxy.succeed(next(iter(proxy.tasks)))
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")

        presses = [tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U1") for _ in range(2)]
        await tg.wait_for(lambda: all(p in tg.callback_answers for p in presses))
        await wait_for_text(tg, ALICE_CHAT.id, "already upscaled")

        answers = sorted(tg.callback_answers[p]["text"] for p in presses)
        assert answers[0].startswith("Started") and "already upscaled" in answers[1], answers
        assert len(actions_submitted(proxy)) == 1, "one backend charge"
        assert len(proxy.tasks) == 2


async def test_jobs_waiting_for_a_prompt_use_the_daily_limit(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, daily_limit=2):
        tg.user_sends(ALICE_CHAT, ALICE, "/shorten a majestic ancient castle on a misty hill at golden hour")
        result = await wait_for_text(tg, ALICE_CHAT.id, "Prompt analysis")
        await tg.wait_for(lambda: "Done" in (tg.message(ALICE_CHAT.id, result.message_id).text or ""))

        first = tg.press_button(ALICE_CHAT.id, result.message_id, ALICE, text="1️⃣")
        await tg.wait_for(lambda: first in tg.callback_answers)
        presses = [tg.press_button(ALICE_CHAT.id, result.message_id, ALICE, text=k) for k in ("2️⃣", "3️⃣")]
        await tg.wait_for(lambda: all(p in tg.callback_answers for p in presses))

        assert tg.callback_answers[first]["text"].startswith("Started")
        for press in presses:
            assert "used all 2 jobs for today" in tg.callback_answers[press]["text"]
        tg.user_sends(ALICE_CHAT, ALICE, "/me")
        await wait_for_text(tg, ALICE_CHAT.id, "Jobs today: 2 of 2")


async def test_repeat_above_one_is_refused_before_anything_runs(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse --repeat 40")
        refusal = await wait_for_text(tg, ALICE_CHAT.id, "is not available here")

        assert "--repeat 40" in (refusal.text or "")
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse --r 1")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        assert [body["prompt"] for _, body in proxy.submissions] == ["a lighthouse --r 1"]


async def test_seed_as_a_reply_follows_the_seed_buttons_rule(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(GROUP, ALICE, "/imagine@mjgram_test_bot a quiet harbour")
        grid = await wait_for_caption(tg, GROUP.id, "Done")

        tg.user_sends(GROUP, BOB, "/seed@mjgram_test_bot", reply_to=grid.message_id)
        await wait_for_text(tg, GROUP.id, "Only the person who asked for this picture")
        assert not any("Seed:" in (m.text or "") for m in tg.chat_messages(GROUP.id))
        tg.user_sends(GROUP, ALICE, "/seed@mjgram_test_bot", reply_to=grid.message_id)
        await wait_for_text(tg, GROUP.id, "Seed:")
