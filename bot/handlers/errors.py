"""Error handlers: a DomainError becomes its localised message; anything else is logged and apologised for."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery, ErrorEvent, Message, User

from bot.delivery.sender import Sender
from bot.domain.errors import DomainError
from bot.handlers.context import answer
from bot.i18n import Locales, Translator

log = logging.getLogger(__name__)

CALLBACK_ANSWER_LIMIT = 200


def _translator(locales: Locales, user: User | None, chosen: Translator | None) -> Translator:
    """The middleware's choice (it knows the language setting), else the Telegram language."""
    return chosen or locales.translator(user.language_code if user else None)


def _message_for(exc: Exception, t: Translator) -> str:
    if isinstance(exc, DomainError):
        return t(exc.message_id, **exc.args_for_message)
    return t("error-internal")


async def button_failed(
    event: ErrorEvent, query: CallbackQuery, sender: Sender, locales: Locales, t: Translator | None = None
) -> None:
    if not isinstance(event.exception, DomainError):
        log.error("button press failed", exc_info=event.exception)
    text = _message_for(event.exception, _translator(locales, query.from_user, t))[:CALLBACK_ANSWER_LIMIT]
    await sender.call(
        AnswerCallbackQuery(callback_query_id=query.id, text=text, show_alert=True), chat_id=None
    )


async def request_refused(
    event: ErrorEvent, message: Message, sender: Sender, locales: Locales, t: Translator | None = None
) -> None:
    text = _message_for(event.exception, _translator(locales, message.from_user, t))
    await answer(message, sender, text, refusal=True)


async def request_failed(
    event: ErrorEvent, message: Message, sender: Sender, locales: Locales, t: Translator | None = None
) -> None:
    log.error("handling a message failed", exc_info=event.exception)
    await answer(message, sender, _translator(locales, message.from_user, t)("error-internal"), refusal=True)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="errors")
    router.error.register(button_failed, F.update.callback_query.as_("query"))
    router.error.register(request_refused, ExceptionTypeFilter(DomainError), F.update.message.as_("message"))
    router.error.register(request_failed, F.update.message.as_("message"))
    return router
