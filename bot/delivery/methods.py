"""Telegram method builders: replies that survive a deleted original, and the messages carrying media."""

from __future__ import annotations

from typing import Any

from aiogram.methods import SendAnimation, SendMessage, SendPhoto, SendVideo
from aiogram.types import (
    ForceReply,
    InlineKeyboardMarkup,
    InputMediaAnimation,
    InputMediaPhoto,
    InputMediaVideo,
    ReplyParameters,
)

from bot.delivery.media import Media
from bot.media import VideoFormat

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


def media_message(
    media: Media,
    chat_id: int,
    thread_id: int | None,
    caption: str,
    keyboard: InlineKeyboardMarkup | None,
    reply: ReplyParameters | None,
) -> SendPhoto | SendVideo | SendAnimation:
    """A new message carrying `media`: a photo, a video (MP4) or an animation (GIF)."""
    common: dict[str, Any] = {
        "chat_id": chat_id,
        "message_thread_id": thread_id,
        "caption": caption,
        "parse_mode": HTML,
        "reply_markup": keyboard,
        "reply_parameters": reply,
    }
    match media.moving:
        case VideoFormat.VIDEO:
            return SendVideo(video=media.input, supports_streaming=True, **common)
        case VideoFormat.ANIMATION:
            return SendAnimation(animation=media.input, **common)
    return SendPhoto(photo=media.input, **common)


def input_media(media: Media, caption: str) -> InputMediaPhoto | InputMediaVideo | InputMediaAnimation:
    """`media` as the new content of an existing message (editMessageMedia)."""
    match media.moving:
        case VideoFormat.VIDEO:
            return InputMediaVideo(
                media=media.input, caption=caption, parse_mode=HTML, supports_streaming=True
            )
        case VideoFormat.ANIMATION:
            return InputMediaAnimation(media=media.input, caption=caption, parse_mode=HTML)
    return InputMediaPhoto(media=media.input, caption=caption, parse_mode=HTML)
