"""Hostile floods against a real Runtime under Telegram's own flood limits: nobody else may pay for them."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.sender import DeliveryLimits
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, StoredMessage
from tests.fakes.telegram.models import FloodLimits
from tests.harness import TOKEN, running_bot

BOT = "mjgram_test_bot"
ADMIN = FakeUser(id=4242, first_name="Root", username="root")
FLOOD_GROUP = FakeChat(id=-1001999000111, type="supergroup", title="Flood")
GROUP_MEMBERS = [FakeUser(id=7000 + n, first_name=f"Member{n}") for n in range(10)]
BANNED = FakeUser(id=6666, first_name="Banned")
FLOODER = FakeUser(id=5151, first_name="Flooder")
FLOODER_CHAT = FakeChat(id=FLOODER.id, type="private")
BYSTANDERS = [FakeUser(id=8000 + n, first_name=f"Bystander{n}") for n in range(4)]
GROUP_FLOOD = 150
PRIVATE_FLOOD = 60
# A private job under Telegram's pacing: the queued card, progress edits a second apart, the final. The
# bound leaves room for a loaded test machine, far below what a flood used to add (tens of seconds).
ADDED_DELAY_ALLOWED = 4.0
WAIT_LIMIT = 90.0  # long enough to measure the delay the flood adds, not only to see it fail
STEP_SECONDS = 0.3  # the simulator's: a job runs about 1.5 s


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, bot_username=BOT, flood=FloodLimits()) as fake:
        yield fake


def sticker_from(tg: FakeTelegram, chat: FakeChat, user: FakeUser, n: int) -> None:
    """A sticker: a message shape `user_sends` does not make, pushed as Telegram sends it."""
    tg.register_chat(chat, user)
    message = StoredMessage(
        message_id=tg._next_message_id(chat.id), chat_id=chat.id, from_user=user, date=int(time.time())
    )
    tg._store(message)
    payload: dict[str, Any] = tg.message_payload(message)
    payload["sticker"] = {
        "file_id": f"CAACAgIAAxkBAAE{n}",
        "file_unique_id": f"AgAD{n}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    tg._updates.push("message", payload)
    tg._notify()


def final_of(tg: FakeTelegram, chat_id: int, prompt: str) -> StoredMessage | None:
    return next(
        (m for m in tg.chat_messages(chat_id) if m.caption and prompt in m.caption and "Done" in m.caption),
        None,
    )


async def imagine_latency(
    tg: FakeTelegram, chat: FakeChat, user: FakeUser, prompt: str
) -> tuple[float, float]:
    """Seconds from `/imagine` to the bot's first answer (the queued card) and to the final grid."""
    start = time.monotonic()
    tg.user_sends(chat, user, f"/imagine {prompt}")
    await tg.wait_for(lambda: tg.chat_messages(chat.id), timeout=WAIT_LIMIT)
    first = time.monotonic() - start
    await tg.wait_for(lambda: final_of(tg, chat.id, prompt), timeout=WAIT_LIMIT)
    return first, time.monotonic() - start


def flood_the_group(tg: FakeTelegram) -> None:
    """150 `/me`, stickers, empty and unknown commands, and a banned user asking again and again."""
    members = itertools.cycle(GROUP_MEMBERS)
    for n in range(GROUP_FLOOD):
        match n % 5:
            case 0 | 1:
                tg.user_sends(FLOOD_GROUP, next(members), f"/me@{BOT}")
            case 2:
                sticker_from(tg, FLOOD_GROUP, next(members), n)
            case 3:
                tg.user_sends(FLOOD_GROUP, next(members), "/" if n % 2 else f"/nothing@{BOT}")
            case _:
                tg.user_sends(FLOOD_GROUP, BANNED, f"/imagine@{BOT} let me in {n}")


def flood_own_chat(tg: FakeTelegram) -> None:
    """The flooder's own chat: stickers, empty commands and `/imagine` over their running limit."""
    for n in range(PRIVATE_FLOOD):
        match n % 3:
            case 0:
                sticker_from(tg, FLOODER_CHAT, FLOODER, 10_000 + n)
            case 1:
                tg.user_sends(FLOODER_CHAT, FLOODER, "/")
            case _:
                tg.user_sends(FLOODER_CHAT, FLOODER, f"/imagine one more {n}")


def chatter_sends(tg: FakeTelegram, chat_id: int) -> int:
    return sum(1 for c in tg.calls_of("sendMessage") if c.ok and c.params.get("chat_id") == chat_id)


@pytest.mark.timeout(300)  # on code without the fix, the waits run long enough to measure the delay
async def test_a_hostile_flood_delays_nobody_elses_answers_or_finals(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(
        tg,
        tmp_path,
        limits=DeliveryLimits(),
        admin_ids=str(ADMIN.id),
        max_active_per_user=1,
        simulator_step_seconds=STEP_SECONDS,
    ):
        admin_chat = FakeChat(id=ADMIN.id, type="private")
        tg.user_sends(admin_chat, ADMIN, f"/ban {BANNED.id}")
        await tg.wait_for(lambda: any(m.text and "Banned" in m.text for m in tg.chat_messages(ADMIN.id)))
        calm_first, calm_final = await imagine_latency(
            tg, FakeChat(id=BYSTANDERS[0].id, type="private"), BYSTANDERS[0], "a calm sea"
        )

        tg.user_sends(FLOODER_CHAT, FLOODER, "/imagine my own running job")
        await tg.wait_for(lambda: tg.chat_messages(FLOODER_CHAT.id))  # running: more are over the limit
        started = time.monotonic()
        flood_the_group(tg)
        flood_own_chat(tg)
        latencies = await asyncio.gather(
            *(
                imagine_latency(tg, FakeChat(id=user.id, type="private"), user, f"a quiet lake {user.id}")
                for user in BYSTANDERS[1:]
            )
        )
        await tg.wait_for(lambda: final_of(tg, FLOODER_CHAT.id, "my own running job"), timeout=WAIT_LIMIT)
        flooder_final = time.monotonic() - started

        worst_first = max(first for first, _ in latencies)
        worst_final = max(final for _, final in latencies)
        print(
            f"\ncalm: first answer {calm_first:.2f}s, final {calm_final:.2f}s; during the flood: "
            f"worst first answer {worst_first:.2f}s, worst final {worst_final:.2f}s; "
            f"the flooder's own final {flooder_final:.2f}s; 429s: {tg.flood_hits}"
        )
        assert worst_first <= calm_first + ADDED_DELAY_ALLOWED
        assert worst_final <= calm_final + ADDED_DELAY_ALLOWED
        assert flooder_final <= calm_final + ADDED_DELAY_ALLOWED, (
            "the flooder's job waited behind its chatter"
        )
        # Chatter is coalesced: the same refusal or hint at most once per window, however often it is drawn.
        assert chatter_sends(tg, FLOODER_CHAT.id) <= 6
        assert chatter_sends(tg, FLOOD_GROUP.id) <= 12
