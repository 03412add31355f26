"""What the bot process keeps in memory per user: nothing that grows with every user it ever saw."""

from __future__ import annotations

from pathlib import Path

from aiogram.fsm.storage.memory import MemoryStorage

from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.harness import running_bot, wait_for_caption


async def test_users_leave_no_conversation_record_behind(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path) as bot:
        for n in range(3):
            user = FakeUser(id=7_100_000 + n, first_name=f"User {n}")
            chat = FakeChat(id=user.id, type="private")
            tg.user_sends(chat, user, f"/imagine a lighthouse, take {n}")
            await wait_for_caption(tg, chat.id, "Done")
        storage = bot.dispatcher.fsm.storage
        assert isinstance(storage, MemoryStorage)
        assert len(storage.storage) == 0, "aiogram's FSM kept a record for every user and chat"
