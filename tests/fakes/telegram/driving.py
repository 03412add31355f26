"""Driving the bot as its users would: writing to it and pressing its buttons."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.telegram.core import TelegramCore
from tests.fakes.telegram.html import command_entities
from tests.fakes.telegram.limits import ApiError
from tests.fakes.telegram.markup import find_button
from tests.fakes.telegram.models import FakeChat, FakeUser, StoredMessage


class Driving(TelegramCore):
    """What tests make users do: register a chat, send a message, press an inline button."""

    def register_chat(self, chat: FakeChat, user: FakeUser | None = None) -> None:
        """Make a chat known (as if a user had written there) without sending anything."""
        self._chats[chat.id] = chat
        if chat.type == "private" and user is not None:
            self._private_peers[chat.id] = user

    def user_sends(
        self,
        chat: FakeChat,
        user: FakeUser,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        document: tuple[str, bytes, str] | None = None,
        media_group_id: str | None = None,
        sender_chat: FakeChat | None = None,
    ) -> StoredMessage:
        """A user writes to the bot: store the message and queue its Update.

        `sender_chat`: the message is posted as that chat (a channel, or the group itself for an anonymous
        admin); Telegram then names a stand-in as `from` (Channel_Bot, GroupAnonymousBot): pass it as `user`.
        Only the update carries `sender_chat`; the stored message does not keep it.
        """
        if text is not None and (photo is not None or document is not None):
            raise ValueError("a media message carries `caption`, not `text`")
        if caption is not None and photo is None and document is None:
            raise ValueError("`caption` needs `photo` or `document`")
        self.register_chat(chat, user)
        if thread_id is not None:
            assert chat.is_forum, f"chat {chat.id} is not a forum; message_thread_id needs is_forum=True"
            self._threads.setdefault(chat.id, set()).add(thread_id)
        if reply_to is not None:
            assert self._live_message(chat.id, reply_to), f"no message {reply_to} in chat {chat.id}"
        message = StoredMessage(
            message_id=self._next_message_id(chat.id),
            chat_id=chat.id,
            from_user=user,
            date=int(time.time()),
            text=text,
            caption=caption if (photo or document) else None,
            raw_text=text or caption,
            entities=command_entities(text or caption),
            reply_to_message_id=reply_to,
            message_thread_id=self._resolve_thread(chat, thread_id, reply_to),
            media_group_id=media_group_id,
            photo=self._user_photo(photo),
            document=self._user_document(document),
        )
        self._store(message)
        payload = self.message_payload(message)
        if sender_chat is not None:
            payload["sender_chat"] = self._chat_payload(sender_chat)
        self._updates.push("message", payload)
        self._notify()
        return message

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        user: FakeUser,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> str:
        """Press an inline button of the message's current keyboard; returns the callback query id."""
        if text is None and data is None:
            raise ValueError("press_button needs the button's text or its callback data")
        message = self._live_message(chat_id, message_id)
        assert message is not None, f"no message {message_id} in chat {chat_id}"
        button = find_button(message, text, data)
        query_id = str(next(self._callback_query_ids))
        self._open_callback_queries.add(query_id)
        self._updates.push(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "chat_instance": _chat_instance(chat_id),
                "message": self.message_payload(message),
                "data": button["callback_data"],
            },
        )
        self._notify()
        return query_id

    def _user_photo(self, photo: bytes | None) -> list[dict[str, Any]] | None:
        if photo is None:
            return None
        try:
            return self._files.add_photo(photo)
        except ApiError as error:
            raise ValueError(f"user_sends(photo=...) needs a decodable image: {error.description}") from None

    def _user_document(self, document: tuple[str, bytes, str] | None) -> dict[str, Any] | None:
        if document is None:
            return None
        file_name, data, mime_type = document
        return self._files.add_document(data, file_name, mime_type)


def _chat_instance(chat_id: int) -> str:
    return str(abs(chat_id) * 7919 % 10**18 + 10**17)
