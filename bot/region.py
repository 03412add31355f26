"""The job side of the Vary (Region) editor: the picture to paint on, and the mask handed back."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.backends.base import Backend
from bot.domain import ActionKind, BackendError, Job, JobStatus
from bot.domain.jobs import waits_for_mask
from bot.imagehost import ImageHost
from bot.jobs import JobService
from bot.media import NotAnImage, open_image
from bot.miniapp import MASK_MAX_PIXELS, MASK_MAX_SIDE, MaskTaken, RegionJob

EDITOR_IMAGE_MAX_BYTES = 20 * 1024 * 1024
_MIME = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}


@dataclass
class RegionEditor:
    """What the editor's routes ask of the bot: the job's picture, and the painted mask handed back."""

    jobs: JobService
    backend: Backend
    image_host: ImageHost
    _published: dict[str, RegionJob] = field(default_factory=dict)

    async def load_job(self, job_id: str) -> RegionJob | None:
        """The job as the editor needs it; None when nothing waits; MaskTaken when it took its mask."""
        job = await self.jobs.get(job_id)
        if job is not None and took_its_mask(job):
            raise MaskTaken()
        if job is None or not waits_for_mask(job) or job.parent_id is None:
            return None
        if job_id in self._published:
            return self._published[job_id]
        parent = await self.jobs.get(job.parent_id)
        if parent is None or parent.image_url is None:
            return None
        try:
            data = await self.backend.download(parent.image_url, max_bytes=EDITOR_IMAGE_MAX_BYTES)
            image = open_image(data, max_pixels=MASK_MAX_PIXELS)  # the header only: its size and format
        except (BackendError, NotAnImage):
            return None  # the editor answers 404: nothing it can paint on
        if not _paintable(image.width, image.height):
            return None
        url = await self.image_host.publish(data, _MIME.get(image.format or "", "image/png"))
        region = RegionJob(job.id, job.user_id, job.prompt, url, image.width, image.height, job.language)
        self._published[job_id] = region
        return region

    async def submit(self, job_id: str, user_id: int, prompt: str, mask_png: bytes) -> None:
        self._published.pop(job_id, None)
        await self.jobs.provide_input(job_id, user_id, prompt or None, mask_png=mask_png)


def took_its_mask(job: Job) -> bool:
    """A Vary (Region) job stops waiting when its mask is handed over (it is queued, then runs) or when it
    fails (cancelled, timed out, refused): one that stopped waiting and has not failed took its mask."""
    return (
        job.origin is not None
        and job.origin.kind is ActionKind.VARY_REGION
        and job.status not in (JobStatus.NEEDS_INPUT, JobStatus.FAILED)
    )


def _paintable(width: int, height: int) -> bool:
    return 0 < width <= MASK_MAX_SIDE and 0 < height <= MASK_MAX_SIDE
