"""Credits for Telegram Stars: /buy, the pre-checkout answer, a paid invoice, /paysupport, /grant, /refund."""

from __future__ import annotations

import re

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, ExceptionTypeFilter
from aiogram.methods import AnswerCallbackQuery, AnswerPreCheckoutQuery
from aiogram.types import CallbackQuery, ErrorEvent, Message, PreCheckoutQuery

from bot.access import AccessControl
from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender
from bot.domain.payments import GrantUsage, OutOfCredits, RefundUsage
from bot.handlers.context import answer, require_admin, say, thread_of
from bot.handlers.errors import CALLBACK_ANSWER_LIMIT
from bot.i18n import Locales, Translator
from bot.payments import PaymentService
from bot.payments.telegram import BUY_DATA, buy_keyboard, invoice, star_refunds

_GRANT = re.compile(r"^([0-9]{1,15})\s+(-?[0-9]{1,9})$")
_CHARGE = re.compile(r"^\S{1,255}$")


def _send_invoices(message: Message, payments: PaymentService, sender: Sender, t: Translator) -> None:
    for pack in payments.packs:
        say(message, sender, invoice(pack, message.chat.id, thread_of(message), t))


async def buy(message: Message, payments: PaymentService, sender: Sender, t: Translator) -> None:
    _send_invoices(message, payments, sender, t)


async def buy_pressed(query: CallbackQuery, payments: PaymentService, sender: Sender, t: Translator) -> None:
    await sender.call(AnswerCallbackQuery(callback_query_id=query.id), chat_id=None)
    if isinstance(query.message, Message):
        _send_invoices(query.message, payments, sender, t)


async def pre_checkout(
    query: PreCheckoutQuery, payments: PaymentService, sender: Sender, t: Translator
) -> None:
    """Answered at once (Telegram waits 10 s): yes only for a pack still offered at the price asked."""
    pack = payments.pack_for(query.invoice_payload, query.currency, query.total_amount)
    method = (
        AnswerPreCheckoutQuery(pre_checkout_query_id=query.id, ok=True)
        if pack is not None
        else AnswerPreCheckoutQuery(
            pre_checkout_query_id=query.id, ok=False, error_message=t("pay-checkout-unavailable")
        )
    )
    await sender.call(method, chat_id=None)


async def paid(message: Message, payments: PaymentService, sender: Sender, t: Translator) -> None:
    assert message.successful_payment is not None and message.from_user is not None
    payment = message.successful_payment
    credited = await payments.credit(
        message.from_user.id,
        payment.telegram_payment_charge_id,
        payment.currency,
        payment.total_amount,
        payment.invoice_payload,
    )
    if credited.new:
        await answer(message, sender, t("pay-credited", credits=credited.credits, balance=credited.balance))


async def pay_support(message: Message, sender: Sender, t: Translator) -> None:
    await answer(message, sender, t("pay-support"))


async def grant(
    message: Message,
    command: CommandObject,
    access: AccessControl,
    payments: PaymentService,
    sender: Sender,
    t: Translator,
) -> None:
    admin_id = require_admin(message, access)
    match = _GRANT.match((command.args or "").strip())
    if match is None or int(match[2]) == 0:
        raise GrantUsage()
    user_id, credits = int(match[1]), int(match[2])
    left = await payments.grant(admin_id, user_id, credits)
    await answer(message, sender, t("pay-granted", id=str(user_id), credits=credits, balance=left))


async def refund(
    message: Message,
    command: CommandObject,
    access: AccessControl,
    payments: PaymentService,
    sender: Sender,
    t: Translator,
) -> None:
    admin_id = require_admin(message, access)
    charge_id = (command.args or "").strip()
    if not _CHARGE.match(charge_id):
        raise RefundUsage()
    done = await payments.refund(admin_id, charge_id, star_refunds(sender))
    text = t(
        "pay-refunded",
        id=str(done.payment.user_id),
        stars=done.payment.stars,
        credits=done.payment.credits,
        balance=done.balance,
    )
    await answer(message, sender, text)


async def out_of_credits(
    event: ErrorEvent, message: Message, sender: Sender, locales: Locales, t: Translator | None = None
) -> None:
    """The refusal, with a button that brings up the packs."""
    assert isinstance(event.exception, OutOfCredits)
    translator = t or locales.translator(message.from_user.language_code if message.from_user else None)
    text = translator(event.exception.message_id, **event.exception.args_for_message)
    keyboard = buy_keyboard(translator)
    say(
        message,
        sender,
        reply_message(
            message.chat.id, thread_of(message), text, reply_to=message.message_id, reply_markup=keyboard
        ),
    )


async def out_of_credits_pressed(
    event: ErrorEvent, query: CallbackQuery, sender: Sender, locales: Locales, t: Translator | None = None
) -> None:
    """A button that would start a job: the refusal as an alert, and the buy button in the chat."""
    assert isinstance(event.exception, OutOfCredits)
    translator = t or locales.translator(query.from_user.language_code)
    text = translator(event.exception.message_id, **event.exception.args_for_message)
    alert = AnswerCallbackQuery(
        callback_query_id=query.id, text=text[:CALLBACK_ANSWER_LIMIT], show_alert=True
    )
    await sender.call(alert, chat_id=None)
    if isinstance(query.message, Message):
        chat_id = query.message.chat.id
        offer = reply_message(
            chat_id, thread_of(query.message), text, reply_to=None, reply_markup=buy_keyboard(translator)
        )
        sender.say(offer, chat_id=chat_id, key=f"{query.from_user.id}:out-of-credits")


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="payments")
    router.error.register(out_of_credits, ExceptionTypeFilter(OutOfCredits), F.update.message.as_("message"))
    router.error.register(
        out_of_credits_pressed, ExceptionTypeFilter(OutOfCredits), F.update.callback_query.as_("query")
    )
    router.message.register(buy, Command("buy"))
    router.message.register(paid, F.successful_payment)
    router.message.register(pay_support, Command("paysupport"))
    router.message.register(grant, Command("grant"))
    router.message.register(refund, Command("refund"))
    router.callback_query.register(buy_pressed, F.data == BUY_DATA)
    router.pre_checkout_query.register(pre_checkout)
    return router
