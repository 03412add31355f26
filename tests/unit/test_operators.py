"""Small pieces of the operators' part: job metrics counted once per job, registries per runtime, and what a
refused copy means for its recipient."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNetworkError
from aiogram.methods import CopyMessage, TelegramMethod

from bot.delivery.sender import Sender
from bot.domain import FailureKind, JobKind, JobStatus
from bot.operators.broadcast import delivery_for
from bot.operators.metrics import Metrics
from bot.storage.broadcasts import Delivery
from tests.factories import make_job

COPY = CopyMessage(chat_id=1, from_chat_id=2, message_id=3)


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def test_two_runtimes_in_one_process_keep_their_own_figures() -> None:
    first, second = Metrics(), Metrics()  # the global registry would refuse the second set of names
    first.record_credits_sold(100)
    assert value(first, "mjgram_credits_sold_total") == 100
    assert value(second, "mjgram_credits_sold_total") == 0


def test_a_job_counts_once_when_it_first_is_final() -> None:
    metrics = Metrics()
    running = make_job(id="a", status=JobStatus.RUNNING, created_at=100.0, updated_at=110.0)
    done = make_job(id="a", status=JobStatus.SUCCEEDED, created_at=100.0, updated_at=130.0)
    metrics.job_changed(running)
    metrics.job_changed(done)
    metrics.job_changed(done)  # told again (another listener's repeat): not counted twice
    metrics.job_changed(make_job(id="a", status=JobStatus.SUCCEEDED, used=("U1",)))  # a button used later
    assert value(metrics, "mjgram_jobs_total", kind="imagine", outcome="succeeded") == 1
    assert value(metrics, "mjgram_job_duration_seconds_sum", kind="imagine") == 30.0


def test_failed_jobs_count_as_backend_errors_unless_cancelled_by_their_user() -> None:
    metrics = Metrics()
    metrics.job_changed(
        make_job(id="b", kind=JobKind.UPSCALE, status=JobStatus.FAILED, failure=FailureKind.TIMEOUT)
    )
    metrics.job_changed(make_job(id="c", status=JobStatus.FAILED, failure=FailureKind.CANCELLED))
    assert value(metrics, "mjgram_jobs_total", kind="upscale", outcome="failed") == 1
    assert value(metrics, "mjgram_jobs_total", kind="imagine", outcome="failed") == 1
    assert value(metrics, "mjgram_backend_errors_total", kind="timeout") == 1
    assert value(metrics, "mjgram_backend_errors_total", kind="cancelled") == 0


def test_sold_credits_only_go_up() -> None:
    metrics = Metrics()
    metrics.record_credits_sold(0)
    metrics.record_credits_sold(-5)
    assert value(metrics, "mjgram_credits_sold_total") == 0


def test_only_a_403_marks_a_recipient_blocked() -> None:
    blocked = TelegramForbiddenError(COPY, "Forbidden: bot was blocked by the user")
    gone = TelegramForbiddenError(COPY, "Forbidden: user is deactivated")
    # 400 "chat not found" may be about the source chat: nobody is marked for it.
    source_chat = TelegramBadRequest(COPY, "Bad Request: chat not found")
    network = TelegramNetworkError(COPY, "timeout")
    assert delivery_for(blocked) is Delivery.BLOCKED
    assert delivery_for(gone) is Delivery.BLOCKED
    assert delivery_for(source_chat) is Delivery.FAILED
    assert delivery_for(network) is Delivery.FAILED


class AnsweringBot:
    """Stands in for aiogram's Bot: answers every call at once and records it."""

    def __init__(self) -> None:
        self.calls: list[TelegramMethod[Any]] = []

    async def __call__(self, method: TelegramMethod[Any], request_timeout: int | None = None) -> bool:
        self.calls.append(method)
        return True


async def test_a_broadcast_copy_waits_while_the_chats_jobs_are_delivered() -> None:
    bot = AnsweringBot()
    sender = Sender(cast(Bot, bot))
    with sender.delivering_jobs(42):
        waiting = asyncio.create_task(sender.call_as_chatter(COPY, chat_id=42))
        await asyncio.sleep(0.3)  # several of chatter's rechecks
        assert not waiting.done() and bot.calls == []
    assert await asyncio.wait_for(waiting, 1.0) is True
    assert bot.calls == [COPY]
