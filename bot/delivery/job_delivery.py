"""Keeps each job's Telegram message in step with the job's stored state (latest state wins)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from html import escape
from typing import Any, Protocol

from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.methods import (
    EditMessageCaption,
    EditMessageMedia,
    EditMessageText,
    SendAnimation,
    SendDocument,
    SendPhoto,
    SendVideo,
)
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAnimation,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    ReplyParameters,
)

from bot.delivery.cards import CardState, placeholder_card
from bot.delivery.keyboards import job_keyboard
from bot.delivery.methods import HTML, reply_message, reply_parameters
from bot.delivery.render import VideoProblem, render_caption, render_text, truncate
from bot.delivery.sender import Sender
from bot.domain import BackendError, ImageTooLarge, Job, JobStatus
from bot.i18n import Locales, Translator
from bot.media import (
    TELEGRAM_UPLOAD_MAX_BYTES,
    NotAnImage,
    NotAVideo,
    Picture,
    VideoFormat,
    as_telegram_photo,
    image_extension,
    video_format,
)
from bot.region_links import RegionLinks, waits_for_mask
from bot.storage import repo
from bot.storage.database import Database

log = logging.getLogger(__name__)

PREVIEW_MAX_BYTES = 8 * 1024 * 1024
FINAL_DOWNLOAD_ATTEMPTS = 3
REDELIVERY_BACKOFF = (1.0, 3.0, 10.0, 30.0)
# Deliveries prepared at once (pictures downloaded and converted, waiting for their Telegram turn). Telegram
# takes 30 a second, and an upscale holds its place about a second (photo, then the file): 16 keep up.
DELIVERIES_IN_HAND = 16
INPUT_PLACEHOLDER_LIMIT = 64
INPUT_PURPOSE_EDIT = "edit"
BYTES_PER_MB = 1024 * 1024
# Media keys of a job's own final result, whose Telegram file id is kept to post it again.
_FINAL_KEYS = ("final:", *(f"{moving.value}:" for moving in VideoFormat))

_GONE_MESSAGE = ("message to edit not found", "message can't be edited", "message_id_invalid")
_CHAT_GONE = (
    "chat not found",
    "bot was kicked",
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
)


class Download(Protocol):
    """Fetches a backend's image or video; raises ImageTooLarge over `max_bytes`, else a BackendError."""

    async def __call__(self, url: str, *, max_bytes: int) -> bytes: ...


class TransientDeliveryError(Exception):
    """Delivery could not finish now but may later (image not downloadable yet, network down)."""


@dataclass(frozen=True, slots=True)
class Media:
    """What a message's photo (or video) should be: a stable key, and how to get the picture."""

    key: str
    upload: BufferedInputFile | None = None
    file_id: str | None = None
    original: bytes | None = None
    moving: VideoFormat | None = None  # None: a photo
    video_problem: VideoProblem | None = None  # a stand-in for a video that can't be shown

    @classmethod
    def unchanged(cls, key: str) -> Media:
        """The picture the message already shows; never re-sent."""
        return cls(key)

    def with_problem(self, problem: VideoProblem) -> Media:
        return replace(self, video_problem=problem)

    @property
    def upload_size(self) -> int:
        """Bytes sending this media uploads (0: a file id or nothing)."""
        return len(self.upload.data) if self.upload is not None and self.file_id is None else 0

    @property
    def input(self) -> BufferedInputFile | str:
        if self.file_id is not None:
            return self.file_id
        if self.upload is None:
            raise ValueError(f"media {self.key!r} has nothing to send")
        return self.upload


