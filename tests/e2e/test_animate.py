"""🎞️ Animate after an upscale: the job's message turns into the video, through real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

from bot.domain import JobKind
from tests.e2e.test_surface import proxy_settings
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram, StoredMessage
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    grid_and_upscale,
    not_modified_errors,
    running_bot,
    wait_for_caption,
    wait_for_text,
)

ANIMATE_HIGH = "🎞️ Animate (High motion)"
ANIMATE_LOW = "🎞️ Animate (Low motion)"
CLIPS = [f"🎞️ Clip {i}" for i in range(1, 5)]
EXTEND_HIGH = "🎞️ Extend (High motion)"
EXTEND_LOW = "🎞️ Extend (Low motion)"
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
        assert video.button_texts() == [*CLIPS, "🌱 Seed"], "a batch of four clips: pick one"

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


async def finished_video(tg: FakeTelegram, proxy: FakeMjProxy, reply_to: int, task_id: str) -> StoredMessage:
    """Run the proxy's task to the end; the bot's message replying to `reply_to` once it shows the video."""
    await proxy.run_to_success(task_id, steps=(0,))

    def shown() -> StoredMessage | None:
        return next((m for m in moving(tg) if m.reply_to_message_id == reply_to and m.video), None)

    video = await tg.wait_for(shown)
    assert tg.file_bytes(video.video["file_id"]) == proxy.video_of(task_id)
    assert video.photo is None and "Done" in (video.caption or "")
    return video


async def test_a_picked_clip_and_an_extended_video_become_videos_and_a_clip_is_picked_once(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        _, upscale = await grid_and_upscale(tg, proxy)
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=ANIMATE_LOW)
        await tg.wait_for(lambda: len(proxy.tasks) == 3)
        batch = await finished_video(tg, proxy, upscale.message_id, list(proxy.tasks)[2])
        assert batch.button_texts() == [*CLIPS, "🌱 Seed"]

        query = tg.press_button(ALICE_CHAT.id, batch.message_id, ALICE, text=CLIPS[1])
        await tg.wait_for(lambda: len(proxy.tasks) == 4)
        clip_task = list(proxy.tasks)[3]
        batch_task = proxy.tasks[list(proxy.tasks)[2]]
        submitted = proxy.submissions[-1][1]
        assert (submitted["taskId"], submitted["customId"]) == (
            batch_task.id,
            f"MJ::JOB::video_virtual_upscale::2::{batch_task.hash}",
        )
        assert proxy.tasks[clip_task].action == "UPSCALE"  # trueai runs a clip pick as an upscale
        await tg.wait_for(lambda: query in tg.callback_answers)
        assert tg.callback_answers[query]["text"] == f"Started: {CLIPS[1]}"
        clip = await finished_video(tg, proxy, batch.message_id, clip_task)
        assert clip.message_id != batch.message_id and clip.caption is not None and CLIPS[1] in clip.caption
        edit = tg.calls_of("editMessageMedia")[-1]
        assert edit.ok and edit.params["media"]["type"] == "video", "the clip job's own message became it"
        assert clip.button_texts() == [EXTEND_HIGH, EXTEND_LOW, "🌱 Seed"]
        await tg.wait_for(
            lambda: f"✅ {CLIPS[1]}" in tg.message(ALICE_CHAT.id, batch.message_id).button_texts()
        )

        tg.press_button(ALICE_CHAT.id, clip.message_id, ALICE, text=EXTEND_HIGH)
        await tg.wait_for(lambda: len(proxy.tasks) == 5)
        extend_task = list(proxy.tasks)[4]
        assert proxy.submissions[-1][1]["customId"].startswith("MJ::JOB::animate_high_extend::1::")
        assert proxy.tasks[extend_task].action == "VIDEO"
        longer = await finished_video(tg, proxy, clip.message_id, extend_task)
        assert longer.button_texts() == [*CLIPS, "🌱 Seed"]
        assert longer.caption is not None and EXTEND_HIGH in longer.caption

        again = tg.press_button(ALICE_CHAT.id, batch.message_id, ALICE, text=f"✅ {CLIPS[1]}")
        pointer = await wait_for_text(tg, ALICE_CHAT.id, "clip was sent already")
        await tg.wait_for(lambda: again in tg.callback_answers)
        assert pointer.reply_to_message_id == clip.message_id
        await tg.wait_for(
            lambda: f"✅ {EXTEND_HIGH}" in tg.message(ALICE_CHAT.id, clip.message_id).button_texts()
        )
        tg.press_button(ALICE_CHAT.id, clip.message_id, ALICE, text=f"✅ {EXTEND_HIGH}")
        extended = await wait_for_text(tg, ALICE_CHAT.id, "already extended")
        assert extended.reply_to_message_id == longer.message_id
        assert len(proxy.tasks) == 5, "neither the clip nor the extend runs a second time"
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
