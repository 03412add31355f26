"""Building the services from Settings: the pieces the composition root wires together."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import APIRouter

from bot.access import AccessConfig, AccessControl
from bot.backends import BackendOptions, create_backend
from bot.backends.base import Backend
from bot.config import Settings
from bot.credentials import BotSecrets, notify_url
from bot.delivery import JobDelivery
from bot.i18n import Locales
from bot.imagehost import ImageHost
from bot.jobs import JobPolicy, JobService, Questions
from bot.jobs.retention import RETENTION_LEASE, RetentionSweep
from bot.media import ImageDecoder
from bot.operators.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.operators.metrics import Metrics
from bot.payments import CreditHook, CreditRules, PaymentService
from bot.preferences import PreferenceService
from bot.quotas import Limits, QuotaGuard
from bot.region import RegionEditor
from bot.region_links import RegionLinks
from bot.replicas import Lease
from bot.roster import Roster
from bot.storage.database import Database
from webhook.app import MetricsEndpoint
from webhook.miniapp import create_region_router

POLLING_LEASE = "telegram-polling"


def backend_for(
    settings: Settings, http: httpx.AsyncClient, secrets: BotSecrets, image_host: ImageHost | None
) -> Backend:
    """The adapter MJ_BACKEND names, wired to the shared HTTP client and the bot's callback URL."""
    return create_backend(
        settings.mj_backend,
        BackendOptions(
            client=http,
            base_url=settings.mj_base_url,
            api_key=settings.mj_api_key.get_secret_value() if settings.mj_api_key else None,
            notify_url=notify_url(settings, secrets.hook),
            image_host=image_host.publish if image_host else None,
            simulator_step_seconds=settings.simulator_step_seconds,
        ),
    )


def access_for(settings: Settings, db: Database) -> AccessControl:
    return AccessControl(
        db, AccessConfig(settings.admin_ids, settings.allowed_user_ids, settings.allowed_chat_ids)
    )


def jobs_for(
    settings: Settings,
    db: Database,
    backend: Backend,
    *,
    delivery: JobDelivery,
    preferences: PreferenceService,
    questions: Questions,
    region_editing: bool,
    roster: Roster | None = None,
    payments: PaymentService | None = None,
) -> JobService:
    """The job service with the settings' timings and limits; delivery listens to its changes."""
    policy = JobPolicy(
        timeout=settings.job_timeout,
        poll_interval=settings.poll_interval,
        push_silence=settings.push_silence,
        input_timeout=settings.input_timeout,
    )
    # With payments on, DAILY_LIMIT counts free jobs: the credits hook charges the ones beyond it.
    daily = 0 if payments is not None else settings.daily_limit
    limits = Limits(daily, settings.max_active_per_user, settings.max_active_per_chat)
    return JobService(
        db,
        backend,
        policy,
        listeners=[delivery],
        quotas=QuotaGuard(limits, settings.admin_ids, pool_for=preferences.daily_pool),
        preferences=preferences,
        region_editing=region_editing,
        questions=questions,
        hooks=[CreditHook(payments.rules)] if payments is not None else (),
        roster=roster,
    )


def payments_for(
    settings: Settings, db: Database, sold: Callable[[int], None] | None = None
) -> PaymentService | None:
    """Credits for Telegram Stars when STARS_PACKS is set; None leaves the bot as it is without them."""
    if not settings.payments_on:
        return None
    rules = CreditRules(settings.job_prices, settings.daily_limit, settings.admin_ids)
    return PaymentService(db, settings.stars_packs, rules, sold=sold)


def retention_sweep(settings: Settings, db: Database, ttl: float, me: str) -> RetentionSweep:
    """RESULTS_RETENTION_DAYS; replicas on one database take turns (one sweep is enough for all)."""
    lease = Lease(db, RETENTION_LEASE, me, ttl=ttl) if db.shared else None
    return RetentionSweep(db, settings.results_retention_days, lease=lease)


def polling_lease(settings: Settings, db: Database, ttl: float, me: str) -> Lease | None:
    """Replicas on one database take turns at getUpdates; a lone process (SQLite) just polls."""
    if settings.telegram_mode != "polling" or not db.shared:
        return None
    return Lease(db, POLLING_LEASE, me, ttl=ttl)


def metrics_endpoint(settings: Settings, metrics: Metrics) -> MetricsEndpoint | None:
    """/metrics on the HTTP app, only with METRICS_TOKEN."""
    token = settings.metrics_token
    if token is None:
        return None
    return MetricsEndpoint(token.get_secret_value(), metrics.exposition, METRICS_CONTENT_TYPE)


def region_router(
    settings: Settings,
    links: RegionLinks | None,
    jobs: JobService,
    backend: Backend,
    image_host: ImageHost | None,
    locales: Locales,
    decoder: ImageDecoder,
) -> APIRouter | None:
    """The Vary (Region) Mini App's routes, when it is offered (https PUBLIC_URL)."""
    if links is None or image_host is None:
        return None
    editor = RegionEditor(jobs, backend, image_host)
    return create_region_router(
        bot_token=settings.telegram_bot_token.get_secret_value(),
        link_secret=links.secret,
        load_job=editor.load_job,
        submit=editor.submit,
        max_age=settings.input_timeout,
        locales=locales,
        decoder=decoder,
    )
