"""A replica killed outright (`kill -9`) while users are mid-way: what it held is in the database, so the
replica taking over answers the pending question, keeps filling the blend draft, and finishes the album
the dead one was collecting. Real `python -m bot` processes on one PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.albums import album_parts
from tests.e2e.test_replicas import polling_pid, until_polling
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, wait_for_caption, wait_for_text
from tests.postgres import PostgresServer
from tests.replicas import Replica

TAKEOVER_LIMIT = 15.0  # DESIGN.md: the others carry on within 15 s
STARTUP_SECONDS = 30.0
AFTER_TAKEOVER = 30.0  # a finished job: takeover, then the simulator's steps


async def stored_parts(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(album_parts))).scalar_one())
    finally:
        await engine.dispose()


async def until_stored(url: str, *, parts: int) -> None:
    async with asyncio.timeout(STARTUP_SECONDS):
        while await stored_parts(url) < parts:  # noqa: ASYNC110 - another process writes the rows
            await asyncio.sleep(0.02)


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, "PNG")
    return out.getvalue()


def panel_text(tg: FakeTelegram, message_id: int) -> str:
    return tg.message(ALICE_CHAT.id, message_id).text or ""


async def test_a_question_a_draft_and_an_album_outlive_the_replica_that_held_them(
    tg: FakeTelegram, tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.create_database(f"mjgram_replica_death_{os.getpid()}")
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    first = await Replica.spawn(tmp_path / "a", tg.base_url, plain)
    replicas = [first]
    try:
        await tg.wait_for(lambda: len(tg.calls_of("getUpdates")) > 0, timeout=STARTUP_SECONDS)
        assert await polling_pid(url) == first.pid
        second = await Replica.spawn(tmp_path / "b", tg.base_url, plain)
        replicas.append(second)

        tg.user_sends(ALICE_CHAT, ALICE, "/imagine")
        question = await wait_for_text(tg, ALICE_CHAT.id, "What should I draw?")
        tg.user_sends(ALICE_CHAT, ALICE, "/blend")
        panel = await wait_for_text(tg, ALICE_CHAT.id, "Send me 2 to 5 photos")
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((200, 0, 0)))
        await tg.wait_for(lambda: "1 of 5" in panel_text(tg, panel.message_id))
        for i in range(3):  # an album the first replica is still collecting when it dies
            caption = "/blend" if i == 0 else None
            tg.user_sends(ALICE_CHAT, ALICE, photo=png((0, i * 80, 0)), media_group_id="al", caption=caption)
        await until_stored(url, parts=3)  # every part received and stored, within the album's settle time
        first.kill()
        assert await stored_parts(url) == 3, "the dead replica had not taken the album yet"

        await until_polling(url, second.pid, within=TAKEOVER_LIMIT)
        tg.user_sends(ALICE_CHAT, ALICE, "a lighthouse at dawn", reply_to=question.message_id)
        tg.user_sends(ALICE_CHAT, ALICE, photo=png((0, 0, 200)))
        await wait_for_caption(tg, ALICE_CHAT.id, "a lighthouse at dawn", "Done", within=AFTER_TAKEOVER)
        await tg.wait_for(lambda: "2 of 5" in panel_text(tg, panel.message_id), timeout=AFTER_TAKEOVER)
        albums = [m for m in tg.chat_messages(ALICE_CHAT.id) if "Blend 3 images" in (m.text or "")]
        assert len(albums) == 1, "the album was finished once"

        tg.press_button(ALICE_CHAT.id, panel.message_id, ALICE, text="🎨 Blend now")
        await tg.wait_for(lambda: "choose the shape" in panel_text(tg, panel.message_id))
        tg.press_button(ALICE_CHAT.id, panel.message_id, ALICE, text="Square 1:1")
        blended = await wait_for_caption(tg, ALICE_CHAT.id, "/blend 2", "Done", within=AFTER_TAKEOVER)
        assert blended.reply_to_message_id == panel.message_id
    finally:
        for replica in replicas:
            await replica.stop()
