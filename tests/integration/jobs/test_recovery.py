"""A restart between the backend accepting a submit and the bot storing its task id: no double charge."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.backends.base import Backend
from bot.backends.mjproxy import MjProxyBackend
from bot.backends.mjproxy.adapter import LISTED_TASKS
from bot.backends.simulator import SimulatorBackend
from bot.domain import FailureKind, Job, JobKind, JobStatus
from bot.domain.buttons import RETRY_REF
from bot.jobs import JobPolicy, JobService
from bot.quotas import Limits, QuotaGuard
from bot.storage.database import Database
from tests.fakes.mjproxy import DEFAULT_SECRET, FakeMjProxy
from tests.integration.jobs.test_job_service import ALICE, RecordingListener, Service

PROMPT = "a lighthouse at dusk"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await db.open()
    yield db
    await db.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeMjProxy]:
    async with FakeMjProxy() as proxy:
        yield proxy


@pytest.fixture
def proxy_backend(fake: FakeMjProxy, client: httpx.AsyncClient) -> MjProxyBackend:
    return MjProxyBackend(client, fake.base_url, api_key=DEFAULT_SECRET, notify_url=None)


def service_on(database: Database, backend: Backend) -> Service:
    listener = RecordingListener()
    jobs = JobService(
        database,
        backend,
        JobPolicy(poll_interval=0.05),
        listeners=[listener],
        quotas=QuotaGuard(Limits(daily_per_user=5), frozenset()),
    )
    return Service(jobs, listener, database)


async def in_flight_job(service: Service, backend: str) -> Job:
    """A job recorded by a bot that stopped before the backend's answer to its submit was stored."""
    now = time.time()
    job = Job(
        id="j-in-flight",
        kind=JobKind.IMAGINE,
        prompt=PROMPT,
        chat_id=ALICE.chat_id,
        user_id=ALICE.user_id,
        user_name="Alice",
        backend=backend,
        created_at=now,
        updated_at=now,
    )
    return await service.jobs.writer.create(job)


def imagines(fake: FakeMjProxy) -> list[str]:
    return [body["prompt"] for path, body in fake.submissions if path.endswith("/submit/imagine")]


async def test_a_job_the_proxy_accepted_gets_its_task_and_finishes(
    database: Database, fake: FakeMjProxy, proxy_backend: MjProxyBackend
) -> None:
    service = service_on(database, proxy_backend)
    job = await in_flight_job(service, proxy_backend.name)
    accepted = await proxy_backend.imagine(PROMPT, job_id=job.id)  # the answer the crash swallowed

    await service.jobs.start()
    try:
        found = await service.jobs.get(job.id)
        assert found is not None and found.task_id == accepted.task_id
        assert not found.status.is_final
        await fake.run_to_success(accepted.task_id)
        done = await service.final(job.id)
    finally:
        await service.jobs.stop()

    assert done.status is JobStatus.SUCCEEDED
    assert imagines(fake) == [PROMPT], "submitted once"


async def test_a_job_the_proxy_never_saw_fails_as_interrupted_with_retry_and_uncounted(
    database: Database, fake: FakeMjProxy, proxy_backend: MjProxyBackend
) -> None:
    service = service_on(database, proxy_backend)
    job = await in_flight_job(service, proxy_backend.name)
    await proxy_backend.imagine("someone else's picture", job_id="another-job")

    await service.jobs.start()
    try:
        failed = await service.jobs.get(job.id)
        usage = await service.jobs.usage(ALICE.user_id)
    finally:
        await service.jobs.stop()

    assert failed is not None and failed.failure is FailureKind.INTERRUPTED
    assert RETRY_REF in await service.tokens(job.id)
    assert usage.used_today == 0, "nothing ran, so nothing is counted"


async def test_a_task_list_that_does_not_reach_back_cannot_prove_absence(
    database: Database, fake: FakeMjProxy, proxy_backend: MjProxyBackend
) -> None:
    service = service_on(database, proxy_backend)
    job = await in_flight_job(service, proxy_backend.name)
    for n in range(LISTED_TASKS):
        await proxy_backend.imagine(f"busy proxy {n}", job_id=f"other-{n}")

    await service.jobs.start()
    try:
        failed = await service.jobs.get(job.id)
    finally:
        await service.jobs.stop()

    assert failed is not None and failed.failure is FailureKind.UNCERTAIN
    assert RETRY_REF not in await service.tokens(job.id)


async def test_a_backend_that_cannot_find_tasks_says_uncertain_without_retry(database: Database) -> None:
    backend = SimulatorBackend(step_seconds=0.0)
    service = service_on(database, backend)
    job = await in_flight_job(service, backend.name)

    await service.jobs.start()
    try:
        failed = await service.jobs.get(job.id)
        usage = await service.jobs.usage(ALICE.user_id)
    finally:
        await service.jobs.stop()
        await backend.aclose()

    assert failed is not None and failed.failure is FailureKind.UNCERTAIN
    assert await service.tokens(job.id) == {}, "no 🔁: a retry could run it twice"
    assert usage.used_today == 1, "it may have run, so it is counted"
