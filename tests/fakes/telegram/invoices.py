"""Invoices as Telegram checks them, and the fake's book of checkouts and Stars payments.

Sources: the Bot API server (tdlib/telegram-bot-api, telegram-bot-api/Client.cpp:
`get_input_message_invoice`, `process_answer_pre_checkout_query_query`, `process_refund_star_payment_query`,
`process_get_star_transactions_query`, and `fail_query_with_error`, which prefixes "Bad Request: " and
lower-cases the first letter of a sentence-style message) and TDLib (td/telegram/InputInvoice.cpp:
`process_input_message_invoice`). The limits on title, description and payload and the Stars rules are
checked by Telegram's own servers, whose answers are MTProto error names (messages.sendMedia and
payments.exportInvoice list INVOICE_PAYLOAD_INVALID and STARS_INVOICE_INVALID; payments.refundStarsCharge
lists CHARGE_ALREADY_REFUNDED).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram.limits import ApiError
from tests.fakes.telegram.params import Params

STARS = "XTR"
TITLE_LIMIT = 32  # characters (the Bot API docs: "Product name, 1-32 characters")
DESCRIPTION_LIMIT = 255  # characters ("Product description, 1-255 characters")
PAYLOAD_LIMIT = 128  # bytes ("1-128 bytes")
PRE_CHECKOUT_DEADLINE = 10.0  # seconds Telegram waits for answerPreCheckoutQuery
STAR_TRANSACTIONS_LIMIT = 100  # getStarTransactions clamps `limit` to 1-100

ERR_PAYLOAD_INVALID = "Bad Request: INVOICE_PAYLOAD_INVALID"
ERR_STARS_INVOICE = "Bad Request: STARS_INVOICE_INVALID"
ERR_PROVIDER_INVALID = "Bad Request: PAYMENT_PROVIDER_INVALID"
# The server's names for a title or description out of bounds are not documented; these follow its style.
ERR_TITLE_INVALID = "Bad Request: TITLE_INVALID"
ERR_DESCRIPTION_INVALID = "Bad Request: DESCRIPTION_INVALID"
ERR_TOTAL_NOT_POSITIVE = "Bad Request: total price must be positive"  # InputInvoice.cpp
ERR_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ERR_ERROR_MESSAGE_REQUIRED = 'Bad Request: parameter "error_message" is required'
ERR_CHARGE_REQUIRED = 'Bad Request: parameter "telegram_payment_charge_id" is required'
ERR_USER_ID_INVALID = "Bad Request: invalid user_id specified"
ERR_CHARGE_ALREADY_REFUNDED = "Bad Request: CHARGE_ALREADY_REFUNDED"
# Not in refundStarsCharge's documented list; what bots report for a charge id Telegram does not know.
ERR_CHARGE_NOT_FOUND = "Bad Request: CHARGE_NOT_FOUND"


@dataclass(frozen=True)
class Invoice:
    """A checked invoice: what sendInvoice shows and createInvoiceLink points to."""

    title: str
    description: str
    payload: str
    currency: str
    total_amount: int
    prices: list[dict[str, Any]]

    def to_api(self) -> dict[str, Any]:
        """The `invoice` field of the message (Client.cpp JsonInvoice)."""
        return {
            "title": self.title,
            "description": self.description,
            "start_parameter": "",
            "currency": self.currency,
            "total_amount": self.total_amount,
        }


@dataclass
class Checkout:
    """A pre_checkout_query sent to the bot, and its answer once given."""

    query_id: str
    user_id: int
    invoice: Invoice
    deadline: float
    answer: dict[str, Any] | None = None


@dataclass
class StarPayment:
    """A completed Stars payment, refundable once."""

    charge_id: str
    user_id: int
    invoice: Invoice
    date: int
    refunded_date: int | None = None


@dataclass
class PaymentBook:
    """Everything the fake remembers about invoices, checkouts and payments."""

    links: dict[str, Invoice] = field(default_factory=dict)
    checkouts: dict[str, Checkout] = field(default_factory=dict)
    payments: dict[str, StarPayment] = field(default_factory=dict)
    query_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_000_000_001))
    charge_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def read_invoice(params: Params) -> Invoice:
    """sendInvoice's and createInvoiceLink's invoice fields, refused as Telegram refuses them."""
    title = _required(params, "title")
    description = _required(params, "description")
    payload = _required(params, "payload")
    currency = _required(params, "currency")
    prices = params.opt_list("prices")
    if prices is None:
        raise ApiError('Bad Request: parameter "prices" is required')
    amounts = [_price_amount(price) for price in prices]
    total = sum(amounts)
    if total <= 0:
        raise ApiError(ERR_TOTAL_NOT_POSITIVE)
    if not 1 <= len(title) <= TITLE_LIMIT:
        raise ApiError(ERR_TITLE_INVALID)
    if not 1 <= len(description) <= DESCRIPTION_LIMIT:
        raise ApiError(ERR_DESCRIPTION_INVALID)
    if not 1 <= len(payload.encode("utf-8")) <= PAYLOAD_LIMIT:
        raise ApiError(ERR_PAYLOAD_INVALID)
    provider_token = params.opt_str("provider_token") or ""
    if currency == STARS:
        # Stars: exactly one price and no payment provider.
        if len(prices) != 1 or provider_token:
            raise ApiError(ERR_STARS_INVOICE)
    elif not provider_token:
        raise ApiError(ERR_PROVIDER_INVALID)
    return Invoice(title, description, payload, currency, total, prices)


def _required(params: Params, name: str) -> str:
    # Client.cpp get_required_string_arg: an absent or empty argument is "required".
    value = params.opt_str(name)
    if not value:
        raise ApiError(f'Bad Request: parameter "{name}" is required')
    return value


def _price_amount(price: Any) -> int:
    if not isinstance(price, dict) or not isinstance(price.get("label"), str):
        raise ApiError("Bad Request: can't parse prices JSON object")
    amount = price.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ApiError("Bad Request: can't parse prices JSON object")
    return amount


def star_transaction(payment: StarPayment, user: dict[str, Any], *, refund: bool) -> dict[str, Any]:
    """A StarTransaction (Client.cpp JsonStarTransaction): the payment, or its refund with the same partner
    as `receiver` (a negative star amount there)."""
    partner = {
        "transaction_type": "invoice_payment",
        "type": "user",
        "user": user,
        "invoice_payload": payment.invoice.payload,
    }
    return {
        "id": payment.charge_id,
        "date": payment.refunded_date if refund else payment.date,
        "receiver" if refund else "source": partner,
        "amount": payment.invoice.total_amount,
    }
