"""Bringing one job's Telegram message in step with the job's stored state (latest state wins)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from functools import partial
from typing import Protocol

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import EditMessageCaption, EditMessageMedia, EditMessageText, SendDocument
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.delivery.keyboards import job_keyboard
from bot.delivery.media import Media, MediaResolver, UnusableResult, needs_document, shown_format
from bot.delivery.methods import HTML, input_media, media_message, reply_message, reply_parameters
from bot.delivery.questions import InputQuestions
from bot.delivery.render import WaitingReason, render_caption, render_text
from bot.delivery.sender import Sender
from bot.domain import Job, JobStatus
from bot.domain.jobs import waits_for_mask
from bot.i18n import Locales, Translator
from bot.media import TELEGRAM_UPLOAD_MAX_BYTES, image_extension
from bot.region_links import RegionLinks
from bot.storage.buttons import job_buttons
from bot.storage.database import Database
from bot.storage.jobs import DeliveryState, get_job_with_delivery, save_delivery

log = logging.getLogger(__name__)

BYTES_PER_MB = 1024 * 1024
_GONE_MESSAGE = ("message to edit not found", "message can't be edited", "message_id_invalid")
_CHAT_GONE = (
    "chat not found",
    "bot was kicked",
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
)


class FailResult(Protocol):
    """Asks the job service to fail a finished job whose result cannot be shown (delivery writes no jobs)."""

    async def __call__(self, job_id: str, reason: str) -> None: ...


class MessageSync:
    """Sends or edits a job's message (photo, video or text) until Telegram shows its newest state."""

    def __init__(
        self,
        sender: Sender,
        db: Database,
        locales: Locales,
        media: MediaResolver,
        questions: InputQuestions,
        *,
        fail_result: FailResult,
        simulated: bool,
        timeout_minutes: int,
        region_links: RegionLinks | None,
        waiting: WaitingReason | None = None,
        credits_back: bool = False,
    ) -> None:
        self._sender = sender
        self._db = db
        self._locales = locales
        self._media = media
        self._questions = questions
        self._fail_result = fail_result
        self._region_links = region_links
        self._waiting = waiting
        # The same settings for every caption and text this bot renders.
        self._render_caption = partial(
            render_caption, simulated=simulated, timeout_minutes=timeout_minutes, credits_back=credits_back
        )
        self._render_text = partial(
            render_text, simulated=simulated, timeout_minutes=timeout_minutes, credits_back=credits_back
        )

    async def deliver(self, job_id: str) -> bool:
        """Bring the job's message up to date; True when this brought it to the job's newest state."""
        async with self._db.read() as conn:
            found = await get_job_with_delivery(conn, job_id)
            tokens = await job_buttons(conn, job_id) if found else {}
        if found is None:
            return False
        job, state = found
        if state.delivery_error is not None or (
            state.shown_version >= job.version and not needs_document(job, state)
        ):
            return False
        try:
            if job.kind.makes_text:
                state = await self._sync_text(job, state, tokens)
            else:
                state = await self._sync_message(job, state, tokens)
            if job.status is JobStatus.NEEDS_INPUT:
                await self._questions.ask(job)
        except UnusableResult as exc:
            # Nothing is shown for this state: the job fails instead, and that new state is delivered.
            await self._fail_result(job.id, str(exc))
            return False
        except TelegramForbiddenError as exc:
            state = await self._give_up(job, state, str(exc))
        except TelegramBadRequest as exc:
            state = await self._handle_bad_request(job, state, tokens, exc)
        return state.shown_version >= job.version

    async def send_copy(self, job: Job, chat_id: int, thread_id: int | None, reply_to: int | None) -> bool:
        """Post a finished job's result again, with its live buttons; False when there is none to post."""
        async with self._db.read() as conn:
            found = await get_job_with_delivery(conn, job.id)
            tokens = await job_buttons(conn, job.id)
        if found is None:
            return False
        job, state = found
        t = self._locales.translator(job.language)
        keyboard = self._keyboard(job, tokens, t)
        if job.kind.makes_text:
            text = self._render_text(job, t)
            await self._sender.call(
                reply_message(chat_id, thread_id, text, reply_to=reply_to, html=True, reply_markup=keyboard),
                chat_id=chat_id,
            )
            return True
        if job.status is not JobStatus.SUCCEEDED or state.photo_file_id is None:
            return False
        caption = self._render_caption(job, t)
        # For a video job the kept file id is the video's (or the animation's) own.
        moving = shown_format(state.shown_media, job.video_url)
        media = Media(state.shown_media or "", file_id=state.photo_file_id, moving=moving)
        await self._sender.call(
            media_message(media, chat_id, thread_id, caption, keyboard, reply_parameters(reply_to)),
            chat_id=chat_id,
        )
        return True

    async def _handle_bad_request(
        self, job: Job, state: DeliveryState, tokens: dict[str, str], exc: TelegramBadRequest
    ) -> DeliveryState:
        text = exc.message.lower()
        if any(marker in text for marker in _GONE_MESSAGE) and job.message_id is not None:
            # The user deleted our message: post the state as a new one rather than lose it.
            log.info("message of job %s is gone; sending a new one", job.id)
            fresh = replace(job, message_id=None)
            state = replace(state, shown_media=None, shown_caption=None)
            return await self._sync_message(fresh, state, tokens)
        if any(marker in text for marker in _CHAT_GONE):
            return await self._give_up(job, state, exc.message)
        log.error("Telegram refused the message of job %s: %s", job.id, exc.message)
        return await self._give_up(job, state, exc.message)

    async def _give_up(self, job: Job, state: DeliveryState, reason: str) -> DeliveryState:
        state = replace(state, shown_version=job.version, delivery_error=reason[:500])
        async with self._db.write() as conn:
            await save_delivery(conn, job.id, state, message_id=job.message_id)
        return state

    async def _sync_message(self, job: Job, state: DeliveryState, tokens: dict[str, str]) -> DeliveryState:
        t = self._locales.translator(job.language)
        media = await self._media.for_state(job, state)
        image_unavailable = media is None
        if media is None:
            media = self._media.fallback(state)
        caption = self._render_caption(
            job,
            t,
            image_unavailable=image_unavailable,
            video_problem=media.video_problem,
            video_limit_mb=TELEGRAM_UPLOAD_MAX_BYTES // BYTES_PER_MB,
            backend_waiting=self._waiting() if self._waiting and job.status is JobStatus.QUEUED else None,
        )
        keyboard = self._keyboard(job, tokens, t)
        caption_key = _fingerprint(caption, keyboard)
        message_id = job.message_id
        if message_id is None:
            sent = await self._sender.call(
                media_message(
                    media,
                    job.chat_id,
                    job.thread_id,
                    caption,
                    keyboard,
                    reply_parameters(job.reply_to_message_id),
                ),
                chat_id=job.chat_id,
                uploading=media.upload_size,
            )
            message_id = sent.message_id
            state = replace(self._media.shown(state, media, sent), shown_caption=caption_key)
            # Saved at once so a crash after this point edits this message instead of posting another.
            async with self._db.write() as conn:
                await save_delivery(conn, job.id, state, message_id=message_id)
        elif media.key != state.shown_media:
            edited = await self._sender.call(
                EditMessageMedia(
                    chat_id=job.chat_id,
                    message_id=message_id,
                    media=input_media(media, caption),
                    reply_markup=keyboard,
                ),
                chat_id=job.chat_id,
                uploading=media.upload_size,
            )
            shown = edited if isinstance(edited, Message) else None
            state = replace(self._media.shown(state, media, shown), shown_caption=caption_key)
        elif caption_key != state.shown_caption:
            await self._edit(
                EditMessageCaption(
                    chat_id=job.chat_id,
                    message_id=message_id,
                    caption=caption,
                    parse_mode=HTML,
                    reply_markup=keyboard,
                ),
                job.chat_id,
            )
            state = replace(state, shown_caption=caption_key)
        if needs_document(job, state):
            await self._send_document(job, message_id, media)
            state = replace(state, document_sent=True)
        state = replace(state, shown_version=job.version)
        async with self._db.write() as conn:
            await save_delivery(conn, job.id, state, message_id=message_id)
        return state

    async def _sync_text(self, job: Job, state: DeliveryState, tokens: dict[str, str]) -> DeliveryState:
        """Describe and shorten answer with text: one text message, edited like the photo ones."""
        t = self._locales.translator(job.language)
        text = self._render_text(job, t)
        keyboard = self._keyboard(job, tokens, t)
        key = _fingerprint(text, keyboard)
        message_id = job.message_id
        if message_id is None:
            sent = await self._sender.call(
                reply_message(
                    job.chat_id,
                    job.thread_id,
                    text,
                    reply_to=job.reply_to_message_id,
                    html=True,
                    reply_markup=keyboard,
                ),
                chat_id=job.chat_id,
            )
            message_id = sent.message_id
        elif key != state.shown_caption:
            await self._edit(
                EditMessageText(
                    chat_id=job.chat_id,
                    message_id=message_id,
                    text=text,
                    parse_mode=HTML,
                    reply_markup=keyboard,
                ),
                job.chat_id,
            )
        state = replace(state, shown_caption=key, shown_version=job.version)
        async with self._db.write() as conn:
            await save_delivery(conn, job.id, state, message_id=message_id)
        return state

    def _keyboard(self, job: Job, tokens: dict[str, str], t: Translator) -> InlineKeyboardMarkup | None:
        return job_keyboard(job, tokens, t, editor=self._editor_button(job, t))

    def _editor_button(self, job: Job, t: Translator) -> InlineKeyboardButton | None:
        if self._region_links is None or not waits_for_mask(job):
            return None
        return self._region_links.button(job, t)

    async def _edit(self, method: EditMessageCaption | EditMessageText, chat_id: int) -> None:
        """Send an edit; Telegram's "message is not modified" just means it shows this state already."""
        try:
            await self._sender.call(method, chat_id=chat_id)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                raise

    async def _send_document(self, job: Job, message_id: int, media: Media) -> None:
        original = await self._media.original(job, media)
        if original is None:
            return
        name = f"mjgram-{job.id}.{image_extension(original)}"
        await self._sender.call(
            SendDocument(
                chat_id=job.chat_id,
                message_thread_id=job.thread_id,
                document=BufferedInputFile(original, name),
                reply_parameters=reply_parameters(message_id),
            ),
            chat_id=job.chat_id,
            uploading=len(original),
        )


def _fingerprint(caption: str, keyboard: InlineKeyboardMarkup | None) -> str:
    raw = caption + "\x00" + (keyboard.model_dump_json(exclude_none=True) if keyboard else "")
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
