"""Hosted pictures on both databases: served by token until they expire, bounded in total size, and seen
by every replica on one database."""

from __future__ import annotations

from bot.imagehost import FILES_PATH, MemoryImageHost, SharedImageHost
from bot.storage.database import Database
from bot.storage.hosted import hosted_usage

BASE = "https://bot.example"


def token_of(link: str) -> str:
    assert link.startswith(BASE + FILES_PATH + "/")
    return link.rsplit("/", 1)[1]


async def test_a_picture_is_served_by_its_token_until_it_expires(database: Database) -> None:
    now = [1_000.0]
    host = SharedImageHost(database, BASE, ttl=60.0, clock=lambda: now[0])
    token = token_of(await host.publish(b"\x89PNG picture", "image/png"))
    assert token.endswith(".png") and len(token) >= 32

    served = await host.get(token)
    assert served is not None and (served.data, served.mime_type) == (b"\x89PNG picture", "image/png")
    assert await host.get(token[:-5] + "x.png") is None
    now[0] += 60.0
    assert await host.get(token) is None


async def test_expired_pictures_are_pruned_when_another_is_published(database: Database) -> None:
    now = [1_000.0]
    host = SharedImageHost(database, BASE, ttl=60.0, clock=lambda: now[0])
    for n in range(3):
        await host.publish(bytes([n]) * 100, "image/jpeg")
    now[0] += 61.0
    await host.publish(b"fresh", "image/webp")
    async with database.read() as conn:
        assert await hosted_usage(conn) == (1, 5)


async def test_the_total_size_is_bounded_by_dropping_the_oldest(database: Database) -> None:
    now = [1_000.0]
    host = SharedImageHost(database, BASE, max_bytes=250, clock=lambda: now[0])
    tokens = []
    for n in range(3):
        now[0] += 1.0
        tokens.append(token_of(await host.publish(bytes([n]) * 100, "image/png")))
    assert await host.get(tokens[0]) is None, "the oldest made room"
    assert await host.get(tokens[1]) is not None and await host.get(tokens[2]) is not None
    async with database.read() as conn:
        assert await hosted_usage(conn) == (2, 200)


async def test_a_picture_published_through_one_connection_is_served_through_another(
    database_url: str,
) -> None:
    first, second = Database(database_url), Database(database_url)
    await first.open()
    await second.open()
    try:
        token = token_of(await SharedImageHost(first, BASE).publish(b"shared", "image/png"))
        served = await SharedImageHost(second, BASE).get(token)
        assert served is not None and served.data == b"shared"
    finally:
        await first.close()
        await second.close()


async def test_the_single_process_host_keeps_the_same_rules() -> None:
    now = [1_000.0]
    host = MemoryImageHost(BASE, ttl=60.0, max_bytes=250, clock=lambda: now[0])
    tokens = [token_of(await host.publish(bytes([n]) * 100, "image/png")) for n in range(3)]
    assert await host.get(tokens[0]) is None and await host.get(tokens[2]) is not None
    now[0] += 60.0
    assert await host.get(tokens[2]) is None
