"""The one message that shows an admin how a broadcast goes, edited as it does."""

from __future__ import annotations

import asyncio
import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.methods import EditMessageText, SendMessage

from bot.delivery.sender import Sender
from bot.i18n import Locales
from bot.storage.broadcasts import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    get_broadcast,
    recipient_counts,
    set_progress_message,
)
from bot.storage.database import Database

log = logging.getLogger(__name__)


class Progress:
    """The one message that shows how a broadcast goes, edited as it does."""

    def __init__(self, db: Database, sender: Sender, locales: Locales, broadcast: Broadcast) -> None:
        self._db = db
        self._sender = sender
        self._t = locales.translator(broadcast.language)
        self._broadcast = broadcast
        self._message_id = broadcast.progress_message_id
        self._shown: str | None = None

    async def open(self) -> None:
        """Post the progress message if no replica has yet."""
        if self._message_id is not None:
            return
        text = await self._text()
        b = self._broadcast
        try:
            sent = await self._sender.call(
                SendMessage(chat_id=b.admin_chat_id, message_thread_id=b.admin_thread_id, text=text),
                chat_id=b.admin_chat_id,
            )
        except TelegramAPIError as exc:  # the admin's chat is gone: the broadcast goes on without it
            log.warning("broadcast %s: no progress message (%s)", b.id, exc)
            return
        self._message_id, self._shown = sent.message_id, text
        async with self._db.write() as conn:
            await set_progress_message(conn, b.id, sent.message_id)

    async def every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.show()

    async def final(self) -> None:
        """The numbers once no copy is on its way any more, and how the broadcast ended."""
        await self.show(final=True)

    async def show(self, *, final: bool = False) -> None:
        text = await self._text(final=final)
        if text == self._shown or self._message_id is None:
            return
        edit = EditMessageText(chat_id=self._broadcast.admin_chat_id, message_id=self._message_id, text=text)
        try:
            await self._sender.call(edit, chat_id=self._broadcast.admin_chat_id)
        except TelegramAPIError as exc:  # the admin deleted it, or it already reads so (after a restart)
            log.info("broadcast progress not edited: %s", exc)
        self._shown = text

    async def _text(self, *, final: bool = False) -> str:
        async with self._db.read() as conn:
            counts = await recipient_counts(conn, self._broadcast.id)
            stored = await get_broadcast(conn, self._broadcast.id)
        # Until the run is over it reads "running", even once cancelled: copies may still be on their way.
        status = BroadcastStatus.RUNNING
        if final:
            status = stored.status if stored else BroadcastStatus.CANCELLED
        return self._t(
            f"broadcast-progress-{status.value}",
            sent=counts[Delivery.SENT],
            blocked=counts[Delivery.BLOCKED],
            failed=counts[Delivery.FAILED],
            remaining=counts[Delivery.PENDING],
        )
