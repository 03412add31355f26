"""The fake Telegram's copyMessage and unreachable users, driven by the real aiogram Bot."""

from __future__ import annotations

from io import BytesIO

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import MessageId
from PIL import Image

from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

ADMIN = FakeUser(id=1001, first_name="Admin")
READER = FakeUser(id=1002, first_name="Reader")
ADMIN_CHAT = FakeChat(id=ADMIN.id, type="private")
READER_CHAT = FakeChat(id=READER.id, type="private")


def png() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_copy_shows_the_original_without_a_link_to_it(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends(READER_CHAT, READER, "/start")
    original = fake.user_sends(ADMIN_CHAT, ADMIN, "News: <b>v2</b> is out")
    copied = await bot.copy_message(READER_CHAT.id, ADMIN_CHAT.id, original.message_id)
    assert isinstance(copied, MessageId)
    copy = fake.message(READER_CHAT.id, copied.message_id)
    assert copy.text == "News: <b>v2</b> is out" and copy.outgoing
    assert copy.from_user.is_bot and copy.reply_to_message_id is None


async def test_a_copy_of_a_photo_keeps_the_photo_and_may_replace_its_caption(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user_sends(READER_CHAT, READER, "/start")
    original = fake.user_sends(ADMIN_CHAT, ADMIN, photo=png(), caption="old caption")
    same = await bot.copy_message(READER_CHAT.id, ADMIN_CHAT.id, original.message_id)
    renamed = await bot.copy_message(
        READER_CHAT.id, ADMIN_CHAT.id, original.message_id, caption="new caption"
    )
    assert fake.message(READER_CHAT.id, same.message_id).caption == "old caption"
    copy = fake.message(READER_CHAT.id, renamed.message_id)
    assert copy.caption == "new caption" and copy.photo == original.photo


async def test_sends_of_any_kind_to_a_deactivated_user_are_refused(fake: FakeTelegram, bot: Bot) -> None:
    fake.user_sends(READER_CHAT, READER, "/start")
    fake.deactivate_user(READER_CHAT.id)
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_message(READER_CHAT.id, "hi")


async def test_copying_a_missing_message_or_from_an_unknown_chat_is_refused(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user_sends(READER_CHAT, READER, "/start")
    fake.user_sends(ADMIN_CHAT, ADMIN, "hello")
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(READER_CHAT.id, ADMIN_CHAT.id, 999)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.copy_message(READER_CHAT.id, 424242, 1)
    assert fake.copies_in_all() == []


async def test_users_who_blocked_the_bot_or_left_telegram_are_refused_with_403(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.user_sends(READER_CHAT, READER, "/start")
    original = fake.user_sends(ADMIN_CHAT, ADMIN, "hello")
    fake.block_user(READER_CHAT.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.copy_message(READER_CHAT.id, ADMIN_CHAT.id, original.message_id)
    fake.unblock_user(READER_CHAT.id)
    fake.deactivate_user(READER_CHAT.id)
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.copy_message(READER_CHAT.id, ADMIN_CHAT.id, original.message_id)
    assert fake.copies_in(READER_CHAT.id) == []
