"""Getting a user's picture out of Telegram: which file a message carries, size-checked download, decoding."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import aiohttp
from aiogram import Bot
from aiogram.types import Message

from bot.domain.errors import ImageTooBig, ImageUnreadable, PictureUnavailable
from bot.media import INPUT_IMAGE_MAX_BYTES, ImageDecoder, NotAnImage, prepare_input_image

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


def check_size(size: int | None) -> None:
    """Refuse a file Telegram reports (or that turned out) larger than a picture may be."""
    if size is not None and size > INPUT_IMAGE_MAX_BYTES:
        raise ImageTooBig(size=f"{size / MEGABYTE:.1f}", limit=INPUT_IMAGE_MAX_BYTES // MEGABYTE)


class _CappedBuffer(io.BytesIO):
    """Collects a download and stops it once it grows past the limit (Telegram's size may be missing)."""

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        check_size(self.tell() + len(chunk))
        return super().write(chunk)


async def download_picture(bot: Bot, ref: PictureRef, decoder: ImageDecoder) -> tuple[bytes, str]:
    """The picture's bytes ready for a backend (downscaled, metadata stripped) and their MIME type.

    Sizes are checked before anything is downloaded (the message's, then getFile's), the download is
    capped, and decoding waits for a free slot of `decoder`, off the event loop.
    """
    check_size(ref.size)
    buffer = _CappedBuffer()
    try:
        file = await bot.get_file(ref.file_id)
        check_size(file.file_size)
        if file.file_path is None:
            raise ImageUnreadable()
        await bot.download_file(file.file_path, destination=buffer)
    except aiohttp.ClientError as exc:
        # A file path expires after an hour, and the file server has its bad moments. The error names the
        # download URL, which holds the bot token: the logging set-up redacts it (bot.logs).
        log.warning("downloading a user's picture failed: %s", exc)
        raise PictureUnavailable() from exc
    try:
        return await decoder.run(prepare_input_image, buffer.getvalue())
    except NotAnImage as exc:
        raise ImageUnreadable() from exc
