"""The chatter queue: per-chat background sends, the same one at most once a window, a capped backlog."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod

from bot.delivery.chatter import CHATTER_BACKLOG, COALESCE_SECONDS, ChatterQueue


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


class Telegram:
    """Records sends; a chat's sends wait on its gate, as pacing would make them wait."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.refuse: set[int] = set()
        self._sent_to: dict[int, asyncio.Event] = {}

    def sent_to(self, chat_id: int) -> asyncio.Event:
        return self._sent_to.setdefault(chat_id, asyncio.Event())

    def gate(self, chat_id: int) -> asyncio.Event:
        return self.gates.setdefault(chat_id, asyncio.Event())

    async def send(self, method: TelegramMethod[Any], chat_id: int) -> Any:
        await self.gate(chat_id).wait()
        if chat_id in self.refuse:
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")
        assert isinstance(method, SendMessage)
        self.sent.append((chat_id, method.text))
        self.sent_to(chat_id).set()
        return f"sent {method.text}"


def text(chat_id: int, words: str) -> SendMessage:
    return SendMessage(chat_id=chat_id, text=words)


async def test_put_returns_at_once_while_the_chat_waits_for_its_turn() -> None:
    telegram, clock = Telegram(), Clock()
    queue = ChatterQueue(telegram.send, clock)
    assert queue.put(1, text(1, "a"), "a", None)
    assert queue.put(1, text(1, "b"), "b", None)
    await asyncio.sleep(0)
    assert telegram.sent == [] and queue.waiting(1) == 2
    telegram.gate(1).set()
    await asyncio.wait_for(queue.wait_idle(), 1)
    assert telegram.sent == [(1, "a"), (1, "b")]


async def test_the_same_chatter_goes_once_per_window_per_chat() -> None:
    telegram, clock = Telegram(), Clock()
    queue = ChatterQueue(telegram.send, clock)
    telegram.gate(1).set()
    telegram.gate(2).set()
    accepted = [queue.put(1, text(1, "denied"), "denied", None) for _ in range(50)]
    assert accepted.count(True) == 1
    assert queue.put(2, text(2, "denied"), "denied", None), "another chat is another window"
    clock.now += COALESCE_SECONDS - 0.1
    assert not queue.put(1, text(1, "denied"), "denied", None)
    clock.now += 0.1
    assert queue.put(1, text(1, "denied"), "denied", None)
    await asyncio.wait_for(queue.wait_idle(), 1)
    assert sorted(telegram.sent) == [(1, "denied"), (1, "denied"), (2, "denied")]
    assert queue.dropped == 50


async def test_a_chats_backlog_is_capped_and_never_holds_up_another_chat() -> None:
    telegram, clock = Telegram(), Clock()
    queue = ChatterQueue(telegram.send, clock)
    accepted = [queue.put(1, text(1, f"n{n}"), f"n{n}", None) for n in range(3 * CHATTER_BACKLOG)]
    assert accepted.count(True) == CHATTER_BACKLOG
    queue.put(2, text(2, "hello"), "hello", None)
    telegram.gate(2).set()
    await asyncio.wait_for(telegram.sent_to(2).wait(), 1)
    assert queue.waiting(1) == CHATTER_BACKLOG, "chat 1 still waits for its turn"
    telegram.gate(1).set()
    await asyncio.wait_for(queue.wait_idle(), 1)
    assert [words for chat, words in telegram.sent if chat == 1] == [f"n{n}" for n in range(CHATTER_BACKLOG)]


async def test_a_refused_send_is_logged_and_the_next_one_goes(caplog: pytest.LogCaptureFixture) -> None:
    telegram, clock = Telegram(), Clock()
    queue = ChatterQueue(telegram.send, clock)
    answers: list[Any] = []

    async def remember(sent: Any) -> None:
        answers.append(sent)

    telegram.refuse.add(1)
    telegram.gate(1).set()
    telegram.gate(3).set()
    with caplog.at_level(logging.WARNING):
        queue.put(1, text(1, "lost"), "lost", remember)
        queue.put(3, text(3, "kept"), "kept", remember)
        await asyncio.wait_for(queue.wait_idle(), 1)
    assert answers == ["sent kept"], "on_sent gets Telegram's answer, only for what was sent"
    assert any("not sent" in record.getMessage() for record in caplog.records)


async def test_close_stops_the_workers_and_refuses_more() -> None:
    telegram, clock = Telegram(), Clock()
    queue = ChatterQueue(telegram.send, clock)
    queue.put(1, text(1, "never"), "never", None)
    await queue.close()
    assert not queue.put(1, text(1, "late"), "late", None)
    assert telegram.sent == []
