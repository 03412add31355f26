"""/shorten <prompt>: Midjourney's prompt analysis, with buttons to imagine a shortened prompt."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.domain import Command as BackendCommand
from bot.domain.errors import EmptyShorten
from bot.handlers.context import requester_for
from bot.jobs import JobService


async def shorten_command(message: Message, command: CommandObject, jobs: JobService, language: str) -> None:
    assert message.from_user is not None
    jobs.require(BackendCommand.SHORTEN)
    if not (command.args and command.args.strip()):
        raise EmptyShorten()
    await jobs.shorten(requester_for(message, message.from_user, language), command.args)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="shorten")
    router.message.register(shorten_command, Command("shorten"))
    return router
