"""Inspecting the fake: recorded calls, messages in their current state, files, waiting for a change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar, cast

from tests.fakes.telegram.chats import commands_key
from tests.fakes.telegram.core import TelegramCore, wait_event
from tests.fakes.telegram.limits import DEFAULT_WAIT_TIMEOUT, TIMEOUT_REPORT_CALLS
from tests.fakes.telegram.models import RecordedCall, StoredMessage

T = TypeVar("T")


class Inspecting(TelegramCore):
    """What tests read back from the fake, and `wait_for`, which waits for the fake to change."""

    def calls_of(self, *methods: str) -> list[RecordedCall]:
        wanted = {method.lower() for method in methods}
        return [call for call in self.calls if call.method.lower() in wanted]

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        """Messages the bot sent to the chat and has not deleted, oldest first, in their current state."""
        return [m for m in self._messages.get(chat_id, {}).values() if m.outgoing and not m.deleted]

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        """Any stored message, deleted ones included (see `deleted`)."""
        try:
            return self._messages[chat_id][message_id]
        except KeyError:
            raise KeyError(f"no message {message_id} in chat {chat_id}") from None

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._files.get(file_id)
        if stored is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return stored.data

    def updates_pending(self) -> int:
        """Updates not yet confirmed by getUpdates (or not yet delivered to the webhook)."""
        return len(self._updates)

    def polls_in_flight(self) -> int:
        """getUpdates requests received and not yet answered: non-zero while the bot long-polls."""
        return self._polls_in_flight

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return list(self._commands.get(commands_key(scope, language_code), []))

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    async def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 - part of the fake's interface
    ) -> T:
        """Re-evaluate `predicate` after every change of the fake's state; return its first truthy value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            result = predicate()
            if result:
                return cast(T, result)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_report(timeout))
            await wait_event(changed, remaining)

    # ---------------------------------------------------------------- diagnostics
    def _timeout_report(self, timeout: float) -> str:
        polls = len(self.calls_of("getUpdates"))
        recent = [call for call in self.calls if call.method != "getUpdates"][-TIMEOUT_REPORT_CALLS:]
        lines = [
            f"condition not met within {timeout}s; {len(self.calls)} calls ({polls} getUpdates), "
            f"{len(self._updates)} updates pending, webhook={self.webhook_url!r}; last calls:"
        ]
        lines += [f"  {call.method} {call.error or 'ok'} {_brief(call.params)}" for call in recent]
        return "\n".join(lines)


def _brief(params: dict[str, Any]) -> str:
    text = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return text if len(text) <= 200 else text[:197] + "..."
