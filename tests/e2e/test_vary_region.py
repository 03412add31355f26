"""Vary (Region) through the whole bot: the editor button, the signed submission, the mask at the backend."""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.browser.launch import signed_init_data
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeChat, FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    BOB,
    GROUP,
    PROXY_SECRET,
    TOKEN,
    free_port,
    grid_and_upscale,
    running_bot,
    wait_for_caption,
)

REGION_BUTTON = "🖌️ Vary (Region)"
BOB_CHAT = FakeChat(id=BOB.id, type="private")


def https_settings(proxy: FakeMjProxy, port: int) -> dict[str, Any]:
    # Telegram opens Mini Apps over https only; the links say https while the test talks to the app directly.
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": PROXY_SECRET,
        "http_port": port,
        "public_url": f"https://127.0.0.1:{port}",
        "push_silence": 0.2,
    }


def painted_square(size: tuple[int, int]) -> str:
    strokes = Image.new("RGBA", size, (0, 0, 0, 0))
    for x in range(size[0] // 4, size[0] // 2):
        for y in range(size[1] // 4, size[1] // 2):
            strokes.putpixel((x, y), (255, 0, 0, 255))
    out = io.BytesIO()
    strokes.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def test_region_editor_round_trip(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(tg, tmp_path, **https_settings(proxy, port)):
        _, upscale = await grid_and_upscale(tg, proxy, "/imagine a garden with a fountain")
        assert REGION_BUTTON in upscale.button_texts()
        tg.press_button(ALICE_CHAT.id, upscale.message_id, ALICE, text=REGION_BUTTON)
        waiting = await wait_for_caption(tg, ALICE_CHAT.id, "Waiting for your input")
        (opener, _), (cancel, _) = [row[0] for row in waiting.buttons()]
        editor_url = waiting.reply_markup["inline_keyboard"][0][0]["web_app"]["url"]  # type: ignore[index]
        assert opener == "🖌️ Select the region" and cancel == "❌ Cancel"
        assert editor_url.startswith(f"https://127.0.0.1:{port}/region/")
        assert not any("Edit the prompt" in (m.text or "") for m in tg.chat_messages(ALICE_CHAT.id))

        path = editor_url.split(f":{port}", 1)[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            page = await client.get(path)
            assert page.status_code == 200 and "a garden with a fountain" in page.text
            image_path = next(p for p in page.text.split('"') if "/files/" in p).split(f":{port}", 1)[-1]
            picture = Image.open(io.BytesIO((await client.get(image_path)).content))
            body = {"prompt": "a garden with a stone bench", "mask": painted_square(picture.size)}
            stranger = signed_init_data(
                TOKEN, auth_date=int(time.time()), user={"id": BOB.id, "first_name": "Bob"}
            )
            refused = await client.post(f"{path}/submit", json={**body, "init_data": stranger})
            assert refused.status_code == 403
            owner = signed_init_data(
                TOKEN, auth_date=int(time.time()), user={"id": ALICE.id, "first_name": "Alice"}
            )
            accepted = await client.post(f"{path}/submit", json={**body, "init_data": owner})
            assert accepted.status_code == 200, accepted.text

        modal = next(b for p, b in proxy.submissions if p.endswith("/mj/submit/modal"))
        assert modal["prompt"] == "a garden with a stone bench"
        mask = Image.open(io.BytesIO(base64.b64decode(modal["maskBase64"].split(",", 1)[1])))
        assert mask.size == picture.size
        width, height = picture.size
        assert mask.getpixel((width * 3 // 8, height * 3 // 8)) == 255
        assert mask.getpixel((width * 7 // 8, height * 7 // 8)) == 0
        action = next(
            b for p, b in proxy.submissions if p.endswith("/mj/submit/action") and "Inpaint" in b["customId"]
        )
        assert action["taskId"] == list(proxy.tasks)[1]
        await proxy.succeed(modal["taskId"])
        result = await wait_for_caption(tg, ALICE_CHAT.id, "a garden with a stone bench", "Done")
        assert result.message_id == waiting.message_id


async def test_no_region_button_without_https(tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path) -> None:
    port = free_port()
    settings = {**https_settings(proxy, port), "public_url": f"http://127.0.0.1:{port}"}
    async with running_bot(tg, tmp_path, **settings):
        _, upscale = await grid_and_upscale(tg, proxy, "/imagine a garden with a fountain")
        assert REGION_BUTTON not in upscale.button_texts()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/region/anything")).status_code == 404


async def test_in_groups_the_button_leads_to_the_private_chat(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    port = free_port()
    async with running_bot(tg, tmp_path, **https_settings(proxy, port)):
        _, upscale = await grid_and_upscale(
            tg, proxy, "/imagine@mjgram_test_bot a harbour at dawn", chat=GROUP
        )
        tg.press_button(GROUP.id, upscale.message_id, ALICE, text=REGION_BUTTON)
        waiting = await wait_for_caption(tg, GROUP.id, "Waiting for your input")
        link = waiting.reply_markup["inline_keyboard"][0][0]["url"]  # type: ignore[index]
        assert link.startswith("https://t.me/mjgram_test_bot?start=r")
        payload = link.split("?start=", 1)[1]
        assert len(payload) <= 64, "Telegram's limit for start parameters"
        tg.user_sends(BOB_CHAT, BOB, f"/start {payload}")
        refusal = await tg.wait_for(lambda: next((m for m in tg.chat_messages(BOB.id) if m.text), None))
        assert "Only the person who pressed" in (refusal.text or "")
        tg.user_sends(ALICE_CHAT, ALICE, f"/start {payload}")
        offer = await tg.wait_for(
            lambda: next((m for m in tg.chat_messages(ALICE.id) if m.reply_markup), None)
        )
        editor = offer.reply_markup["inline_keyboard"][0][0]["web_app"]["url"]  # type: ignore[index]
        assert editor == f"https://127.0.0.1:{port}/region/{payload[1:]}"
