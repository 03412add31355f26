"""Composition root: builds every service from Settings, runs bot and HTTP app in one loop, closes."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, BotCommandScopeDefault
from fastapi import APIRouter

from bot.albums import AlbumCollector, FinishAlbum, MemoryAlbums, albums_for
from bot.assembly import access_for, backend_for, jobs_for, payments_for, polling_lease, retention_sweep
from bot.backends import ensure_available, prepare_backend
from bot.backends.base import Backend, ReportsWaiting
from bot.blends import BlendService
from bot.config import Settings
from bot.credentials import BotSecrets, load_secrets, notify_url
from bot.delivery import JobDelivery
from bot.delivery.claims import AdvisoryClaims
from bot.delivery.sender import DeliveryLimits, PinResponseModels, Sender
from bot.dispatch import HandlerDeps, album_finisher, build_dispatcher, menu_commands
from bot.i18n import Locales
from bot.imagehost import ImageHost, image_host_for
from bot.inbox import InboxKeeper
from bot.intake import TelegramIntake
from bot.jobs import JobService, Questions
from bot.jobs.retention import RetentionSweep
from bot.media import USER_PICTURE_DECODES, ImageDecoder
from bot.operators import TelegramCallMetrics
from bot.operators.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.operators.tools import Operators, operators_for
from bot.preferences import PreferenceService
from bot.region import RegionEditor
from bot.region_links import RegionLinks
from bot.replicas import LEASE_TTL, replica_id
from bot.roster import SharedRoster
from bot.storage.credits import stars_totals
from bot.storage.database import Database
from bot.update_once import RecordBeforeConfirming, UpdateOnceMiddleware, seen_updates_for
from webhook.app import MetricsEndpoint, create_app
from webhook.miniapp import create_region_router
from webhook.server import HttpLimits, server_config

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# With several replicas: how often each looks in the outbox for other replicas' changes to its chats.
OUTBOX_SWEEP_SECONDS = 0.5
SHUTDOWN_STEP_SECONDS = 10.0


class StartupError(Exception):
    """Something the operator must fix before the bot can run; the message is one line."""


@dataclass
class Runtime:
    """Every long-lived object of a running bot."""

    settings: Settings
    http: httpx.AsyncClient
    db: Database
    locales: Locales
    bot: Bot
    sender: Sender
    backend: Backend
    delivery: JobDelivery
    jobs: JobService
    dispatcher: Dispatcher
    secrets: BotSecrets
    http_socket: socket.socket
    image_host: ImageHost | None
    region_links: RegionLinks | None
    intake: TelegramIntake
    user_pictures: ImageDecoder  # decodes users' pictures and Vary (Region) masks
    roster: SharedRoster | None  # several replicas on PostgreSQL: who is alive
    inbox: InboxKeeper | None  # and the updates a dead one left unfinished
    operators: Operators
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    albums: AlbumCollector = field(default_factory=MemoryAlbums)
    finish_album: FinishAlbum | None = None  # for albums whose collector (another replica) died
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _sweeps: list[asyncio.Task[None]] = field(default_factory=list)  # loops to cancel on close
    _server: uvicorn.Server | None = None
    _retention: RetentionSweep | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def http_port(self) -> int:
        return int(self.http_socket.getsockname()[1])

    @property
    def hook_secret(self) -> str:
        return self.secrets.hook

    @property
    def notify_url(self) -> str | None:
        return notify_url(self.settings, self.secrets.hook)

    @classmethod
    async def build(
        cls,
        settings: Settings,
        *,
        limits: DeliveryLimits | None = None,
        http_limits: HttpLimits | None = None,
        lease_ttl: float = LEASE_TTL,
    ) -> Runtime:
        ensure_available(settings.mj_backend)
        http_socket = _bind(settings.http_host, settings.http_port)
        db = Database(settings.async_database_url)
        try:
            await db.open()
            secrets = await load_secrets(settings, db)
        except Exception:
            http_socket.close()
            await db.close()
            raise
        http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
        locales = Locales()
        bot = Bot(
            settings.telegram_bot_token.get_secret_value(),
            session=AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url)),
        )
        bot.session.middleware(PinResponseModels())
        sender = Sender(bot, limits)
        me = replica_id()
        roster = SharedRoster(db, me) if db.shared else None
        if roster is not None:
            sender.limiter.hold_until(roster.settled)  # until the others count this replica in
            roster.on_change(sender.limiter.share_among)
        stars = stars_totals if settings.payments_on else None
        operators = operators_for(db, sender, locales, stars=stars, lease_ttl=lease_ttl)
        bot.session.middleware(TelegramCallMetrics(operators.metrics))
        image_host = image_host_for(settings.public_url, db) if settings.public_url else None
        # Telegram opens Mini Apps only over https: without it Vary (Region) is not offered.
        region_links = (
            RegionLinks(settings.public_url, secrets.region_link, ttl=settings.input_timeout)
            if settings.public_url and settings.public_url.startswith("https://")
            else None
        )
        backend = backend_for(settings, http, secrets, image_host)
        await prepare_backend(backend)
        questions = Questions(db)
        user_pictures = ImageDecoder(USER_PICTURE_DECODES)

        async def fail_unreadable_result(job_id: str, reason: str) -> None:
            await jobs.fail_unreadable_result(job_id, reason)  # `jobs` exists by the time delivery runs

        delivery = JobDelivery(
            sender,
            db,
            locales,
            download=backend.download,
            waiting=backend.waiting_reason if isinstance(backend, ReportsWaiting) else None,
            fail_result=fail_unreadable_result,
            decoder=ImageDecoder(),
            questions=questions,
            simulated=backend.capabilities.simulated,
            max_image_bytes=settings.max_image_bytes,
            timeout_minutes=max(1, round(settings.job_timeout / 60)),
            region_links=region_links,
            roster=roster,
            claims=AdvisoryClaims(db) if db.shared else None,
            credits_back=settings.payments_on,
        )
        preferences = PreferenceService(db)
        payments = payments_for(settings, db, sold=operators.metrics.record_credits_sold)
        jobs = jobs_for(
            settings,
            db,
            backend,
            delivery=delivery,
            preferences=preferences,
            questions=questions,
            region_editing=region_links is not None,
            roster=roster,
            payments=payments,
        )
        once = UpdateOnceMiddleware(seen_updates_for(db, me))
        if db.shared:  # an update must be recorded before Telegram is told it arrived
            bot.session.middleware(RecordBeforeConfirming(once))
        jobs.writer.listen(operators.metrics)
        operators.metrics.watch_delivery_queue(delivery.queue_depth)
        deps = HandlerDeps(
            jobs=jobs,
            sender=sender,
            locales=locales,
            capabilities=backend.capabilities,
            blends=BlendService(db),
            albums=albums_for(db),
            access=access_for(settings, db),
            delivery=delivery,
            preferences=preferences,
            region_links=region_links,
            decoder=user_pictures,
            payments=payments,
            audience=operators.audience,
            stats=operators.stats,
            broadcaster=operators.broadcaster,
        )
        dispatcher = build_dispatcher(deps, once=once)
        return cls(
            settings,
            http,
            db,
            locales,
            bot,
            sender,
            backend,
            delivery,
            jobs,
            dispatcher,
            secrets,
            http_socket,
            image_host,
            region_links,
            TelegramIntake(
                settings,
                bot,
                dispatcher,
                secrets,
                lease=polling_lease(settings, db, lease_ttl, me),
                once=once if db.shared else None,
            ),
            user_pictures,
            roster,
            InboxKeeper(db, me, bot, dispatcher, once) if roster is not None else None,
            operators,
            http_limits or HttpLimits(),
            albums=deps["albums"],
            finish_album=album_finisher(deps),
        )

    async def start(self) -> None:
        """Check Telegram, start services, the HTTP app and update intake; returns once all run."""
        from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError as exc:
            raise StartupError("Telegram rejected TELEGRAM_BOT_TOKEN (Unauthorized)") from exc
        except TelegramNetworkError as exc:
            # Not the URL: it may carry credentials.
            raise StartupError("cannot reach the Telegram Bot API at TELEGRAM_API_URL") from exc
        log.info("running as @%s with backend %s", me.username, self.backend.name)
        if self.region_links is not None:
            self.region_links.bot_username = me.username or ""
        if self.roster is not None:
            await self.roster.start()
        await self.jobs.start()
        await self.delivery.resume()
        if self.roster is not None:
            self.delivery.sweep_outbox(OUTBOX_SWEEP_SECONDS)
        if self.inbox is not None:
            self._sweeps.append(asyncio.create_task(self.inbox.run(), name="inbox"))
        self.operators.broadcaster.run()
        self._retention = retention_sweep(self.settings, self.db, LEASE_TTL)
        self._retention.start()
        if self.finish_album is not None:
            await self.albums.start(self.finish_album)
        await self._set_commands()
        app = create_app(
            self.jobs,
            self.backend,
            self.secrets.hook,
            telegram=self.intake.webhook(),
            image_host=self.image_host,
            region=self._region_router(),
            metrics=self._metrics_endpoint(),
        )
        self._server = uvicorn.Server(server_config(app, self.http_limits))
        self._tasks.append(asyncio.create_task(self._server.serve(sockets=[self.http_socket]), name="http"))
        await self.intake.start()

    def _metrics_endpoint(self) -> MetricsEndpoint | None:
        token = self.settings.metrics_token
        if token is None:
            return None
        metrics = self.operators.metrics
        return MetricsEndpoint(token.get_secret_value(), metrics.exposition, METRICS_CONTENT_TYPE)

    def _region_router(self) -> APIRouter | None:
        if self.region_links is None or self.image_host is None:
            return None
        editor = RegionEditor(self.jobs, self.backend, self.image_host)
        return create_region_router(
            bot_token=self.settings.telegram_bot_token.get_secret_value(),
            link_secret=self.region_links.secret,
            load_job=editor.load_job,
            submit=editor.submit,
            max_age=self.settings.input_timeout,
            locales=self.locales,
            decoder=self.user_pictures,
        )

    async def _set_commands(self) -> None:
        names = menu_commands(self.backend.capabilities)
        for language, t in self.locales.all_translators().items():
            commands = [BotCommand(command=c, description=t(f"cmd-{c}")) for c in names]
            code = None if language == "en" else language.split("-")[0]
            await self.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)

    async def wait(self) -> None:
        await self._stopped.wait()

    def request_stop(self) -> None:
        self._stopped.set()

    async def close(self) -> None:
        """Stop intake first, then services, then connections; no step may hold the shutdown up."""
        self._stopped.set()
        for sweep in self._sweeps:
            sweep.cancel()
        await _bounded(self.intake.stop_polling(), "stopping Telegram polling")
        if self._server is not None:
            self._server.should_exit = True
        await _bounded(self.jobs.stop(), "stopping the job poller")
        await _bounded(self.operators.broadcaster.close(), "stopping broadcasts")
        if self._retention is not None:
            await _bounded(self._retention.stop(), "stopping the retention sweep")
        await _bounded(self.albums.stop(), "stopping the album sweeper")
        await _bounded(self.delivery.close(), "stopping delivery")
        if self.roster is not None:
            await _bounded(self.roster.stop(), "leaving the replicas")
        await _bounded(self.backend.aclose(), "closing the backend")
        for task in [*self._tasks, *self.intake.handling, *filter(None, [self.intake.polling])]:
            if not task.done():
                try:
                    await asyncio.wait_for(asyncio.shield(task), timeout=SHUTDOWN_STEP_SECONDS)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
        await _bounded(asyncio.gather(*self._tasks, return_exceptions=True), "stopping the HTTP server")
        await _bounded(asyncio.gather(*self.intake.handling, return_exceptions=True), "finishing updates")
        await _bounded(self.sender.close(), "stopping chatter")
        await _bounded(self.bot.session.close(), "closing the Telegram session")
        await _bounded(self.http.aclose(), "closing the HTTP client")
        await _bounded(self.db.close(), "closing the database")
        self.http_socket.close()


async def _bounded(step: Awaitable[Any], what: str) -> None:
    """Await one shutdown step for a limited time; on overrun, say which tasks were still busy."""
    try:
        await asyncio.wait_for(step, timeout=SHUTDOWN_STEP_SECONDS)
    except TimeoutError:
        busy = sorted(t.get_name() for t in asyncio.all_tasks() if not t.done())
        log.error("%s took over %ss; tasks still running: %s", what, SHUTDOWN_STEP_SECONDS, ", ".join(busy))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only then, and without it every reply waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port} (HTTP_HOST/HTTP_PORT): {exc.strerror}") from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock
