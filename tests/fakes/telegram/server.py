"""The fake Telegram Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar, cast
from urllib.parse import urlsplit

import aiohttp
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from tests.fakes.telegram.files import FILE_ID_PREFIXES, FileStore
from tests.fakes.telegram.flood import FloodGate
from tests.fakes.telegram.html import command_entities, format_text
from tests.fakes.telegram.limits import (
    BOT_COMMAND_DESCRIPTION_MAX_LENGTH,
    BOT_COMMAND_MAX_LENGTH,
    BOT_COMMAND_PATTERN,
    CALLBACK_ANSWER_TEXT_LIMIT,
    CAPTION_LIMIT,
    CHAT_ACTIONS,
    DEFAULT_FAILURE_TEXT,
    DEFAULT_WAIT_TIMEOUT,
    DEFAULT_WEBHOOK_CONNECTIONS,
    ERR_ALBUM_ANIMATION,
    ERR_ANSWER_TOO_LONG,
    ERR_BAD_WEBHOOK_HOST,
    ERR_BLOCKED,
    ERR_BOT_COMMAND,
    ERR_BOT_COMMAND_DESCRIPTION,
    ERR_CANT_EDIT,
    ERR_CANT_INITIATE,
    ERR_CAPTION_TOO_LONG,
    ERR_CHAT_ACTION,
    ERR_CHAT_NOT_FOUND,
    ERR_DELETE_NOT_FOUND,
    ERR_EDIT_NOT_FOUND,
    ERR_FILE_TOO_BIG,
    ERR_FILE_TYPE_MISMATCH,
    ERR_INLINE_MESSAGES,
    ERR_INVALID_FILE_ID,
    ERR_MEDIA_GROUP_MIX,
    ERR_MEDIA_GROUP_SIZE,
    ERR_NO_CAPTION,
    ERR_NO_TEXT,
    ERR_NOT_FOUND,
    ERR_NOT_MODIFIED,
    ERR_POLL_BY_WEBHOOK,
    ERR_POLL_TERMINATED,
    ERR_QUERY_TOO_OLD,
    ERR_REPLY_NOT_FOUND,
    ERR_SECRET_TOKEN,
    ERR_TEXT_EMPTY,
    ERR_TEXT_TOO_LONG,
    ERR_THREAD_NOT_FOUND,
    ERR_UNAUTHORIZED,
    ERR_UNSUPPORTED_MEDIA,
    ERR_URL_CONTENT,
    ERR_WEBHOOK_ACTIVE,
    ERR_WRONG_FILE,
    FIRST_CALLBACK_QUERY_ID,
    FIRST_MEDIA_GROUP_ID,
    GET_FILE_MAX_BYTES,
    GET_UPDATES_MAX_LIMIT,
    LOOPBACK,
    LOOPBACK_HOSTS,
    MEDIA_GROUP_MAX_ITEMS,
    MEDIA_GROUP_MIN_ITEMS,
    REQUEST_BODY_LIMIT,
    SECRET_TOKEN_HEADER,
    SECRET_TOKEN_PATTERN,
    SERVER_SHUTDOWN_TIMEOUT,
    TEXT_LIMIT,
    TIMEOUT_REPORT_CALLS,
    URL_FETCH_TIMEOUT,
    WEBHOOK_DELIVERY_TIMEOUT,
    WEBHOOK_RETRY_DELAY,
    ApiError,
    too_many_requests,
)
from tests.fakes.telegram.markup import find_button, inline_rows, same_markup, validate_reply_markup
from tests.fakes.telegram.models import (
    FakeChat,
    FakeUser,
    FileKind,
    FloodLimits,
    FormattedText,
    MediaContent,
    NewFile,
    RecordedCall,
    StoredFile,
    StoredMessage,
    UploadedFile,
    without_none,
)
from tests.fakes.telegram.params import Params, coerce_params, read_request_params
from tests.fakes.telegram.updates import UpdateQueue, Webhook, is_loopback_url, read_webhook_reply

T = TypeVar("T")


class LoopbackSession(AiohttpSession):
    """aiogram's own session aimed at a fake; closes without the 250 ms grace aiogram waits for TLS."""

    def __init__(self, base_url: str) -> None:
        super().__init__(api=TelegramAPIServer.from_base(base_url))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


