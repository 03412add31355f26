"""Getting a user's picture out of Telegram: which file a message carries, size-checked download."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import aiohttp
from aiogram import Bot
from aiogram.types import Message

from bot.domain.errors import ImageTooBig, ImageUnreadable, PictureUnavailable
from bot.media import INPUT_IMAGE_MAX_BYTES, NotAnImage, prepare_input_image

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class PictureRef:
    """A picture a message carries: the largest photo size, or an image sent as a file."""

    file_id: str
    size: int | None


def picture_of(message: Message | None) -> PictureRef | None:
    if message is None:
        return None
    if message.photo:
        largest = message.photo[-1]
        return PictureRef(largest.file_id, largest.file_size)
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return PictureRef(document.file_id, document.file_size)
    return None


def check_size(ref: PictureRef) -> None:
    if ref.size is not None and ref.size > INPUT_IMAGE_MAX_BYTES:
        raise ImageTooBig(size=f"{ref.size / MEGABYTE:.1f}", limit=INPUT_IMAGE_MAX_BYTES // MEGABYTE)


async def download_picture(bot: Bot, ref: PictureRef) -> tuple[bytes, str]:
    """The picture's bytes ready for a backend (downscaled, metadata stripped) and their MIME type."""
    check_size(ref)
    buffer = io.BytesIO()
    try:
        await bot.download(ref.file_id, destination=buffer)
    except aiohttp.ClientError as exc:
        # A file path expires after an hour, and the file server has its bad moments. The error names the
        # download URL, which holds the bot token: the logging set-up redacts it (bot.logs).
        log.warning("downloading a user's picture failed: %s", exc)
        raise PictureUnavailable() from exc
    data = buffer.getvalue()
    if len(data) > INPUT_IMAGE_MAX_BYTES:
        raise ImageTooBig(size=f"{len(data) / MEGABYTE:.1f}", limit=INPUT_IMAGE_MAX_BYTES // MEGABYTE)
    try:
        return prepare_input_image(data)
    except NotAnImage as exc:
        raise ImageUnreadable() from exc
