"""copyMessage, and users who blocked the bot or deleted their account, as the Bot API server answers them.

From tdlib/telegram-bot-api, telegram-bot-api/Client.cpp: `process_copy_message_query` reads `from_chat_id`
and `message_id`, then `check_message(..., "message to copy", ...)` fails with 400 "message to copy not
found" for a message that is not there; the copy is sent like any message (the target chat is checked as
for sendMessage) and the answer is a MessageId. `USER_IS_BLOCKED` becomes 403 "bot was blocked by the user"
and `INPUT_USER_DEACTIVATED` 403 "Forbidden: user is deactivated".
"""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram.limits import ERR_CHAT_NOT_FOUND, ApiError
from tests.fakes.telegram.markup import validate_reply_markup
from tests.fakes.telegram.media import MediaInputs
from tests.fakes.telegram.params import Params

ERR_COPY_NOT_FOUND = "Bad Request: message to copy not found"


class Copying(MediaInputs):
    """copyMessage, and the driver's helpers for users the bot can no longer reach."""

    async def _copy_message(self, params: Params) -> dict[str, Any]:
        from_chat_id = params.raw("from_chat_id")
        source_chat = self._chats.get(from_chat_id) if isinstance(from_chat_id, int) else None
        if source_chat is None:
            raise ApiError(ERR_CHAT_NOT_FOUND)
        message_id = params.opt_int("message_id")
        source = self._live_message(source_chat.id, message_id) if message_id is not None else None
        if source is None:
            raise ApiError(ERR_COPY_NOT_FOUND)
        chat = self._sendable_chat(params)  # the source is checked first, then the target as for a send
        caption = self._top_level_caption(params) if params.raw("caption") is not None else None
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        copy = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=markup)
        copy.text, copy.raw_text = source.text, source.raw_text
        copy.caption, copy.entities = source.caption, list(source.entities)
        copy.show(source.content)
        if caption is not None:
            self._set_caption(copy, caption, params.opt_str("caption"), params.opt_str("parse_mode"))
        self._store(copy)
        return {"message_id": copy.message_id}

    def deactivate_user(self, chat_id: int) -> None:
        """The user deleted their account: sends to them fail with 403 "user is deactivated" (see core)."""
        self.deactivated_chats.add(chat_id)

    def copies_in_all(self) -> list[Any]:
        """copyMessage calls Telegram accepted, to any chat."""
        return [c for c in self.calls if c.method == "copyMessage" and c.ok]

    def copies_in(self, chat_id: int) -> list[Any]:
        """copyMessage calls to the chat that Telegram accepted."""
        return [
            c for c in self.calls if c.method == "copyMessage" and c.ok and c.params.get("chat_id") == chat_id
        ]
