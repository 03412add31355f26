"""The rest of the Midjourney surface through real HTTP: describe, blend, shorten, prompt modals, seed."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram, StoredMessage
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    BOB,
    GRID_BUTTONS,
    GROUP,
    free_port,
    grid_and_upscale,
    not_modified_errors,
    photos,
    running_bot,
    wait_for_caption,
    wait_for_text,
)

SECRET = "proxy-secret"


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def texts(tg: FakeTelegram, chat_id: int) -> list[StoredMessage]:
    return [m for m in tg.chat_messages(chat_id) if m.text is not None]


# --- describe ---------------------------------------------------------------------------------------


async def test_describe_a_photo_then_edit_a_prompt_and_imagine_it(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((200, 40, 40)), caption="/describe")
        result = await wait_for_text(tg, ALICE_CHAT.id, "Prompts for your image")
        done = await tg.wait_for(lambda: "Done" in (tg.message(ALICE_CHAT.id, result.message_id).text or ""))
        assert done
        result = tg.message(ALICE_CHAT.id, result.message_id)
        assert result.button_texts() == ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "🔄", "🎉 Imagine all"]
        assert result.text is not None and all(k in result.text for k in ("1️⃣", "2️⃣", "3️⃣", "4️⃣"))

        tg.press_button(ALICE_CHAT.id, result.message_id, ALICE, text="2️⃣")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, "Waiting for your input")
        assert waiting.button_texts() == ["✅ Use as is", "❌ Cancel"]
        question = await wait_for_text(tg, ALICE_CHAT.id, "Edit the prompt")
        assert question.reply_markup is not None and question.reply_markup.get("force_reply") is True
        assert question.reply_to_message_id == waiting.message_id

        tg.user_sends(ALICE_CHAT, ALICE, "a crimson square, minimalism", reply_to=question.message_id)
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "a crimson square, minimalism", "Done")
        assert grid.message_id == waiting.message_id, "the waiting message becomes the job's result"
        assert grid.button_texts() == GRID_BUTTONS
        assert not_modified_errors(tg) == []


async def test_describe_as_a_reply_and_imagine_all(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        picture = tg.user_sends(ALICE_CHAT, ALICE, photo=png((30, 90, 200)))
        await wait_for_text(tg, ALICE_CHAT.id, "send /imagine")  # a lone photo gets the hint
        tg.user_sends(ALICE_CHAT, ALICE, "/describe", reply_to=picture.message_id)
        result = await wait_for_text(tg, ALICE_CHAT.id, "Prompts for your image")
        await tg.wait_for(
            lambda: "🎉 Imagine all" in tg.message(ALICE_CHAT.id, result.message_id).button_texts()
        )
        tg.press_button(ALICE_CHAT.id, result.message_id, ALICE, text="🎉 Imagine all")
        await tg.wait_for(
            lambda: len([m for m in photos(tg, ALICE_CHAT.id) if "Done" in (m.caption or "")]) == 4
        )
        assert all(m.reply_to_message_id == result.message_id for m in photos(tg, ALICE_CHAT.id))


async def test_describe_refuses_missing_and_unreadable_images(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, "/describe")
        await wait_for_text(tg, ALICE_CHAT.id, "Send /describe as the caption of a photo")
        tg.user_sends(
            ALICE_CHAT, ALICE, caption="/describe", document=("notes.png", b"this is not a png", "image/png")
        )
        await wait_for_text(tg, ALICE_CHAT.id, "not an image I can read")
        assert photos(tg, ALICE_CHAT.id) == []


async def test_cancelled_prompt_edit_leaves_nothing_running(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((10, 160, 60)), caption="/describe")
        result = await wait_for_text(tg, ALICE_CHAT.id, "Prompts for your image")
        await tg.wait_for(lambda: tg.message(ALICE_CHAT.id, result.message_id).button_texts())
        tg.press_button(ALICE_CHAT.id, result.message_id, ALICE, text="1️⃣")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, "Waiting for your input")
        query = tg.press_button(ALICE_CHAT.id, waiting.message_id, ALICE, text="❌ Cancel")
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "cancelled")
        assert failed.button_texts() == []
        assert tg.callback_answers[query]["text"] == "Cancelled."
        question = await wait_for_text(tg, ALICE_CHAT.id, "Edit the prompt")
        tg.user_sends(ALICE_CHAT, ALICE, "too late", reply_to=question.message_id)
        await bot.delivery.wait_idle()
        assert len(photos(tg, ALICE_CHAT.id)) == 1


async def test_unanswered_prompt_edit_times_out(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, input_timeout=0.3):
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((90, 90, 10)), caption="/describe")
        result = await wait_for_text(tg, ALICE_CHAT.id, "Prompts for your image")
        await tg.wait_for(lambda: tg.message(ALICE_CHAT.id, result.message_id).button_texts())
        tg.press_button(ALICE_CHAT.id, result.message_id, ALICE, text="3️⃣")
        await wait_for_caption(tg, ALICE_CHAT.id, "the job was cancelled")


# --- shorten ----------------------------------------------------------------------------------------


async def test_shorten_shows_analysis_and_details(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, "/shorten")
        await wait_for_text(tg, ALICE_CHAT.id, "Write the prompt to analyse")
        tg.user_sends(
            ALICE_CHAT,
            ALICE,
            "/shorten a majestic ancient castle on a misty hill, golden hour, highly detailed",
        )
        result = await wait_for_text(tg, ALICE_CHAT.id, "Prompt analysis")
        await tg.wait_for(lambda: "Done" in (tg.message(ALICE_CHAT.id, result.message_id).text or ""))
        result = tg.message(ALICE_CHAT.id, result.message_id)
        assert result.button_texts() == ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "Show details"]
        assert "Important tokens" in (result.text or "")
        tg.press_button(ALICE_CHAT.id, result.message_id, ALICE, text="Show details")
        await tg.wait_for(
            lambda: len([m for m in texts(tg, ALICE_CHAT.id) if "Prompt analysis" in m.text]) == 2
        )


# --- blend ------------------------------------------------------------------------------------------


async def test_blend_albums_out_of_order_and_interleaved(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((250, 0, 0)), media_group_id="a1")
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((0, 250, 0)), media_group_id="a2", caption="/blend")
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((0, 0, 250)), media_group_id="a1", caption="/blend")
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((250, 250, 0)), media_group_id="a2")
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((0, 250, 250)), media_group_id="a1")
        panel = await wait_for_text(tg, ALICE_CHAT.id, "choose the shape")
        assert panel.button_texts() == ["Portrait 2:3", "Square 1:1", "Landscape 3:2", "❌ Cancel"]
        tg.press_button(ALICE_CHAT.id, panel.message_id, ALICE, text="Landscape 3:2")
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert grid.button_texts() == GRID_BUTTONS
        panels = [m for m in texts(tg, ALICE_CHAT.id) if "choose the shape" in (m.text or "")]
        assert len(panels) == 2, "each album became its own draft"
        assert "Blend 3 images" in panels[0].text or "Blend 3 images" in panels[1].text


async def test_blend_one_by_one_in_a_group(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(GROUP, ALICE, "/blend@mjgram_test_bot")
        panel = await wait_for_text(tg, GROUP.id, "Send me 2 to 5 photos")
        tg.user_sends(GROUP, ALICE, photo=png((200, 100, 0)), reply_to=panel.message_id)
        await tg.wait_for(lambda: "1 of 5" in (tg.message(GROUP.id, panel.message_id).text or ""))
        query = tg.press_button(GROUP.id, panel.message_id, ALICE, text="🎨 Blend now")
        await tg.wait_for(lambda: query in tg.callback_answers)
        assert "2 to 5 images" in tg.callback_answers[query]["text"]
        stranger = tg.press_button(GROUP.id, panel.message_id, BOB, text="🎨 Blend now")
        await tg.wait_for(lambda: stranger in tg.callback_answers)
        assert "Only the person who asked" in tg.callback_answers[stranger]["text"]
        tg.user_sends(GROUP, ALICE, photo=png((0, 100, 200)), reply_to=panel.message_id)
        await tg.wait_for(lambda: "2 of 5" in (tg.message(GROUP.id, panel.message_id).text or ""))
        tg.press_button(GROUP.id, panel.message_id, ALICE, text="🎨 Blend now")
        await tg.wait_for(lambda: "choose the shape" in (tg.message(GROUP.id, panel.message_id).text or ""))
        tg.press_button(GROUP.id, panel.message_id, ALICE, text="Portrait 2:3")
        grid = await wait_for_caption(tg, GROUP.id, "Done")
        assert grid.reply_to_message_id == panel.message_id
        assert tg.message(GROUP.id, panel.message_id).button_texts() == []


async def test_blend_refuses_too_many_images(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path):
        for i in range(6):
            caption = "/blend" if i == 0 else None
            tg.user_sends(ALICE_CHAT, ALICE, photo=png((i * 40, 0, 0)), media_group_id="big", caption=caption)
        await wait_for_text(tg, ALICE_CHAT.id, "the most /blend takes")
        assert photos(tg, ALICE_CHAT.id) == []


# --- midjourney-proxy: modals, remix, seed, used buttons ---------------------------------------------


def proxy_settings(proxy: FakeMjProxy) -> dict[str, object]:
    port = free_port()
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }


async def test_custom_zoom_modal_round_trip(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        _, upscale = await grid_and_upscale(tg, proxy)
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text="🔍 Custom Zoom")
        waiting = await wait_for_caption(
            tg, ALICE_CHAT.id, "a fox in the forest --zoom 2", "Waiting for your input"
        )
        question = await wait_for_text(tg, ALICE_CHAT.id, "Edit the prompt")
        tg.user_sends(ALICE_CHAT, ALICE, "a fox in the forest --zoom 5", reply_to=question.message_id)
        await wait_for_text(tg, ALICE_CHAT.id, "needs --zoom with a value from 1 to 2")
        tg.user_sends(ALICE_CHAT, ALICE, "a fox at night --zoom 1.5", reply_to=question.message_id)
        await tg.wait_for(lambda: any(p.endswith("/mj/submit/modal") for p, _ in proxy.submissions))
        action = next(
            b
            for p, b in proxy.submissions
            if p.endswith("/mj/submit/action") and "CustomZoom" in b["customId"]
        )
        modal = next(b for p, b in proxy.submissions if p.endswith("/mj/submit/modal"))
        assert modal["prompt"] == "a fox at night --zoom 1.5" and action["taskId"] == list(proxy.tasks)[1]
        await proxy.succeed(modal["taskId"])
        zoomed = await wait_for_caption(tg, ALICE_CHAT.id, "a fox at night --zoom 1.5", "Done")
        assert zoomed.message_id == waiting.message_id


async def test_remix_modal_offers_the_prompt(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    proxy.remix = True
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a glass teapot")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        await proxy.succeed(next(iter(proxy.tasks)))
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="V3")
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, "Waiting for your input")
        tg.press_button(ALICE_CHAT.id, waiting.message_id, ALICE, text="✅ Use as is")
        await tg.wait_for(lambda: any(p.endswith("/mj/submit/modal") for p, _ in proxy.submissions))
        modal = next(b for p, b in proxy.submissions if p.endswith("/mj/submit/modal"))
        assert modal["prompt"] == "a glass teapot"
        await proxy.succeed(modal["taskId"])
        await wait_for_caption(tg, ALICE_CHAT.id, "Variations of image #3", "Done")


async def test_seed_button_and_used_upscale(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)):
        grid, upscale = await grid_and_upscale(tg, proxy)
        await tg.wait_for(lambda: "✅ U1" in tg.message(ALICE_CHAT.id, grid.message_id).button_texts())
        again = tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="✅ U1")
        await tg.wait_for(lambda: again in tg.callback_answers)
        pointer = await wait_for_text(tg, ALICE_CHAT.id, "already upscaled")
        assert pointer.reply_to_message_id == upscale.message_id
        assert len(proxy.tasks) == 2, "no second upscale job"
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text="🌱 Seed")
        seed = await wait_for_text(tg, ALICE_CHAT.id, "Seed:")
        assert seed.reply_to_message_id == upscale.message_id
        tg.user_sends(ALICE_CHAT, ALICE, "/seed", reply_to=grid.message_id)
        await tg.wait_for(
            lambda: len([m for m in texts(tg, ALICE_CHAT.id) if "Seed:" in (m.text or "")]) == 2
        )
