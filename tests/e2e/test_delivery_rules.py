"""Delivery rules: progress coalesces, finals are never lost or repeated, permanent errors stop retries."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from bot.delivery.queue import DELIVERIES_IN_HAND
from bot.domain import JobStatus
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    GRID_BUTTONS,
    free_port,
    photos,
    running_bot,
    wait_for_caption,
)

SECRET = "proxy-secret"


def on_proxy(proxy: FakeMjProxy, port: int | None = None) -> dict[str, Any]:
    port = port or free_port()
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
        "webhook_secret": "hook-secret-for-tests-0123456789",
    }


def edit_captions(tg: FakeTelegram) -> list[str]:
    captions = []
    for call in tg.calls_of("editMessageMedia", "editMessageCaption"):
        if call.ok:
            media = call.params.get("media")
            captions.append(media["caption"] if isinstance(media, dict) else call.params.get("caption", ""))
    return captions


def percent(caption: str) -> int:
    return next((int(word.rstrip("%")) for word in caption.split() if word.endswith("%")), -1)


async def test_progress_coalesces_and_never_goes_backwards(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy)) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a flock of starlings")
        task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
        await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        await bot.delivery.wait_idle()
        tg.fail_next("editMessageMedia", error_code=429, retry_after=1)
        for step in range(5, 100, 5):
            await proxy.advance(task_id, step)
        await proxy.succeed(task_id)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert grid.button_texts() == GRID_BUTTONS
        captions = edit_captions(tg)
        progress = [percent(c) for c in captions if percent(c) >= 0]
        assert progress == sorted(progress), "an older state was shown after a newer one"
        assert len(captions) < 19, f"19 progress reports should coalesce, got {len(captions)} edits"
        assert sum("Done" in c for c in captions) == 1
        assert len(photos(tg, ALICE_CHAT.id)) == 1


async def test_blocked_user_stops_delivery_without_retries(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **on_proxy(proxy)) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine an unseen comet")
        task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
        await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        await bot.delivery.wait_idle()
        tg.block_user(ALICE_CHAT.id)
        await proxy.advance(task_id, 50)
        await bot.delivery.wait_idle()
        refused = [c for c in tg.calls if not c.ok and c.error and "blocked" in c.error]
        assert len(refused) == 1
        await proxy.succeed(task_id)
        await bot.delivery.wait_idle()
        refused_after = [c for c in tg.calls if not c.ok and c.error and "blocked" in c.error]
        assert refused_after == refused, "no more calls to a chat that blocked the bot"
        job = await bot.jobs.job_for_message(ALICE_CHAT.id, photos(tg, ALICE_CHAT.id)[0].message_id)
        assert job is not None and job.status is JobStatus.SUCCEEDED, "the job itself still finished"


async def test_final_accepted_during_an_outage_is_delivered_once_after_restart(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    settings = on_proxy(proxy)
    async with running_bot(tg, tmp_path, **settings) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse keeper")
        task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
        queued = await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        await bot.delivery.wait_idle()
        tg.fail_next("editMessageMedia", error_code=502, description="Bad Gateway", times=1000)
        await proxy.succeed(task_id)
        assert proxy.notifications[-1][2] == 200, "the backend's final was accepted"
        job = await bot.jobs.job_for_message(ALICE_CHAT.id, queued.message_id)
        assert job is not None and job.status is JobStatus.SUCCEEDED
        await tg.wait_for(lambda: any(not c.ok and c.method == "editMessageMedia" for c in tg.calls))
    tg.clear_failures("editMessageMedia")
    tg.calls.clear()
    async with running_bot(tg, tmp_path, **settings):
        done = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert done.message_id == queued.message_id and done.button_texts() == GRID_BUTTONS
    finals = [c for c in edit_captions(tg) if "Done" in c]
    assert len(finals) == 1
    assert len(photos(tg, ALICE_CHAT.id)) == 1


async def test_concurrent_out_of_order_callbacks_leave_every_job_at_its_newest_state(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    # Callbacks that arrive together are written in shared transactions: each job must still end at its
    # newest report however the reports of several jobs interleave and overtake each other.
    async with running_bot(tg, tmp_path, **on_proxy(proxy)) as bot:
        for n in range(4):
            tg.user_sends(ALICE_CHAT, ALICE, f"/imagine a harbour at dawn, take {n}")
        await tg.wait_for(lambda: len(proxy.tasks) == 4)
        tasks = list(proxy.tasks)
        for task_id in tasks:
            await proxy.advance(task_id, 5)
        reports = [
            (task_id, {**proxy.snapshot(task_id), "progress": f"{percent}%"})
            for task_id in tasks
            for percent in range(10, 95, 5)
        ]
        random.Random(7).shuffle(reports)
        before = len(proxy.notifications)
        await asyncio.gather(*(proxy.renotify(task_id, body) for task_id, body in reports))
        answers = [status for _, _, status in proxy.notifications[before:]]
        assert answers == [200] * len(reports)
        await bot.delivery.wait_idle()
        for message in photos(tg, ALICE_CHAT.id):
            job = await bot.jobs.job_for_message(ALICE_CHAT.id, message.message_id)
            assert job is not None and job.status is JobStatus.RUNNING and job.progress == 90
            assert "90%" in (message.caption or "")
        await asyncio.gather(*(proxy.succeed(task_id) for task_id in tasks))
        await tg.wait_for(lambda: all("Done" in (m.caption or "") for m in photos(tg, ALICE_CHAT.id)) or None)
        assert len(photos(tg, ALICE_CHAT.id)) == 4


async def test_many_finals_at_once_are_fetched_a_few_at_a_time(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    # Telegram takes 30 messages a second: finals waiting for their turn wait as job ids, not as
    # downloaded pictures, so memory stays flat however many jobs finish together.
    users = [FakeUser(id=7000 + n, first_name=f"Painter {n}") for n in range(40)]
    async with running_bot(tg, tmp_path, **on_proxy(proxy)) as bot:
        for user in users:
            tg.user_sends(FakeChat(id=user.id, type="private"), user, f"/imagine a kite, by {user.id}")
        await tg.wait_for(lambda: len(proxy.tasks) == len(users))
        await bot.delivery.wait_idle()
        proxy.attachment_delay = 0.5
        await asyncio.gather(*(proxy.succeed(task_id) for task_id in proxy.tasks))
        await tg.wait_for(
            lambda: all(any("Done" in (m.caption or "") for m in photos(tg, u.id)) for u in users) or None,
            timeout=30,
        )
    assert 0 < proxy.most_downloads_in_flight <= DELIVERIES_IN_HAND
