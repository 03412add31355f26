"""Hundreds of seeded random Telegram updates through the fake Bot API and the real dispatcher."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram import Bot
from aiogram.types import Update
from PIL import Image

from bot.delivery.sender import DeliveryLimits
from bot.runtime import Runtime
from bot.storage.jobs import unfinished_jobs
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, RecordedCall, StoredMessage
from tests.harness import TOKEN, free_port, running_bot, wait_for_text
from webhook.app import TELEGRAM_SECRET_HEADER

SEED = 20240917
SCENARIOS = 260
SETTLE_TIMEOUT = 40.0
ADMIN = FakeUser(id=4242, first_name="Root", username="root")
BOT_USERNAME = "mjgram_test_bot"
OTHER_BOT = FakeUser(id=5555, first_name="Other", username="otherbot", is_bot=True)
ANONYMOUS_ADMIN = FakeUser(id=1087968824, first_name="Group", username="GroupAnonymousBot", is_bot=True)
TELEGRAM_SERVICE = FakeUser(id=777000, first_name="Telegram")
REPLY_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup")
FILTERED_KINDS = ("edited_message", "channel_post", "edited_channel_post")
UNLIMITED = DeliveryLimits(global_per_second=1000, chat_per_second=100, group_per_minute=6000)
FIRST_DIRECT_UPDATE_ID = 900_000_001
FIRST_RAW_QUERY_ID = 7_000_000_001

COMMANDS = (
    "/imagine", "/start", "/help", "/settings", "/prefer", "/me", "/history", "/show", "/cancel", "/seed",
    "/describe", "/blend", "/shorten", "/allow", "/ban", "/unban", "/access", "/frobnicate", "/IMAGINE",
    "/show_0123456789abcdef", "/", "//imagine", "/imagine_now",
)  # fmt: skip
MENTIONS = ("", "", "", f"@{BOT_USERNAME}", f"@{BOT_USERNAME.upper()}", "@otherbot", "@", f"@{BOT_USERNAME}x")
ARGUMENTS = (
    "", " ", "a cat", "a lighthouse —ar 16:9 --v 6.1", "\u202egnirts\x00\x07 bell", "<b>bold</b> & <i>",
    "🐱" * 40, "x" * 1600, "中文 提示 --niji 6", "--ar 99:1", "—ar", "\n\n", "suffix <script>x</script>",
    "option set ar --ar 1:1", "option set cine --ar 21:9 --s 750", "option list", "option set Bad!name x",
    "option set x " + "y" * 200, "-100123", "١٢٣", "open", "0123456789abcdef", "zzz", "a\u2028b", "&amp;",
)  # fmt: skip
PLAIN_TEXTS = ("hello", "", "   ", "@mjgram_test_bot hi", "<tg-spoiler>", "x" * 4096, "🙂\u200d", "\x00")
CALLBACK_DATA = (
    "a1:", "a1:AAAAAAAAAAAA", "a1:" + "中" * 32, "a1:" + "x" * 100, "a2:token", "like:42", "page=2", "x",
    "d1:nope:go", "d1::", "d1:x:zz", "d1:x:P", "s1:1:u:sw", "s1:{me}:u:sw", "s1:{me}:c:b", "s1:{me}:u:v=7",
    "s1:{me}:u:v=99", "s1:{me}:u", "s1:-1:u:sw", "s1:{me}:x:sw", "💥" * 20, "{me}",
)  # fmt: skip
LANGUAGES = ("en", "ru", "zh-hans", "pt-br", "xx", None)
NAMES = ("Ann", "𝔘𝔫𝔦", "Ли", "<b>", "", "  ", "a" * 64)


@dataclass
class Fed:
    """What the test put in, so the checks know what to expect."""

    chats: list[int] = field(default_factory=list)
    must_answer: set[int] = field(default_factory=set)  # private chats where every message gets an answer
    threads: dict[int, int] = field(default_factory=dict)  # forum chat -> the topic it was written in
    channels: set[int] = field(default_factory=set)
    queries: list[str] = field(default_factory=list)
    delivered: int = 0  # updates of a type the bot asked Telegram for
    direct: list[dict[str, Any]] = field(default_factory=list)  # types it did not ask for


class UpdateTracker:
    """Wraps the dispatcher's feed_update to know when every update has been handled, however it ended."""

    def __init__(self) -> None:
        self.handled: set[int] = set()
        self._changed = asyncio.Event()

    def wrap(self, feed: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def feed_update(bot: Bot, update: Update, **kwargs: Any) -> Any:
            try:
                return await feed(bot, update, **kwargs)
            finally:
                self.handled.add(update.update_id)
                self._changed.set()

        return feed_update

    async def wait_for(self, count: int, timeout: float) -> None:  # noqa: ASYNC109 - bounded wait
        async with asyncio.timeout(timeout):
            while len(self.handled) < count:
                self._changed.clear()
                await self._changed.wait()


def random_text(rng: random.Random, longest: int) -> str:
    """Printable text from several scripts, emoji and symbols included."""
    blocks = (
        (0x21, 0x7E),
        (0xA1, 0x24F),
        (0x370, 0x4FF),
        (0x4E00, 0x4E80),
        (0x1F300, 0x1F64F),
        (0x2000, 0x206F),
    )
    return "".join(chr(rng.randint(*rng.choice(blocks))) for _ in range(rng.randint(1, longest)))


def tiny_png(rng: random.Random) -> bytes:
    out = io.BytesIO()
    Image.new(
        "RGB", (8 + rng.randrange(24), 8 + rng.randrange(24)), tuple(rng.randrange(256) for _ in "rgb")
    ).save(out, "PNG")
    return out.getvalue()


# --- raw updates: the fake's own queue and store, for shapes `user_sends` cannot express --------------------


def push_raw(tg: FakeTelegram, kind: str, payload: dict[str, Any]) -> None:
    tg._updates.push(kind, payload)
    tg._notify()


def store_message(
    tg: FakeTelegram,
    chat: FakeChat,
    sender: FakeUser,
    text: str | None,
    *,
    markup: dict[str, Any] | None = None,
) -> StoredMessage:
    """A message the chat already holds, without an update for it (an old one, or one of the bot's)."""
    tg.register_chat(chat, sender if chat.type == "private" else None)
    message = StoredMessage(
        message_id=tg._next_message_id(chat.id),
        chat_id=chat.id,
        from_user=sender,
        date=int(time.time()),
        text=text,
        reply_markup=markup,
        outgoing=sender.id == tg.bot_user.id,
    )
    tg._store(message)
    return message


def open_query(tg: FakeTelegram, query_id: str) -> None:
    """Let the fake accept an answer to a callback query the test built by hand."""
    tg._open_callback_queries.add(query_id)


# --- the random scenarios: each writes into chats of its own --------------------------------------------


class Scenarios:
    """Seeded generator of odd but possible Telegram traffic."""

    def __init__(self, tg: FakeTelegram, rng: random.Random) -> None:
        self.tg = tg
        self.rng = rng
        self.fed = Fed()
        self._ids = itertools.count(1)
        self._query_ids = itertools.count(FIRST_RAW_QUERY_ID)
        self._direct_ids = itertools.count(FIRST_DIRECT_UPDATE_ID)

    # ---- who and where

    def user(self, user_id: int | None = None) -> FakeUser:
        rng = self.rng
        return FakeUser(
            id=user_id or 3_000_000 + next(self._ids),
            first_name=rng.choice(NAMES),
            username=rng.choice([None, f"u{rng.randrange(10**6)}"]),
            language_code=rng.choice(LANGUAGES),
        )

    def chat(self) -> tuple[FakeChat, FakeUser, int | None]:
        """A fresh chat, someone in it, and a forum topic when there is one."""
        n = next(self._ids)
        kind = self.rng.choice(["private", "private", "group", "supergroup", "forum"])
        sender = self.rng.choice([self.user(), self.user(), ADMIN, OTHER_BOT])
        if kind == "private":
            sender = self.user(2_000_000 + n)
            chat = FakeChat(id=sender.id, type="private")
        elif kind == "group":
            chat = FakeChat(id=-1_000_000 - n, type="group", title=self.rng.choice(NAMES) or None)
        else:
            chat = FakeChat(
                id=-1_002_000_000_000 - n, type="supergroup", title="Forum", is_forum=kind == "forum"
            )
        thread = self.rng.choice([None, 7 + n]) if chat.is_forum else None
        self.fed.chats.append(chat.id)
        return chat, sender, thread

    def topic_chat(self) -> tuple[FakeChat, FakeUser, int | None]:
        """A fresh chat for a scenario that writes into the forum topic, when there is one."""
        chat, sender, thread = self.chat()
        if thread is not None:
            self.fed.threads[chat.id] = thread
        return chat, sender, thread

    def channel(self, title: str) -> dict[str, Any]:
        """A channel (the fake knows none): the bot must never write to it."""
        channel_id = -1_003_000_000_000 - next(self._ids)
        self.fed.channels.add(channel_id)
        return {"id": channel_id, "type": "channel", "title": title}

    def command_text(self) -> str:
        rng = self.rng
        command = rng.choice(COMMANDS) + rng.choice(MENTIONS)
        argument = rng.choice(ARGUMENTS) if rng.random() < 0.8 else random_text(rng, 80)
        return f"{command} {argument}" if argument else command

    # ---- the scenarios

    def text_message(self) -> None:
        chat, sender, thread = self.topic_chat()
        text = self.command_text() if self.rng.random() < 0.75 else self.rng.choice(PLAIN_TEXTS) or "."
        self.tg.user_sends(chat, sender, text, thread_id=thread)
        self.fed.delivered += 1
        if chat.type == "private":
            self.fed.must_answer.add(chat.id)

    def picture(self) -> None:
        chat, sender, thread = self.topic_chat()
        caption = self.rng.choice(
            [None, "", "/describe", "/blend", "/imagine a cat", "/describe@otherbot", "hi"]
        )
        if self.rng.random() < 0.3:
            document = ("pic.png", tiny_png(self.rng), self.rng.choice(["image/png", "text/plain"]))
            self.tg.user_sends(chat, sender, thread_id=thread, document=document, caption=caption)
        else:
            self.tg.user_sends(chat, sender, thread_id=thread, photo=tiny_png(self.rng), caption=caption)
        self.fed.delivered += 1

    def album(self) -> None:
        chat, sender, thread = self.topic_chat()
        group = f"album-{next(self._ids)}"
        parts = self.rng.randrange(2, 8)
        first_caption = self.rng.choice([None, "/blend", "/blend@otherbot", "look"])
        for index in range(parts):
            caption = first_caption if index == 0 else None
            self.tg.user_sends(
                chat,
                sender,
                thread_id=thread,
                photo=tiny_png(self.rng),
                caption=caption,
                media_group_id=group,
            )
        self.fed.delivered += parts

    def reply(self) -> None:
        """A reply to a message that is another user's, another bot's, or the bot's own but unknown to it."""
        chat, sender, thread = self.chat()
        if thread is not None:
            chat = FakeChat(chat.id, chat.type, chat.title)  # replies across topics are their own story
        author = self.rng.choice([self.tg.bot_user, OTHER_BOT, self.user(), sender])
        target = store_message(self.tg, chat, author, self.rng.choice(["old", "Send me the prompt", "1️⃣ a"]))
        text = self.rng.choice(["/seed", "/cancel", "/describe", "/ban", "a prompt", "/imagine", "/blend"])
        self.tg.user_sends(chat, sender, text, reply_to=target.message_id)
        self.fed.delivered += 1

    def reply_to_missing(self) -> None:
        """A reply whose target the chat no longer has (deleted), built by hand."""
        chat, sender, _ = self.chat()
        message = store_message(
            self.tg, chat, sender, self.rng.choice(["/seed", "/cancel", "a cat", "/imagine"])
        )
        payload = self.tg.message_payload(message)
        payload["reply_to_message"] = {
            "message_id": 999_999,
            "date": 0,
            "chat": payload["chat"],
            "from": self.tg.bot_user.to_api(),
            "text": "gone",
        }
        push_raw(self.tg, "message", payload)
        self.fed.delivered += 1

    def sticker(self) -> None:
        chat, sender, _ = self.chat()
        payload = self.tg.message_payload(store_message(self.tg, chat, sender, None))
        payload["sticker"] = {
            "file_id": "CAACAgIAAxkBAAE",
            "file_unique_id": "AgAD",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "🐱",
        }
        push_raw(self.tg, "message", payload)
        self.fed.delivered += 1
        if chat.type == "private":
            self.fed.must_answer.add(chat.id)

    def on_behalf_of_a_chat(self) -> None:
        """Anonymous admins, posts sent as a channel, and a channel's automatic forwards in its group."""
        chat, _, _ = self.chat()
        if chat.type == "private":
            chat = FakeChat(id=-1_004_000_000_000 - next(self._ids), type="supergroup", title="Linked")
            self.fed.chats.append(chat.id)
        channel = self.channel("News")
        sender, sender_chat = self.rng.choice(
            [(ANONYMOUS_ADMIN, None), (TELEGRAM_SERVICE, channel), (self.user(), channel)]
        )
        message = store_message(self.tg, chat, sender, self.command_text())
        payload = self.tg.message_payload(message)
        payload["sender_chat"] = sender_chat or payload["chat"]
        if sender is TELEGRAM_SERVICE:
            payload["is_automatic_forward"] = True
        push_raw(self.tg, "message", payload)
        self.fed.delivered += 1

    def press(self) -> None:
        """A button press with data of any kind, on a message of the bot's."""
        chat, sender, _ = self.chat()
        if sender.is_bot:
            sender = self.user()
        data = self.rng.choice(CALLBACK_DATA).replace("{me}", str(sender.id))
        if self.rng.random() < 0.25:
            data = random_text(self.rng, 64)
        store_message(self.tg, chat, sender, "/settings")  # the presser is someone Telegram knows
        markup = {"inline_keyboard": [[{"text": "?", "callback_data": data}]]}
        panel = store_message(self.tg, chat, self.tg.bot_user, "a panel", markup=markup)
        self.fed.queries.append(self.tg.press_button(chat.id, panel.message_id, sender, data=data))
        self.fed.delivered += 1

    def press_without_message(self) -> None:
        """Presses on inline-mode messages, on messages too old to be shown, and of game buttons."""
        chat, sender, _ = self.chat()
        query_id = str(next(self._query_ids))
        query: dict[str, Any] = {"id": query_id, "from": sender.to_api(), "chat_instance": "-42"}
        match self.rng.choice(["inline", "inaccessible", "game"]):
            case "inline":
                query |= {"inline_message_id": "AgAAAB", "data": self.rng.choice(CALLBACK_DATA)}
            case "inaccessible":
                tg_chat = {"id": chat.id, "type": chat.type, "title": "t"} if chat.type != "private" else None
                chat_payload = tg_chat or {"id": chat.id, "type": "private", "first_name": "U"}
                query |= {"message": {"message_id": 3, "date": 0, "chat": chat_payload}, "data": "a1:AAAA"}
            case _:
                query |= {"inline_message_id": "AgAAAC", "game_short_name": "tetris"}
        open_query(self.tg, query_id)
        push_raw(self.tg, "callback_query", query)
        self.fed.queries.append(query_id)
        self.fed.delivered += 1

    def unrequested(self) -> None:
        """Edited messages and channel posts: the bot does not ask for them; fed to the dispatcher anyway."""
        chat, sender, _ = self.chat()
        kind = self.rng.choice(FILTERED_KINDS)
        if kind == "edited_message":
            message = self.tg.message_payload(store_message(self.tg, chat, sender, self.command_text()))
            message["edit_date"] = message["date"] + 5
        else:
            channel = self.channel("Chan")
            message = {
                "message_id": 1,
                "date": int(time.time()),
                "chat": channel,
                "sender_chat": channel,
                "text": self.command_text(),
            }
        push_raw(self.tg, kind, message)  # the fake drops it, as Telegram does with allowed_updates
        self.fed.direct.append({"update_id": next(self._direct_ids), kind: message})

    def one(self) -> None:
        scenario = self.rng.choices(
            [
                self.text_message,
                self.picture,
                self.album,
                self.reply,
                self.reply_to_missing,
                self.sticker,
                self.on_behalf_of_a_chat,
                self.press,
                self.press_without_message,
                self.unrequested,
            ],
            weights=[30, 8, 3, 8, 4, 3, 5, 12, 5, 4],
        )[0]
        scenario()


# --- the test -----------------------------------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN, bot_username=BOT_USERNAME) as fake:
        yield fake


def more_calls_than(tg: FakeTelegram, seen: int) -> Callable[[], bool]:
    return lambda: len(tg.calls) > seen


async def settle(tg: FakeTelegram, runtime: Runtime) -> None:
    """Wait until no job is unfinished and delivery is idle, waking on every call the bot makes."""
    while True:
        async with runtime.db.read() as conn:
            unfinished = await unfinished_jobs(conn, runtime.backend.name)
        if not unfinished:
            break
        await tg.wait_for(more_calls_than(tg, len(tg.calls)), timeout=SETTLE_TIMEOUT)
    await asyncio.wait_for(runtime.delivery.wait_idle(), SETTLE_TIMEOUT)


def sends(tg: FakeTelegram) -> list[RecordedCall]:
    return tg.calls_of(*REPLY_METHODS)


def repeated_replies(tg: FakeTelegram) -> dict[tuple[Any, str], int]:
    """(chat, method) pairs sent more than once: every scenario's chat holds one request's answers."""
    counts = Counter((call.params.get("chat_id"), call.method) for call in sends(tg))
    return {key: n for key, n in counts.items() if n > 1}


def answer_counts(tg: FakeTelegram, queries: list[str]) -> dict[str, int]:
    """Callback queries answered other than exactly once."""
    answers = Counter(call.params.get("callback_query_id") for call in tg.calls_of("answerCallbackQuery"))
    return {query: answers[query] for query in queries if answers[query] != 1}


def off_topic(tg: FakeTelegram, threads: dict[int, int]) -> list[RecordedCall]:
    """Sends into a forum chat that left the topic the request was written in."""
    return [
        call
        for call in sends(tg)
        if call.params.get("chat_id") in threads
        and call.params.get("message_thread_id") != threads[call.params["chat_id"]]
    ]


def error_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


async def fed_and_settled(tg: FakeTelegram, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Fed:
    """Feed the seeded scenarios and wait until every update is handled and every job finished."""
    tracker = UpdateTracker()
    monkeypatch.setattr(runtime.dispatcher, "feed_update", tracker.wrap(runtime.dispatcher.feed_update))
    scenarios = Scenarios(tg, random.Random(SEED))
    for _ in range(SCENARIOS):
        scenarios.one()
    fed = scenarios.fed
    for raw in fed.direct:
        await runtime.dispatcher.feed_raw_update(runtime.bot, raw)
    await tracker.wait_for(fed.delivered + len(fed.direct), timeout=SETTLE_TIMEOUT)
    await settle(tg, runtime)
    assert len(tracker.handled) == fed.delivered + len(fed.direct)
    return fed


async def test_random_updates_never_break_the_bot(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(tg, tmp_path, limits=UNLIMITED, admin_ids=str(ADMIN.id)) as runtime:
        fed = await fed_and_settled(tg, runtime, monkeypatch)

        assert error_messages(caplog) == []
        assert [(call.method, call.error) for call in tg.calls if not call.ok] == []
        assert answer_counts(tg, fed.queries) == {}
        assert repeated_replies(tg) == {}
        answered = {call.params.get("chat_id") for call in sends(tg)}
        assert answered <= set(fed.chats), "an answer went to a chat the request did not come from"
        assert fed.must_answer - answered == set(), "a private message went unanswered"
        assert not answered & fed.channels
        assert off_topic(tg, fed.threads) == []
        assert await tg.wait_for(lambda: tg.updates_pending() == 0)

        assert await tg.wait_for(lambda: tg.polls_in_flight() > 0), "the bot stopped polling"
        newcomer = FakeUser(id=9_999_001, first_name="New")
        tg.user_sends(FakeChat(id=newcomer.id, type="private"), newcomer, "/help")
        await wait_for_text(tg, newcomer.id, "/imagine")


# --- regressions: inputs that once broke the bot --------------------------------


async def test_settings_data_with_a_non_decimal_digit_is_refused_as_expired(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    user = FakeUser(id=2001, first_name="Ann")
    chat = FakeChat(id=user.id, type="private")
    async with running_bot(tg, tmp_path):
        store_message(tg, chat, user, "/settings")
        markup = {"inline_keyboard": [[{"text": "?", "callback_data": "s1:²:u:sw"}]]}
        panel = store_message(tg, chat, tg.bot_user, "a panel", markup=markup)
        query = tg.press_button(chat.id, panel.message_id, user, data="s1:²:u:sw")
        await tg.wait_for(lambda: query in tg.callback_answers)
        assert error_messages(caplog) == []
        assert tg.callback_answers[query].get("text") == "This button is no longer available."


@pytest.mark.parametrize("command", ["/ban 99999999999999999999999", "/unban -99999999999999999999999"])
async def test_admin_command_with_an_out_of_range_id_is_a_usage_error(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture, command: str
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_bot(tg, tmp_path, admin_ids=str(ADMIN.id)):
        tg.user_sends(FakeChat(id=ADMIN.id, type="private"), ADMIN, command)
        answer = await wait_for_text(tg, ADMIN.id, "")
        assert error_messages(caplog) == []
        assert "Telegram id" in (answer.text or "")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"update_id": "x"}'])
async def test_malformed_telegram_webhook_bodies_are_refused(
    tg: FakeTelegram, tmp_path: Path, body: bytes
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with (
        running_bot(tg, tmp_path, telegram_mode="webhook", http_port=port, public_url=public) as runtime,
        httpx.AsyncClient() as client,
    ):
        response = await client.post(
            f"{public}/telegram/{runtime.secrets.telegram_path}",
            content=body,
            headers={TELEGRAM_SECRET_HEADER: runtime.secrets.telegram_header},
        )
        assert response.status_code == 422


async def test_a_backend_callback_url_does_not_open_the_telegram_webhook(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with (
        running_bot(tg, tmp_path, telegram_mode="webhook", http_port=port, public_url=public) as runtime,
        httpx.AsyncClient() as client,
    ):
        assert runtime.notify_url is not None
        tg.register_chat(FakeChat(id=ADMIN.id, type="private"), ADMIN)
        known_to_backend = runtime.notify_url.rsplit("/", 1)[1]
        forged = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": ADMIN.id, "type": "private", "first_name": ADMIN.first_name},
                "from": ADMIN.to_api(),
                "text": "/help",
            },
        }
        response = await client.post(
            f"{public}/telegram/{known_to_backend}",
            json=forged,
            headers={TELEGRAM_SECRET_HEADER: known_to_backend},
        )
        assert response.status_code == 404
