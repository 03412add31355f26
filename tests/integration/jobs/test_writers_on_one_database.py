"""Two replicas on one PostgreSQL: every change of a job lands, and limits hold for the replicas together."""

from __future__ import annotations

import asyncio

from bot.backends.simulator import SimulatorBackend
from bot.domain import Capabilities, Command, Requester
from bot.domain.buttons import ButtonPolicy
from bot.domain.errors import DailyQuotaReached
from bot.jobs import JobPolicy, JobService
from bot.jobs.writer import JobWriter
from bot.quotas import Limits, QuotaGuard
from bot.storage.database import Database
from tests.factories import make_job
from tests.postgres import PostgresServer

MARKS_PER_REPLICA = 15
ALICE = Requester(chat_id=1001, user_id=1001, user_name="Alice", language="en")
CAPABILITIES = Capabilities(commands=frozenset({Command.IMAGINE}), push=False, max_prompt_length=100)


async def test_concurrent_changes_from_two_replicas_all_land(postgres: PostgresServer) -> None:
    url = postgres.create_database("mjgram_two_writers")
    replicas = [Database(url), Database(url)]
    for db in replicas:
        await db.open()
    writers = [JobWriter(db, ButtonPolicy(CAPABILITIES), clock=lambda: 1.0) for db in replicas]
    job = await writers[0].create(make_job(id="shared-job"))
    try:
        await asyncio.gather(
            *(
                writer.mark_used(job.id, f"ref-{n}-{i}")
                for n, writer in enumerate(writers)
                for i in range(MARKS_PER_REPLICA)
            )
        )
        stored = await writers[1].get(job.id)
        assert stored is not None
        assert len(stored.used) == 2 * MARKS_PER_REPLICA, "a concurrent write lost another's change"
        assert stored.version == job.version + 2 * MARKS_PER_REPLICA
    finally:
        for db in replicas:
            await db.close()


async def test_two_replicas_recording_for_one_user_respect_the_daily_limit(postgres: PostgresServer) -> None:
    url = postgres.create_database("mjgram_two_replicas_quota")
    replicas = [Database(url), Database(url)]
    for db in replicas:
        await db.open()
    services = [
        JobService(
            db, SimulatorBackend(step_seconds=0.0), JobPolicy(), quotas=QuotaGuard(Limits(1), frozenset())
        )
        for db in replicas
    ]
    try:
        tries = [service.imagine(ALICE, f"try {n}") for n in range(3) for service in services]
        outcomes = await asyncio.gather(*tries, return_exceptions=True)
        refused = [o for o in outcomes if isinstance(o, DailyQuotaReached)]
        assert len(refused) == len(tries) - 1, outcomes
        assert len(await services[0].history(ALICE.user_id, None, 10)) == 1
    finally:
        for service in services:
            await service.backend.aclose()
        for db in replicas:
            await db.close()
