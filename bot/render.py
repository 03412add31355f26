"""A job's state → the caption Telegram shows (HTML), within Telegram's caption limit."""

from __future__ import annotations

from html import escape

from bot.domain import Action, ActionKind, FailureKind, Job, JobStatus
from bot.i18n import Translator
from bot.keyboards import button_label

TELEGRAM_CAPTION_LIMIT = 1024
TELEGRAM_TEXT_LIMIT = 4096
PROGRESS_BAR_CELLS = 10
ELLIPSIS = "…"


def progress_bar(percent: int) -> str:
    filled = max(0, min(PROGRESS_BAR_CELLS, round(percent / 100 * PROGRESS_BAR_CELLS)))
    return "▰" * filled + "▱" * (PROGRESS_BAR_CELLS - filled)


def user_link(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{escape(name)}</a>'


def origin_line(action: Action, t: Translator) -> str:
    if action.kind is ActionKind.UPSCALE:
        return t("origin-upscale", index=action.index)
    if action.kind is ActionKind.VARIATION:
        return t("origin-variation", index=action.index)
    if action.kind is ActionKind.REROLL:
        return t("origin-reroll")
    return t("origin-action", action=button_label(action, t))


def failure_text(job: Job, t: Translator, *, timeout_minutes: int = 15) -> str:
    """Why the job failed, in the user's language."""
    reason = (job.fail_reason or "").strip()
    match job.failure:
        case FailureKind.BANNED:
            return t("failure-banned-detail", detail=reason) if reason else t("failure-banned")
        case FailureKind.QUEUE_FULL:
            return t("failure-queue-full")
        case FailureKind.TIMEOUT:
            return t("failure-timeout", minutes=timeout_minutes)
        case FailureKind.CANCELLED:
            return t("failure-cancelled")
        case FailureKind.LOST:
            return t("failure-lost")
        case FailureKind.UNAVAILABLE:
            return t("failure-unavailable")
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
            return f"{t('status-running', percent=job.progress)}\n{progress_bar(job.progress)}"
        case JobStatus.SUCCEEDED:
            return t("status-done")
        case JobStatus.FAILED:
            line = t("status-failed", reason=failure_text(job, t, timeout_minutes=timeout_minutes))
            if job.failure and job.failure.nothing_charged:
                line += "\n" + t("nothing-charged")
            return line
    raise AssertionError(job.status)


def render_caption(
    job: Job, t: Translator, *, simulated: bool, image_unavailable: bool = False, timeout_minutes: int = 15
) -> str:
    """HTML caption: prompt in bold, what it came from, who asked, state; fits TELEGRAM_CAPTION_LIMIT."""
    tail: list[str] = []
    if job.origin is not None:
        tail.append(origin_line(job.origin, t))
    tail.append(t("caption-by", user=user_link(job.user_id, job.user_name)))
    tail.append(status_line(job, t, timeout_minutes=timeout_minutes))
    if image_unavailable:
        tail.append(t("image-unavailable"))
    if simulated:
        tail.append(t("caption-simulated"))
    tail_html = "\n".join(tail)
    budget = TELEGRAM_CAPTION_LIMIT - visible_length(tail_html) - 2
    return f"<b>{escape(truncate(job.prompt, budget))}</b>\n{tail_html}"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


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
    import re
    from html import unescape

    return utf16_length(unescape(re.sub(r"<[^>]+>", "", html_text)))
