"""The delivery queue: marks of a job coalesce, and the job service's listener hook queues like notify."""

from __future__ import annotations

from typing import cast

from aiogram import Bot

from bot.delivery import JobDelivery
from bot.delivery.questions import QuestionBook
from bot.delivery.sender import Sender
from bot.domain import Job
from bot.i18n import Locales
from bot.storage.database import Database
from tests.factories import make_job

CHAT = 7


class RecordingDelivery(JobDelivery):
    """Records which jobs the queue hands to `deliver` instead of talking to Telegram."""

    def __init__(self) -> None:
        super().__init__(
            Sender(cast(Bot, object())),
            cast(Database, object()),  # only resume() reads it
            Locales(),
            download=refuse_download,
            fail_result=refuse_failing,
            questions=cast(QuestionBook, object()),  # no job here waits for input
            simulated=False,
            max_image_bytes=1024,
            timeout_minutes=1,
        )
        self.delivered: list[str] = []

    async def deliver(self, job_id: str) -> None:
        self.delivered.append(job_id)


async def refuse_download(url: str, *, max_bytes: int) -> bytes:
    raise AssertionError(f"nothing should be downloaded, asked for {url}")


async def refuse_failing(job_id: str, reason: str) -> None:
    raise AssertionError(f"no result is decoded here, asked to fail {job_id}")


def job(job_id: str) -> Job:
    return make_job(id=job_id, chat_id=CHAT)


async def test_marks_before_delivery_collapse_into_one() -> None:
    delivery = RecordingDelivery()
    for job_id in ("a", "b", "a", "a", "b"):
        delivery.notify(job_id, CHAT)
    await delivery.wait_idle()
    assert delivery.delivered == ["a", "b"]
    await delivery.close()


async def test_job_changed_queues_the_job_like_notify() -> None:
    delivery = RecordingDelivery()
    delivery.job_changed(job("a"))
    delivery.job_changed(job("a"))
    await delivery.wait_idle()
    assert delivery.delivered == ["a"]
    await delivery.close()
