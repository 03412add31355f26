"""Update middlewares: pick the user's language, and keep out users the configuration does not allow."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.methods import AnswerCallbackQuery, AnswerPreCheckoutQuery, SendMessage
from aiogram.types import Chat, TelegramObject, Update, User

from bot.access import AccessControl
from bot.delivery.sender import Sender
from bot.handlers.context import thread_of
from bot.i18n import Locales, Translator
from bot.preferences import PreferenceService

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class I18nMiddleware(BaseMiddleware):
    """Puts `t` (a Translator) and `language` into handler data."""

    def __init__(self, locales: Locales, preferences: PreferenceService | None = None) -> None:
        self._locales = locales
        self._preferences = preferences

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chosen = await self._preferences.language_override(user.id) if user and self._preferences else None
        translator = self._locales.translator(chosen or (user.language_code if user else None))
        data["t"] = translator
        data["language"] = translator.language
        return await handler(event, data)


class AccessMiddleware(BaseMiddleware):
    """Stops updates from users the policy refuses; tells them once per command or button press."""

    def __init__(self, access: AccessControl, sender: Sender) -> None:
        self._access = access
        self._sender = sender

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        posted_as = _sender_chat(event)
        if _is_payment(event):
            # Telegram took the Stars already: the credits are added whoever the payer is now.
            return await handler(event, data)
        if user is None or await self._access.allows(
            user.id, chat.id if chat else None, posted_as.id if posted_as else None
        ):
            return await handler(event, data)
        t: Translator = data["t"]
        if isinstance(event, Update):
            await self._refuse(event, t)
        return None

    async def _refuse(self, update: Update, t: Translator) -> None:
        if update.pre_checkout_query is not None:
            # Answered, not ignored: Telegram would otherwise keep the buyer waiting for 10 seconds.
            method = AnswerPreCheckoutQuery(
                pre_checkout_query_id=update.pre_checkout_query.id, ok=False, error_message=t("access-denied")
            )
            await self._sender.call(method, chat_id=None)
            return
        if update.callback_query is not None:
            await self._sender.call(
                AnswerCallbackQuery(
                    callback_query_id=update.callback_query.id, text=t("access-denied"), show_alert=True
                ),
                chat_id=None,
            )
            return
        message = update.message
        if message is not None and message.text and message.text.startswith("/"):
            self._sender.say(
                SendMessage(
                    chat_id=message.chat.id, message_thread_id=thread_of(message), text=t("access-denied")
                ),
                chat_id=message.chat.id,
            )


def _is_payment(event: TelegramObject) -> bool:
    return (
        isinstance(event, Update)
        and event.message is not None
        and event.message.successful_payment is not None
    )


def _sender_chat(event: TelegramObject) -> Chat | None:
    """The chat a message was posted as: a channel, or a group for its anonymous admins."""
    if not isinstance(event, Update):
        return None
    message = event.message or event.edited_message
    return message.sender_chat if message is not None else None
