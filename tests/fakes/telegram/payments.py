"""Payments in Telegram Stars: invoices, the pre-checkout round trip, paying, refunds, the transaction list.

What the fake checks and answers is described, with its sources, in `invoices.py`.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from tests.fakes.telegram.core import TelegramCore
from tests.fakes.telegram.invoices import (
    ERR_CHARGE_ALREADY_REFUNDED,
    ERR_CHARGE_NOT_FOUND,
    ERR_CHARGE_REQUIRED,
    ERR_ERROR_MESSAGE_REQUIRED,
    ERR_QUERY_INVALID,
    ERR_USER_ID_INVALID,
    PRE_CHECKOUT_DEADLINE,
    STAR_TRANSACTIONS_LIMIT,
    Checkout,
    Invoice,
    PaymentBook,
    StarPayment,
    read_invoice,
    star_transaction,
)
from tests.fakes.telegram.limits import ApiError
from tests.fakes.telegram.markup import validate_reply_markup
from tests.fakes.telegram.models import FakeChat, FakeUser, StoredMessage
from tests.fakes.telegram.params import Params


class Payments(TelegramCore):
    """sendInvoice, createInvoiceLink, answerPreCheckoutQuery, refundStarPayment, getStarTransactions, and
    the driver that makes a user pay: `open_checkout` → the bot answers → `complete_payment`."""

    payment_book: PaymentBook

    def _book(self) -> PaymentBook:
        if not hasattr(self, "payment_book"):
            self.payment_book = PaymentBook()
        return self.payment_book

    # ---------------------------------------------------------------- Bot API methods
    async def _send_invoice(self, params: Params) -> dict[str, Any]:
        chat = self._sendable_chat(params)
        invoice = read_invoice(params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        message = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=markup)
        message.invoice = invoice.to_api()
        self._book().links[_message_key(chat.id, message.message_id)] = invoice
        return self._store(message)

    async def _create_invoice_link(self, params: Params) -> str:
        invoice = read_invoice(params)
        slug = secrets.token_urlsafe(12)
        self._book().links[slug] = invoice
        return f"https://t.me/${slug}"

    async def _answer_pre_checkout_query(self, params: Params) -> bool:
        checkout = self._book().checkouts.get(params.opt_str("pre_checkout_query_id") or "")
        ok = params.flag("ok")
        error_message = params.opt_str("error_message")
        if not ok and not error_message:
            raise ApiError(ERR_ERROR_MESSAGE_REQUIRED)
        # An unknown id, a late answer and a second answer are all QUERY_ID_INVALID.
        if checkout is None or checkout.answer is not None or time.monotonic() > checkout.deadline:
            raise ApiError(ERR_QUERY_INVALID)
        checkout.answer = {"ok": ok, "error_message": None if ok else error_message, "at": time.monotonic()}
        self._notify()
        return True

    async def _refund_star_payment(self, params: Params) -> bool:
        user_id = params.opt_int("user_id")
        if not user_id or user_id <= 0:
            raise ApiError(ERR_USER_ID_INVALID)
        charge_id = params.opt_str("telegram_payment_charge_id")
        if not charge_id:
            raise ApiError(ERR_CHARGE_REQUIRED)
        payment = self._book().payments.get(charge_id)
        if payment is None or payment.user_id != user_id:
            raise ApiError(ERR_CHARGE_NOT_FOUND)
        if payment.refunded_date is not None:
            raise ApiError(ERR_CHARGE_ALREADY_REFUNDED)
        payment.refunded_date = int(time.time())
        return True

    async def _get_star_transactions(self, params: Params) -> dict[str, Any]:
        offset = max(params.opt_int("offset") or 0, 0)
        limit = min(max(params.opt_int("limit") or STAR_TRANSACTIONS_LIMIT, 1), STAR_TRANSACTIONS_LIMIT)
        users = self._known_users()
        rows: list[dict[str, Any]] = []
        for payment in self._book().payments.values():
            user = users[payment.user_id].to_api()
            rows.append(star_transaction(payment, user, refund=False))
            if payment.refunded_date is not None:
                rows.append(star_transaction(payment, user, refund=True))
        rows.sort(key=lambda row: row["date"], reverse=True)
        return {"transactions": rows[offset : offset + limit]}

    # ---------------------------------------------------------------- driving
    def invoice_of(self, message: StoredMessage) -> Invoice:
        invoice = self._book().links.get(_message_key(message.chat_id, message.message_id))
        assert invoice is not None, f"message {message.message_id} is not an invoice"
        return invoice

    def open_checkout(self, user: FakeUser, invoice: Invoice) -> str:
        """The user presses Pay: Telegram sends the bot a pre_checkout_query; returns its id."""
        book = self._book()
        query_id = str(next(book.query_ids))
        book.checkouts[query_id] = Checkout(
            query_id, user.id, invoice, deadline=time.monotonic() + PRE_CHECKOUT_DEADLINE
        )
        self._updates.push(
            "pre_checkout_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "currency": invoice.currency,
                "total_amount": invoice.total_amount,
                "invoice_payload": invoice.payload,
            },
        )
        self._notify()
        return query_id

    def checkout_answer(self, query_id: str) -> dict[str, Any] | None:
        return self._book().checkouts[query_id].answer

    def complete_payment(self, query_id: str) -> str:
        """Telegram takes the Stars after the bot said ok: a successful_payment message; the charge id."""
        book = self._book()
        checkout = book.checkouts[query_id]
        assert checkout.answer is not None and checkout.answer["ok"], "the bot did not accept the checkout"
        charge_id = f"stxfake{next(book.charge_ids):06d}{secrets.token_hex(8)}"
        book.payments[charge_id] = StarPayment(
            charge_id, checkout.user_id, checkout.invoice, int(time.time())
        )
        self.deliver_payment(charge_id)
        return charge_id

    def deliver_payment(self, charge_id: str) -> StoredMessage:
        """The successful_payment service message (again, when called again: a repeated delivery)."""
        payment = self._book().payments[charge_id]
        user = self._known_user(payment.user_id)
        chat = FakeChat(id=user.id, type="private")
        self._ensure_private_chat(chat, user)
        message = StoredMessage(
            message_id=self._next_message_id(chat.id),
            chat_id=chat.id,
            from_user=user,
            date=int(time.time()),
        )
        message.successful_payment = {
            "currency": payment.invoice.currency,
            "total_amount": payment.invoice.total_amount,
            "invoice_payload": payment.invoice.payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        self._store(message)
        self._updates.push("message", self.message_payload(message))
        self._notify()
        return message

    def _ensure_private_chat(self, chat: FakeChat, user: FakeUser) -> None:
        self._chats.setdefault(chat.id, chat)
        self._private_peers.setdefault(chat.id, user)

    def star_payment(self, charge_id: str) -> StarPayment:
        return self._book().payments[charge_id]


def _message_key(chat_id: int, message_id: int) -> str:
    return f"{chat_id}/{message_id}"
