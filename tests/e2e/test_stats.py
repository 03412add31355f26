"""/stats after a few real jobs through a real Runtime, the fake Telegram and the fake midjourney-proxy."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_groups_and_limits import on_proxy
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeChat, FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    BOB,
    grid_and_upscale,
    running_bot,
    wait_for_caption,
    wait_for_text,
)

BOB_CHAT = FakeChat(id=BOB.id, type="private")


async def test_stats_counts_jobs_by_kind_and_outcome_failures_and_users(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy, admin_ids=str(ALICE.id))):
        await grid_and_upscale(tg, proxy)  # Alice: an imagine and an upscale, both done
        tg.user_sends(BOB_CHAT, BOB, "/imagine a cat on a roof")
        await tg.wait_for(lambda: len(proxy.tasks) == 3)
        await proxy.fail(list(proxy.tasks)[2])
        await wait_for_caption(tg, BOB_CHAT.id, "refused")
        tg.user_sends(BOB_CHAT, BOB, "/imagine nude portrait")  # refused by the proxy's moderation
        await wait_for_caption(tg, BOB_CHAT.id, "moderation")
        tg.user_sends(BOB_CHAT, BOB, "/stats")
        refused = await wait_for_text(tg, BOB_CHAT.id, "for the bot's admins")
        tg.user_sends(ALICE_CHAT, ALICE, "/stats")
        stats = await wait_for_text(tg, ALICE_CHAT.id, "📊 Statistics")

    assert refused.text == "This command is for the bot's admins."
    assert stats.text == "\n".join(
        [
            "📊 Statistics",
            "today (UTC) · last 7 days",
            "",
            "Jobs: 4 · 4",
            "✅ done: 2 · 2",
            "❌ failed: 2 · 2",
            "",
            "By kind:",
            "imagine: ✅1·1 ❌2·2",
            "upscale: ✅1·1",
            "",
            "Failures:",
            "moderation: 1 · 1",
            "refused by the service: 1 · 1",
            "",
            "👤 Active users: 2 · 2",
            "🆕 New users: 2 · 2",
        ]
    )
