"""Two replicas' job writers on one PostgreSQL: every change lands, none is lost to a concurrent write."""

from __future__ import annotations

import asyncio

from bot.domain import Capabilities, Command
from bot.domain.buttons import ButtonPolicy
from bot.jobs.writer import JobWriter
from bot.storage.database import Database
from tests.factories import make_job
from tests.postgres import PostgresServer

MARKS_PER_REPLICA = 15
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
