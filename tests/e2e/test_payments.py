"""Credits for Telegram Stars through the real bot, the strict fake Telegram and a fake midjourney-proxy."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from bot.runtime import Runtime
from tests.fakes.bot_side import png_bytes
from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, StoredMessage
from tests.fakes.telegram.invoices import Invoice
from tests.harness import ALICE, ALICE_CHAT, free_port, running_bot, wait_for_caption, wait_for_text

ADMIN = FakeUser(id=9001, first_name="Operator", username="operator")
ADMIN_CHAT = FakeChat(id=ADMIN.id, type="private")
SECRET = "proxy-secret"
PACKS = "3:50,10:150"
TIMED_PURCHASES = 20


def paid_settings(proxy: FakeMjProxy, **extra: Any) -> dict[str, Any]:
    port = free_port()
    values: dict[str, Any] = {
        "mj_backend": "mjproxy",
        "mj_base_url": proxy.base_url,
        "mj_api_key": SECRET,
        "http_port": port,
        "public_url": f"http://127.0.0.1:{port}",
        "stars_packs": PACKS,
        "daily_limit": 1,
        "admin_ids": str(ADMIN.id),
    }
    return values | extra


def invoices(tg: FakeTelegram, chat_id: int) -> list[StoredMessage]:
    return [m for m in tg.chat_messages(chat_id) if m.invoice]


def texts(tg: FakeTelegram, chat_id: int, needle: str) -> list[StoredMessage]:
    return [m for m in tg.chat_messages(chat_id) if m.text and needle in m.text]


async def ask(tg: FakeTelegram, chat: FakeChat, user: FakeUser, command: str, needle: str) -> str:
    """Send a command and return the text of the bot's next reply containing `needle`."""
    seen = len(texts(tg, chat.id, needle))
    tg.user_sends(chat, user, command)
    reply = await tg.wait_for(lambda: texts(tg, chat.id, needle)[seen:])
    return reply[0].text or ""


async def accepted_checkout(tg: FakeTelegram, invoice: Invoice, user: FakeUser = ALICE) -> str:
    query_id = tg.open_checkout(user, invoice)
    answer = await tg.wait_for(lambda: tg.checkout_answer(query_id))
    assert answer["ok"] is True, answer
    return query_id


async def all_updates_handled(tg: FakeTelegram, runtime: Runtime) -> None:
    """Every update Telegram holds was taken and its handling has finished."""
    deadline = time.monotonic() + 10
    while tg.updates_pending() or runtime.intake.handling:
        assert time.monotonic() < deadline, "updates still unhandled"
        await asyncio.sleep(0.01)


