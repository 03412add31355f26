"""What handlers share: the Requester of a message or button press, answers, and the admin check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.methods import TelegramMethod
from aiogram.types import Message, User

from bot.access import AccessControl
from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender, chatter_key
from bot.domain import Requester
from bot.domain.errors import AdminOnly

T = TypeVar("T")


def thread_of(message: Message) -> int | None:
    """The forum topic a message belongs to (replies in plain groups also carry a thread id: ignore those)."""
    return message.message_thread_id if message.is_topic_message else None


def require_admin(message: Message, access: AccessControl) -> int:
    """The sender's id if they are one of the bot's admins; AdminOnly otherwise."""
    if message.from_user is None or not access.is_admin(message.from_user.id):
        raise AdminOnly()
    return message.from_user.id


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
    message: Message,
    sender: Sender,
    text: str,
    *,
    html: bool = False,
    quote: bool = True,
    refusal: bool = False,
) -> None:
    """Reply in the message's chat and topic (quoting it unless `quote` is off) as chatter: queued, never
    waited for. A `refusal` goes to a chat once per coalescing window, whoever drew it."""
    method = reply_message(
        message.chat.id, thread_of(message), text, reply_to=message.message_id if quote else None, html=html
    )
    say(message, sender, method, per_person=not refusal)


def say(
    message: Message,
    sender: Sender,
    method: TelegramMethod[T],
    *,
    on_sent: Callable[[T], Awaitable[None]] | None = None,
    per_person: bool = True,
) -> None:
    """Queue `method` as chatter in the message's chat; the same one to the same person goes once per
    coalescing window (`per_person` off: to the same chat)."""
    key = chatter_key(method)
    if per_person:
        key = f"{message.from_user.id if message.from_user else ''}:{key}"
    sender.say(method, chat_id=message.chat.id, key=key, on_sent=on_sent)
