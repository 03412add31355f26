"""Selling credits for Telegram Stars: invoices, the pre-checkout answer, crediting, refunds, grants."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.domain.payments import (
    STARS_CURRENCY,
    AlreadyRefunded,
    Pack,
    UnknownCharge,
    parse_payload,
)
from bot.payments.credits import CreditRules
from bot.quotas import day_start
from bot.storage.credits import (
    Entry,
    Payment,
    Reason,
    add_entry,
    balance,
    free_jobs_since,
    get_payment,
    mark_refunded,
    recent_payments,
    record_payment,
)
from bot.storage.database import Database

RECENT_PURCHASES = 5

RefundCall = Callable[[int, str], Awaitable[None]]
"""Telegram's refundStarPayment(user_id, charge_id); raises AlreadyRefunded or RefundRefused."""


@dataclass(frozen=True, slots=True)
class Credited:
    """A successful payment as the ledger took it; `new` False: this charge was credited before."""

    new: bool
    credits: int
    balance: int


@dataclass(frozen=True, slots=True)
class Account:
    """What /me shows of a user's credits."""

    balance: int
    free_left: int
    free_daily: int
    purchases: Sequence[Payment]


@dataclass(frozen=True, slots=True)
class Refunded:
    payment: Payment
    balance: int


class PaymentService:
    """Every change of credits outside a job's own transaction goes through here."""

    def __init__(
        self,
        db: Database,
        packs: Sequence[Pack],
        rules: CreditRules,
        clock: Callable[[], float] = time.time,
        *,
        sold: Callable[[int], None] | None = None,
    ) -> None:
        """`sold`: told the credits of each newly credited payment (the operators' metrics)."""
        self._sold = sold
        self._db = db
        self.packs = tuple(packs)
        self.rules = rules
        self._clock = clock

    def pack_for(self, payload: str, currency: str, total: int) -> Pack | None:
        """The pack an invoice payment is for, if it is still offered at that price in Stars."""
        pack = parse_payload(payload)
        if pack is None or pack not in self.packs or currency != STARS_CURRENCY or total != pack.stars:
            return None
        return pack

    async def credit(self, user_id: int, charge_id: str, currency: str, total: int, payload: str) -> Credited:
        """Add a paid pack's credits, once per charge id (a repeated update or another replica adds none).

        A payment Telegram took is credited even if the pack was withdrawn since the pre-checkout: the
        credits come from the payload, and its price is what was paid.
        """
        pack = parse_payload(payload)
        credits = pack.credits if pack is not None and currency == STARS_CURRENCY else 0
        now = self._clock()
        payment = Payment(charge_id, user_id, credits, total, now, None)
        async with self._db.write() as conn:
            new = await record_payment(conn, payment, payload)
            if new and credits:
                await add_entry(conn, Entry(user_id, credits, Reason.PURCHASE, now, charge_id=charge_id))
            credited = Credited(new, credits, await balance(conn, user_id))
        if new and credits and self._sold is not None:
            self._sold(credits)
        return credited

    async def account(self, user_id: int) -> Account:
        now = self._clock()
        async with self._db.read() as conn:
            used = await free_jobs_since(conn, user_id, day_start(now))
            return Account(
                balance=await balance(conn, user_id),
                free_left=max(0, self.rules.free_daily - used),
                free_daily=self.rules.free_daily,
                purchases=await recent_payments(conn, user_id, RECENT_PURCHASES),
            )

    async def grant(self, admin_id: int, user_id: int, credits: int) -> int:
        """Add (or with a negative number take) credits; the user's balance afterwards."""
        async with self._db.write() as conn:
            await add_entry(conn, Entry(user_id, credits, Reason.GRANT, self._clock(), by_user=admin_id))
            return await balance(conn, user_id)

    async def refund(self, admin_id: int, charge_id: str, refund_stars: RefundCall) -> Refunded:
        """Give the payer their Stars back (Telegram) and take the pack's credits back (ledger), once."""
        async with self._db.read() as conn:
            payment = await get_payment(conn, charge_id)
        if payment is None:
            raise UnknownCharge(charge=charge_id)
        if payment.refunded_at is not None:
            raise AlreadyRefunded(charge=charge_id)
        try:
            await refund_stars(payment.user_id, charge_id)
        except AlreadyRefunded:
            # Refunded some other way (another admin at the same moment, another bot on this token):
            # the Stars are back with the user, so the credits go too, once.
            await self._take_back(admin_id, payment)
            raise
        return Refunded(payment, await self._take_back(admin_id, payment))

    async def _take_back(self, admin_id: int, payment: Payment) -> int:
        now = self._clock()
        async with self._db.write() as conn:
            if await mark_refunded(conn, payment.charge_id, now):
                entry = Entry(
                    payment.user_id,
                    -payment.credits,
                    Reason.REFUND,
                    now,
                    charge_id=payment.charge_id,
                    by_user=admin_id,
                )
                await add_entry(conn, entry)
            return await balance(conn, payment.user_id)
