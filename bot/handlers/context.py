"""Turning an incoming message or button press into the service's Requester."""

from __future__ import annotations

from aiogram.types import Message, User

from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender
from bot.domain import Requester


def thread_of(message: Message) -> int | None:
    """The forum topic a message belongs to (replies in plain groups also carry a thread id: ignore those)."""
    return message.message_thread_id if message.is_topic_message else None


def display_name(user: User) -> str:
    return user.full_name or (f"@{user.username}" if user.username else str(user.id))


def requester_for(message: Message, user: User, language: str) -> Requester:
    """The requester of a command: answers reply to the command message, in its topic."""
    return Requester(
        chat_id=message.chat.id,
        user_id=user.id,
        user_name=display_name(user),
        language=language,
        thread_id=thread_of(message),
        reply_to_message_id=message.message_id,
    )


async def answer(
    message: Message, sender: Sender, text: str, *, html: bool = False, quote: bool = True
) -> None:
    """Reply in the message's chat and topic (quoting it unless `quote` is off), through the sender."""
    await sender.call(
        reply_message(
            message.chat.id,
            thread_of(message),
            text,
            reply_to=message.message_id if quote else None,
            html=html,
        ),
        chat_id=message.chat.id,
    )
