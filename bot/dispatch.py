"""The dispatcher: its routers and middlewares, and the names handlers may ask for, declared once."""

from __future__ import annotations

from typing import TypedDict

from aiogram import Dispatcher
from aiogram.types import Message

from bot.access import AccessControl
from bot.albums import AlbumCollector, FinishAlbum
from bot.blends import BlendService
from bot.delivery import JobDelivery
from bot.delivery.sender import Sender
from bot.domain import Capabilities, Command
from bot.domain.errors import DomainError
from bot.handlers import (
    account,
    actions,
    admin,
    blend,
    describe,
    errors,
    fallback,
    imagine,
    replies,
    seed,
    shorten,
    start,
)
from bot.handlers import settings as settings_panel
from bot.handlers.context import answer
from bot.i18n import Locales
from bot.jobs import JobService
from bot.media import ImageDecoder
from bot.middlewares import AccessMiddleware, I18nMiddleware
from bot.preferences import PreferenceService
from bot.region_links import RegionLinks
from bot.update_once import SeenUpdates, UpdateOnceMiddleware

# The command menu, in order; a command the backend lacks is left out of it.
MENU_COMMANDS = (
    (None, "imagine"),
    (Command.DESCRIBE, "describe"),
    (Command.BLEND, "blend"),
    (Command.SHORTEN, "shorten"),
    (None, "history"),
    (None, "settings"),
    (None, "me"),
    (None, "cancel"),
    (None, "help"),
)


class HandlerDeps(TypedDict):
    """What a handler may ask for by parameter name (besides aiogram's own `bot`, `event_*`, and the
    middlewares' `t` and `language`)."""

    jobs: JobService
    sender: Sender
    locales: Locales
    capabilities: Capabilities
    blends: BlendService
    albums: AlbumCollector
    access: AccessControl
    delivery: JobDelivery
    preferences: PreferenceService
    region_links: RegionLinks | None
    decoder: ImageDecoder


ROUTER_MODULES = (
    errors,
    start,
    admin,
    account,
    settings_panel,
    imagine,
    describe,
    shorten,
    seed,
    blend,
    replies,
    actions,
    fallback,
)


def build_dispatcher(deps: HandlerDeps, seen: SeenUpdates | None = None) -> Dispatcher:
    """Routers, middlewares and the names handlers may ask for (`seen`: updates handled once)."""
    dispatcher = Dispatcher(**deps)
    if seen is not None:
        dispatcher.update.outer_middleware(UpdateOnceMiddleware(seen))
    dispatcher.update.outer_middleware(I18nMiddleware(deps["locales"], deps["preferences"]))
    dispatcher.update.outer_middleware(AccessMiddleware(deps["access"], deps["sender"]))
    dispatcher.include_routers(*(m.create_router() for m in ROUTER_MODULES), actions.create_fallback_router())
    return dispatcher


def menu_commands(capabilities: Capabilities) -> list[str]:
    """The commands of the menu this backend can run."""
    return [name for needs, name in MENU_COMMANDS if needs is None or needs in capabilities.commands]


def album_finisher(deps: HandlerDeps) -> FinishAlbum:
    """Finish an album whose collector (another replica) died, as the /blend handler would."""

    async def finish(parts: list[Message]) -> None:
        user = parts[0].from_user
        chosen = await deps["preferences"].language_override(user.id) if user else None
        t = deps["locales"].translator(chosen or (user.language_code if user else None))
        try:
            await blend.whole_album(parts, deps["blends"], deps["jobs"], deps["sender"], t)
        except DomainError as exc:  # what the errors router says to a refused album
            await answer(parts[0], deps["sender"], t(exc.message_id, **exc.args_for_message), refusal=True)

    return finish
