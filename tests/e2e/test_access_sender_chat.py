"""Bans hold for messages posted as a chat: as a channel, or as a group's anonymous admin."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.harness import GROUP, photos, running_bot, wait_for_text

ADMIN = FakeUser(id=4242, first_name="Root", username="root")
ADMIN_CHAT = FakeChat(id=ADMIN.id, type="private")
# The stand-ins Telegram names as `from` when a message is posted on behalf of a chat.
CHANNEL_BOT = FakeUser(id=136817688, first_name="Channel", username="Channel_Bot", is_bot=True)
ANONYMOUS_ADMIN = FakeUser(id=1087968824, first_name="Group", username="GroupAnonymousBot", is_bot=True)
CHANNEL = FakeChat(id=-1002223334445, type="channel", title="Spam news")
OTHER_CHANNEL = FakeChat(id=-1002223334446, type="channel", title="Fine news")
OTHER_GROUP = FakeChat(id=-1005556667778, type="supergroup", title="Elsewhere")


async def ban(tg: FakeTelegram, subject_id: int) -> None:
    tg.user_sends(ADMIN_CHAT, ADMIN, f"/ban {subject_id}")
    await wait_for_text(tg, ADMIN_CHAT.id, f"{subject_id}")


async def test_a_banned_channel_posting_in_a_group_is_refused(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, admin_ids=str(ADMIN.id)):
        await ban(tg, CHANNEL.id)
        tg.user_sends(GROUP, CHANNEL_BOT, "/imagine@mjgram_test_bot a banned picture", sender_chat=CHANNEL)
        await wait_for_text(tg, GROUP.id, "not available")
        fine = "/imagine@mjgram_test_bot a fine picture"
        tg.user_sends(OTHER_GROUP, CHANNEL_BOT, fine, sender_chat=OTHER_CHANNEL)
        await tg.wait_for(lambda: photos(tg, OTHER_GROUP.id), timeout=15)
        assert photos(tg, GROUP.id) == [], "the banned channel's command ran"


async def test_a_banned_groups_anonymous_admin_is_refused_in_that_group(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, admin_ids=str(ADMIN.id)):
        await ban(tg, OTHER_GROUP.id)
        tg.user_sends(
            OTHER_GROUP, ANONYMOUS_ADMIN, "/imagine@mjgram_test_bot hidden", sender_chat=OTHER_GROUP
        )
        await wait_for_text(tg, OTHER_GROUP.id, "not available")
        tg.user_sends(GROUP, ANONYMOUS_ADMIN, "/imagine@mjgram_test_bot open", sender_chat=GROUP)
        await tg.wait_for(lambda: photos(tg, GROUP.id), timeout=15)
        assert photos(tg, OTHER_GROUP.id) == []
