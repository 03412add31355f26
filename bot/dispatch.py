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
    operators,
    payments,
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
from bot.operators import Audience, AudienceMiddleware, Broadcaster, StatsService
from bot.payments import PaymentService
from bot.preferences import PreferenceService
from bot.region_links import RegionLinks
from bot.update_once import UpdateOnceMiddleware

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
    payments: PaymentService | None  # None: STARS_PACKS unset, no payments
    audience: Audience
    stats: StatsService
    broadcaster: Broadcaster


ROUTER_MODULES = (
    errors,
    start,
    admin,
    operators,
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


def build_dispatcher(deps: HandlerDeps, once: UpdateOnceMiddleware | None = None) -> Dispatcher:
    """Routers, middlewares and the names handlers may ask for (`once`: each update handled once)."""
    # No handler keeps conversation state (questions live in the database): aiogram's FSM would only keep a
    # record in memory for every user and chat it ever saw, for the life of the process.
    dispatcher = Dispatcher(disable_fsm=True, **deps)
    if once is not None:
        dispatcher.update.outer_middleware(once)
    dispatcher.update.outer_middleware(I18nMiddleware(deps["locales"], deps["preferences"]))
    dispatcher.update.outer_middleware(AccessMiddleware(deps["access"], deps["sender"]))
    if deps["payments"] is not None:
        # First: its error handler (out of credits, with a buy button) goes before the general one.
        dispatcher.include_router(payments.create_router())
    dispatcher.message.outer_middleware(AudienceMiddleware(deps["audience"]))
    dispatcher.include_routers(*(m.create_router() for m in ROUTER_MODULES), actions.create_fallback_router())
    return dispatcher


PAYMENT_COMMANDS = ("buy", "paysupport")  # after /me, when credits are sold


def menu_commands(capabilities: Capabilities, *, payments: bool = False) -> list[str]:
    """The commands of the menu this backend can run, and the payment ones when credits are sold."""
    names = [name for needs, name in MENU_COMMANDS if needs is None or needs in capabilities.commands]
    if payments:
        at = names.index("me") + 1
        names[at:at] = PAYMENT_COMMANDS
    return names


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
