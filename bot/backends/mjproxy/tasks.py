"""A midjourney-proxy task (fetch answer or notify body) read as a TaskUpdate: status, progress, failure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from bot.backends.mjproxy.buttons import change_buttons, parse_button
from bot.backends.mjproxy.wire import ProxyStatus, ProxyTask
from bot.domain import Action, ActionKind, FailureKind, JobStatus, TaskUpdate

_STATUS: Final[Mapping[ProxyStatus, JobStatus]] = {
    ProxyStatus.NOT_START: JobStatus.QUEUED,
    ProxyStatus.SUBMITTED: JobStatus.RUNNING,
    ProxyStatus.IN_PROGRESS: JobStatus.RUNNING,
    ProxyStatus.MODAL: JobStatus.NEEDS_INPUT,
    ProxyStatus.SUCCESS: JobStatus.SUCCEEDED,
    ProxyStatus.FAILURE: JobStatus.FAILED,
    ProxyStatus.CANCEL: JobStatus.FAILED,
}

# Task actions whose result is text in properties.finalPrompt rather than a picture.
TEXT_ACTIONS: Final = frozenset({"DESCRIBE", "SHORTEN"})
VIDEO_SUFFIXES: Final = (".mp4", ".webm", ".mov")
VIDEO_MIME_PREFIX: Final = "video/"
# The Java build's tasks carry no buttons; /mj/submit/change runs U/V/🔄 on these (SubmitController.java).
CHANGEABLE_ACTIONS: Final = frozenset({"IMAGINE", "VARIATION", "REROLL", "BLEND"})

_PROGRESS_RE: Final = re.compile(r"^\s*(\d{1,3})(?:\.\d+)?\s*%?\s*$")
MAX_PROGRESS: Final = 100


def parse_progress(value: str | None) -> int | None:
    """The proxy's progress string ("46%", "0%", "" after failure, null) as a percentage."""
    if value is None:
        return None
    match = _PROGRESS_RE.match(value)
    if match is None:
        return None
    return min(int(match.group(1)), MAX_PROGRESS)


_FAILURE_MARKERS: Final[tuple[tuple[FailureKind, tuple[str, ...]], ...]] = (
    (FailureKind.BANNED, ("[banned prompt detected]", "banned prompt", "敏感词")),
    (FailureKind.INVALID, ("[invalid parameter]",)),
    (FailureKind.QUEUE_FULL, ("队列已满",)),
    # Checked before CANCELLED: a dead account's tasks fail with "任务超时，自动取消". trueai also writes
    # "执行超时 N 分钟", "任务提交超时", "超时，未找到消息" (DiscordService.cs); the Java build "任务超时".
    (FailureKind.TIMEOUT, ("超时", "timeout", "timed out")),
    (FailureKind.CANCELLED, ("取消",)),
)


def classify_failure(reason: str | None, status: ProxyStatus = ProxyStatus.FAILURE) -> FailureKind:
    """Why a task failed, read from Midjourney's / the proxy's failReason wording."""
    text = (reason or "").lower()
    for kind, markers in _FAILURE_MARKERS:
        if any(marker in text for marker in markers):
            return kind
    return FailureKind.CANCELLED if status is ProxyStatus.CANCEL else FailureKind.BACKEND


def _result_text(task: ProxyTask) -> str | None:
    return task.properties.final_prompt or task.prompt or task.prompt_en


def _result_video(task: ProxyTask) -> str | None:
    """The video a finished task made, whatever its action (a clip pick is an UPSCALE task).

    trueai fills `videoUrl`/`videoUrls` only with EnableFillOfficialCdn; otherwise `imageUrl` is the video
    itself and `contentType` (the attachment's) says so (TaskInfo.cs, DiscordWebSocketService.FinishTask).
    """
    listed = next((video.url for video in task.video_urls if video.url), None)
    video = task.video_url or listed
    if video is None and task.image_url and _is_video(task.image_url, task.content_type):
        video = task.image_url
    return video


def _is_video(url: str, content_type: str | None) -> bool:
    if content_type:
        return content_type.lower().startswith(VIDEO_MIME_PREFIX)
    return url.split("?", 1)[0].lower().endswith(VIDEO_SUFFIXES)


def _actions(payload: ProxyTask, video: str | None) -> tuple[Action, ...]:
    if payload.buttons is None:
        return change_buttons() if payload.action in CHANGEABLE_ACTIONS else ()
    actions = tuple(parse_button(b.custom_id, b.label, b.emoji) for b in payload.buttons if b.custom_id)
    if video is None:
        return actions
    # Under a video, 🔄 makes another video (TaskInfo.SetVideoUpscaleButtons): a video button, like the rest.
    return tuple(replace(a, kind=ActionKind.ANIMATE) if a.kind is ActionKind.REROLL else a for a in actions)


def task_to_update(payload: ProxyTask) -> TaskUpdate:
    """Normalise a proxy task (fetch answer or notify body) into a TaskUpdate."""
    status = _STATUS[payload.status]
    image = payload.image_url or None
    succeeded = status is JobStatus.SUCCEEDED
    failed = status is JobStatus.FAILED
    video = _result_video(payload) if succeeded else None
    if image is not None and image == video:
        image = None
    return TaskUpdate(
        task_id=payload.id,
        status=status,
        progress=MAX_PROGRESS if succeeded else parse_progress(payload.progress),
        # While running imageUrl is Discord's partial (webp) preview; on success it is the result.
        preview_url=image if status is JobStatus.RUNNING else None,
        image_url=image if succeeded else None,
        video_url=video,
        actions=_actions(payload, video) if succeeded else None,
        text=_result_text(payload) if succeeded and payload.action in TEXT_ACTIONS else None,
        fail_reason=payload.fail_reason if failed else None,
        failure=classify_failure(payload.fail_reason, payload.status) if failed else None,
        queue_position=payload.properties.number_of_queues if status is JobStatus.QUEUED else None,
    )
