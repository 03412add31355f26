"""🎞️ Animate after an upscale: the job's message turns into the video, through real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

from bot.domain import JobKind
from tests.e2e.test_surface import grid_and_upscale, proxy_settings
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram, StoredMessage
from tests.harness import ALICE, ALICE_CHAT, not_modified_errors, running_bot, wait_for_caption, wait_for_text

ANIMATE_HIGH = "🎞️ Animate (High motion)"
ANIMATE_LOW = "🎞️ Animate (Low motion)"
OVER_UPLOAD_LIMIT = 51 * 1024 * 1024


def moving(tg: FakeTelegram) -> list[StoredMessage]:
    return [m for m in tg.chat_messages(ALICE_CHAT.id) if m.video or m.animation]


async def test_animate_turns_the_new_message_into_the_video_and_a_second_press_points_at_it(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)) as bot:
        _, upscale = await grid_and_upscale(tg, proxy)
        assert [t for t in upscale.button_texts() if "Animate" in t] == [ANIMATE_HIGH, ANIMATE_LOW]

        query = tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=ANIMATE_HIGH)
        await tg.wait_for(lambda: len(proxy.tasks) == 3)
        task_id = list(proxy.tasks)[2]
        assert proxy.submissions[-1][1]["customId"].startswith("MJ::JOB::animate_high::1::")
        await tg.wait_for(lambda: query in tg.callback_answers)
        assert tg.callback_answers[query]["text"] == f"Started: {ANIMATE_HIGH}"
        queued = await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        assert queued.reply_to_message_id == upscale.message_id and queued.photo is not None

        await proxy.advance(task_id, 0)
        await proxy.advance(task_id, 50)
        await wait_for_caption(tg, ALICE_CHAT.id, "Animating… 50%")
        await proxy.succeed(task_id)
        video = await tg.wait_for(lambda: next(iter(moving(tg)), None))

        assert video.message_id == queued.message_id, "the job's own message becomes the video"
        assert video.video is not None and video.photo is None
        assert tg.file_bytes(video.video["file_id"]) == proxy.video_of(task_id)
        assert video.caption is not None and "Done" in video.caption and ANIMATE_HIGH in video.caption
        assert any(h.get("photo") and "50%" in h.get("caption", "") for h in video.history), "preview shown"
        edit = tg.calls_of("editMessageMedia")[-1]
        assert edit.ok and edit.params["media"]["type"] == "video"
        assert edit.upload(edit.params["media"]["media"].removeprefix("attach://")) is not None
        assert video.button_texts() == ["🌱 Seed"]

        await tg.wait_for(
            lambda: f"✅ {ANIMATE_HIGH}" in tg.message(ALICE_CHAT.id, upscale.message_id).button_texts()
        )
        assert ANIMATE_LOW in tg.message(ALICE_CHAT.id, upscale.message_id).button_texts()
        again = tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=f"✅ {ANIMATE_HIGH}")
        pointer = await wait_for_text(tg, ALICE_CHAT.id, "already animated")
        await tg.wait_for(lambda: again in tg.callback_answers)
        assert pointer.reply_to_message_id == video.message_id
        assert tg.callback_answers[again]["text"] == "This picture is already animated ↑"
        assert len(proxy.tasks) == 3, "no second video job"

        [job] = await bot.jobs.history(ALICE.id, ALICE_CHAT.id, 1)
        assert job.kind is JobKind.VIDEO
        tg.user_sends(ALICE_CHAT, ALICE, f"/show_{job.id}")
        copy = await tg.wait_for(
            lambda: next((m for m in moving(tg) if m.message_id != video.message_id), None)
        )
        assert copy.video is not None and copy.video["file_id"] == video.video["file_id"], (
            "sent again by file_id"
        )
        assert tg.calls_of("sendVideo")[-1].params["video"] == video.video["file_id"]
        assert not_modified_errors(tg) == []


async def test_the_video_is_sent_as_a_new_message_when_its_message_cannot_be_edited(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        _, upscale = await grid_and_upscale(tg, proxy)
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=ANIMATE_LOW)
        await tg.wait_for(lambda: len(proxy.tasks) == 3)
        task_id = list(proxy.tasks)[2]
        await proxy.advance(task_id, 0)
        running = await wait_for_caption(tg, ALICE_CHAT.id, "Animating… 0%")
        tg.delete_message_by_user(ALICE_CHAT.id, running.message_id)
        await proxy.succeed(task_id)
        video = await tg.wait_for(lambda: next(iter(moving(tg)), None))

        assert video.message_id != running.message_id and video.video is not None
        assert video.reply_to_message_id == upscale.message_id
        assert tg.file_bytes(video.video["file_id"]) == proxy.video_of(task_id)
        failed_edit = tg.calls_of("editMessageMedia")[-1]
        assert failed_edit.error == "Bad Request: message to edit not found"
        assert tg.calls_of("sendVideo")[-1].upload("video") is not None


async def test_a_video_over_telegrams_upload_limit_is_linked_from_the_picture_it_animates(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    proxy.video_bytes = OVER_UPLOAD_LIMIT
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)) as bot:
        _, upscale = await grid_and_upscale(tg, proxy)
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=ANIMATE_LOW)
        await tg.wait_for(lambda: len(proxy.tasks) == 3)
        task_id = list(proxy.tasks)[2]
        await proxy.run_to_success(task_id, steps=(0,))
        linked = await wait_for_caption(tg, ALICE_CHAT.id, "larger than the 50 MB")
        await bot.delivery.wait_idle()

        assert linked.reply_to_message_id == upscale.message_id and "Done" in (linked.caption or "")
        assert upscale.photo is not None and linked.photo == upscale.photo, "shows the still it animates"
        links = [e["url"] for e in linked.entities if e.get("type") == "text_link"]
        assert proxy.tasks[task_id].image_url in links  # the video itself, without EnableFillOfficialCdn
        assert moving(tg) == [] and tg.calls_of("sendVideo") == []
        assert all(c.params["media"]["type"] == "photo" for c in tg.calls_of("editMessageMedia"))


async def test_the_simulator_animates_an_upscale_as_a_gif(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse at dusk")
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U3")
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #3", "Done")
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=ANIMATE_LOW)
        animation = await tg.wait_for(lambda: next(iter(moving(tg)), None))

        assert animation.animation is not None and animation.video is None
        assert tg.file_bytes(animation.animation["file_id"]).startswith(b"GIF89a")
        assert animation.reply_to_message_id == upscale.message_id
        assert "Done" in (animation.caption or "") and "simulated" in (animation.caption or "")
        assert tg.calls_of("editMessageMedia")[-1].params["media"]["type"] == "animation"
        await tg.wait_for(
            lambda: f"✅ {ANIMATE_LOW}" in tg.message(ALICE_CHAT.id, upscale.message_id).button_texts()
        )
