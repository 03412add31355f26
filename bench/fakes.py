"""The test fakes as the bench drives them: arrival stamps on Telegram calls, send stamps on notify hooks."""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.fakes.mjproxy import FakeMjProxy, FakeTask
from tests.fakes.telegram import ApiError, FakeChat, FakeTelegram, FloodLimits, RecordedCall

MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)
# One fixed task the cached pictures are drawn for (see BenchProxy._draw).
_PICTURE_TASK = FakeTask(
    id="1763772345001001", action="IMAGINE", prompt="bench", description="", hash="bench", submit_time=0
)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A Bot API request the fake has read completely, before it handles it."""

    method: str
    chat_id: int | None
    at: float


class BenchTelegram(FakeTelegram):
    """FakeTelegram that stamps each request on arrival and says which flood limit refused a call."""

    def __init__(self, token: str, *, flood: FloodLimits) -> None:
        super().__init__(token, flood=flood)
        self.arrivals: list[Arrival] = []
        self.refusals: Counter[str] = Counter()
        self._waiters: dict[tuple[str, int | None], asyncio.Future[float]] = {}

    def expect(self, method: str, chat_id: int | None) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the next `method` call for `chat_id`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters[(method, chat_id)] = future
        return future

    async def _execute(
        self, method: str, params: dict[str, Any], *, token: str
    ) -> tuple[int, dict[str, Any]]:
        arrived = time.monotonic()
        name = self._canonical.get(method.lower(), method)
        chat_id = params.get("chat_id")
        chat = chat_id if isinstance(chat_id, int) else None
        self.arrivals.append(Arrival(name, chat, arrived))
        waiter = self._waiters.pop((name, chat), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(arrived)
        return await super()._execute(method, params, token=token)

    def _admit(self, chat: FakeChat) -> None:
        limit = self._full_limit(chat)
        try:
            super()._admit(chat)
        except ApiError:
            self.refusals[limit] += 1
            raise

    def _full_limit(self, chat: FakeChat) -> str:
        """Which window would refuse a call to `chat` now (checked before the fake counts it)."""
        gate = self._flood
        if gate is None:
            return "none"
        now = time.monotonic()
        if gate._global.is_full(now):
            return "global 30/s"
        if gate._chat_window(chat.id).is_full(now):
            return "per chat 1/s"
        if chat.type != "private" and gate._group_window(chat.id).is_full(now):
            return "per group 20/min"
        return "none"

    def message_calls(self, since: float = 0.0) -> list[RecordedCall]:
        """Message-producing calls (sends and edits, refused ones too) recorded at or after `since`."""
        return [c for c in self.calls if c.method in MESSAGE_METHODS and c.at >= since]


class BenchProxy(FakeMjProxy):
    """FakeMjProxy that stamps every notify POST as it leaves and serves pre-drawn pictures."""

    def __init__(self, *, api_secret: str) -> None:
        super().__init__(api_secret=api_secret)
        self.sent_at: dict[tuple[str, str], float] = {}
        self.hook_status: dict[str, int] = {}

    async def _post_hook(self, url: str | None, body: dict[str, Any]) -> None:
        task_id, status = str(body.get("id")), str(body.get("status"))
        self.sent_at[(task_id, status)] = time.monotonic()
        await super()._post_hook(url, body)
        # super() appended this POST's outcome last, with no await since: it is ours.
        self.hook_status[task_id] = self.notifications[-1][2]

    @staticmethod
    def _draw(task: FakeTask, kind: str) -> bytes:
        # The fake draws each picture with Pillow on first download; that is the fake's CPU, not the
        # bot's, so every task gets the same pre-drawn bytes. The bot still downloads, decodes and
        # re-encodes each final: it cannot tell the pictures are equal.
        return _picture(kind)


@functools.cache
def _picture(kind: str) -> bytes:
    return FakeMjProxy._draw(_PICTURE_TASK, kind)
