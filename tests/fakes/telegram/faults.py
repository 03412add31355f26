"""Fault injection: failing calls, users who block the bot, messages users delete."""

from __future__ import annotations

from collections import deque

from tests.fakes.telegram.core import TelegramCore
from tests.fakes.telegram.limits import DEFAULT_FAILURE_TEXT, ApiError, too_many_requests


class FaultInjection(TelegramCore):
    """Failures and user actions tests inject to see how the bot copes."""

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail before anything else is checked."""
        if error_code == 429:
            retry_after = 1 if retry_after is None else retry_after
            error = too_many_requests(retry_after)
            if description is not None:
                error = ApiError(description, error_code=429, retry_after=retry_after)
        else:
            text = description or DEFAULT_FAILURE_TEXT.get(error_code, f"Error {error_code}")
            error = ApiError(text, error_code=error_code, retry_after=retry_after)
        self._injected.setdefault(method.lower(), deque()).extend([error] * times)

    def fail_next_download(self, status: int = 404, *, times: int = 1) -> None:
        """Make the next `times` downloads from /file/bot<token>/... answer `status` (Telegram's file server
        answers 404 once a file_path has expired: paths are valid for at least an hour)."""
        self._download_failures.extend([status] * times)

    def clear_failures(self, method: str) -> None:
        """Forget the failures still queued for `method` (the outage is over)."""
        self._injected.pop(method.lower(), None)

    def block_user(self, chat_id: int) -> None:
        """From now on, sends and edits to the chat fail with 403 as after the user blocked the bot."""
        self.blocked_chats.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self.blocked_chats.discard(chat_id)

    def delete_message_by_user(self, chat_id: int, message_id: int) -> None:
        message = self._live_message(chat_id, message_id)
        assert message is not None, f"no message {message_id} in chat {chat_id}"
        message.deleted = True
        self._notify()
