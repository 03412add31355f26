"""Reports about tasks no job knows, flooded through the real HTTP app: held two minutes at most, bounded."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.backends.mjproxy import MjProxyBackend
from bot.jobs import JobPolicy, JobService
from bot.jobs.ingest import ORPHAN_BYTES, ORPHAN_LIMIT, ORPHAN_TTL, ORPHAN_UPDATES_PER_TASK
from bot.storage.database import Database
from webhook.app import create_app

SECRET = "orphan-hook-secret-0123456789abcdef"
HOOK = f"/hooks/mjproxy/{SECRET}"
UNREACHABLE = "http://127.0.0.1:9"  # the adapter never calls the proxy here: callbacks only
BIG_REASON = 900 * 1024  # under the 1 MiB body cap
BIG_FLOOD = 40  # × 900 KiB: four times the byte budget
MIB = 1024 * 1024
SLACK = 2 * MIB  # the app's own allocations besides the kept reports


def report(task_id: str, *, reason_bytes: int = 16) -> bytes:
    """A failed task as the proxy notifies it; the fail reason makes it as large as wanted."""
    body = {"id": task_id, "status": "FAILURE", "progress": "", "failReason": "x" * reason_bytes}
    return json.dumps(body).encode()


@dataclass
class HookSide:
    jobs: JobService
    http: httpx.AsyncClient
    now: list[float]

    async def flood(self, bodies: list[bytes]) -> None:
        for body in bodies:
            answer = await self.http.post(HOOK, content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 404, answer.text  # "unknown task"


@pytest.fixture
async def hook(tmp_path: Path) -> AsyncIterator[HookSide]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'orphans.db'}")
    await db.open()
    now = [1_000_000.0]
    async with httpx.AsyncClient() as outbound:
        backend = MjProxyBackend(outbound, UNREACHABLE, api_key=None, notify_url=UNREACHABLE + HOOK)
        jobs = JobService(db, backend, JobPolicy(), clock=lambda: now[0])
        app = create_app(jobs, backend, SECRET)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as http:
            yield HookSide(jobs, http, now)
        await jobs.stop()
    await db.close()


def traced_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def test_a_flood_of_large_unknown_reports_stays_within_the_byte_budget(hook: HookSide) -> None:
    tracemalloc.start()
    try:
        before = traced_bytes()
        await hook.flood([report(f"big-{n}", reason_bytes=BIG_REASON) for n in range(BIG_FLOOD)])
        grown = traced_bytes() - before
    finally:
        tracemalloc.stop()

    usage = hook.jobs.orphan_usage()
    assert usage.bytes <= ORPHAN_BYTES
    assert 0 < usage.updates < BIG_FLOOD
    assert grown <= ORPHAN_BYTES + SLACK, f"{grown / MIB:.1f} MiB held after the flood"


async def test_every_keep_drops_reports_older_than_two_minutes(hook: HookSide) -> None:
    tracemalloc.start()
    try:
        before = traced_bytes()
        await hook.flood([report(f"old-{n}", reason_bytes=BIG_REASON) for n in range(5)])
        held = traced_bytes() - before
        hook.now[0] += ORPHAN_TTL
        await hook.flood([report("new")])
        after = traced_bytes() - before
    finally:
        tracemalloc.stop()

    usage = hook.jobs.orphan_usage()
    assert (usage.tasks, usage.updates) == (1, 1), "only the report from the last two minutes is kept"
    assert held > 4 * BIG_REASON and after < SLACK, f"{held / MIB:.1f} MiB, then {after / MIB:.1f} MiB"


async def test_a_flood_of_unknown_tasks_and_updates_stays_within_the_counts(hook: HookSide) -> None:
    await hook.flood([report("chatty")] * (ORPHAN_UPDATES_PER_TASK * 3))
    assert hook.jobs.orphan_usage().updates == ORPHAN_UPDATES_PER_TASK

    await hook.flood([report(f"task-{n}") for n in range(ORPHAN_LIMIT + 20)])

    usage = hook.jobs.orphan_usage()
    assert usage.tasks == ORPHAN_LIMIT
    assert usage.updates == ORPHAN_LIMIT - 1 + ORPHAN_UPDATES_PER_TASK
    assert usage.bytes <= ORPHAN_BYTES
