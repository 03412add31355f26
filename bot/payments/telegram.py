"""The Telegram side of payments: Stars invoices, the buy button, and refundStarPayment's answers."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import RefundStarPayment, SendInvoice
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice

from bot.delivery.sender import Sender
from bot.domain.payments import STARS_CURRENCY, AlreadyRefunded, Pack, RefundRefused
from bot.i18n import Translator
from bot.payments.service import RefundCall

BUY_DATA = "pay:v1:buy"  # the buy button's callback data (versioned, like every button of the bot)
INVOICE_TITLE_LIMIT = 32  # Telegram: title 1-32 characters, description 1-255
INVOICE_DESCRIPTION_LIMIT = 255
# refundStarPayment's answer for a charge refunded before (MTProto payments.refundStarsCharge).
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


def invoice(pack: Pack, chat_id: int, thread_id: int | None, t: Translator) -> SendInvoice:
    """A Stars invoice for the pack: currency XTR, one price, no provider token."""
    return SendInvoice(
        chat_id=chat_id,
        message_thread_id=thread_id,
        title=t("pay-invoice-title", credits=pack.credits)[:INVOICE_TITLE_LIMIT],
        description=t("pay-invoice-description", credits=pack.credits, stars=pack.stars)[
            :INVOICE_DESCRIPTION_LIMIT
        ],
        payload=pack.payload,
        currency=STARS_CURRENCY,
        prices=[LabeledPrice(label=t("pay-invoice-label", credits=pack.credits), amount=pack.stars)],
        provider_token="",
    )


def buy_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t("pay-buy-button"), callback_data=BUY_DATA)]]
    )


def star_refunds(sender: Sender) -> RefundCall:
    """refundStarPayment through the sender, its refusals as the payment errors admins are shown."""

    async def refund(user_id: int, charge_id: str) -> None:
        method = RefundStarPayment(user_id=user_id, telegram_payment_charge_id=charge_id)
        try:
            await sender.call(method, chat_id=None)
        except TelegramBadRequest as exc:
            if ALREADY_REFUNDED in exc.message:
                raise AlreadyRefunded(charge=charge_id) from exc
            raise RefundRefused(reason=exc.message) from exc

    return refund
