"""The fake's state and what every Bot API method shares: dispatch, chats, messages and their API form."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
from aiohttp import web

from tests.fakes.telegram.files import FileStore
from tests.fakes.telegram.flood import FloodGate
from tests.fakes.telegram.limits import (
    ERR_BLOCKED,
    ERR_CANT_INITIATE,
    ERR_CHAT_NOT_FOUND,
    ERR_DEACTIVATED,
    ERR_NOT_FOUND,
    ERR_REPLY_NOT_FOUND,
    ERR_THREAD_NOT_FOUND,
    ERR_UNAUTHORIZED,
    FIRST_CALLBACK_QUERY_ID,
    FIRST_MEDIA_GROUP_ID,
    ApiError,
    too_many_requests,
)
from tests.fakes.telegram.markup import inline_rows
from tests.fakes.telegram.models import (
    FakeChat,
    FakeUser,
    FloodLimits,
    RecordedCall,
    StoredMessage,
    without_none,
)
from tests.fakes.telegram.params import Params
from tests.fakes.telegram.updates import UpdateQueue, Webhook

MethodHandler = Callable[[Params], Awaitable[Any]]


class TelegramCore:
    """The state of a fake Telegram server and the helpers its methods share (see `FakeTelegram`)."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int | None = None,
        bot_username: str = "mjgram_test_bot",
        flood: FloodLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        # Like Telegram, the bot's user id is the number before the colon of its token.
        if bot_id is None:
            bot_id = int(token.split(":", 1)[0])
        self.bot_user = FakeUser(bot_id, "MJ Gram Test", bot_username, language_code=None, is_bot=True)
        self.base_url = ""
        self.calls: list[RecordedCall] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.admins: dict[int, set[int]] = {}  # chat id -> user ids getChatMember reports as administrators
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}  # chat id (None: default) -> menu button
        self.blocked_chats: set[int] = set()
        self.deactivated_chats: set[int] = set()  # users who deleted their account (see copying.py)
        self.flood_hits = 0
        self._flood = FloodGate(flood, clock) if flood else None
        self._chats: dict[int, FakeChat] = {}
        self._private_peers: dict[int, FakeUser] = {}
        self._threads: dict[int, set[int]] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._files = FileStore()
        self._updates = UpdateQueue()
        self._webhook: Webhook | None = None
        self._poll_generation = 0
        self._polls_in_flight = 0
        self._open_callback_queries: set[str] = set()
        self._callback_query_ids = itertools.count(FIRST_CALLBACK_QUERY_ID)
        self._media_group_ids = itertools.count(FIRST_MEDIA_GROUP_ID)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._injected: dict[str, deque[ApiError]] = {}
        self._download_failures: deque[int] = deque()  # statuses the next file downloads answer with
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._handlers = self._method_handlers()
        self._canonical = {name.lower(): name for name in self._handlers}

    # ---------------------------------------------------------------- dispatch
    async def _execute(
        self, method: str, params: dict[str, Any], *, token: str
    ) -> tuple[int, dict[str, Any]]:
        name = self._canonical.get(method.lower(), method)
        try:
            result = await self._dispatch(name, params, token)
        except ApiError as error:
            self._record(name, params, error)
            return error.error_code, error.payload()
        self._record(name, params, None)
        return 200, {"ok": True, "result": result}

    async def _dispatch(self, name: str, params: dict[str, Any], token: str) -> Any:
        injected = self._injected.get(name.lower())
        if injected:
            raise injected.popleft()
        if token != self.token:
            raise ApiError(ERR_UNAUTHORIZED, error_code=401)
        handler = self._handlers.get(name)
        if handler is None:
            raise ApiError(ERR_NOT_FOUND, error_code=404)
        return await handler(Params(params))

    def _record(self, method: str, params: dict[str, Any], error: ApiError | None) -> None:
        description = error.description if error else None
        self.calls.append(RecordedCall(method, params, error is None, description, time.monotonic()))
        self._notify()

    def _notify(self) -> None:
        """Wake everything waiting for a change: long polls, the webhook sender, `wait_for`."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _method_handlers(self) -> dict[str, MethodHandler]:
        """Bot API method name -> handler; `FakeTelegram` lists the methods its mixins answer."""
        return {}

    # ---------------------------------------------------------------- chats and messages
    def _known_chat(self, params: Params) -> FakeChat:
        chat_id = params.raw("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError("Bad Request: chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None and chat_id in self._known_users():
            raise ApiError(ERR_CANT_INITIATE, error_code=403)
        if chat is None:
            raise ApiError(ERR_CHAT_NOT_FOUND)
        return chat

    def _sendable_chat(self, params: Params) -> FakeChat:
        chat = self._known_chat(params)
        if chat.id in self.blocked_chats:
            raise ApiError(ERR_BLOCKED, error_code=403)
        if chat.id in self.deactivated_chats:
            raise ApiError(ERR_DEACTIVATED, error_code=403)
        return chat

    def _known_user(self, user_id: int) -> FakeUser:
        user = self._known_users().get(user_id)
        if user is None:
            raise ApiError("Bad Request: user not found")
        return user

    def _known_users(self) -> dict[int, FakeUser]:
        """Everyone who wrote anywhere, and the bot."""
        known = {m.from_user.id: m.from_user for chat in self._messages.values() for m in chat.values()}
        return known | {user.id: user for user in self._private_peers.values()}

    def _admit(self, chat: FakeChat) -> None:
        if self._flood is not None and not self._flood.admit(chat):
            self.flood_hits += 1
            raise too_many_requests(self._flood.limits.retry_after)

    def _live_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        message = self._messages.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message

    def _next_message_id(self, chat_id: int) -> int:
        return max(self._messages.get(chat_id, {}), default=0) + 1

    def _new_outgoing(
        self, chat: FakeChat, *, reply_to: int | None, thread_id: int | None, markup: dict[str, Any] | None
    ) -> StoredMessage:
        return StoredMessage(
            message_id=self._next_message_id(chat.id),
            chat_id=chat.id,
            from_user=self.bot_user,
            date=int(time.time()),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            message_thread_id=thread_id,
            outgoing=True,
        )

    def _store(self, message: StoredMessage) -> dict[str, Any]:
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        self._notify()
        return self.message_payload(message)

    def _reply_target(self, chat: FakeChat, params: Params) -> int | None:
        reply = params.opt_dict("reply_parameters") or {}
        message_id = reply.get("message_id", params.opt_int("reply_to_message_id"))
        if message_id is None:
            return None
        if self._live_message(chat.id, message_id) is not None:
            return cast(int, message_id)
        if params.flag("allow_sending_without_reply") or reply.get("allow_sending_without_reply"):
            return None
        raise ApiError(ERR_REPLY_NOT_FOUND)

    def _thread_for(self, chat: FakeChat, params: Params, reply_to: int | None) -> int | None:
        """Telegram ignores message_thread_id outside forums; in a forum the topic must exist."""
        thread_id = params.opt_int("message_thread_id")
        return self._resolve_thread(chat, thread_id, reply_to, strict=True)

    def _resolve_thread(
        self, chat: FakeChat, thread_id: int | None, reply_to: int | None, *, strict: bool = False
    ) -> int | None:
        """The forum topic a message goes to: the given one, else the replied-to message's one."""
        if not chat.is_forum:
            return None
        if thread_id is None and reply_to is not None:
            thread_id = self._messages[chat.id][reply_to].message_thread_id
        if strict and thread_id is not None and thread_id not in self._threads.get(chat.id, set()):
            raise ApiError(ERR_THREAD_NOT_FOUND)
        return thread_id

    # ---------------------------------------------------------------- API objects
    def message_payload(self, message: StoredMessage, *, with_reply: bool = True) -> dict[str, Any]:
        """The message as the Bot API returns it (and as updates carry it)."""
        chat = self._chats[message.chat_id]
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": message.from_user.to_api(),
            "date": message.date,
            "chat": self._chat_payload(chat),
        }
        if message.message_thread_id is not None:
            body |= {"message_thread_id": message.message_thread_id, "is_topic_message": True}
        target = self._messages.get(chat.id, {}).get(message.reply_to_message_id or 0)
        if with_reply and target is not None:
            body["reply_to_message"] = self.message_payload(target, with_reply=False)
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        body |= _content_payload(message)
        if inline_rows(message.reply_markup):
            body["reply_markup"] = message.reply_markup
        return body

    def _chat_payload(self, chat: FakeChat) -> dict[str, Any]:
        if chat.type == "private":
            peer = self._private_peers.get(chat.id)
            if peer is None:
                return {"id": chat.id, "type": "private", "first_name": "User"}
            names = {"first_name": peer.first_name, "username": peer.username}
            return without_none({"id": chat.id, "type": "private", **names})
        return without_none(
            {
                "id": chat.id,
                "type": chat.type,
                "title": chat.title or f"Chat {chat.id}",
                "is_forum": chat.is_forum or None,
            }
        )


def _content_payload(message: StoredMessage) -> dict[str, Any]:
    entities_key = "caption_entities" if message.has_media else "entities"
    return without_none(
        {
            "text": message.text,
            "caption": message.caption,
            "photo": message.photo,
            # For backward compatibility Telegram sets `document` too when a message is an animation.
            "document": message.document or message.animation,
            "video": message.video,
            "animation": message.animation,
            "media_group_id": message.media_group_id,
            "invoice": message.invoice,
            "successful_payment": message.successful_payment,
            entities_key: message.entities or None,
        }
    )


async def wait_event(event: asyncio.Event, seconds: float | None) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
