"""Credits on SQLite and PostgreSQL: the balance is the ledger's sum, a charge id is credited once."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.payments import AlreadyRefunded, JobPrices, Pack, UnknownCharge
from bot.payments import Credited, CreditRules, PaymentService
from bot.storage.credits import (
    Entry,
    Reason,
    add_entry,
    balance,
    credit_ledger,
    mark_refunded,
    stars_totals,
)
from bot.storage.database import Database

PACK = Pack(100, 50)
RULES = CreditRules(JobPrices(), free_daily=0, admins=frozenset())
ALICE = 1001
BOB = 1002
CONCURRENT_DELIVERIES = 6


def service(db: Database, now: float = 1_000.0) -> PaymentService:
    return PaymentService(db, [PACK], RULES, clock=lambda: now)


async def ledger_sum(db: Database, user_id: int) -> int:
    async with db.read() as conn:
        rows = (await conn.execute(credit_ledger.select().where(credit_ledger.c.user_id == user_id))).all()
    return sum(row.amount for row in rows)


async def test_the_balance_is_the_sum_of_every_kind_of_row(database: Database) -> None:
    payments = service(database)
    await payments.credit(ALICE, "charge-1", "XTR", PACK.stars, PACK.payload)
    await payments.grant(admin_id=1, user_id=ALICE, credits=-30)
    async with database.write() as conn:
        await add_entry(conn, Entry(ALICE, -5, Reason.JOB, 1_001.0, job_id="job-1"))
        await add_entry(conn, Entry(ALICE, 5, Reason.JOB_BACK, 1_002.0, job_id="job-1"))
        await add_entry(conn, Entry(ALICE, -7, Reason.JOB, 1_003.0, job_id="job-2"))
        await add_entry(conn, Entry(BOB, 9, Reason.GRANT, 1_003.0))

    account = await payments.account(ALICE)

    assert account.balance == 100 - 30 - 5 + 5 - 7 == await ledger_sum(database, ALICE)
    assert [p.charge_id for p in account.purchases] == ["charge-1"]
    async with database.read() as conn:
        assert await balance(conn, BOB) == 9


async def test_a_charge_delivered_to_several_replicas_at_once_is_credited_once(database_url: str) -> None:
    replicas = [Database(database_url), Database(database_url)]
    for db in replicas:
        await db.open()
    try:
        deliveries = [
            service(replicas[n % 2]).credit(ALICE, "charge-once", "XTR", PACK.stars, PACK.payload)
            for n in range(CONCURRENT_DELIVERIES)
        ]
        outcomes = await asyncio.gather(*deliveries)

        assert sum(outcome.new for outcome in outcomes) == 1
        assert await ledger_sum(replicas[0], ALICE) == PACK.credits
        again = await service(replicas[1]).credit(ALICE, "charge-once", "XTR", PACK.stars, PACK.payload)
        assert again == Credited(new=False, credits=PACK.credits, balance=PACK.credits)
    finally:
        for db in replicas:
            await db.close()


async def test_a_refund_takes_the_credits_back_once_and_counts_the_stars(database: Database) -> None:
    payments = service(database, now=5_000.0)
    await payments.credit(ALICE, "charge-r", "XTR", PACK.stars, PACK.payload)
    refunded: list[tuple[int, str]] = []

    async def refund_stars(user_id: int, charge_id: str) -> None:
        refunded.append((user_id, charge_id))

    done = await payments.refund(admin_id=1, charge_id="charge-r", refund_stars=refund_stars)

    assert refunded == [(ALICE, "charge-r")]
    assert done.balance == 0 == await ledger_sum(database, ALICE)
    with pytest.raises(AlreadyRefunded):
        await payments.refund(admin_id=1, charge_id="charge-r", refund_stars=refund_stars)
    with pytest.raises(UnknownCharge):
        await payments.refund(admin_id=1, charge_id="no-such-charge", refund_stars=refund_stars)
    assert refunded == [(ALICE, "charge-r")], "Telegram is not asked twice"
    async with database.write() as conn:
        assert await mark_refunded(conn, "charge-r", 6_000.0) is False
        assert await stars_totals(conn, 4_000.0) == (PACK.stars, PACK.stars)
        assert await stars_totals(conn, 5_500.0) == (0, 0)


async def test_a_refund_telegram_made_already_still_takes_the_credits_back(database: Database) -> None:
    payments = service(database)
    await payments.credit(ALICE, "charge-elsewhere", "XTR", PACK.stars, PACK.payload)

    async def already(user_id: int, charge_id: str) -> None:
        raise AlreadyRefunded(charge=charge_id)

    with pytest.raises(AlreadyRefunded):
        await payments.refund(admin_id=1, charge_id="charge-elsewhere", refund_stars=already)

    assert await ledger_sum(database, ALICE) == 0
