"""Inline button presses: every callback query of ours is answered, with a reason when refused."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery

from bot.delivery.keyboards import CALLBACK_PREFIX, button_label, parse_callback_data
from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender, chatter_key
from bot.domain import ActionKind, Job, JobStatus
from bot.domain.actions import EXTENSIONS
from bot.domain.errors import ButtonExpired
from bot.handlers.context import display_name
from bot.i18n import Translator
from bot.jobs import AlreadyDone, Cancelled, JobService, SeedFound, Started


async def press_button(
    query: CallbackQuery, jobs: JobService, sender: Sender, t: Translator, language: str
) -> None:
    token = parse_callback_data(query.data)
    if token is None:
        raise ButtonExpired()
    outcome = await jobs.press(token, query.from_user.id, display_name(query.from_user), language)
    match outcome:
        case Started(job):
            # Answered once the job is recorded: the client stops spinning while the backend takes it.
            await _answer(sender, query, t("press-started", action=_started_label(job, t)))
            await outcome.submit()
        case AlreadyDone(job):
            pointer = t(_already_done(job))
            await _answer(sender, query, pointer)
            await _reply(sender, job, pointer)
        case SeedFound(job, seed):
            await _answer(sender, query, seed)
            await _reply(sender, job, t("seed-value", seed=escape(seed)), html=True)
        case Cancelled():
            await _answer(sender, query, t("input-cancelled"))


def _already_done(job: Job) -> str:
    """The message id pointing at a result that was made once already."""
    origin = job.origin.kind if job.origin is not None else None
    if origin is ActionKind.PICK_CLIP:
        return "already-picked-clip"
    if origin in EXTENSIONS:
        return "already-extended"
    if job.kind.makes_video:
        return "already-animated"
    if origin is ActionKind.CROP:
        return "already-cropped"
    return "already-upscaled"


def _started_label(job: Job, t: Translator) -> str:
    if job.status is JobStatus.NEEDS_INPUT:
        return t("status-needs-input")
    return button_label(job.origin, t) if job.origin else t("btn-retry")


async def _answer(sender: Sender, query: CallbackQuery, text: str) -> None:
    await sender.call(AnswerCallbackQuery(callback_query_id=query.id, text=text), chat_id=None)


async def _reply(sender: Sender, job: Job, text: str, *, html: bool = False) -> None:
    method = reply_message(job.chat_id, job.thread_id, text, reply_to=job.message_id, html=html)
    sender.say(method, chat_id=job.chat_id, key=f"{job.message_id}:{chatter_key(method)}")


async def unknown_button(query: CallbackQuery, sender: Sender, t: Translator) -> None:
    """Buttons from an older format or another bot instance: answer so the client stops spinning."""
    await sender.call(
        AnswerCallbackQuery(callback_query_id=query.id, text=t("press-expired"), show_alert=True),
        chat_id=None,
    )


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="actions")
    router.callback_query.register(press_button, F.data.startswith(CALLBACK_PREFIX))
    return router


def create_fallback_router() -> Router:
    """Answers callback queries no other router took; included last."""
    router = Router(name="actions-fallback")
    router.callback_query.register(unknown_button)
    return router
