"""An ImagineAPI image read as a TaskUpdate, and the refs and task ids of its ready-made quarter crops
(ImagineAPI's "upscales"; the names below keep its word)."""

from __future__ import annotations

import re
from typing import Final

from bot.backends.imagineapi.wire import ImageStatus, ImagineImage
from bot.domain import Action, ActionKind, FailureKind, JobStatus, TaskUpdate, as_percent

UPSCALE_COUNT: Final = 4
MAX_PROGRESS: Final = 100
UPSCALE_REF_PREFIX: Final = "imagineapi:upscale:"
REROLL_REF: Final = "imagineapi:reroll"
# An upscale is a finished task of its own: "<image id>#u<n>", resolved by re-reading the parent image.
UPSCALE_TASK_MARK: Final = "#u"


def parse_progress(value: float | None) -> int | None:
    """ImagineAPI's progress (null at first, and null again once completed) as a percentage."""
    return as_percent(value)


_FAILURE_MARKERS: Final[tuple[tuple[FailureKind, tuple[str, ...]], ...]] = (
    # The bot reports a drained Midjourney account as "Midjourney credits exhausted": not the user's fault.
    (FailureKind.BACKEND, ("credits exhausted",)),
    (
        FailureKind.BANNED,
        ("banned prompt", "moderator", "community standards", "content policy", "blocked"),
    ),
    (FailureKind.INVALID, ("invalid parameter", "unrecognized", "invalid link", "invalid value")),
    (FailureKind.TIMEOUT, ("timed out", "timeout")),
)


def classify_failure(error: str | None) -> FailureKind:
    """Why an image failed, read from the `error` text ImagineAPI's bot writes ("Midjourney message: …")."""
    text = (error or "").lower()
    for kind, markers in _FAILURE_MARKERS:
        if any(marker in text for marker in markers):
            return kind
    return FailureKind.BACKEND


def upscale_ref(index: int, url: str) -> str:
    """The ref of U<index>: it carries the upscale's URL, so pressing it needs no request at all."""
    return f"{UPSCALE_REF_PREFIX}{index}@{url}"


_UPSCALE_REF_RE: Final = re.compile(rf"^{re.escape(UPSCALE_REF_PREFIX)}(?P<index>[1-4])@(?P<url>\S+)$")


def parse_upscale_ref(ref: str) -> tuple[int, str] | None:
    match = _UPSCALE_REF_RE.match(ref)
    if match is None:
        return None
    return int(match.group("index")), match.group("url")


def upscale_task_id(image_id: str, index: int) -> str:
    return f"{image_id}{UPSCALE_TASK_MARK}{index}"


_UPSCALE_TASK_RE: Final = re.compile(rf"^(?P<image>.+){re.escape(UPSCALE_TASK_MARK)}(?P<index>[1-4])$")


def parse_upscale_task_id(task_id: str) -> tuple[str, int] | None:
    """(parent image id, index) of a synthetic upscale task id; None for an image's own id."""
    match = _UPSCALE_TASK_RE.match(task_id)
    if match is None:
        return None
    return match.group("image"), int(match.group("index"))


def grid_actions(image: ImagineImage) -> tuple[Action, ...]:
    """The four quarters of the grid ImagineAPI cut out already, and 🔄 (the same prompt submitted again).

    ImagineAPI calls them upscales, but its server splits the grid into halves and stores the pieces as they
    are (imagineapi/imagineapi `api/image/src/index.ts`, `downloadAndSplitImage`): they are crops.
    """
    # `upscaled` lists the same files in another order; only `upscaled_urls` follows the grid's quadrants.
    crops = tuple(
        Action(ActionKind.CROP, upscale_ref(index, url), index)
        for index, url in enumerate(image.upscaled_urls[:UPSCALE_COUNT], start=1)
    )
    return (*crops, Action(ActionKind.REROLL, REROLL_REF, emoji="🔄"))


def image_to_update(image: ImagineImage) -> TaskUpdate:
    """Normalise an image item (read answer or webhook payload) into a TaskUpdate."""
    match image.status:
        case ImageStatus.PENDING | ImageStatus.QUEUED:
            return TaskUpdate(task_id=image.id, status=JobStatus.QUEUED)
        case ImageStatus.IN_PROGRESS:
            progress = parse_progress(image.progress)
            # `url` is a partial (webp) preview only once progress is a number above zero.
            preview = image.url if progress and image.url else None
            return TaskUpdate(
                task_id=image.id, status=JobStatus.RUNNING, progress=progress, preview_url=preview
            )
        case ImageStatus.COMPLETED:
            return TaskUpdate(
                task_id=image.id,
                status=JobStatus.SUCCEEDED,
                progress=MAX_PROGRESS,
                image_url=image.url,
                actions=grid_actions(image),
            )
        case ImageStatus.FAILED:
            return TaskUpdate(
                task_id=image.id,
                status=JobStatus.FAILED,
                fail_reason=image.error,
                failure=classify_failure(image.error),
            )


def upscale_update(task_id: str, url: str) -> TaskUpdate:
    """The finished state of a synthetic crop task: the single image, nothing more to press."""
    return TaskUpdate(
        task_id=task_id, status=JobStatus.SUCCEEDED, progress=MAX_PROGRESS, image_url=url, actions=()
    )
