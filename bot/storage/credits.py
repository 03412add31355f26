"""Credits: a ledger of signed rows (the balance is their sum) and Stars payments, each credited once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    and_,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import to_values
from bot.storage.schema import metadata

CHARGE_ID_LENGTH = 255
PAYLOAD_LENGTH = 128

# Defined on the shared metadata so `Database.open()` creates them with the other tables.
credit_ledger = Table(
    "credit_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("amount", Integer, nullable=False),  # signed: + adds credits, - takes them
    Column("reason", String(16), nullable=False),
    Column("job_id", String(32), nullable=True),
    Column("charge_id", String(CHARGE_ID_LENGTH), nullable=True),
    Column("by_user", BigInteger, nullable=True),  # the admin of a grant or refund
    Column("created_at", Float, nullable=False),
    Index("ix_credit_ledger_user", "user_id", "created_at"),
    Index("ix_credit_ledger_job", "job_id"),
)

star_payments = Table(
    "star_payments",
    metadata,
    # Telegram's telegram_payment_charge_id: the key that credits a payment once, on any replica.
    Column("charge_id", String(CHARGE_ID_LENGTH), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("credits", Integer, nullable=False),
    Column("stars", Integer, nullable=False),
    Column("payload", String(PAYLOAD_LENGTH), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("refunded_at", Float, nullable=True),
    Index("ix_star_payments_user", "user_id", "created_at"),
)


class Reason(StrEnum):
    """Why a ledger row exists."""

    PURCHASE = "purchase"
    REFUND = "refund"  # a purchase refunded: its credits taken back
    GRANT = "grant"  # an admin's /grant (negative: taken away)
    JOB = "job"  # a job's price, reserved when it was recorded
    JOB_BACK = "job_back"  # ...given back: the job failed with nothing charged
    FREE = "free"  # a job run as one of the day's free jobs (amount 0)
    FREE_BACK = "free_back"  # ...given back


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger row."""

    user_id: int
    amount: int
    reason: Reason
    created_at: float
    job_id: str | None = None
    charge_id: str | None = None
    by_user: int | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """A Stars payment as recorded."""

    charge_id: str
    user_id: int
    credits: int
    stars: int
    created_at: float
    refunded_at: float | None


async def add_entry(conn: AsyncConnection, entry: Entry) -> None:
    await conn.execute(insert(credit_ledger).values(**to_values(entry, reason=lambda reason: reason.value)))


async def balance(conn: AsyncConnection, user_id: int) -> int:
    query = select(func.coalesce(func.sum(credit_ledger.c.amount), 0)).where(
        credit_ledger.c.user_id == user_id
    )
    return int((await conn.execute(query)).scalar_one())


async def record_payment(conn: AsyncConnection, payment: Payment, payload: str) -> bool:
    """Store the payment unless its charge id is stored already; True when this call stored it.

    INSERT ... ON CONFLICT DO NOTHING: a second replica inserting the same charge id waits for the
    first one's transaction and then inserts nothing, so the credits are added exactly once.
    """
    values: dict[str, Any] = {
        "charge_id": payment.charge_id,
        "user_id": payment.user_id,
        "credits": payment.credits,
        "stars": payment.stars,
        "payload": payload,
        "created_at": payment.created_at,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(star_payments).values(**values).on_conflict_do_nothing(index_elements=["charge_id"])
    )
    result = await conn.execute(statement)
    return bool(result.rowcount)


async def get_payment(conn: AsyncConnection, charge_id: str) -> Payment | None:
    row = (await conn.execute(select(star_payments).where(star_payments.c.charge_id == charge_id))).first()
    return _payment(row) if row else None


async def mark_refunded(conn: AsyncConnection, charge_id: str, now: float) -> bool:
    """Mark the payment refunded; False when it already was (or is unknown): refund once."""
    statement = (
        update(star_payments)
        .where(star_payments.c.charge_id == charge_id, star_payments.c.refunded_at.is_(None))
        .values(refunded_at=now)
    )
    return bool((await conn.execute(statement)).rowcount)


async def recent_payments(conn: AsyncConnection, user_id: int, limit: int) -> list[Payment]:
    query = (
        select(star_payments)
        .where(star_payments.c.user_id == user_id)
        .order_by(star_payments.c.created_at.desc())
        .limit(limit)
    )
    return [_payment(row) for row in (await conn.execute(query)).all()]


async def stars_totals(conn: AsyncConnection, since: float) -> tuple[int, int]:
    """Stars received (payments made since `since`) and refunded (refunds made since `since`)."""
    received = select(func.coalesce(func.sum(star_payments.c.stars), 0)).where(
        star_payments.c.created_at >= since
    )
    refunded = select(func.coalesce(func.sum(star_payments.c.stars), 0)).where(
        star_payments.c.refunded_at >= since
    )
    return int((await conn.execute(received)).scalar_one()), int((await conn.execute(refunded)).scalar_one())


async def job_entries(conn: AsyncConnection, job_id: str) -> Sequence[Entry]:
    """The ledger rows of one job (its reservation, and a give-back if there was one)."""
    query = select(credit_ledger).where(credit_ledger.c.job_id == job_id).order_by(credit_ledger.c.id)
    return [
        Entry(row.user_id, row.amount, Reason(row.reason), row.created_at, job_id=row.job_id)
        for row in (await conn.execute(query)).all()
    ]


async def free_jobs_since(conn: AsyncConnection, user_id: int, since: float) -> int:
    """The user's free jobs recorded since `since`, not counting those given back."""
    given_back = select(credit_ledger.c.job_id).where(
        credit_ledger.c.user_id == user_id, credit_ledger.c.reason == Reason.FREE_BACK.value
    )
    query = (
        select(func.count())
        .select_from(credit_ledger)
        .where(
            and_(
                credit_ledger.c.user_id == user_id,
                credit_ledger.c.reason == Reason.FREE.value,
                credit_ledger.c.created_at >= since,
                credit_ledger.c.job_id.not_in(given_back),
            )
        )
    )
    return int((await conn.execute(query)).scalar_one())


def _payment(row: Any) -> Payment:
    return Payment(row.charge_id, row.user_id, row.credits, row.stars, row.created_at, row.refunded_at)
