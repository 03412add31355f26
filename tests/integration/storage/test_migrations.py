"""Schema upgrades: a database written by an older mjgram opens, keeps its rows and gains the new columns."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot.domain import JobKind, JobStatus
from bot.storage.database import Database
from bot.storage.jobs import get_job, get_job_with_delivery, save_job
from bot.storage.kv import kv_get
from bot.storage.migrations import STEPS
from bot.storage.schema import JOB_INDEXES, SCHEMA_VERSION

# The jobs table exactly as schema version 1 created it (frozen here: it is history, not the current schema).
JOBS_V1 = """
CREATE TABLE jobs (
    id VARCHAR(32) NOT NULL, kind VARCHAR(16) NOT NULL, prompt TEXT NOT NULL, chat_id BIGINT NOT NULL,
    thread_id BIGINT, user_id BIGINT NOT NULL, user_name VARCHAR(128) NOT NULL, language VARCHAR(16) NOT NULL,
    backend VARCHAR(16) NOT NULL, status VARCHAR(16) NOT NULL, task_id VARCHAR(128), parent_id VARCHAR(32),
    origin TEXT, reply_to_message_id BIGINT, message_id BIGINT, progress INTEGER NOT NULL,
    queue_position INTEGER, preview_url TEXT, image_url TEXT, actions TEXT NOT NULL, text TEXT,
    fail_reason TEXT, failure VARCHAR(16), created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL,
    version INTEGER NOT NULL, used TEXT NOT NULL, shown_version INTEGER NOT NULL, shown_media TEXT,
    shown_caption VARCHAR(64), photo_file_id TEXT, document_sent BOOLEAN NOT NULL, delivery_error TEXT,
    PRIMARY KEY (id)
)
"""
KV_V1 = 'CREATE TABLE kv ("key" VARCHAR(128) NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"))'
ACTIONS = [
    ["upscale", "MJ::JOB::upsample::1::h", 1, "U1", ""],
    ["reroll", "MJ::JOB::reroll::0::h::SOLO", 0, "", "🔄"],
]

JOB_ROW_V1: dict[str, object] = {
    "id": "a1b2c3",
    "kind": "imagine",
    "prompt": "a fox in the snow",
    "chat_id": -100123,
    "user_id": 42,
    "user_name": "Ann",
    "language": "en",
    "backend": "mjproxy",
    "status": "succeeded",
    "task_id": "1763772345001001",
    "message_id": 7,
    "progress": 100,
    "image_url": "https://cdn.example/grid.png",
    "actions": json.dumps(ACTIONS),
    "created_at": 10.0,
    "updated_at": 12.5,
    "version": 4,
    "used": json.dumps(["MJ::JOB::upsample::1::h"]),
    "shown_version": 4,
    "shown_media": "final:https://cdn.example/grid.png",
    "photo_file_id": "AgACAgIAAxkBAA1",
    "document_sent": False,
}


def write_version_1_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(JOBS_V1)
        db.execute("CREATE INDEX ix_jobs_status ON jobs (status)")
        db.execute(KV_V1)
        db.execute("INSERT INTO kv (key, value) VALUES ('schema_version', '1')")
        names = ", ".join(JOB_ROW_V1)
        marks = ", ".join("?" for _ in JOB_ROW_V1)
        db.execute(f"INSERT INTO jobs ({names}) VALUES ({marks})", tuple(JOB_ROW_V1.values()))
    db.close()


def sqlite_indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        names = {row[1] for row in db.execute("PRAGMA index_list(jobs)")}
    db.close()
    return names


def columns(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        names = [row[1] for row in db.execute("PRAGMA table_info(jobs)")]
    db.close()
    return names


async def test_a_version_1_database_is_upgraded_with_its_jobs_intact(tmp_path: Path) -> None:
    path = tmp_path / "mjgram.db"
    write_version_1_database(path)
    assert "video_url" not in columns(path)

    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.open()
        async with database.read() as conn:
            found = await get_job_with_delivery(conn, "a1b2c3")
            version = await kv_get(conn, "schema_version")
        assert found is not None
        job, state = found
        assert (job.kind, job.status, job.prompt, job.chat_id, job.message_id) == (
            JobKind.IMAGINE,
            JobStatus.SUCCEEDED,
            "a fox in the snow",
            -100123,
            7,
        )
        assert (job.image_url, job.video_url, job.version, job.used) == (
            "https://cdn.example/grid.png",
            None,
            4,
            ("MJ::JOB::upsample::1::h",),
        )
        assert [a.ref for a in job.actions] == [a[1] for a in ACTIONS]
        assert (state.shown_version, state.photo_file_id) == (4, "AgACAgIAAxkBAA1")
        assert version == str(SCHEMA_VERSION) == "4"

        async with database.write() as conn:
            await save_job(conn, replace(job, video_url="https://cdn.example/0_0.mp4"))
        async with database.read() as conn:
            saved = await get_job(conn, "a1b2c3")
        assert saved is not None and saved.video_url == "https://cdn.example/0_0.mp4"
    finally:
        await database.close()
    assert "video_url" in columns(path)
    assert {index.name for index in JOB_INDEXES} | {"ix_jobs_outbox"} <= sqlite_indexes(path)
    assert "ix_jobs_pending_delivery" not in sqlite_indexes(path)

    again = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await again.open()  # already current: nothing to run twice
    finally:
        await again.close()


async def test_a_new_database_starts_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.open()
        async with database.read() as conn:
            assert await kv_get(conn, "schema_version") == str(SCHEMA_VERSION)
    finally:
        await database.close()
    assert "video_url" in columns(path)


async def test_a_database_from_a_newer_mjgram_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    write_version_1_database(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE kv SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.close()
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        with pytest.raises(RuntimeError, match="newer than this mjgram"):
            await database.open()
    finally:
        await database.close()


def test_every_older_version_has_an_upgrade_step() -> None:
    assert sorted(STEPS) == list(range(1, SCHEMA_VERSION))
