"""Replicas on one PostgreSQL: the roster they agree on, chat claims, and the inbox of unfinished updates."""

from __future__ import annotations

import time

from aiogram.types import Update

from bot.delivery.claims import AdvisoryClaims
from bot.roster import MEMBER_PREFIX, SharedRoster
from bot.storage.database import Database
from bot.storage.leases import claim_lease
from bot.storage.updates import held_by_the_dead, let_go, take_over
from bot.update_once import SeenInDatabase
from tests.postgres import PostgresServer

CHATS = range(-300, 300)


async def opened(url: str) -> Database:
    db = Database(url)
    await db.open()
    return db


async def test_replicas_agree_on_owners_and_a_leaver_hands_its_share_over(postgres: PostgresServer) -> None:
    url = postgres.create_database("mjgram_roster")
    one, two = await opened(url), await opened(url)
    a, b = SharedRoster(one, "replica-a"), SharedRoster(two, "replica-b")
    try:
        await a.beat()
        await b.beat()
        await a.beat()
        assert a.members == b.members == ("replica-a", "replica-b")
        owned_by_a = {c for c in CHATS if a.owns(c)}
        owned_by_b = {c for c in CHATS if b.owns(c)}
        assert owned_by_a.isdisjoint(owned_by_b) and owned_by_a | owned_by_b == set(CHATS)
        assert owned_by_a and owned_by_b

        counts: list[int] = []
        a.on_change(counts.append)
        await b.stop()  # a clean stop gives the membership up at once
        await a.beat()
        assert a.members == ("replica-a",) and counts == [2, 1]
        assert all(a.owns(c) for c in CHATS)
    finally:
        await one.close()
        await two.close()


async def test_a_killed_replicas_membership_runs_out(postgres: PostgresServer) -> None:
    url = postgres.create_database("mjgram_roster_ttl")
    db = await opened(url)
    try:
        async with db.write() as conn:  # a replica that beat once, 7 s ago, then died
            await claim_lease(conn, MEMBER_PREFIX + "gone", "gone", now=time.time() - 7.0, ttl=6.0)
        survivor = SharedRoster(db, "alive")
        await survivor.beat()
        assert survivor.members == ("alive",)
    finally:
        await db.close()


async def test_a_chat_claim_keeps_others_out_until_its_connection_is_gone(postgres: PostgresServer) -> None:
    url = postgres.create_database("mjgram_claims")
    one, two = await opened(url), await opened(url)
    first, second = AdvisoryClaims(one), AdvisoryClaims(two)
    try:
        assert await first.claim(-1001234567890)
        assert not await second.claim(-1001234567890), "two replicas delivering to one chat"
        assert await second.claim(42), "other chats are free"
        await first.release(-1001234567890)
        assert await second.claim(-1001234567890)
        assert not await first.claim(-1001234567890)
        await second.close()  # what a killed replica's closed connection does
        assert await first.claim(-1001234567890)
    finally:
        await first.close()
        await second.close()
        await one.close()
        await two.close()


def an_update(update_id: int) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": 7,
                "date": 1_700_000_000,
                "chat": {"id": 1001, "type": "private"},
                "from": {"id": 1001, "is_bot": False, "first_name": "Alice"},
                "text": "/imagine a fox",
            },
        }
    )


async def test_updates_a_dead_replica_left_unfinished_are_taken_over_once(postgres: PostgresServer) -> None:
    url = postgres.create_database("mjgram_inbox")
    db = await opened(url)
    now = time.time()
    try:
        dead, alive = SeenInDatabase(db, "dead"), SeenInDatabase(db, "alive")
        async with db.write() as conn:
            await claim_lease(conn, MEMBER_PREFIX + "alive", "alive", now=now, ttl=6.0)
        assert await dead.first_sights([an_update(11)]) == [True]
        assert await alive.first_sights([an_update(12), an_update(11)]) == [True, False], "a re-delivery"
        assert await dead.first_sights([an_update(13)]) == [True]
        await dead.finished(13)

        async with db.read() as conn:
            orphans = await held_by_the_dead(conn, MEMBER_PREFIX, now=now)
        assert [(o.update_id, o.holder) for o in orphans] == [(11, "dead")], "only unfinished, dead-held ones"
        assert Update.model_validate_json(orphans[0].body) == an_update(11)
        async with db.write() as conn:
            assert await take_over(conn, 11, "dead", "alive", now)
        async with db.write() as conn:
            assert not await take_over(conn, 11, "dead", "another", now), "taken over twice"
        async with db.read() as conn:
            assert await held_by_the_dead(conn, MEMBER_PREFIX, now=now) == []
        async with db.write() as conn:
            await let_go(conn, 11)
    finally:
        await db.close()
