"""A job's state → the caption Telegram shows (HTML), within Telegram's caption limit.

Everything a backend or a user wrote (prompts, names, reasons, labels, results) is escaped where it enters
the HTML; only the locale files' own markup stays markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from html import escape, unescape

from bot.delivery.keyboards import KEYCAPS, button_label
from bot.domain import (
    AccountProblem,
    Action,
    ActionKind,
    FailureKind,
    Job,
    JobKind,
    JobStatus,
    counts_against_quota,
)
from bot.i18n import Translator
from bot.prompts import numbered_prompts

TELEGRAM_CAPTION_LIMIT = 1024
TELEGRAM_TEXT_LIMIT = 4096
PROGRESS_BAR_CELLS = 10
ELLIPSIS = "…"
PROMPT_IN_TEXT_LIMIT = 600
REASON_LIMIT = 300  # a backend's failure text, so that it cannot push the caption over Telegram's limit
LINKABLE_SCHEMES = ("https://", "http://")

WaitingReason = Callable[[], str | None]
"""Why jobs submitted now wait in the backend's queue ("paused", "unhealthy", "starting"); no I/O."""


class VideoProblem(StrEnum):
    """Why a finished video is linked from the caption instead of shown in the message."""

    TOO_LARGE = "too_large"
    UNAVAILABLE = "unavailable"


def progress_bar(percent: int) -> str:
    filled = max(0, min(PROGRESS_BAR_CELLS, round(percent / 100 * PROGRESS_BAR_CELLS)))
    return "▰" * filled + "▱" * (PROGRESS_BAR_CELLS - filled)


