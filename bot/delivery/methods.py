"""Telegram method builders: replies that survive a deleted original, and the messages carrying media."""

from __future__ import annotations

from aiogram.methods import SendMessage
from aiogram.types import ForceReply, InlineKeyboardMarkup, ReplyParameters

HTML = "HTML"


def reply_parameters(message_id: int | None) -> ReplyParameters | None:
    """Quote `message_id` if there is one; the reply still goes out when the user deleted it meanwhile."""
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True) if message_id else None


def reply_message(
    chat_id: int,
    thread_id: int | None,
    text: str,
    *,
    reply_to: int | None,
    html: bool = False,
    reply_markup: InlineKeyboardMarkup | ForceReply | None = None,
) -> SendMessage:
    """A text message in the chat's topic, quoting `reply_to` when given (see `reply_parameters`)."""
    return SendMessage(
        chat_id=chat_id,
        message_thread_id=thread_id,
        text=text,
        parse_mode=HTML if html else None,
        reply_markup=reply_markup,
        reply_parameters=reply_parameters(reply_to),
    )
