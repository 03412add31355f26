"""A user's own jobs: /me (usage and limits), /history, /show <job> and /cancel."""

from __future__ import annotations

import re
import time
from html import escape

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.delivery import JobDelivery
from bot.delivery.render import truncate
from bot.delivery.sender import Sender
from bot.domain import Job, JobStatus
from bot.domain.errors import JobNotFound, NothingToCancel
from bot.handlers.context import answer, thread_of
from bot.i18n import Translator
from bot.jobs import JobService
from bot.payments import PaymentService
from bot.quotas import hours_minutes

HISTORY_SIZE = 10
HISTORY_PROMPT_CHARS = 60
SHOW_COMMAND = re.compile(r"^show_([0-9a-f]{16})$")
_STATUS_MARK = {
    JobStatus.QUEUED: "⏳",
    JobStatus.NEEDS_INPUT: "✏️",
    JobStatus.RUNNING: "🎨",
    JobStatus.SUCCEEDED: "✅",
    JobStatus.FAILED: "❌",
}


async def me(
    message: Message,
    jobs: JobService,
    sender: Sender,
    t: Translator,
    payments: PaymentService | None = None,
) -> None:
    assert message.from_user is not None
    usage = await jobs.usage(message.from_user.id)
    hours, minutes = hours_minutes(usage.resets_in)
    lines = [
        t("me-today", used=usage.used_today)
        if not usage.daily_limit
        else t("me-today-limited", used=usage.used_today, limit=usage.daily_limit),
        t("me-active", active=usage.active)
        if not usage.active_limit
        else t("me-active-limited", active=usage.active, limit=usage.active_limit),
    ]
    if usage.daily_limit:
        lines.append(t("me-resets", hours=hours, minutes=minutes))
    if payments is not None:
        lines += await credit_lines(payments, message.from_user.id, t)
    await answer(message, sender, "\n".join(lines))


async def credit_lines(payments: PaymentService, user_id: int, t: Translator) -> list[str]:
    """/me's part about credits: the balance, free jobs left today, the latest purchases."""
    account = await payments.account(user_id)
    lines = [t("pay-balance", balance=account.balance)]
    if account.free_daily:
        lines.append(t("pay-free-left", left=account.free_left, limit=account.free_daily))
    if account.purchases:
        lines.append(t("pay-purchases"))
        lines += [
            t(
                "pay-purchase",
                credits=p.credits,
                stars=p.stars,
                date=time.strftime("%Y-%m-%d", time.gmtime(p.created_at)),
                refunded="yes" if p.refunded_at is not None else "no",
            )
            for p in account.purchases
        ]
    return lines


async def history(message: Message, jobs: JobService, sender: Sender, t: Translator) -> None:
    assert message.from_user is not None
    chat_filter = None if message.chat.type == ChatType.PRIVATE else message.chat.id
    recent = await jobs.history(message.from_user.id, chat_filter, HISTORY_SIZE)
    if not recent:
        await answer(message, sender, t("history-empty"))
        return
    lines = [t("history-title")] + [_history_line(job) for job in recent]
    await answer(message, sender, "\n".join(lines), html=True)


def _history_line(job: Job) -> str:
    prompt = escape(truncate(job.prompt or job.kind.value, HISTORY_PROMPT_CHARS))
    return f"{_STATUS_MARK[job.status]} {prompt} — /show_{job.id}"


async def show(
    message: Message,
    command: CommandObject,
    jobs: JobService,
    delivery: JobDelivery,
    sender: Sender,
    t: Translator,
) -> None:
    assert message.from_user is not None
    job_id = command.regexp_match.group(1) if command.regexp_match else (command.args or "").strip()
    job = await jobs.get(job_id) if job_id else None
    if job is None or job.user_id != message.from_user.id:
        raise JobNotFound()
    shown = await delivery.send_copy(job, message.chat.id, thread_of(message), message.message_id)
    if not shown:
        await answer(message, sender, t("show-not-ready"))


async def cancel(message: Message, jobs: JobService, sender: Sender, t: Translator) -> None:
    assert message.from_user is not None
    reply = message.reply_to_message
    job = (
        await jobs.job_for_message(message.chat.id, reply.message_id)
        if reply is not None
        else await jobs.latest_active(message.from_user.id, message.chat.id)
    )
    if job is None:
        raise NothingToCancel()
    await jobs.cancel(job, message.from_user.id)
    await answer(message, sender, t("cancel-done"))


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="account")
    router.message.register(me, Command("me"))
    router.message.register(history, Command("history"))
    router.message.register(show, Command(SHOW_COMMAND))
    router.message.register(show, Command("show"))
    router.message.register(cancel, Command("cancel"))
    return router