async def test_buy_credit_once_spend_give_back_run_out_refund_and_grant(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    settings = paid_settings(proxy)
    tg.register_chat(ADMIN_CHAT, ADMIN)
    async with running_bot(tg, tmp_path, **settings):
        tg.user_sends(ALICE_CHAT, ALICE, "/buy")
        shown = await tg.wait_for(
            lambda: len(invoices(tg, ALICE_CHAT.id)) == 2 and invoices(tg, ALICE_CHAT.id)
        )
        bills = [tg.invoice_of(message) for message in shown]
        assert [(b.currency, b.total_amount, b.title) for b in bills] == [
            ("XTR", 50, "3 credits"),
            ("XTR", 150, "10 credits"),
        ]
        query_id = await accepted_checkout(tg, bills[0])

        withdrawn = Invoice("99 credits", "gone", "credits:v1:99:1", "XTR", 1, [])
        refused = tg.open_checkout(ALICE, withdrawn)
        answer = await tg.wait_for(lambda: tg.checkout_answer(refused))
        assert answer["ok"] is False and "no longer offered" in answer["error_message"]

    # The bot restarts between the pre-checkout and the payment.
    async with running_bot(tg, tmp_path, **settings) as runtime:
        started = time.perf_counter()
        charge_id = tg.complete_payment(query_id)
        await wait_for_text(tg, ALICE_CHAT.id, "3 credits were added")
        print(f"\nsuccessful_payment → confirmation: {(time.perf_counter() - started) * 1000:.1f} ms")
        tg.deliver_payment(charge_id)  # Telegram delivers the payment again
        await all_updates_handled(tg, runtime)
        assert len(texts(tg, ALICE_CHAT.id, "credits were added")) == 1, "the repeated payment was confirmed"
        me = await ask(tg, ALICE_CHAT, ALICE, "/me", "Credits:")
        assert "Credits: 3" in me and "Free jobs left today: 1 of 1" in me and "3 credits for 50 ⭐" in me

        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a fox in the snow")  # the day's free job
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine gore everywhere")  # paid, refused by moderation
        failed = await wait_for_caption(tg, ALICE_CHAT.id, "Failed")
        assert "Nothing was charged" in (failed.caption or "")
        assert "The credits for this job were given back" in (failed.caption or "")
        me = await ask(tg, ALICE_CHAT, ALICE, "/me", "Credits:")
        assert "Credits: 3" in me and "Free jobs left today: 0 of 1" in me

        for n in range(3):
            tg.user_sends(ALICE_CHAT, ALICE, f"/imagine paid picture {n}")
        await tg.wait_for(lambda: len(proxy.tasks) == 4)
        submitted = len(proxy.submissions)
        refusal = await ask(tg, ALICE_CHAT, ALICE, "/imagine one too many", "out of credits")
        assert "costs 1 and your balance is 0" in refusal
        refusal_message = texts(tg, ALICE_CHAT.id, "out of credits")[-1]
        assert refusal_message.button_texts() == ["⭐ Buy credits"]
        assert len(proxy.submissions) == submitted, "nothing was submitted"
        tg.press_button(ALICE_CHAT.id, refusal_message.message_id, ALICE, text="⭐ Buy credits")
        await tg.wait_for(lambda: len(invoices(tg, ALICE_CHAT.id)) == 4)

        await proxy.succeed(next(iter(proxy.tasks)))  # the free fox: its U1 would be a paid job
        grid = await wait_for_caption(tg, ALICE_CHAT.id, "fox", "Done")
        pressed = tg.press_button(ALICE_CHAT.id, grid.message_id, ALICE, text="U1")
        await tg.wait_for(lambda: pressed in tg.callback_answers)
        assert "out of credits" in tg.callback_answers[pressed]["text"]
        offers = await tg.wait_for(lambda: len(texts(tg, ALICE_CHAT.id, "out of credits")) == 2)
        assert offers and texts(tg, ALICE_CHAT.id, "out of credits")[-1].button_texts() == ["⭐ Buy credits"]
        assert len(proxy.submissions) == submitted, "the press submitted nothing"

        refused_refund = await ask(tg, ALICE_CHAT, ALICE, f"/refund {charge_id}", "for the bot's admins")
        assert refused_refund and tg.star_payment(charge_id).refunded_date is None
        refunded = await ask(tg, ADMIN_CHAT, ADMIN, f"/refund {charge_id}", "Refunded")
        assert f"Refunded 50 ⭐ to {ALICE.id}" in refunded and "took back 3 credits" in refunded
        assert tg.star_payment(charge_id).refunded_date is not None
        again = await ask(tg, ADMIN_CHAT, ADMIN, f"/refund {charge_id}", "refunded already")
        assert again
        unknown = await ask(tg, ADMIN_CHAT, ADMIN, "/refund stx-no-such-charge", "No payment")
        assert unknown
        assert len(tg.calls_of("refundStarPayment")) == 1

        granted = await ask(tg, ADMIN_CHAT, ADMIN, f"/grant {ALICE.id} 5", "changed by")
        assert "Their balance: 2" in granted, "3 bought - 3 spent - 3 refunded + 5 granted"
        taken = await ask(tg, ADMIN_CHAT, ADMIN, f"/grant {ALICE.id} -2", "changed by")
        assert "Their balance: 0" in taken
        me = await ask(tg, ALICE_CHAT, ALICE, "/me", "Credits:")
        assert "Credits: 0" in me and "(refunded)" in me
        support = await ask(tg, ALICE_CHAT, ALICE, "/paysupport", "refund")
        assert "admins" in support


async def test_time_from_payment_to_confirmation(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **paid_settings(proxy)):
        tg.user_sends(ALICE_CHAT, ALICE, "/buy")
        shown = await tg.wait_for(
            lambda: len(invoices(tg, ALICE_CHAT.id)) == 2 and invoices(tg, ALICE_CHAT.id)
        )
        bill = tg.invoice_of(shown[0])
        timings, answers = [], []
        for n in range(TIMED_PURCHASES):
            opened = time.perf_counter()
            query_id = await accepted_checkout(tg, bill)
            answers.append((time.perf_counter() - opened) * 1000)
            started = time.perf_counter()
            tg.complete_payment(query_id)
            await tg.wait_for(lambda n=n: len(texts(tg, ALICE_CHAT.id, "credits were added")) == n + 1)
            timings.append((time.perf_counter() - started) * 1000)
        me = await ask(tg, ALICE_CHAT, ALICE, "/me", "Credits:")
        assert f"Credits: {3 * TIMED_PURCHASES}" in me
    print(
        f"\nsuccessful_payment → confirmation over {TIMED_PURCHASES} purchases: "
        f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms "
        f"(each: {[round(x) for x in timings]}); "
        f"pre_checkout_query → answer: median {statistics.median(answers):.1f} ms, max {max(answers):.1f} ms"
    )
    assert max(answers) < 10_000, "Telegram waits 10 s for the pre-checkout answer"


async def test_without_packs_there_is_nothing_to_buy_and_jobs_cost_nothing(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **paid_settings(proxy, stars_packs="", daily_limit=0)):
        tg.user_sends(ALICE_CHAT, ALICE, "/buy")
        tg.user_sends(ALICE_CHAT, ALICE, "/imagine a fox without credits")
        await tg.wait_for(lambda: len(proxy.tasks) == 1)
        me = await ask(tg, ALICE_CHAT, ALICE, "/me", "Jobs today")
        assert "Credits" not in me
        assert invoices(tg, ALICE_CHAT.id) == []
        assert tg.calls_of("sendInvoice") == []


async def test_a_user_the_bot_refuses_cannot_check_out_but_a_payment_made_is_credited(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    settings = paid_settings(proxy)
    async with running_bot(tg, tmp_path, **settings):
        tg.user_sends(ALICE_CHAT, ALICE, "/buy")
        shown = await tg.wait_for(
            lambda: len(invoices(tg, ALICE_CHAT.id)) == 2 and invoices(tg, ALICE_CHAT.id)
        )
        bill = tg.invoice_of(shown[0])
        accepted = await accepted_checkout(tg, bill)

    # The operator closes the bot to everyone but the admin while Alice's payment is on its way.
    async with running_bot(tg, tmp_path, **settings, allowed_user_ids=str(ADMIN.id)):
        refused = tg.open_checkout(ALICE, bill)
        answer = await tg.wait_for(lambda: tg.checkout_answer(refused))
        assert answer["ok"] is False and "not available to you" in answer["error_message"]

        tg.complete_payment(accepted)  # Telegram took her Stars: the credits are hers
        confirmation = await wait_for_text(tg, ALICE_CHAT.id, "3 credits were added")
        assert "balance: 3 credits" in (confirmation.text or "")


async def test_the_menu_offers_buy_and_paysupport_only_when_credits_are_sold(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path / "paid", **paid_settings(proxy)):
        menus = {c.params.get("language_code"): c.params["commands"] for c in tg.calls_of("setMyCommands")}
    assert set(menus) == {None, "ru", "zh"}
    for commands in menus.values():
        names = [c["command"] for c in commands]
        assert names[names.index("me") + 1 : names.index("me") + 3] == ["buy", "paysupport"]
    described = {code: {c["command"]: c["description"] for c in menus[code]} for code in menus}
    assert described[None]["buy"] == "Buy credits with Telegram Stars"
    assert "Stars" in described["ru"]["buy"] and "积分" in described["zh"]["buy"]

    tg.calls.clear()
    async with running_bot(tg, tmp_path / "free", **(paid_settings(proxy) | {"stars_packs": ()})):
        free_menu = [c["command"] for c in tg.calls_of("setMyCommands")[0].params["commands"]]
    assert "me" in free_menu and "buy" not in free_menu and "paysupport" not in free_menu


async def test_describe_out_of_credits_is_refused_before_the_picture_is_downloaded(
    tg: FakeTelegram, proxy: FakeMjProxy, tmp_path: Path
) -> None:
    async with running_bot(tg, tmp_path, **paid_settings(proxy, daily_limit=0)):  # no free jobs
        tg.user_sends(ALICE_CHAT, ALICE, photo=png_bytes((64, 64)), caption="/describe")
        refusal = await tg.wait_for(lambda: texts(tg, ALICE_CHAT.id, "out of credits"))
        assert refusal and refusal[-1].button_texts() == ["⭐ Buy credits"]
        assert tg.calls_of("getFile") == [], "the picture was fetched for a job that could not be paid"
        assert proxy.submissions == []
