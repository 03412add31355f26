"""Several replicas on one PostgreSQL: one polls Telegram; when it is killed another takes over in time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from bot.assembly import POLLING_LEASE
from bot.replicas import LEASE_TTL, RENEWALS_PER_TTL
from bot.storage.leases import lease_holder
from tests.fakes.telegram import FakeTelegram
from tests.harness import ALICE, ALICE_CHAT, wait_for_caption
from tests.postgres import PostgresServer
from tests.replicas import Replica

TAKEOVER_LIMIT = 15.0  # DESIGN.md: the others carry on within 15 s
STARTUP_SECONDS = 30.0
LOOK_EVERY = 0.1


async def polling_pid(url: str) -> int | None:
    """The process id of the replica holding the polling lease now (replica ids are host-pid-random)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            holder = await lease_holder(conn, POLLING_LEASE, now=time.time())
    finally:
        await engine.dispose()
    return int(holder.rsplit("-", 2)[1]) if holder else None


async def until_polling(url: str, pid: int, within: float) -> float:
    """Seconds until replica `pid` holds the polling lease; fails after `within`."""
    started = time.monotonic()
    while (await polling_pid(url)) != pid:
        assert time.monotonic() - started < within, f"replica {pid} did not take over within {within} s"
        await asyncio.sleep(LOOK_EVERY)
    return time.monotonic() - started


async def test_a_killed_polling_replica_is_replaced_within_fifteen_seconds(
    tg: FakeTelegram, tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.create_database("mjgram_replica_polling")
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    replicas = [await Replica.spawn(tmp_path / name, tg.base_url, plain) for name in ("a", "b")]
    try:
        await tg.wait_for(lambda: len(tg.calls_of("getUpdates")) > 0, timeout=STARTUP_SECONDS)
        holder = await polling_pid(url)
        assert holder in {r.pid for r in replicas}
        first = next(r for r in replicas if r.pid == holder)
        second = next(r for r in replicas if r.pid != holder)
        assert LEASE_TTL + LEASE_TTL / RENEWALS_PER_TTL <= TAKEOVER_LIMIT, (
            "the lease allows a timely takeover"
        )

        first.kill()
        took = await until_polling(url, second.pid, within=TAKEOVER_LIMIT)

        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a lighthouse relay")
        await wait_for_caption(tg, ALICE_CHAT.id, "a lighthouse relay", "Done", within=20.0)
        assert took < TAKEOVER_LIMIT
    finally:
        for replica in replicas:
            await replica.stop()
