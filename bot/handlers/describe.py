"""/describe: a photo captioned /describe, or /describe replying to a photo or an image file."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command as CommandFilter
from aiogram.types import Message

from bot.domain import Command, JobKind
from bot.domain.errors import ImageRequired
from bot.handlers.context import requester_for
from bot.handlers.pictures import download_picture, picture_of
from bot.jobs import JobService
from bot.media import ImageDecoder


async def describe_command(
    message: Message, bot: Bot, jobs: JobService, decoder: ImageDecoder, language: str
) -> None:
    assert message.from_user is not None
    jobs.require(Command.DESCRIBE)
    picture = picture_of(message) or picture_of(message.reply_to_message)
    if picture is None:
        raise ImageRequired()
    requester = requester_for(message, message.from_user, language)
    await jobs.check_limits(requester, JobKind.DESCRIBE)  # before the picture costs a download and a decode
    data, mime = await download_picture(bot, picture, decoder)
    await jobs.describe(requester, data, mime)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="describe")
    router.message.register(describe_command, CommandFilter("describe"))
    return router
