"""Albums collected in the database: parts reaching different replicas become one album, taken by exactly
one replica; an album whose collector died is finished by another replica in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiogram.types import Message

from bot.albums import SharedAlbums
from bot.storage.database import Database

SETTLE = 0.3
TAKEOVER_LIMIT = 15.0  # DESIGN.md: the others carry on within 15 s


def part(message_id: int, group: str = "g1", *, caption: str | None = None) -> Message:
    return Message.model_validate(
        {
            "message_id": message_id,
            "date": 1_700_000_000,
            "chat": {"id": 1001, "type": "private"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Alice", "language_code": "ru"},
            "media_group_id": group,
            "photo": [
                {"file_id": f"f{message_id}", "file_unique_id": f"u{message_id}", "width": 9, "height": 9}
            ],
            "caption": caption,
        }
    )


@pytest.fixture
async def second(database_url: str, database: Database) -> AsyncIterator[Database]:
    """Another connection pool on the same database: another replica."""
    other = Database(database_url)
    await other.open()
    yield other
    await other.close()


async def test_an_album_split_between_two_replicas_is_taken_whole_by_one(
    database: Database, second: Database
) -> None:
    a, b = SharedAlbums(database, settle=SETTLE), SharedAlbums(second, settle=SETTLE)
    parts = [part(n, caption="/blend" if n == 11 else None) for n in (11, 12, 13, 14)]
    results = await asyncio.gather(
        *(collector.collect(p) for collector, p in zip([a, b, a, b], parts, strict=True))
    )

    whole = [r for r in results if r is not None]
    assert len(whole) == 1, "exactly one replica handles the album"
    assert whole[0] == parts
    assert whole[0][0].caption == "/blend" and whole[0][0].from_user is not None


async def test_an_album_whose_collector_died_is_finished_by_another_replica(
    database: Database, second: Database
) -> None:
    dying = SharedAlbums(database, settle=SETTLE)
    collecting = [asyncio.create_task(dying.collect(part(n))) for n in (21, 22, 23)]
    await asyncio.sleep(SETTLE / 3)
    for task in collecting:
        task.cancel()  # the replica is gone: its waiter with it, the stored parts stay
    await asyncio.gather(*collecting, return_exceptions=True)

    finished: asyncio.Queue[list[Message]] = asyncio.Queue()
    survivor = SharedAlbums(second, settle=SETTLE)
    started = time.monotonic()
    await survivor.start(finished.put)
    try:
        album = await asyncio.wait_for(finished.get(), TAKEOVER_LIMIT)
    finally:
        await survivor.stop()
    assert [m.message_id for m in album] == [21, 22, 23]
    assert time.monotonic() - started < TAKEOVER_LIMIT
    assert await survivor.sweep(finished.put) == 0, "taken once"


async def test_a_live_collector_is_not_overtaken_by_the_sweeper(database: Database, second: Database) -> None:
    collector, other = SharedAlbums(database, settle=SETTLE), SharedAlbums(second, settle=SETTLE)
    waiting = asyncio.create_task(collector.collect(part(31)))
    await asyncio.sleep(SETTLE / 3)
    assert await other.sweep(lambda parts: asyncio.sleep(0)) == 0
    assert [m.message_id for m in await waiting or []] == [31]


async def test_a_part_delivered_twice_is_kept_once(database: Database) -> None:
    collector = SharedAlbums(database, settle=SETTLE)
    first, again = await asyncio.gather(collector.collect(part(41)), collector.collect(part(41)))
    assert again is None and first is not None and [m.message_id for m in first] == [41]
