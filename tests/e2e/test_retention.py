"""RESULTS_RETENTION_DAYS: a month after a grid finished, the retention sweep has gone over it, and its
buttons (and those of its upscale) still work."""

from __future__ import annotations

import time
from pathlib import Path

from bot.jobs.retention import RetentionSweep
from bot.quotas import DAY_SECONDS as DAY
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, GRID_BUTTONS, not_modified_errors, running_bot, wait_for_caption


def a_month_later() -> float:
    return time.time() + 31 * DAY


async def test_buttons_of_jobs_past_retention_still_work(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, results_retention_days=30) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse at dusk")
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U1")
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #1", "Done")
        await tg.wait_for(lambda: any(m.document for m in tg.chat_messages(ALICE_CHAT.id)))
        await bot.delivery.wait_idle()

        swept = await RetentionSweep(bot.db, 30, clock=a_month_later).sweep()
        assert swept.looked_at == 2, "the grid and its upscale are both past retention"

        again = tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U2")
        second = await wait_for_caption(tg, ALICE_CHAT.id, "Image #2", "Done")
        assert tg.callback_answers[again]["text"].startswith("Started")
        assert second.reply_to_message_id == grid.message_id
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text="🪄 Vary (Strong)")
        variation = await wait_for_caption(tg, ALICE_CHAT.id, "Vary (Strong)", "Done")
        assert variation.button_texts() == GRID_BUTTONS
        assert not_modified_errors(tg) == []
