"""Inline button presses: every callback query of ours is answered, with a reason when refused."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery

from bot.errors import ButtonExpired
from bot.handlers.context import display_name
from bot.i18n import Translator
from bot.jobs import JobService
from bot.keyboards import CALLBACK_PREFIX, button_label, parse_callback_data
from bot.sender import Sender


async def press_button(
    query: CallbackQuery, jobs: JobService, sender: Sender, t: Translator, language: str
) -> None:
    token = parse_callback_data(query.data)
    if token is None:
        raise ButtonExpired()
    job = await jobs.press(token, query.from_user.id, display_name(query.from_user), language)
    label = button_label(job.origin, t) if job.origin else t("btn-retry")
    await sender.call(
        AnswerCallbackQuery(callback_query_id=query.id, text=t("press-started", action=label)), chat_id=None
    )


async def unknown_button(query: CallbackQuery, sender: Sender, t: Translator) -> None:
    """Buttons from an older format or another bot instance: answer so the client stops spinning."""
    await sender.call(
        AnswerCallbackQuery(callback_query_id=query.id, text=t("press-expired"), show_alert=True),
        chat_id=None,
    )


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="actions")
    router.callback_query.register(press_button, F.data.startswith(CALLBACK_PREFIX))
    router.callback_query.register(unknown_button)
    return router
