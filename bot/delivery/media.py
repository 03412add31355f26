"""What a job's message shows: the result, a preview, a video, a stand-in or a placeholder card."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from aiogram.types import BufferedInputFile, Message

from bot.delivery.cards import CardState, placeholder_card
from bot.delivery.queue import TransientDeliveryError
from bot.delivery.render import VideoProblem
from bot.domain import BackendError, ImageTooLarge, Job, JobStatus
from bot.media import (
    TELEGRAM_UPLOAD_MAX_BYTES,
    ImageDecoder,
    NotAnImage,
    NotAVideo,
    Picture,
    VideoFormat,
    as_telegram_photo,
    video_format,
)
from bot.storage.database import Database
from bot.storage.jobs import DeliveryState, get_job_with_delivery

log = logging.getLogger(__name__)

PREVIEW_MAX_BYTES = 8 * 1024 * 1024
FINAL_DOWNLOAD_ATTEMPTS = 3
# Media keys of a job's own final result, whose Telegram file id is kept to post it again.
_FINAL_KEYS = ("final:", *(f"{moving.value}:" for moving in VideoFormat))


class Download(Protocol):
    """Fetches a backend's image or video; raises ImageTooLarge over `max_bytes`, else a BackendError."""

    async def __call__(self, url: str, *, max_bytes: int) -> bytes: ...


class UnusableResult(Exception):
    """The job's final picture arrived but cannot be read (truncated, a decompression bomb, not an image)."""


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


def needs_document(job: Job, state: DeliveryState) -> bool:
    """A finished single image still owes the user its original file."""
    return (
        job.status is JobStatus.SUCCEEDED
        and job.kind.makes_single_image
        and job.image_url is not None
        and not state.document_sent
    )


