"""Shared pieces of the end-to-end tests: users, chats, and a real Runtime wired to the fakes on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.delivery.sender import DeliveryLimits
from bot.runtime import Runtime
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, StoredMessage

TOKEN = "123456789:TEST-token-abcdefghijklmnopqrstuvwxyz"
PROXY_SECRET = "proxy-secret"
ALICE = FakeUser(id=1001, first_name="Alice", username="alice")
BOB = FakeUser(id=1002, first_name="Bob", username="bob")
ALICE_CHAT = FakeChat(id=ALICE.id, type="private")
GROUP = FakeChat(id=-1001234567890, type="supergroup", title="Artists")
FAST_LIMITS = DeliveryLimits(chat_per_second=50, group_per_minute=3000)
GRID_BUTTONS = ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4", "🌱 Seed"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_settings(tg: FakeTelegram, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": tg.base_url,
        "database_url": f"sqlite:///{data_dir / 'mjgram.db'}",
        "http_host": "127.0.0.1",
        "http_port": 0,
        "simulator_step_seconds": 0.0,
        "poll_interval": 0.05,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running_bot(
    tg: FakeTelegram, data_dir: Path, *, limits: DeliveryLimits | None = FAST_LIMITS, **overrides: Any
) -> AsyncIterator[Runtime]:
    """A started bot (real dispatcher, delivery, HTTP app) that is always closed afterwards."""
    runtime = await Runtime.build(make_settings(tg, data_dir, **overrides), limits=limits)
    try:
        await runtime.start()
        yield runtime
    finally:
        await runtime.close()


def photos(tg: FakeTelegram, chat_id: int) -> list[StoredMessage]:
    return [m for m in tg.chat_messages(chat_id) if m.photo]


async def wait_for_caption(
    tg: FakeTelegram, chat_id: int, *needles: str, within: float = 15.0
) -> StoredMessage:
    """The first photo message of the bot in the chat whose caption contains every needle."""

    def found() -> StoredMessage | None:
        for message in tg.chat_messages(chat_id):
            if message.caption and all(n in message.caption for n in needles):
                return message
        return None

    return await tg.wait_for(found, timeout=within)


async def wait_for_text(tg: FakeTelegram, chat_id: int, needle: str, within: float = 10.0) -> StoredMessage:
    def found() -> StoredMessage | None:
        return next((m for m in tg.chat_messages(chat_id) if m.text and needle in m.text), None)

    return await tg.wait_for(found, timeout=within)


def not_modified_errors(tg: FakeTelegram) -> list[str]:
    return [c.error for c in tg.calls if c.error and "not modified" in c.error]


async def grid_and_upscale(
    tg: FakeTelegram,
    proxy: FakeMjProxy,
    text: str = "/imagine a fox in the forest",
    *,
    chat: FakeChat = ALICE_CHAT,
    user: FakeUser = ALICE,
) -> tuple[StoredMessage, StoredMessage]:
    """`user` sends `text` in `chat`; the proxy finishes the grid, U1 is pressed and finishes too."""
    tg.user_sends(chat, user, text)
    await tg.wait_for(lambda: len(proxy.tasks) == 1)
    await proxy.succeed(next(iter(proxy.tasks)))
    grid = await wait_for_caption(tg, chat.id, "Done")
    tg.press_button(chat.id, grid.message_id, user, text="U1")
    await tg.wait_for(lambda: len(proxy.tasks) == 2)
    await proxy.succeed(list(proxy.tasks)[1])
    upscale = await wait_for_caption(tg, chat.id, "Image #1", "Done")
    return grid, upscale


def webhook_settings(port: int, **extra: Any) -> dict[str, Any]:
    """Telegram webhook mode on 127.0.0.1:`port` (its own PUBLIC_URL)."""
    return {"telegram_mode": "webhook", "public_url": f"http://127.0.0.1:{port}", "http_port": port, **extra}