class JobDelivery:
    """Per-chat workers that render dirty jobs and make Telegram show them, nothing lost or repeated."""

    def __init__(
        self,
        sender: Sender,
        db: Database,
        locales: Locales,
        *,
        download: Download,
        simulated: bool,
        max_image_bytes: int,
        timeout_minutes: int,
        region_links: RegionLinks | None = None,
        in_hand: int = DELIVERIES_IN_HAND,
    ) -> None:
        self._sender = sender
        self._db = db
        self._download_from = download
        self._locales = locales
        self._simulated = simulated
        self._max_image_bytes = max_image_bytes
        self._timeout_minutes = timeout_minutes
        self._queues: dict[int, OrderedDict[str, None]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._failures: dict[str, int] = {}
        self._card_ids: dict[str, str] = {}
        self._region_links = region_links
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._in_hand = asyncio.Semaphore(in_hand)
        self.delivered_states = 0

    def notify(self, job_id: str, chat_id: int) -> None:
        """Mark a job's message as stale; several marks before delivery collapse into one."""
        if self._closed:
            return
        queue = self._queues.setdefault(chat_id, OrderedDict())
        queue[job_id] = None
        self._idle.clear()
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._run_chat(chat_id), name=f"deliver-{chat_id}")

    async def resume(self) -> int:
        """Queue every job whose newest state Telegram has not shown (after a restart)."""
        async with self._db.read() as conn:
            pending = await repo.undelivered_jobs(conn)
        for job_id, chat_id in pending:
            self.notify(job_id, chat_id)
        return len(pending)

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        self._closed = True
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()

    async def _run_chat(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                # Pictures are fetched and converted only once this chat may send, and only a few
                # deliveries at a time: when many jobs finish together, the rest wait as job ids (and
                # keep coalescing) instead of as downloaded images queued for Telegram's global limit.
                await self._sender.until_chat_ready(chat_id)
                async with self._in_hand:
                    job_id = next(iter(queue))
                    del queue[job_id]
                    await self._deliver_with_retry(job_id, chat_id)
        finally:
            self._workers.pop(chat_id, None)
            if not queue:
                self._queues.pop(chat_id, None)
            if not self._workers:
                self._idle.set()

    async def _deliver_with_retry(self, job_id: str, chat_id: int) -> None:
        try:
            await self.deliver(job_id)
            self._failures.pop(job_id, None)
        except (TransientDeliveryError, TelegramNetworkError, TelegramServerError) as exc:
            attempt = self._failures.get(job_id, 0)
            self._failures[job_id] = attempt + 1
            delay = REDELIVERY_BACKOFF[min(attempt, len(REDELIVERY_BACKOFF) - 1)]
            log.warning("delivery of job %s postponed %.0fs: %s", job_id, delay, exc)
            asyncio.get_running_loop().call_later(delay, self.notify, job_id, chat_id)
        except Exception:
            log.exception("delivery of job %s failed", job_id)

    async def deliver(self, job_id: str) -> None:
        """Bring the job's message up to date with its stored state."""
        async with self._db.read() as conn:
            found = await repo.get_job_with_delivery(conn, job_id)
            tokens = await repo.job_buttons(conn, job_id) if found else {}
        if found is None:
            return
        job, state = found
        if state.delivery_error is not None or (
            state.shown_version >= job.version and not self._needs_document(job, state)
        ):
            return
        try:
            if job.kind.makes_text:
                state = await self._sync_text(job, state, tokens)
            else:
                state = await self._sync_message(job, state, tokens)
            if job.status is JobStatus.NEEDS_INPUT:
                await self._ask_for_input(job, state)
        except TelegramForbiddenError as exc:
            state = await self._give_up(job, state, str(exc))
        except TelegramBadRequest as exc:
            state = await self._handle_bad_request(job, state, tokens, exc)
        if state.shown_version >= job.version:
            self.delivered_states += 1

    async def _handle_bad_request(
        self, job: Job, state: repo.DeliveryState, tokens: dict[str, str], exc: TelegramBadRequest
    ) -> repo.DeliveryState:
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

    async def _give_up(self, job: Job, state: repo.DeliveryState, reason: str) -> repo.DeliveryState:
        state = replace(state, shown_version=job.version, delivery_error=reason[:500])
        async with self._db.write() as conn:
            await repo.save_delivery(conn, job.id, state, message_id=job.message_id)
        return state

    @staticmethod
    def _needs_document(job: Job, state: repo.DeliveryState) -> bool:
        return (
            job.status is JobStatus.SUCCEEDED
            and job.kind.makes_single_image
            and job.image_url is not None
            and not state.document_sent
        )

    async def _sync_message(
        self, job: Job, state: repo.DeliveryState, tokens: dict[str, str]
    ) -> repo.DeliveryState:
        t = self._locales.translator(job.language)
        media = await self._media_for(job, state)
        image_unavailable = media is None
        if media is None:
            media = await self._fallback_media(job, state)
        caption = render_caption(
            job,
            t,
            simulated=self._simulated,
            image_unavailable=image_unavailable,
            timeout_minutes=self._timeout_minutes,
            video_problem=media.video_problem,
            video_limit_mb=TELEGRAM_UPLOAD_MAX_BYTES // BYTES_PER_MB,
        )
        keyboard = job_keyboard(job, tokens, t, editor=self._editor_button(job, t))
        caption_key = _fingerprint(caption, keyboard)
        message_id = job.message_id
        if message_id is None:
            sent = await self._send_media(job, media, caption, keyboard)
            message_id = sent.message_id
            state = self._after_photo(state, media, sent, caption_key)
            # Saved at once so a crash after this point edits this message instead of posting another.
            async with self._db.write() as conn:
                await repo.save_delivery(conn, job.id, state, message_id=message_id)
        elif media.key != state.shown_media:
            edited = await self._sender.call(
                EditMessageMedia(
                    chat_id=job.chat_id,
                    message_id=message_id,
                    media=_input_media(media, caption),
                    reply_markup=keyboard,
                ),
                chat_id=job.chat_id,
                uploading=media.upload_size,
            )
            state = self._after_photo(
                state, media, edited if isinstance(edited, Message) else None, caption_key
            )
        elif caption_key != state.shown_caption:
            await self._edit_caption(job, message_id, caption, keyboard)
            state = replace(state, shown_caption=caption_key)
        if self._needs_document(job, state):
            await self._send_document(job, message_id, media)
            state = replace(state, document_sent=True)
        state = replace(state, shown_version=job.version)
        async with self._db.write() as conn:
            await repo.save_delivery(conn, job.id, state, message_id=message_id)
        return state

    async def _sync_text(
        self, job: Job, state: repo.DeliveryState, tokens: dict[str, str]
    ) -> repo.DeliveryState:
        """Describe and shorten answer with text: one text message, edited like the photo ones."""
        t = self._locales.translator(job.language)
        text = render_text(job, t, simulated=self._simulated, timeout_minutes=self._timeout_minutes)
        keyboard = job_keyboard(job, tokens, t, editor=self._editor_button(job, t))
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
            await repo.save_delivery(conn, job.id, state, message_id=message_id)
        return state

    def _editor_button(self, job: Job, t: Translator) -> InlineKeyboardButton | None:
        if self._region_links is None or not waits_for_mask(job):
            return None
        return self._region_links.button(job, t)

    async def _ask_for_input(self, job: Job, state: repo.DeliveryState) -> None:
        """Post the ForceReply question of a job waiting for the user's prompt, once."""
        if waits_for_mask(job):
            return  # the editor asks for the region and the prompt together
        async with self._db.read() as conn:
            asked = await repo.job_input_request(conn, job.id)
            current = await repo.get_job(conn, job.id)
        if asked is not None or current is None or current.message_id is None:
            return
        t = self._locales.translator(job.language)
        text = f"{t('input-question')}\n\n{t('input-current')}\n<code>{escape(job.prompt)}</code>"
        question = await self._sender.call(
            reply_message(
                job.chat_id,
                job.thread_id,
                text,
                reply_to=current.message_id,
                html=True,
                reply_markup=ForceReply(
                    selective=True, input_field_placeholder=truncate(job.prompt, INPUT_PLACEHOLDER_LIMIT)
                ),
            ),
            chat_id=job.chat_id,
        )
        request = repo.InputRequest(
            job.chat_id, question.message_id, job.user_id, INPUT_PURPOSE_EDIT, job.id, time.time()
        )
        async with self._db.write() as conn:
            await repo.add_input_request(conn, request)

    async def send_copy(self, job: Job, chat_id: int, thread_id: int | None, reply_to: int | None) -> bool:
        """Post a finished job's result again, with its live buttons; False when there is none to post."""
        async with self._db.read() as conn:
            found = await repo.get_job_with_delivery(conn, job.id)
            tokens = await repo.job_buttons(conn, job.id)
        if found is None:
            return False
        job, state = found
        t = self._locales.translator(job.language)
        keyboard = job_keyboard(job, tokens, t, editor=self._editor_button(job, t))
        if job.kind.makes_text:
            text = render_text(job, t, simulated=self._simulated, timeout_minutes=self._timeout_minutes)
            await self._sender.call(
                reply_message(chat_id, thread_id, text, reply_to=reply_to, html=True, reply_markup=keyboard),
                chat_id=chat_id,
            )
            return True
        if job.status is not JobStatus.SUCCEEDED or state.photo_file_id is None:
            return False
        caption = render_caption(job, t, simulated=self._simulated, timeout_minutes=self._timeout_minutes)
        # For a video job the kept file id is the video's (or the animation's) own.
        moving = _shown_format(state.shown_media, job.video_url)
        media = Media(state.shown_media or "", file_id=state.photo_file_id, moving=moving)
        await self._sender.call(
            _send_method(media, chat_id, thread_id, caption, keyboard, reply_parameters(reply_to)),
            chat_id=chat_id,
        )
        return True

    async def _edit_caption(
        self, job: Job, message_id: int, caption: str, keyboard: InlineKeyboardMarkup | None
    ) -> None:
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

    async def _edit(self, method: EditMessageCaption | EditMessageText, chat_id: int) -> None:
        """Send an edit; Telegram's "message is not modified" just means it shows this state already."""
        try:
            await self._sender.call(method, chat_id=chat_id)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                raise

    async def _send_media(
        self, job: Job, media: Media, caption: str, keyboard: InlineKeyboardMarkup | None
    ) -> Message:
        reply = reply_parameters(job.reply_to_message_id)
        return await self._sender.call(
            _send_method(media, job.chat_id, job.thread_id, caption, keyboard, reply),
            chat_id=job.chat_id,
            uploading=media.upload_size,
        )

    async def _send_document(self, job: Job, message_id: int, media: Media) -> None:
        original = media.original
        if original is None and job.image_url is not None:
            original = await self._download(job.image_url, self._max_image_bytes)
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

    def _after_photo(
        self, state: repo.DeliveryState, media: Media, message: Message | None, caption_key: str
    ) -> repo.DeliveryState:
        file_id = _file_id(message, media.moving)
        state = replace(state, shown_media=media.key, shown_caption=caption_key)
        if media.key.startswith(_FINAL_KEYS) and file_id:
            state = replace(state, photo_file_id=file_id)
        if media.key.startswith("card:") and file_id:
            self._card_ids[media.key] = file_id
        return state

    async def _media_for(self, job: Job, state: repo.DeliveryState) -> Media | None:
        """The picture this state shows; None when the final image cannot be had."""
        if job.status is JobStatus.SUCCEEDED:
            if job.kind.makes_video and job.video_url is not None:
                return await self._video_media(job, job.video_url, state)
            if job.image_url is None:
                return self._card("text")
            key = f"final:{job.image_url}"
            if state.shown_media == key and state.photo_file_id and not self._needs_document(job, state):
                return Media(key, file_id=state.photo_file_id)
            return await self._final_media(job, key)
        if job.status is JobStatus.RUNNING and job.preview_url:
            key = f"preview:{job.preview_url}"
            if state.shown_media == key:
                return Media.unchanged(key)
            return await self._preview_media(job, key, state)
        if state.shown_media is not None:
            return Media.unchanged(state.shown_media)
        return self._card("failed" if job.status is JobStatus.FAILED else "queued")

    async def _fallback_media(self, job: Job, state: repo.DeliveryState) -> Media:
        if state.shown_media is not None:
            return Media.unchanged(state.shown_media)
        return self._card("failed")

    async def _preview_media(self, job: Job, key: str, state: repo.DeliveryState) -> Media:
        assert job.preview_url is not None
        try:
            data = await self._download(job.preview_url, PREVIEW_MAX_BYTES)
            picture = await asyncio.to_thread(as_telegram_photo, data, f"preview-{job.id}")
        except (BackendError, NotAnImage) as exc:
            # A preview is a nicety: keep what the message shows.
            log.info("preview of job %s not shown: %s", job.id, exc)
            return Media.unchanged(state.shown_media) if state.shown_media else self._card("queued")
        return Media(key, upload=_upload(picture))

    async def _final_media(self, job: Job, key: str) -> Media | None:
        assert job.image_url is not None
        try:
            data = await self._download(job.image_url, self._max_image_bytes)
            picture = await asyncio.to_thread(as_telegram_photo, data, f"mjgram-{job.id}")
        except NotAnImage as exc:
            log.warning("final image of job %s is not an image: %s", job.id, exc)
            return None
        except BackendError as exc:
            attempts = self._failures.get(job.id, 0)
            if attempts + 1 < FINAL_DOWNLOAD_ATTEMPTS:
                raise TransientDeliveryError(f"final image not downloadable yet: {exc}") from exc
            log.warning("final image of job %s could not be downloaded: %s", job.id, exc)
            return None
        return Media(key, upload=_upload(picture), original=data)

    async def _video_media(self, job: Job, url: str, state: repo.DeliveryState) -> Media:
        """A finished video job's video; a still with the reason and a link when it can't be uploaded."""
        shown = _shown_format(state.shown_media, url)
        if shown is not None:
            return Media(_video_key(shown, url), file_id=state.photo_file_id, moving=shown)
        try:
            data = await self._download(url, TELEGRAM_UPLOAD_MAX_BYTES)
            moving = video_format(data)
        except ImageTooLarge:
            log.info("video of job %s is over Telegram's upload limit; linking it", job.id)
            return (await self._video_stand_in(job, state)).with_problem(VideoProblem.TOO_LARGE)
        except NotAVideo as exc:
            log.warning("video of job %s is not a video: %s", job.id, exc)
            return (await self._video_stand_in(job, state)).with_problem(VideoProblem.UNAVAILABLE)
        except BackendError as exc:
            attempts = self._failures.get(job.id, 0)
            if attempts + 1 < FINAL_DOWNLOAD_ATTEMPTS:
                raise TransientDeliveryError(f"video not downloadable yet: {exc}") from exc
            log.warning("video of job %s could not be downloaded: %s", job.id, exc)
            return (await self._video_stand_in(job, state)).with_problem(VideoProblem.UNAVAILABLE)
        upload = BufferedInputFile(data, f"mjgram-{job.id}.{moving.extension}")
        return Media(_video_key(moving, url), upload=upload, moving=moving)

    async def _video_stand_in(self, job: Job, state: repo.DeliveryState) -> Media:
        """What shows instead of a video: the picture it animates, else what the message shows already."""
        if job.parent_id is not None:
            async with self._db.read() as conn:
                found = await repo.get_job_with_delivery(conn, job.parent_id)
            if found is not None and not found[0].kind.makes_video and found[1].photo_file_id:
                return Media(f"still:{found[0].id}", file_id=found[1].photo_file_id)
        if state.shown_media is not None:
            return Media.unchanged(state.shown_media)
        return self._card("text")

    async def _download(self, url: str, limit: int) -> bytes:
        return await self._download_from(url, max_bytes=limit)

    def _card(self, name: CardState) -> Media:
        key = f"card:{name}"
        cached = self._card_ids.get(key)
        if cached is not None:
            return Media(key, file_id=cached)
        data = placeholder_card(name, simulated=self._simulated)
        return Media(key, upload=BufferedInputFile(data, f"{name}.png"))


def _upload(picture: Picture) -> BufferedInputFile:
    return BufferedInputFile(picture.data, picture.filename)


def _video_key(moving: VideoFormat, url: str) -> str:
    return f"{moving.value}:{url}"


def _shown_format(shown_media: str | None, video_url: str | None) -> VideoFormat | None:
    """How the message shows the job's video, if it shows it."""
    if shown_media is None or video_url is None:
        return None
    return next((f for f in VideoFormat if shown_media == _video_key(f, video_url)), None)


def _file_id(message: Message | None, moving: VideoFormat | None) -> str | None:
    """Telegram's id of the file a sent or edited message carries (kept to post it again)."""
    if message is None:
        return None
    if moving is VideoFormat.VIDEO:
        return message.video.file_id if message.video else None
    if moving is VideoFormat.ANIMATION:
        return message.animation.file_id if message.animation else None
    return message.photo[-1].file_id if message.photo else None


def _input_media(media: Media, caption: str) -> InputMediaPhoto | InputMediaVideo | InputMediaAnimation:
    match media.moving:
        case VideoFormat.VIDEO:
            return InputMediaVideo(
                media=media.input, caption=caption, parse_mode=HTML, supports_streaming=True
            )
        case VideoFormat.ANIMATION:
            return InputMediaAnimation(media=media.input, caption=caption, parse_mode=HTML)
    return InputMediaPhoto(media=media.input, caption=caption, parse_mode=HTML)


def _send_method(
    media: Media,
    chat_id: int,
    thread_id: int | None,
    caption: str,
    keyboard: InlineKeyboardMarkup | None,
    reply: ReplyParameters | None,
) -> SendPhoto | SendVideo | SendAnimation:
    """A new message carrying `media`: a photo, a video (MP4) or an animation (GIF)."""
    common: dict[str, Any] = {
        "chat_id": chat_id,
        "message_thread_id": thread_id,
        "caption": caption,
        "parse_mode": HTML,
        "reply_markup": keyboard,
        "reply_parameters": reply,
    }
    match media.moving:
        case VideoFormat.VIDEO:
            return SendVideo(video=media.input, supports_streaming=True, **common)
        case VideoFormat.ANIMATION:
            return SendAnimation(animation=media.input, **common)
    return SendPhoto(photo=media.input, **common)


def _fingerprint(caption: str, keyboard: InlineKeyboardMarkup | None) -> str:
    raw = caption + "\x00" + (keyboard.model_dump_json(exclude_none=True) if keyboard else "")
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
