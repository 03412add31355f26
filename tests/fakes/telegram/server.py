"""The fake Telegram Bot API server on 127.0.0.1: its mixins composed, its HTTP routes, its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self

import aiohttp
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from tests.fakes.telegram.chats import Chats
from tests.fakes.telegram.copying import Copying
from tests.fakes.telegram.core import MethodHandler
from tests.fakes.telegram.delivery import UpdateDelivery
from tests.fakes.telegram.driving import Driving
from tests.fakes.telegram.editing import Editing
from tests.fakes.telegram.faults import FaultInjection
from tests.fakes.telegram.inspecting import Inspecting
from tests.fakes.telegram.limits import (
    DEFAULT_FAILURE_TEXT,
    ERR_NOT_FOUND,
    ERR_UNAUTHORIZED,
    LOOPBACK,
    REQUEST_BODY_LIMIT,
    SERVER_SHUTDOWN_TIMEOUT,
    ApiError,
)
from tests.fakes.telegram.params import read_request_params
from tests.fakes.telegram.payments import Payments
from tests.fakes.telegram.sending import Sending


class LoopbackSession(AiohttpSession):
    """aiogram's own session aimed at a fake; closes without the 250 ms grace aiogram waits for TLS."""

    def __init__(self, base_url: str) -> None:
        super().__init__(api=TelegramAPIServer.from_base(base_url))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class FakeTelegram(
    Driving, Inspecting, FaultInjection, Copying, Sending, Editing, Chats, UpdateDelivery, Payments
):
    """A Bot API server on 127.0.0.1 that answers like Telegram, strictly; start it with `async with`."""

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
        if self._download_failures:
            status = self._download_failures.popleft()
            error = ApiError(DEFAULT_FAILURE_TEXT.get(status, f"Error {status}"), error_code=status)
            return web.json_response(error.payload(), status=status)
        if stored is None:
            return web.json_response(ApiError(ERR_NOT_FOUND, error_code=404).payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

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
            "copyMessage": self._copy_message,
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
            "sendInvoice": self._send_invoice,
            "createInvoiceLink": self._create_invoice_link,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
            "refundStarPayment": self._refund_star_payment,
            "getStarTransactions": self._get_star_transactions,
        }