class MediaResolver:
    """Finds (downloads, converts, or recalls by file id) the picture a job's state shows."""

    def __init__(
        self,
        db: Database,
        download: Download,
        *,
        simulated: bool,
        max_image_bytes: int,
        failed_attempts: Callable[[str], int],
        decoder: ImageDecoder,
    ) -> None:
        self._db = db
        self._download = download
        self._decoder = decoder
        self._simulated = simulated
        self._max_image_bytes = max_image_bytes
        self._failed_attempts = failed_attempts
        self._card_ids: dict[str, str] = {}

    async def for_state(self, job: Job, state: DeliveryState) -> Media | None:
        """The picture this state shows; None when the final image cannot be had.

        Raises UnusableResult when the final image was had but is no readable picture.
        """
        if job.status is JobStatus.SUCCEEDED:
            if job.kind.makes_video and job.video_url is not None:
                return await self._video_media(job, job.video_url, state)
            if job.image_url is None:
                return self._card("text")
            key = f"final:{job.image_url}"
            if state.shown_media == key and state.photo_file_id and not needs_document(job, state):
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

    def fallback(self, state: DeliveryState) -> Media:
        """What shows when the final image cannot be had: what shows already, else the failed card."""
        if state.shown_media is not None:
            return Media.unchanged(state.shown_media)
        return self._card("failed")

    async def original(self, job: Job, media: Media) -> bytes | None:
        """The result's file as the backend made it (for the document after the photo)."""
        if media.original is None and job.image_url is not None:
            return await self._download(job.image_url, max_bytes=self._max_image_bytes)
        return media.original

    def shown(self, state: DeliveryState, media: Media, message: Message | None) -> DeliveryState:
        """The state once `message` shows `media`; Telegram's file id of a result or a card is kept."""
        file_id = file_id_of(message, media.moving)
        state = replace(state, shown_media=media.key)
        if media.key.startswith(_FINAL_KEYS) and file_id:
            state = replace(state, photo_file_id=file_id)
        if media.key.startswith("card:") and file_id:
            self._card_ids[media.key] = file_id
        return state

    async def _preview_media(self, job: Job, key: str, state: DeliveryState) -> Media:
        assert job.preview_url is not None
        try:
            data = await self._download(job.preview_url, max_bytes=PREVIEW_MAX_BYTES)
            picture = await self._decoder.run(as_telegram_photo, data, f"preview-{job.id}")
        except (BackendError, NotAnImage) as exc:
            # A preview is a nicety: keep what the message shows.
            log.info("preview of job %s not shown: %s", job.id, exc)
            return Media.unchanged(state.shown_media) if state.shown_media else self._card("queued")
        return Media(key, upload=_upload(picture))

    async def _final_media(self, job: Job, key: str) -> Media | None:
        assert job.image_url is not None
        try:
            data = await self._download(job.image_url, max_bytes=self._max_image_bytes)
            picture = await self._decoder.run(as_telegram_photo, data, f"mjgram-{job.id}")
        except NotAnImage as exc:
            log.warning("final image of job %s is not an image: %s", job.id, exc)
            raise UnusableResult(str(exc)) from exc
        except BackendError as exc:
            if self._failed_attempts(job.id) + 1 < FINAL_DOWNLOAD_ATTEMPTS:
                raise TransientDeliveryError(f"final image not downloadable yet: {exc}") from exc
            log.warning("final image of job %s could not be downloaded: %s", job.id, exc)
            return None
        return Media(key, upload=_upload(picture), original=data)

    async def _video_media(self, job: Job, url: str, state: DeliveryState) -> Media:
        """A finished video job's video; a still with the reason and a link when it can't be uploaded."""
        shown = shown_format(state.shown_media, url)
        if shown is not None:
            return Media(_video_key(shown, url), file_id=state.photo_file_id, moving=shown)
        try:
            data = await self._download(url, max_bytes=TELEGRAM_UPLOAD_MAX_BYTES)
            moving = video_format(data)
        except ImageTooLarge:
            log.info("video of job %s is over Telegram's upload limit; linking it", job.id)
            return (await self._video_stand_in(job, state)).with_problem(VideoProblem.TOO_LARGE)
        except NotAVideo as exc:
            log.warning("video of job %s is not a video: %s", job.id, exc)
            return (await self._video_stand_in(job, state)).with_problem(VideoProblem.UNAVAILABLE)
        except BackendError as exc:
            if self._failed_attempts(job.id) + 1 < FINAL_DOWNLOAD_ATTEMPTS:
                raise TransientDeliveryError(f"video not downloadable yet: {exc}") from exc
            log.warning("video of job %s could not be downloaded: %s", job.id, exc)
            return (await self._video_stand_in(job, state)).with_problem(VideoProblem.UNAVAILABLE)
        upload = BufferedInputFile(data, f"mjgram-{job.id}.{moving.extension}")
        return Media(_video_key(moving, url), upload=upload, moving=moving)

    async def _video_stand_in(self, job: Job, state: DeliveryState) -> Media:
        """What shows instead of a video: the picture it animates, else what the message shows already."""
        if job.parent_id is not None:
            async with self._db.read() as conn:
                found = await get_job_with_delivery(conn, job.parent_id)
            if found is not None and not found[0].kind.makes_video and found[1].photo_file_id:
                return Media(f"still:{found[0].id}", file_id=found[1].photo_file_id)
        if state.shown_media is not None:
            return Media.unchanged(state.shown_media)
        return self._card("text")

    def _card(self, name: CardState) -> Media:
        key = f"card:{name}"
        cached = self._card_ids.get(key)
        if cached is not None:
            return Media(key, file_id=cached)
        data = placeholder_card(name, simulated=self._simulated)
        return Media(key, upload=BufferedInputFile(data, f"{name}.png"))


def _video_key(moving: VideoFormat, url: str) -> str:
    return f"{moving.value}:{url}"


def shown_format(shown_media: str | None, video_url: str | None) -> VideoFormat | None:
    """How the message shows the job's video, if it shows it."""
    if shown_media is None or video_url is None:
        return None
    return next((f for f in VideoFormat if shown_media == _video_key(f, video_url)), None)


def file_id_of(message: Message | None, moving: VideoFormat | None) -> str | None:
    """Telegram's id of the file a sent or edited message carries (kept to post it again)."""
    if message is None:
        return None
    if moving is VideoFormat.VIDEO:
        return message.video.file_id if message.video else None
    if moving is VideoFormat.ANIMATION:
        return message.animation.file_id if message.animation else None
    return message.photo[-1].file_id if message.photo else None


def _upload(picture: Picture) -> BufferedInputFile:
    return BufferedInputFile(picture.data, picture.filename)
