"""Users' pictures cost nothing before the limits allow a job: checked first, then downloaded, then
decoded off the event loop."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from PIL import Image

import bot.handlers.pictures
from bot.media import INPUT_IMAGE_MAX_BYTES
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, running_bot, wait_for_caption, wait_for_text


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def oversized_document() -> tuple[str, bytes, str]:
    """An image file over the 20 MB a bot may download (Telegram reports its size in the message)."""
    return ("huge.png", png((1, 2, 3)) + bytes(INPUT_IMAGE_MAX_BYTES), "image/png")


async def use_the_days_only_job(tg: FakeTelegram) -> None:
    tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lantern")
    await wait_for_caption(tg, ALICE_CHAT.id, "Done")


async def test_describe_over_the_daily_limit_downloads_nothing(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, daily_limit=1):
        await use_the_days_only_job(tg)
        tg.user_sends(ALICE_CHAT, ALICE, caption="/describe", document=("a.png", png((9, 9, 9)), "image/png"))
        await wait_for_text(tg, ALICE_CHAT.id, "used all 1 jobs")
        assert tg.calls_of("getFile") == [], "the picture was not even asked for"


async def test_blend_over_the_daily_limit_downloads_nothing_and_keeps_the_draft(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, daily_limit=1):
        await use_the_days_only_job(tg)
        for i in range(2):
            caption = "/blend" if i == 0 else None
            tg.user_sends(ALICE_CHAT, ALICE, photo=png((i * 90, 0, 0)), media_group_id="al", caption=caption)
        panel = await wait_for_text(tg, ALICE_CHAT.id, "choose the shape")
        query = tg.press_button(ALICE_CHAT.id, panel.message_id, ALICE, text="Square 1:1")
        await tg.wait_for(lambda: query in tg.callback_answers)
        assert "used all 1 jobs" in tg.callback_answers[query]["text"]
        assert tg.calls_of("getFile") == []
        assert "Square 1:1" in tg.message(ALICE_CHAT.id, panel.message_id).button_texts(), "draft kept"


async def test_a_blend_picture_over_the_size_limit_is_refused_before_any_download(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path):
        tg.user_sends(ALICE_CHAT, ALICE, "/blend")
        panel = await wait_for_text(tg, ALICE_CHAT.id, "Send me 2 to 5 photos")
        tg.user_sends(ALICE_CHAT, ALICE, document=oversized_document())
        await wait_for_text(tg, ALICE_CHAT.id, "That image is too large")
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((0, 100, 200)))
        await tg.wait_for(lambda: "1 of 5" in (tg.message(ALICE_CHAT.id, panel.message_id).text or ""))
        assert tg.calls_of("getFile") == []


async def test_pictures_are_decoded_off_the_event_loop(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded_on: list[str] = []
    prepare = bot.handlers.pictures.prepare_input_image

    def spy(data: bytes) -> tuple[bytes, str]:
        decoded_on.append(threading.current_thread().name)
        return prepare(data)

    monkeypatch.setattr(bot.handlers.pictures, "prepare_input_image", spy)
    async with running_bot(tg, tmp_path):
        tg.user_sends(
            ALICE_CHAT, ALICE, caption="/describe", document=("a.png", png((200, 40, 40)), "image/png")
        )
        await wait_for_text(tg, ALICE_CHAT.id, "Prompts for your image")
    assert decoded_on and threading.main_thread().name not in decoded_on
