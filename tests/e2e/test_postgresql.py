"""The bot on PostgreSQL (`DATABASE_URL=postgresql://…`): the same flows as on SQLite, a restart included."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, GRID_BUTTONS, PROXY_SECRET, photos, running_bot, wait_for_caption
from tests.postgres import PostgresServer


def plain_url(server: PostgresServer, name: str) -> str:
    """The URL as an operator writes it (no driver name)."""
    return server.create_database(name).replace("postgresql+asyncpg://", "postgresql://")


async def test_a_job_and_its_button_run_on_postgresql(
    tg: FakeTelegram, tmp_path: Path, postgres: PostgresServer
) -> None:
    url = plain_url(postgres, "mjgram_e2e_flow")
    async with running_bot(tg, tmp_path, database_url=url):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a harbour at night")
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
        assert grid.button_texts() == GRID_BUTTONS
        tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U3")
        upscale = await wait_for_caption(tg, ALICE_CHAT.id, "Image #3", "Done")
        assert upscale.reply_to_message_id == grid.message_id


async def test_a_restart_on_postgresql_finishes_the_job_in_the_same_message(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path, postgres: PostgresServer
) -> None:
    settings = {
        "database_url": plain_url(postgres, "mjgram_e2e_restart"),
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": PROXY_SECRET,
    }
    async with running_bot(tg, tmp_path, **settings):
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a tidal island")
        task_id = await tg.wait_for(lambda: next(iter(proxy.tasks), None))
        await proxy.advance(task_id, 25)
        running = await wait_for_caption(tg, ALICE_CHAT.id, "25%")
    await proxy.succeed(task_id)  # while the bot is down
    async with running_bot(tg, tmp_path, **settings):
        done = await wait_for_caption(tg, ALICE_CHAT.id, "Done")
    assert done.message_id == running.message_id
    assert done.button_texts() == GRID_BUTTONS
    assert len(photos(tg, ALICE_CHAT.id)) == 1
