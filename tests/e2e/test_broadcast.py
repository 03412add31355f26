"""/broadcast against the strict fake Telegram under its flood limits: a copy for everyone exactly once,
also across a restart midway; users who blocked the bot counted and skipped next time; /broadcast cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, StoredMessage
from tests.fakes.telegram.models import FloodLimits
from tests.harness import TOKEN, running_bot, wait_for_caption

ADMIN = FakeUser(id=4242, first_name="Root", username="root")
ADMIN_CHAT = FakeChat(id=ADMIN.id, type="private")
READERS = [FakeUser(id=30_000 + n, first_name=f"Reader{n}") for n in range(119)]
AUDIENCE = [ADMIN, *READERS]  # 120 users who started the bot
BLOCKED = READERS[:4]  # blocked the bot
DEACTIVATED = READERS[4]  # deleted their account
UNREACHABLE = [*BLOCKED, DEACTIVATED]
REACHABLE = [user for user in AUDIENCE if user not in UNREACHABLE]
STOP_AFTER = 40  # copies out before the bot is stopped
WAIT = 90.0
CHATTER_RATE = 15.0  # chatter's half of Telegram's 30 messages/s
# A job of the instant simulator, from /imagine to its final picture, with a broadcast sending meanwhile:
# a few edits a second apart in its chat, far less than the broadcast's remaining ~8 s.
JOB_DURING_BROADCAST_LIMIT = 6.0


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, flood=FloodLimits()) as fake:
        yield fake


def admin_settings() -> dict[str, str]:
    return {"admin_ids": str(ADMIN.id)}


async def users_start_the_bot(tg: FakeTelegram, users: list[FakeUser]) -> None:
    for user in users:
        tg.user_sends(FakeChat(id=user.id, type="private"), user, "/start")
    wanted = {user.id for user in users}

    def greeted() -> bool:
        return wanted <= {c.params.get("chat_id") for c in tg.calls_of("sendMessage") if c.ok}

    await tg.wait_for(greeted, timeout=WAIT)


def progress_messages(tg: FakeTelegram) -> list[StoredMessage]:
    return [m for m in tg.chat_messages(ADMIN_CHAT.id) if m.outgoing and (m.text or "").startswith("📣")]


async def wait_for_progress(tg: FakeTelegram, needle: str, *, index: int = -1) -> StoredMessage:
    def found() -> StoredMessage | None:
        messages = progress_messages(tg)
        if messages and needle in (messages[index].text or ""):
            return messages[index]
        return None

    return await tg.wait_for(found, timeout=WAIT)


def attempts_to(tg: FakeTelegram, user: FakeUser) -> int:
    return len([c for c in tg.calls_of("copyMessage") if c.params.get("chat_id") == user.id])


def copy_rate(tg: FakeTelegram, since: float) -> float:
    """Copies per second Telegram accepted after `since` (monotonic), first to last."""
    times = [c.at for c in tg.calls_of("copyMessage") if c.ok and c.at >= since]
    return (len(times) - 1) / (times[-1] - times[0])


async def test_a_broadcast_reaches_everyone_once_across_a_restart_and_skips_who_blocked_the_bot(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, limits=None, **admin_settings()):
        await users_start_the_bot(tg, AUDIENCE)
        for user in BLOCKED:
            tg.block_user(user.id)
        tg.deactivate_user(DEACTIVATED.id)
        news = tg.user_sends(ADMIN_CHAT, ADMIN, "Version 2 is out: try /imagine with --video")
        tg.user_sends(ADMIN_CHAT, ADMIN, "/broadcast", reply_to=news.message_id)
        await tg.wait_for(lambda: len(tg.copies_in_all()) >= STOP_AFTER, timeout=WAIT)
    sent_before_restart = len(tg.copies_in_all())
    assert sent_before_restart < len(REACHABLE), "the bot was to stop midway"

    async with running_bot(tg, tmp_path, limits=None, **admin_settings()):
        final = await wait_for_progress(tg, "finished")
        assert final.text == "📣 Broadcast finished: sent 115 · blocked 5 · failed 0 · remaining 0"
        assert len(progress_messages(tg)) == 1  # one message, edited as it went, also after the restart
        assert final.edits >= 1
        for user in REACHABLE:
            copies = tg.copies_in(user.id)
            assert len(copies) == 1, f"{user.first_name} got {len(copies)} copies"
            copy = tg.chat_messages(user.id)[-1]
            assert copy.text == news.text
        assert all(attempts_to(tg, user) == 1 for user in UNREACHABLE)

        # A second broadcast leaves out the five Telegram refused: they are not tried again.
        started = tg.calls[-1].at
        later = tg.user_sends(ADMIN_CHAT, ADMIN, "Maintenance tonight at 22:00 UTC")
        tg.user_sends(ADMIN_CHAT, ADMIN, "/broadcast", reply_to=later.message_id)
        await tg.wait_for(
            lambda: any(m.text == "Broadcast to 115 users started." for m in tg.chat_messages(ADMIN_CHAT.id)),
            timeout=WAIT,
        )
        second = await wait_for_progress(tg, "finished")
        assert second.text == "📣 Broadcast finished: sent 115 · blocked 0 · failed 0 · remaining 0"
        assert all(len(tg.copies_in(user.id)) == 2 for user in REACHABLE)
        assert all(attempts_to(tg, user) == 1 for user in UNREACHABLE)
        rate = copy_rate(tg, started)
    assert tg.flood_hits == 0  # no 429 from Telegram's flood control throughout
    print(f"broadcast rate: {rate:.1f} copies/s (Telegram allows 30 messages/s; chatter's share is 15)")
    assert rate <= CHATTER_RATE * 1.05


async def test_broadcast_cancel_stops_it_and_says_how_far_it_got(tg: FakeTelegram, tmp_path: Path) -> None:
    async with running_bot(tg, tmp_path, limits=None, **admin_settings()):
        await users_start_the_bot(tg, AUDIENCE[:60])
        news = tg.user_sends(ADMIN_CHAT, ADMIN, "Sale!")
        tg.user_sends(ADMIN_CHAT, ADMIN, "/broadcast", reply_to=news.message_id)
        await tg.wait_for(lambda: len(tg.copies_in_all()) >= 10, timeout=WAIT)
        tg.user_sends(ADMIN_CHAT, ADMIN, "/broadcast cancel")
        cancelled = await wait_for_progress(tg, "cancelled")
        copies = len(tg.copies_in_all())
        assert copies < 60
        assert cancelled.text == (
            f"📣 Broadcast cancelled: sent {copies} · blocked 0 · failed 0 · not sent {60 - copies}"
        )
        tg.user_sends(ADMIN_CHAT, ADMIN, "/broadcast cancel")
        await tg.wait_for(
            lambda: any(m.text == "No broadcast is running." for m in tg.chat_messages(ADMIN_CHAT.id)),
            timeout=WAIT,
        )
    assert len(tg.copies_in_all()) == copies  # nothing went out after the cancel


async def test_broadcast_is_for_admins_and_needs_a_message_to_copy(tg: FakeTelegram, tmp_path: Path) -> None:
    reader = READERS[0]
    reader_chat = FakeChat(id=reader.id, type="private")
    async with running_bot(tg, tmp_path, **admin_settings()):
        mine = tg.user_sends(reader_chat, reader, "hello all")
        tg.user_sends(reader_chat, reader, "/broadcast", reply_to=mine.message_id)
        tg.user_sends(ADMIN_CHAT, ADMIN, "/broadcast")
        await tg.wait_for(
            lambda: (
                any(m.text == "This command is for the bot's admins." for m in tg.chat_messages(reader.id))
                and any((m.text or "").startswith("Reply to the message") for m in tg.chat_messages(ADMIN.id))
            ),
            timeout=WAIT,
        )
    assert tg.calls_of("copyMessage") == []


async def test_jobs_are_delivered_while_a_broadcast_runs(tg: FakeTelegram, tmp_path: Path) -> None:
    reader, reader_chat = READERS[0], FakeChat(id=READERS[0].id, type="private")
    async with running_bot(tg, tmp_path, limits=None, **admin_settings()):
        await users_start_the_bot(tg, AUDIENCE[:100])
        news = tg.user_sends(ADMIN_CHAT, ADMIN, "New styles today")
        tg.user_sends(ADMIN_CHAT, ADMIN, "/broadcast", reply_to=news.message_id)
        await tg.wait_for(lambda: len(tg.copies_in_all()) >= 10, timeout=WAIT)
        asked = tg.calls[-1].at
        tg.user_sends(reader_chat, reader, "/imagine a paper boat on a pond")
        done = await wait_for_caption(tg, reader_chat.id, "a paper boat", "Done", within=WAIT)
        took = tg.calls[-1].at - asked
        copies_by_then = len(tg.copies_in_all())
        await wait_for_progress(tg, "finished")
    print(f"a job during a broadcast: {took:.1f} s from /imagine to its final picture")
    assert copies_by_then < 100, "the job waited for the broadcast to end"
    assert done.photo is not None
    assert took < JOB_DURING_BROADCAST_LIMIT
    assert tg.flood_hits == 0
