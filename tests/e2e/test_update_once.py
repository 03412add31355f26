"""An update Telegram delivers twice (a retry after a slow answer, or to another replica) is handled once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.fakes.telegram import FakeTelegram
from tests.harness import (
    ALICE,
    ALICE_CHAT,
    free_port,
    photos,
    running_bot,
    wait_for_caption,
    webhook_settings,
)
from tests.postgres import PostgresServer

TELEGRAM_SECRET = "telegram-header-secret-for-tests-0123456789"
HOOK_SECRET = "hook-secret-for-tests-0123456789"
UPDATE_ID = 424242


def secret_webhook_settings(port: int, **extra: Any) -> dict[str, Any]:
    return webhook_settings(
        port, telegram_webhook_secret=TELEGRAM_SECRET, webhook_secret=HOOK_SECRET, **extra
    )


def imagine_update(prompt: str) -> dict[str, Any]:
    return {
        "update_id": UPDATE_ID,
        "message": {
            "message_id": 77,
            "date": 0,
            "chat": {"id": ALICE_CHAT.id, "type": "private"},
            "from": {"id": ALICE.id, "is_bot": False, "first_name": "Alice"},
            "text": f"/imagine {prompt}",
            "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
        },
    }


async def post_update(port: int, path: str, update: dict[str, Any]) -> int:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        answer = await client.post(
            path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        )
    return answer.status_code


def webhook_path(tg: FakeTelegram, port: int) -> str:
    assert tg.webhook_url is not None
    return tg.webhook_url.split(f":{port}", 1)[1]


async def test_a_repeated_update_is_handled_once(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    tg.register_chat(ALICE_CHAT, ALICE)
    async with running_bot(tg, tmp_path, **secret_webhook_settings(port)):
        path = webhook_path(tg, port)
        update = imagine_update("a paper crane")
        assert await post_update(port, path, update) == 200
        assert await post_update(port, path, update) == 200
        await wait_for_caption(tg, ALICE_CHAT.id, "a paper crane", "Done")
    assert len(photos(tg, ALICE_CHAT.id)) == 1, "the second delivery started no second job"


async def test_an_update_delivered_to_two_replicas_is_handled_by_one(
    tg: FakeTelegram, tmp_path: Path, postgres: PostgresServer
) -> None:
    database_url = postgres.create_database("mjgram_update_once")
    first_port, second_port = free_port(), free_port()
    tg.register_chat(ALICE_CHAT, ALICE)
    async with running_bot(
        tg, tmp_path / "a", **secret_webhook_settings(first_port, database_url=database_url)
    ):
        path = webhook_path(tg, first_port)
        async with running_bot(
            tg, tmp_path / "b", **secret_webhook_settings(second_port, database_url=database_url)
        ):
            update = imagine_update("two herons")
            assert await post_update(first_port, path, update) == 200
            assert await post_update(second_port, path, update) == 200
            await wait_for_caption(tg, ALICE_CHAT.id, "two herons", "Done")
    assert len(photos(tg, ALICE_CHAT.id)) == 1
