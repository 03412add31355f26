"""Composition root: builds every service from Settings, runs bot and HTTP app in one loop, closes."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.albums import AlbumCollector, FinishAlbum, MemoryAlbums, albums_for
from bot.assembly import (
    access_for,
    backend_for,
    jobs_for,
    metrics_endpoint,
    payments_for,
    polling_lease,
    region_router,
    retention_sweep,
)
from bot.backends import ensure_available, prepare_backend
from bot.backends.base import Backend, ReportsWaiting
from bot.blends import BlendService
from bot.config import Settings
from bot.credentials import BotSecrets, load_secrets, notify_url
from bot.delivery import JobDelivery
from bot.delivery.sender import DeliveryLimits, PinResponseModels, Sender
from bot.dispatch import HandlerDeps, album_finisher, build_dispatcher, menu_commands
from bot.i18n import Locales
from bot.imagehost import ImageHost, image_host_for
from bot.intake import TelegramIntake
from bot.jobs import JobService, Questions
from bot.jobs.retention import RetentionSweep
from bot.lifecycle import SHUTDOWN_STEP_SECONDS, bind_http, bounded, check_telegram, set_commands
from bot.media import USER_PICTURE_DECODES, ImageDecoder
from bot.operators import TelegramCallMetrics
from bot.operators.tools import Operators, operators_for
from bot.preferences import PreferenceService
from bot.region_links import RegionLinks
from bot.replicas import LEASE_TTL
from bot.replication import Replication
from bot.storage.credits import stars_totals
from bot.storage.database import Database
from webhook.app import create_app
from webhook.server import HttpLimits, server_config

log = logging.getLogger(__name__)

HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


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
    replication: Replication  # what several replicas on PostgreSQL add
    operators: Operators
    retention: RetentionSweep
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    albums: AlbumCollector = field(default_factory=MemoryAlbums)
    finish_album: FinishAlbum | None = None  # for albums whose collector (another replica) died
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _server: uvicorn.Server | None = None
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
        http_socket = bind_http(settings.http_host, settings.http_port)
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
        replication = Replication(db, bot, sender)
        stars = stars_totals if settings.payments_on else None
        operators = operators_for(db, sender, locales, replication.me, stars=stars, lease_ttl=lease_ttl)
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
            roster=replication.roster,
            claims=replication.claims,
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
            roster=replication.roster,
            payments=payments,
        )
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
        dispatcher = build_dispatcher(deps, once=replication.once)
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
                lease=polling_lease(settings, db, lease_ttl, replication.me),
                once=replication.intake_once,
            ),
            user_pictures,
            replication,
            operators,
            retention_sweep(settings, db, lease_ttl, replication.me),
            http_limits or HttpLimits(),
            albums=deps["albums"],
            finish_album=album_finisher(deps),
        )

    async def start(self) -> None:
        """Check Telegram, start services, the HTTP app and update intake; returns once all run."""
        me = await check_telegram(self.bot)
        log.info("running as @%s with backend %s", me.username, self.backend.name)
        if self.region_links is not None:
            self.region_links.bot_username = me.username or ""
        await self.replication.join()
        await self.jobs.start()
        await self.delivery.resume()
        self.replication.start(self.delivery, self.dispatcher)
        self.operators.broadcaster.run()
        self.retention.start()
        if self.finish_album is not None:
            await self.albums.start(self.finish_album)
        menu = menu_commands(self.backend.capabilities, payments=self.settings.payments_on)
        await set_commands(self.bot, self.locales, menu)
        app = create_app(
            self.jobs,
            self.backend,
            self.secrets.hook,
            telegram=self.intake.webhook(),
            image_host=self.image_host,
            region=region_router(
                self.settings,
                self.region_links,
                self.jobs,
                self.backend,
                self.image_host,
                self.locales,
                self.user_pictures,
            ),
            metrics=metrics_endpoint(self.settings, self.operators.metrics),
        )
        self._server = uvicorn.Server(server_config(app, self.http_limits))
        self._tasks.append(asyncio.create_task(self._server.serve(sockets=[self.http_socket]), name="http"))
        await self.intake.start()

    async def wait(self) -> None:
        await self._stopped.wait()

    def request_stop(self) -> None:
        self._stopped.set()

    async def close(self) -> None:
        """Stop intake first, then services, then connections; no step may hold the shutdown up."""
        self._stopped.set()
        self.replication.stop_taking_over()
        await bounded(self.intake.stop_polling(), "stopping Telegram polling")
        if self._server is not None:
            self._server.should_exit = True
        await bounded(self.jobs.stop(), "stopping the job poller")
        await bounded(self.operators.broadcaster.close(), "stopping broadcasts")
        await bounded(self.retention.stop(), "stopping the retention sweep")
        await bounded(self.albums.stop(), "stopping the album sweeper")
        await bounded(self.delivery.close(), "stopping delivery")
        await bounded(self.replication.leave(), "leaving the replicas")
        await bounded(self.backend.aclose(), "closing the backend")
        for task in [*self._tasks, *self.intake.handling, *filter(None, [self.intake.polling])]:
            if not task.done():
                try:
                    await asyncio.wait_for(asyncio.shield(task), timeout=SHUTDOWN_STEP_SECONDS)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
        await bounded(asyncio.gather(*self._tasks, return_exceptions=True), "stopping the HTTP server")
        await bounded(asyncio.gather(*self.intake.handling, return_exceptions=True), "finishing updates")
        await bounded(self.sender.close(), "stopping chatter")
        await bounded(self.replication.close(), "freeing the send budget")
        await bounded(self.bot.session.close(), "closing the Telegram session")
        await bounded(self.http.aclose(), "closing the HTTP client")
        await bounded(self.db.close(), "closing the database")
        self.http_socket.close()