def user_link(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{escape(name)}</a>'


def origin_line(action: Action, t: Translator) -> str:
    if action.kind is ActionKind.UPSCALE:
        return t("origin-upscale", index=action.index)
    if action.kind is ActionKind.CROP:
        return t("origin-crop", index=action.index)
    if action.kind is ActionKind.VARIATION:
        return t("origin-variation", index=action.index)
    if action.kind is ActionKind.REROLL:
        return t("origin-reroll")
    if action.kind is ActionKind.PROMPT_PICK:
        return t("origin-prompt-pick", index=action.index)
    return t("origin-action", action=escape(button_label(action, t)))  # a backend's label for unknown kinds


# Failures whose message needs nothing but its id.
_FAILURE_MESSAGES: dict[FailureKind, str] = {
    FailureKind.QUEUE_FULL: "failure-queue-full",
    FailureKind.CANCELLED: "failure-cancelled",
    FailureKind.LOST: "failure-lost",
    FailureKind.UNCERTAIN: "failure-uncertain",
    FailureKind.INTERRUPTED: "failure-interrupted",
    FailureKind.UNAVAILABLE: "failure-unavailable",
    FailureKind.UNREADABLE_RESULT: "failure-unreadable-result",
    FailureKind.OFFLINE: "failure-offline",
    FailureKind.REMIX_OFF: "failure-remix-off",
}


def failure_text(job: Job, t: Translator, *, timeout_minutes: int = 15) -> str:
    """Why the job failed, in the user's language (HTML: the backend's reason escaped)."""
    reason = escape(truncate((job.fail_reason or "").strip(), REASON_LIMIT))
    if job.failure in _FAILURE_MESSAGES:
        return t(_FAILURE_MESSAGES[job.failure])
    match job.failure:
        case FailureKind.BANNED:
            return t("failure-banned-detail", detail=reason) if reason else t("failure-banned")
        case FailureKind.TIMEOUT:
            return t("failure-timeout", minutes=timeout_minutes)
        case FailureKind.ACCOUNT:
            return t("failure-account", problem=reason or AccountProblem.DISABLED.value)
        case FailureKind.INVALID:
            return t("failure-invalid", reason=reason) if reason else t("failure-unknown")
        case _:
            return t("failure-backend", reason=reason) if reason else t("failure-unknown")


def status_line(job: Job, t: Translator, *, timeout_minutes: int = 15) -> str:
    match job.status:
        case JobStatus.QUEUED if job.queue_position:
            return t("status-queued-position", position=job.queue_position)
        case JobStatus.QUEUED:
            return t("status-queued")
        case JobStatus.NEEDS_INPUT:
            return t("status-needs-input")
        case JobStatus.RUNNING:
            running = "status-animating" if job.kind.makes_video else "status-running"
            return f"{t(running, percent=job.progress)}\n{progress_bar(job.progress)}"
        case JobStatus.SUCCEEDED:
            return t("status-done")
        case JobStatus.FAILED:
            line = t("status-failed", reason=failure_text(job, t, timeout_minutes=timeout_minutes))
            if job.failure and job.failure.nothing_charged:
                line += "\n" + t("nothing-charged")
            return line
    raise AssertionError(job.status)


def video_line(job: Job, problem: VideoProblem, t: Translator, *, limit_mb: int) -> str:
    """Why the video is not in the message, and a link to it."""
    if problem is VideoProblem.TOO_LARGE:
        reason = t("video-too-large", limit=limit_mb)
    else:
        reason = t("video-unavailable")
    if not job.video_url or not job.video_url.startswith(LINKABLE_SCHEMES):
        return escape(reason)  # Telegram refuses a caption whose link is relative or of another scheme
    return f'{escape(reason)}\n<a href="{escape(job.video_url)}">{escape(t("video-open"))}</a>'


def _tail(
    job: Job,
    t: Translator,
    simulated: bool,
    timeout_minutes: int,
    *,
    image_unavailable: bool = False,
    video_problem: VideoProblem | None = None,
    video_limit_mb: int = 0,
    backend_waiting: str | None = None,
    credits_back: bool = False,
) -> str:
    """The lines under a job's prompt or title: what it came from, who asked, its state, the labels.

    `credits_back`: credits are sold, so a job that failed uncharged says its credits were given back.
    """
    lines: list[str] = []
    if job.origin is not None:
        lines.append(origin_line(job.origin, t))
    lines.append(t("caption-by", user=user_link(job.user_id, job.user_name)))
    lines.append(status_line(job, t, timeout_minutes=timeout_minutes))
    if credits_back and job.status is JobStatus.FAILED and not counts_against_quota(job):
        lines.append(t("pay-credits-back"))
    if backend_waiting and job.status is JobStatus.QUEUED:
        lines.append(t("backend-waiting", state=backend_waiting))
    if image_unavailable:
        lines.append(t("image-unavailable"))
    if video_problem is not None:
        lines.append(video_line(job, video_problem, t, limit_mb=video_limit_mb))
    if simulated:
        lines.append(t("caption-simulated"))
    return "\n".join(lines)


def render_caption(
    job: Job,
    t: Translator,
    *,
    simulated: bool,
    image_unavailable: bool = False,
    timeout_minutes: int = 15,
    video_problem: VideoProblem | None = None,
    video_limit_mb: int = 0,
    backend_waiting: str | None = None,
    credits_back: bool = False,
) -> str:
    """HTML caption: prompt in bold, what it came from, who asked, state; fits TELEGRAM_CAPTION_LIMIT."""
    tail_html = _tail(
        job,
        t,
        simulated,
        timeout_minutes,
        image_unavailable=image_unavailable,
        video_problem=video_problem,
        video_limit_mb=video_limit_mb,
        backend_waiting=backend_waiting,
        credits_back=credits_back,
    )
    budget = TELEGRAM_CAPTION_LIMIT - visible_length(tail_html) - 2
    return f"<b>{escape(truncate(job.prompt, budget))}</b>\n{tail_html}"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def render_text(
    job: Job, t: Translator, *, simulated: bool, timeout_minutes: int = 15, credits_back: bool = False
) -> str:
    """HTML text of a describe or shorten job (these answer with text, not a picture)."""
    title = t("text-describe-title") if job.kind is JobKind.DESCRIBE else t("text-shorten-title")
    tail_html = _tail(job, t, simulated, timeout_minutes, credits_back=credits_back)
    head = f"<b>{escape(title)}</b>"
    if job.kind is JobKind.SHORTEN and job.prompt:
        head += f"\n<i>{escape(truncate(job.prompt, PROMPT_IN_TEXT_LIMIT))}</i>"
    budget = TELEGRAM_TEXT_LIMIT - visible_length(head) - visible_length(tail_html) - 4
    body = _result_body(job, budget) if job.status is JobStatus.SUCCEEDED else ""
    return "\n\n".join(part for part in (head, body, tail_html) if part)


def _result_body(job: Job, budget: int) -> str:
    text = job.text or ""
    if job.kind is JobKind.DESCRIBE:
        prompts = numbered_prompts(text)
        if prompts:
            each = max(40, budget // len(prompts) - 12)
            return "\n\n".join(
                f"{KEYCAPS[n]} <code>{escape(truncate(p, each))}</code>" for n, p in prompts.items()
            )
    return markdown_to_html(truncate(text, budget))


def markdown_to_html(text: str) -> str:
    """The Markdown of Midjourney's text results (## headings, **bold**, ~~struck~~) as Telegram HTML."""
    lines = []
    for line in escape(text).splitlines():
        heading = re.match(r"^#{1,6}\s*(.+)$", line)
        lines.append(f"<b>{heading.group(1)}</b>" if heading else line)
    html = "\n".join(lines)
    html = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html)
    return re.sub(r"~~(.+?)~~", r"<s>\1</s>", html)


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` UTF-16 units (Telegram's measure), marking the cut."""
    if utf16_length(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[:limit]
    while cut and utf16_length(cut) + 1 > limit:
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def visible_length(html_text: str) -> int:
    """Length Telegram counts: tags removed and entities decoded (UTF-16 code units)."""
    return utf16_length(unescape(re.sub(r"<[^>]+>", "", html_text)))
