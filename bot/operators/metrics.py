"""Prometheus metrics of one running bot, in a registry of its own (several runtimes may share a process)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from bot.domain import Job
from bot.domain.kinds import FailureKind, JobStatus

T = TypeVar("T")

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Jobs take seconds to many minutes (a video, a queue at the backend).
JOB_DURATION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_REMEMBERED_FINALS = 10_000
NOT_BACKEND_ERRORS = frozenset({FailureKind.CANCELLED})  # the user's own doing


class Metrics:
    """The bot's counters; a `JobListener` for job outcomes, fed Telegram calls by `TelegramCallMetrics`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "mjgram_jobs", "Jobs finished, by kind and outcome", ["kind", "outcome"], registry=self.registry
        )
        self.job_duration = Histogram(
            "mjgram_job_duration_seconds",
            "Seconds from recording a job to its final state",
            ["kind"],
            buckets=JOB_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.backend_errors = Counter(
            "mjgram_backend_errors", "Jobs failed, by failure kind", ["kind"], registry=self.registry
        )
        self.telegram_calls = Counter(
            "mjgram_telegram_calls", "Bot API calls made, by method", ["method"], registry=self.registry
        )
        self.telegram_retry_after = Counter(
            "mjgram_telegram_retry_after",
            "Bot API calls Telegram answered 429 (retry_after), by method",
            ["method"],
            registry=self.registry,
        )
        self.delivery_queue = Gauge(
            "mjgram_delivery_queue_depth",
            "Jobs whose message waits to be brought up to date",
            registry=self.registry,
        )
        self.credits_sold = Counter(
            "mjgram_credits_sold", "Credits sold for Telegram Stars", registry=self.registry
        )
        self._finals: OrderedDict[str, None] = OrderedDict()

    def watch_delivery_queue(self, depth: Callable[[], int]) -> None:
        self.delivery_queue.set_function(lambda: float(depth()))

    def record_credits_sold(self, credits: int) -> None:
        """A purchase added `credits` (the payments' code calls this once per credited payment)."""
        if credits > 0:
            self.credits_sold.inc(credits)

    def job_changed(self, job: Job) -> None:
        """A job's committed state: count it once, when it first is final."""
        # A final job is told of again only when a button of it is used (`used` then is not empty).
        if not job.status.is_final or job.used or job.id in self._finals:
            return
        self._finals[job.id] = None
        if len(self._finals) > MAX_REMEMBERED_FINALS:
            self._finals.popitem(last=False)
        outcome = "succeeded" if job.status is JobStatus.SUCCEEDED else "failed"
        self.jobs.labels(kind=job.kind.value, outcome=outcome).inc()
        self.job_duration.labels(kind=job.kind.value).observe(max(job.updated_at - job.created_at, 0.0))
        if job.status is JobStatus.FAILED and job.failure not in NOT_BACKEND_ERRORS:
            reason = job.failure.value if job.failure is not None else "unknown"
            self.backend_errors.labels(kind=reason).inc()

    def telegram_call(self, method: str, *, retry_after: bool) -> None:
        self.telegram_calls.labels(method=method).inc()
        if retry_after:
            self.telegram_retry_after.labels(method=method).inc()

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


class TelegramCallMetrics(BaseRequestMiddleware):
    """Counts every Bot API call the bot's session makes, and those Telegram answered with 429."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(
        self, make_request: NextRequestMiddlewareType[T], bot: Bot, method: TelegramMethod[T]
    ) -> Response[T]:
        name: Any = getattr(method, "__api_method__", type(method).__name__)
        retry_after = False
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            retry_after = True
            raise
        finally:
            self._metrics.telegram_call(str(name), retry_after=retry_after)
