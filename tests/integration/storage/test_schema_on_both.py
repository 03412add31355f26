"""The schema on SQLite and PostgreSQL: upgrade steps run on both; replicas open one PostgreSQL at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database
from bot.storage.kv import kv_get
from bot.storage.migrations import SCHEMA_VERSION_KEY
from bot.storage.schema import JOB_INDEXES, OUTBOX_WHERE, SCHEMA_VERSION, jobs, kv
from tests.postgres import PostgresServer

REPLICAS = 4


async def job_indexes(db: Database) -> set[str]:
    async with db.read() as conn:
        found = await conn.run_sync(lambda sync: inspect(sync).get_indexes("jobs"))
    return {str(index["name"]) for index in found}


async def test_the_index_step_brings_a_version_2_database_to_the_current_schema(database_url: str) -> None:
    first = Database(database_url)
    await first.open()
    async with first.write() as conn:
        for index in JOB_INDEXES:
            await conn.execute(text(f"DROP INDEX {index.name}"))
        await conn.execute(text("ALTER TABLE jobs DROP COLUMN submitter"))  # schema 4's
        await conn.execute(update(kv).where(kv.c.key == SCHEMA_VERSION_KEY).values(value="2"))
    assert not {i.name for i in JOB_INDEXES} & await job_indexes(first)
    await first.close()

    again = Database(database_url)
    await again.open()
    try:
        assert {str(i.name) for i in JOB_INDEXES} <= await job_indexes(again)
        async with again.read() as conn:
            assert await kv_get(conn, SCHEMA_VERSION_KEY) == str(SCHEMA_VERSION)
    finally:
        await again.close()


async def test_replicas_opening_a_new_database_together_create_it_once(postgres: PostgresServer) -> None:
    url = postgres.create_database("mjgram_replicas_start")
    replicas = [Database(url) for _ in range(REPLICAS)]
    try:
        await asyncio.gather(*(db.open() for db in replicas))
        async with replicas[0].read() as conn:
            versions = (await conn.execute(text("SELECT value FROM kv WHERE key = 'schema_version'"))).all()
        assert versions == [(str(SCHEMA_VERSION),)]
    finally:
        await asyncio.gather(*(db.close() for db in replicas))


async def test_the_replicas_step_adds_the_outbox_index_and_the_submitter(database_url: str) -> None:
    first = Database(database_url)
    await first.open()
    async with first.write() as conn:
        await conn.execute(text("DROP INDEX ix_jobs_outbox"))
        await conn.execute(text("CREATE INDEX ix_jobs_pending_delivery ON jobs (shown_version, version)"))
        await conn.execute(text("ALTER TABLE jobs DROP COLUMN submitter"))
        await conn.execute(text("DROP INDEX ix_jobs_created"))
        await conn.execute(text("DROP INDEX ix_jobs_status_updated"))
        await conn.execute(update(kv).where(kv.c.key == SCHEMA_VERSION_KEY).values(value="3"))
    await first.close()

    again = Database(database_url)
    await again.open()
    try:
        indexes = await job_indexes(again)
        assert {
            "ix_jobs_outbox",
            "ix_jobs_created",
            "ix_jobs_status_updated",
        } <= indexes and "ix_jobs_pending_delivery" not in indexes
        async with again.read() as conn:
            found = await conn.run_sync(lambda sync: inspect(sync).get_columns("jobs"))
        assert "submitter" in {column["name"] for column in found}
        async with again.read() as conn:
            plan = await outbox_plan(conn)
        assert "ix_jobs_outbox" in plan, plan
    finally:
        await again.close()


async def outbox_plan(conn: AsyncConnection) -> str:
    """How the database runs the outbox query (replicas run it twice a second): it must use the index."""
    query = select(jobs.c.id).where(OUTBOX_WHERE).order_by(jobs.c.updated_at)
    compiled = str(query.compile(conn.sync_connection, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        rows = await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        return " ".join(str(row[-1]) for row in rows)
    await conn.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table is cheapest to scan
    rows = await conn.execute(text(f"EXPLAIN {compiled}"))
    return " ".join(str(row[0]) for row in rows)