MethodHandler = Callable[[Params], Awaitable[Any]]


class FakeTelegram:
    """A Bot API server on 127.0.0.1 that answers like Telegram, strictly; start it with `async with`."""

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
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._handlers = self._method_handlers()
        self._canonical = {name.lower(): name for name in self._handlers}

    # ---------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=REQUEST_BODY_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        self._runner = web.AppRunner(app, shutdown_timeout=SERVER_SHUTDOWN_TIMEOUT, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{LOOPBACK}:{port}"
        self._http = aiohttp.ClientSession(trust_env=False)
        self._webhook_task = asyncio.create_task(self._deliver_webhook_updates())

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls return at once
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
        self._runner = self._http = self._webhook_task = None

    # ---------------------------------------------------------------- driving the bot
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
    ) -> StoredMessage:
        """A user writes to the bot: store the message and queue its Update."""
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
        self._updates.push("message", self.message_payload(message))
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

    # ---------------------------------------------------------------- inspecting
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

    # ---------------------------------------------------------------- fault injection
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

    # ---------------------------------------------------------------- HTTP
    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await read_request_params(request)
        except ApiError as error:
            self._record(method, {}, error)
            return web.json_response(error.payload(), status=error.error_code)
        status, body = await self._execute(method, params, token=request.match_info["token"])
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(ERR_UNAUTHORIZED, error_code=401).payload(), status=401)
        stored = self._files.by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(ERR_NOT_FOUND, error_code=404).payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

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
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVideo": self._send_video,
            "sendAnimation": self._send_animation,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageMedia": self._edit_message_media,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    # ---------------------------------------------------------------- bot & updates
    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(ERR_WEBHOOK_ACTIVE, error_code=409)
        limit = min(max(params.opt_int("limit") or GET_UPDATES_MAX_LIMIT, 1), GET_UPDATES_MAX_LIMIT)
        deadline = asyncio.get_running_loop().time() + max(params.opt_int("timeout") or 0, 0)
        self._set_allowed_updates(params.opt_list("allowed_updates"))
        self._updates.confirm(params.opt_int("offset"))
        self._poll_generation += 1
        self._polls_in_flight += 1
        self._notify()  # an older long poll still waiting now ends with 409, as on Telegram
        try:
            return await self._poll(self._poll_generation, limit, deadline)
        finally:
            self._polls_in_flight -= 1

    async def _poll(self, generation: int, limit: int, deadline: float) -> list[dict[str, Any]]:
        while True:
            changed = self._changed
            if self._webhook is not None:
                raise ApiError(ERR_POLL_BY_WEBHOOK, error_code=409)
            if generation != self._poll_generation:
                raise ApiError(ERR_POLL_TERMINATED, error_code=409)
            batch = self._updates.peek(limit)
            remaining = deadline - asyncio.get_running_loop().time()
            if batch or self._closing or remaining <= 0:
                return batch
            await wait_event(changed, remaining)

    def _set_allowed_updates(self, allowed: list[Any] | None) -> None:
        if allowed is not None:  # an empty list means "all the default types"
            self._updates.allowed = frozenset(str(kind) for kind in allowed) or None

    async def _set_webhook(self, params: Params) -> bool:
        url = params.opt_str("url") or ""
        if not url:
            self._webhook = None
            return True
        if not is_loopback_url(url):
            raise ApiError(ERR_BAD_WEBHOOK_HOST)
        secret = params.opt_str("secret_token")
        if secret is not None and not SECRET_TOKEN_PATTERN.fullmatch(secret):
            raise ApiError(ERR_SECRET_TOKEN)
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._set_allowed_updates(params.opt_list("allowed_updates"))
        self._webhook = Webhook(url, secret, params.opt_int("max_connections") or DEFAULT_WEBHOOK_CONNECTIONS)
        self._notify()  # long polls in flight end with 409
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._webhook = None
        self._notify()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook is not None:
            info |= without_none(
                {
                    "url": self._webhook.url,
                    "max_connections": self._webhook.max_connections,
                    "last_error_date": self._webhook.last_error_date,
                    "last_error_message": self._webhook.last_error_message,
                }
            )
        if self._updates.allowed:
            info["allowed_updates"] = sorted(self._updates.allowed)
        return info

    # ---------------------------------------------------------------- sending
    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._sendable_chat(params)
        body = self._message_text(params.opt_str("text"), params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        message = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=markup)
        message.text, message.entities = body.text, body.entities
        message.raw_text, message.parse_mode = params.opt_str("text"), params.opt_str("parse_mode")
        return self._store(message)

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def _send_video(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "video")

    async def _send_animation(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "animation")

    async def _send_file(self, params: Params, kind: FileKind) -> dict[str, Any]:
        """sendPhoto, sendDocument, sendVideo, sendAnimation: the file is in the parameter named `kind`."""
        chat = self._sendable_chat(params)
        caption = self._top_level_caption(params)
        content = await self._content_input(kind, params.raw(kind), params, params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        message = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=markup)
        message.show(content)
        self._set_caption(message, caption, params.opt_str("caption"), params.opt_str("parse_mode"))
        return self._store(message)

    async def _send_media_group(self, params: Params) -> list[dict[str, Any]]:
        chat = self._sendable_chat(params)
        items = params.opt_list("media") or []
        if not MEDIA_GROUP_MIN_ITEMS <= len(items) <= MEDIA_GROUP_MAX_ITEMS:
            raise ApiError(ERR_MEDIA_GROUP_SIZE)
        kinds = {item.get("type") if isinstance(item, dict) else None for item in items}
        if "document" in kinds and len(kinds) > 1:
            raise ApiError(ERR_MEDIA_GROUP_MIX)
        if "animation" in kinds:
            raise ApiError(ERR_ALBUM_ANIMATION)
        contents = [await self._input_media(item, params) for item in items]
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        group_id = str(next(self._media_group_ids))
        sent = []
        for item, (caption, content) in zip(items, contents, strict=True):
            message = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=None)
            message.show(content)
            message.media_group_id = group_id
            self._set_caption(message, caption, item.get("caption"), item.get("parse_mode"))
            sent.append(self._store(message))
        return sent

    async def _send_chat_action(self, params: Params) -> bool:
        self._sendable_chat(params)
        if params.opt_str("action") not in CHAT_ACTIONS:
            raise ApiError(ERR_CHAT_ACTION)
        return True

    # ---------------------------------------------------------------- editing
    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        if message.text is None:
            raise ApiError(ERR_NO_TEXT)
        body = self._message_text(params.opt_str("text"), params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        same_text = (body.text, body.entities) == (message.text, message.entities)
        if same_text and same_markup(markup, message.reply_markup):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        message.text, message.entities, message.reply_markup = body.text, body.entities, markup
        message.raw_text, message.parse_mode = params.opt_str("text"), params.opt_str("parse_mode")
        return self._finish_edit(message)

    async def _edit_message_caption(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        if not message.has_media:
            raise ApiError(ERR_NO_CAPTION)
        caption = self._top_level_caption(params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        if _caption_state(caption) == (message.caption, message.entities) and same_markup(
            markup, message.reply_markup
        ):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        self._set_caption(message, caption, params.opt_str("caption"), params.opt_str("parse_mode"))
        message.reply_markup = markup
        return self._finish_edit(message)

    async def _edit_message_media(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        media = params.opt_dict("media")
        if media is None:
            raise ApiError("Bad Request: media is empty")
        caption, content = await self._input_media(media, params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        if content.unique_id == message.content.unique_id and (
            _caption_state(caption) == (message.caption, message.entities)
            and same_markup(markup, message.reply_markup)
        ):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        message.text, message.reply_markup = None, markup
        message.show(content)
        self._set_caption(message, caption, media.get("caption"), media.get("parse_mode"))
        return self._finish_edit(message)

    async def _edit_reply_markup(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        if same_markup(markup, message.reply_markup):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        message.reply_markup = markup
        return self._finish_edit(message)

    async def _delete_message(self, params: Params) -> bool:
        chat = self._known_chat(params)
        message = self._live_message(chat.id, params.req_int("message_id"))
        if message is None:
            raise ApiError(ERR_DELETE_NOT_FOUND)
        message.deleted = True
        self._notify()
        return True

    def _editable_message(self, params: Params) -> tuple[FakeChat, StoredMessage]:
        if params.opt_str("inline_message_id"):
            raise ApiError(ERR_INLINE_MESSAGES)  # the fake has no inline mode
        chat = self._sendable_chat(params)
        message = self._live_message(chat.id, params.req_int("message_id"))
        if message is None:
            raise ApiError(ERR_EDIT_NOT_FOUND)
        if not message.outgoing:
            raise ApiError(ERR_CANT_EDIT)
        return chat, message

    def _begin_edit(self, message: StoredMessage) -> None:
        message.history.append(self.message_payload(message))

    def _finish_edit(self, message: StoredMessage) -> dict[str, Any]:
        message.edits += 1
        message.edit_date = int(time.time())
        self._notify()
        return self.message_payload(message)

    # ---------------------------------------------------------------- callbacks, commands, chats, files
    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.req_str("callback_query_id")
        if query_id not in self._open_callback_queries:
            raise ApiError(ERR_QUERY_TOO_OLD)
        if len(params.opt_str("text") or "") > CALLBACK_ANSWER_TEXT_LIMIT:
            raise ApiError(ERR_ANSWER_TOO_LONG)
        self._open_callback_queries.discard(query_id)
        self.callback_answers[query_id] = params.subset(CALLBACK_ANSWER_PARAMS)
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.opt_list("commands")
        if commands is None:
            raise ApiError("Bad Request: commands is empty")
        for command in commands:
            _validate_bot_command(command)
        self._commands[_commands_key_of(params)] = commands
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, Any]]:
        return list(self._commands.get(_commands_key_of(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(_commands_key_of(params), None)
        return True

    async def _set_chat_menu_button(self, params: Params) -> bool:
        chat_id = params.raw("chat_id")
        if chat_id is not None:
            self._known_chat(params)
        self.menu_buttons[chat_id] = params.opt_dict("menu_button") or {"type": "default"}
        return True

    async def _get_chat_menu_button(self, params: Params) -> dict[str, Any]:
        return self.menu_buttons.get(params.raw("chat_id"), {"type": "commands"})

    async def _get_chat(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(params)
        return {**self._chat_payload(chat), **CHAT_FULL_INFO_DEFAULTS}

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(params)
        user_id = params.req_int("user_id")
        user = self._known_user(user_id)
        if user_id in self.admins.get(chat.id, set()):
            return {"status": "administrator", "user": user.to_api(), **ADMINISTRATOR_RIGHTS}
        return {"status": "member", "user": user.to_api()}

    async def _get_file(self, params: Params) -> dict[str, Any]:
        stored = self._files.get(params.req_str("file_id"))
        if stored is None:
            raise ApiError(ERR_INVALID_FILE_ID)
        if len(stored.data) > GET_FILE_MAX_BYTES:
            raise ApiError(ERR_FILE_TOO_BIG)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

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

    def _message_text(self, raw: str | None, params: Params) -> FormattedText:
        body = format_text(raw or "", params.opt_str("parse_mode"), params.opt_list("entities"))
        if not body.text:
            raise ApiError(ERR_TEXT_EMPTY)
        if len(body.text) > TEXT_LIMIT:
            raise ApiError(ERR_TEXT_TOO_LONG)
        return body

    def _top_level_caption(self, params: Params) -> FormattedText | None:
        return self._caption(
            params.opt_str("caption"), params.opt_str("parse_mode"), params.raw("caption_entities")
        )

    def _caption(self, raw: str | None, parse_mode: str | None, entities: Any) -> FormattedText | None:
        if not raw:
            return None
        body = format_text(raw, parse_mode, entities if isinstance(entities, list) else None)
        if len(body.text) > CAPTION_LIMIT:
            raise ApiError(ERR_CAPTION_TOO_LONG)
        return body if body.text else None

    def _set_caption(
        self, message: StoredMessage, caption: FormattedText | None, raw: str | None, parse_mode: str | None
    ) -> None:
        message.caption = caption.text if caption else None
        message.entities = caption.entities if caption else []
        message.raw_text = raw if caption else None
        message.parse_mode = parse_mode

    # ---------------------------------------------------------------- media inputs
    async def _input_media(self, item: Any, params: Params) -> tuple[FormattedText | None, MediaContent]:
        """An InputMedia object (photo, video, animation, document): its caption and what it shows."""
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in FILE_ID_PREFIXES:
            raise ApiError(ERR_UNSUPPORTED_MEDIA)
        caption = self._caption(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
        # InputMediaVideo/Animation carry their own width, height and duration.
        own = Params(coerce_params({k: v for k, v in item.items() if k in ("width", "height", "duration")}))
        return caption, await self._content_input(cast(FileKind, kind), item.get("media"), params, own)

    async def _content_input(
        self, kind: FileKind, value: Any, params: Params, details: Params
    ) -> MediaContent:
        """New or reused content of one kind; `details` holds the declared width, height, duration."""
        if kind == "photo":
            return MediaContent(photo=await self._photo_input(value, params))
        if kind == "document":
            return MediaContent(document=await self._document_input(value, params))
        source = await self._file_input(value, params, kind)
        if isinstance(source, NewFile):
            adding = self._files.add_video if kind == "video" else self._files.add_animation
            return adding(source, details)
        if kind == "video" and (video := self._files.video(source.file_id)) is not None:
            return MediaContent(video=video)
        if kind == "animation" and (animation := self._files.animation(source.file_id)) is not None:
            return MediaContent(animation=animation)
        raise ApiError(ERR_FILE_TYPE_MISMATCH)

    async def _photo_input(self, value: Any, params: Params) -> list[dict[str, Any]]:
        source = await self._file_input(value, params, "photo")
        if isinstance(source, NewFile):
            return self._files.add_photo(source.data)
        sizes = self._files.photo_sizes(source.file_id)
        if sizes is None:
            raise ApiError(ERR_FILE_TYPE_MISMATCH)
        return sizes

    async def _document_input(self, value: Any, params: Params) -> dict[str, Any]:
        source = await self._file_input(value, params, "document")
        if isinstance(source, NewFile):
            return self._files.add_document(source.data, source.file_name, source.content_type)
        document = self._files.document(source.file_id)
        if document is None:
            raise ApiError(ERR_FILE_TYPE_MISMATCH)
        return document

    async def _file_input(self, value: Any, params: Params, field_name: str) -> NewFile | StoredFile:
        """An upload, an `attach://<part>` reference, an http(s) URL or a file_id issued earlier."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.raw(value.removeprefix("attach://"))
            if not isinstance(value, UploadedFile):
                raise ApiError(ERR_WRONG_FILE)
        if isinstance(value, UploadedFile):
            return NewFile(value.data, value.filename, value.content_type)
        if not isinstance(value, str) or not value:
            raise ApiError(f"Bad Request: there is no {field_name} in the request")
        if value.startswith(("http://", "https://")):
            return await self._fetch_url(value)
        stored = self._files.get(value)
        if stored is None:
            raise ApiError(ERR_WRONG_FILE)
        return stored

    async def _fetch_url(self, url: str) -> NewFile:
        """Telegram downloads by-URL files itself; the fake only ever fetches from loopback."""
        if urlsplit(url).hostname not in LOOPBACK_HOSTS or self._http is None:
            raise ApiError(ERR_URL_CONTENT)
        try:
            timeout = aiohttp.ClientTimeout(total=URL_FETCH_TIMEOUT)
            async with self._http.get(url, timeout=timeout) as response:
                if response.status >= 400:
                    raise ApiError(ERR_WRONG_FILE)
                data = await response.read()
                content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError):
            raise ApiError(ERR_URL_CONTENT) from None
        file_name = urlsplit(url).path.rsplit("/", 1)[-1] or "file"
        return NewFile(data, file_name, content_type)

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

    # ---------------------------------------------------------------- webhook delivery
    async def _deliver_webhook_updates(self) -> None:
        while not self._closing:
            changed = self._changed
            pending = self._updates.peek(1) if self._webhook is not None else []
            if not pending:
                await wait_event(changed, None)
            elif not await self._post_update(pending[0]):
                await wait_event(self._changed, WEBHOOK_RETRY_DELAY)  # retry after a pause or any change

    async def _post_update(self, update: dict[str, Any]) -> bool:
        webhook, http = self._webhook, self._http
        assert webhook is not None and http is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_TOKEN_HEADER] = webhook.secret_token
        try:
            async with http.post(
                webhook.url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_DELIVERY_TIMEOUT),
            ) as response:
                if response.status // 100 != 2:
                    reason = f"Wrong response from the webhook: {response.status}"
                    return self._webhook_failed(webhook, reason)
                reply = await read_webhook_reply(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            return self._webhook_failed(webhook, f"Connection failed: {type(error).__name__}")
        self._updates.drop(update["update_id"])
        self._notify()
        if reply is not None:  # a method call in the webhook's answer runs like a request
            await self._execute(reply[0], coerce_params(reply[1]), token=self.token)
        return True

    def _webhook_failed(self, webhook: Webhook, message: str) -> bool:
        webhook.last_error_date, webhook.last_error_message = int(time.time()), message
        self._notify()
        return False

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


CALLBACK_ANSWER_PARAMS = ("callback_query_id", "text", "show_alert", "url", "cache_time")
CHAT_FULL_INFO_DEFAULTS: dict[str, Any] = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"),
        False,
    ),
}
ADMINISTRATOR_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


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
            entities_key: message.entities or None,
        }
    )


def _caption_state(caption: FormattedText | None) -> tuple[str | None, list[dict[str, Any]]]:
    return (caption.text, caption.entities) if caption else (None, [])


def _chat_instance(chat_id: int) -> str:
    return str(abs(chat_id) * 7919 % 10**18 + 10**17)


def _commands_key_of(params: Params) -> tuple[str, str]:
    return commands_key(params.opt_dict("scope"), params.opt_str("language_code") or "")


def commands_key(scope: dict[str, Any] | None, language_code: str) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def _validate_bot_command(command: Any) -> None:
    if not isinstance(command, dict):
        raise ApiError("Bad Request: can't parse BotCommand JSON object")
    name, description = str(command.get("command", "")), str(command.get("description", ""))
    if not (0 < len(name) <= BOT_COMMAND_MAX_LENGTH and BOT_COMMAND_PATTERN.fullmatch(name)):
        raise ApiError(ERR_BOT_COMMAND)
    if not 0 < len(description.strip()) <= BOT_COMMAND_DESCRIPTION_MAX_LENGTH:
        raise ApiError(ERR_BOT_COMMAND_DESCRIPTION)


def _brief(params: dict[str, Any]) -> str:
    text = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return text if len(text) <= 200 else text[:197] + "..."


async def wait_event(event: asyncio.Event, seconds: float | None) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
