"""A backend's unreadable picture ends its job visibly: failed, with the reason and 🔁, never stuck."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, free_port, photos, running_bot, wait_for_caption

SECRET = "proxy-secret"


def truncated_png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((512, 512), 64).convert("RGB").save(out, "PNG")
    return out.getvalue()[:20_000]


def bomb_png() -> bytes:
    """About 70 bytes whose header claims 20000 x 20000 pixels, over Pillow's own bomb limit."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(64)))
        + chunk(b"IEND", b"")
    )


def proxy_settings(proxy: FakeMjProxy) -> dict[str, object]:
    port = free_port()
    return {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }


@pytest.mark.parametrize("served", [truncated_png(), bomb_png()], ids=["truncated", "bomb"])
async def test_an_unreadable_final_picture_fails_the_job_with_retry(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path, served: bytes
) -> None:
    proxy.served_instead["grid"] = served
    async with running_bot(tg, tmp_path, **proxy_settings(proxy)) as bot:
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse")
        task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
        queued = await wait_for_caption(tg, ALICE_CHAT.id, "Queued")
        await proxy.succeed(task_id)
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "Failed", "picture could not be read")
        assert failed.message_id == queued.message_id and len(photos(tg, ALICE_CHAT.id)) == 1
        assert failed.button_texts() == ["🔁 Try again"]
        job = await bot.jobs.job_for_message(ALICE_CHAT.id, failed.message_id)
        assert job is not None and job.status.value == "failed" and job.failure is not None
        assert job.failure.value == "unreadable_result"

        del proxy.served_instead["grid"]  # the backend behaves again: 🔁 gets a picture
        tg.press_button(ALICE_CHAT.id, failed.message_id, ALICE, text="🔁 Try again")
        retry_id = await tg.wait_for(lambda: list(proxy.tasks)[1] if len(proxy.tasks) > 1 else None)
        await proxy.succeed(retry_id)
        await wait_for_caption(tg, ALICE_CHAT.id, "a lighthouse", "Done")
