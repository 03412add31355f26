"""The fake Telegram's payment methods, driven by the real aiogram Bot: they refuse what Telegram refuses."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice

from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

ALICE = FakeUser(id=1001, first_name="Alice", username="alice")
BOB = FakeUser(id=1002, first_name="Bob")
ALICE_CHAT = FakeChat(id=ALICE.id, type="private")
STARS = [LabeledPrice(label="100 credits", amount=50)]


@pytest.fixture
def fake(fake: FakeTelegram) -> FakeTelegram:
    """Alice and Bob have opened their private chats with the bot."""
    fake.register_chat(ALICE_CHAT, ALICE)
    fake.register_chat(FakeChat(id=BOB.id, type="private"), BOB)
    return fake


def invoice(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "100 credits",
        "description": "Credits for image jobs",
        "payload": "credits:v1:100:50",
        "currency": "XTR",
        "prices": STARS,
        "provider_token": "",
    }
    return values | overrides


async def paid_by_alice(fake: FakeTelegram, bot: Bot) -> str:
    sent = await bot.send_invoice(ALICE_CHAT.id, **invoice())
    query_id = fake.open_checkout(ALICE, fake.invoice_of(fake.message(ALICE_CHAT.id, sent.message_id)))
    await bot.answer_pre_checkout_query(query_id, ok=True)
    return fake.complete_payment(query_id)


async def test_a_stars_invoice_is_sent_and_shown(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_invoice(ALICE_CHAT.id, **invoice())

    assert sent.invoice is not None
    assert (sent.invoice.currency, sent.invoice.total_amount, sent.invoice.title) == (
        "XTR",
        50,
        "100 credits",
    )
    link = await bot.create_invoice_link(**invoice())
    assert link.startswith("https://t.me/$")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"prices": [*STARS, LabeledPrice(label="tip", amount=1)]}, "STARS_INVOICE_INVALID"),
        ({"provider_token": "284685063:TEST:abc"}, "STARS_INVOICE_INVALID"),
        ({"currency": "USD"}, "PAYMENT_PROVIDER_INVALID"),
        ({"payload": "x" * 129}, "INVOICE_PAYLOAD_INVALID"),
        ({"payload": "é" * 65}, "INVOICE_PAYLOAD_INVALID"),  # 130 bytes: the limit is in bytes
        ({"title": "t" * 33}, "TITLE_INVALID"),
        ({"description": "d" * 256}, "DESCRIPTION_INVALID"),
        ({"prices": [LabeledPrice(label="free", amount=0)]}, "total price must be positive"),
        ({"payload": ""}, 'parameter "payload" is required'),
    ],
)
async def test_invoices_telegram_refuses_are_refused(
    fake: FakeTelegram, bot: Bot, overrides: dict[str, Any], error: str
) -> None:
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.send_invoice(ALICE_CHAT.id, **invoice(**overrides))
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.create_invoice_link(**invoice(**overrides))


async def test_a_pre_checkout_query_is_answered_once_within_ten_seconds(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_invoice(ALICE_CHAT.id, **invoice())
    bill = fake.invoice_of(fake.message(ALICE_CHAT.id, sent.message_id))
    query_id = fake.open_checkout(ALICE, bill)

    with pytest.raises(TelegramBadRequest, match='parameter "error_message" is required'):
        await bot.answer_pre_checkout_query(query_id, ok=False)
    assert await bot.answer_pre_checkout_query(query_id, ok=False, error_message="Sold out")
    assert fake.checkout_answer(query_id) is not None
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query_id, ok=True)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_pre_checkout_query("424242", ok=True)

    late = fake.open_checkout(ALICE, bill)
    fake.payment_book.checkouts[late].deadline = time.monotonic() - 0.001
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(late, ok=True)


async def test_a_payment_is_refunded_once_to_its_payer_only(fake: FakeTelegram, bot: Bot) -> None:
    charge_id = await paid_by_alice(fake, bot)

    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(BOB.id, charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(ALICE.id, "no-such-charge")
    assert await bot.refund_star_payment(ALICE.id, charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(ALICE.id, charge_id)

    transactions = (await bot.get_star_transactions()).transactions
    assert [t.id for t in transactions] == [charge_id, charge_id]
    assert {t.amount for t in transactions} == {50}
    assert any(t.source is not None for t in transactions) and any(
        t.receiver is not None for t in transactions
    )


async def test_a_payment_can_be_delivered_again(fake: FakeTelegram, bot: Bot) -> None:
    charge_id = await paid_by_alice(fake, bot)
    fake.deliver_payment(charge_id)

    updates = await bot.get_updates(allowed_updates=["message", "pre_checkout_query"])

    paid = [u.message.successful_payment for u in updates if u.message and u.message.successful_payment]
    assert [p.telegram_payment_charge_id for p in paid] == [charge_id, charge_id]
    assert paid[0].total_amount == 50 and paid[0].currency == "XTR"
    assert len({u.update_id for u in updates}) == len(updates)
