"""Captions: escaped, within Telegram's limit, honest about state and simulation."""

from bot.domain import Action, ActionKind, FailureKind, Job, JobKind, JobStatus
from bot.i18n import Locales
from bot.render import TELEGRAM_CAPTION_LIMIT, progress_bar, render_caption, truncate, visible_length

T = Locales().translator("en")


def job(**kw: object) -> Job:
    base = dict(
        id="j",
        kind=JobKind.IMAGINE,
        prompt="a <b>cat</b> & dog",
        chat_id=1,
        user_id=42,
        user_name="Ann <admin>",
        backend="b",
    )
    base.update(kw)
    return Job(**base)  # type: ignore[arg-type]


def test_prompt_and_name_are_escaped() -> None:
    caption = render_caption(job(), T, simulated=False)
    assert "<b>a &lt;b&gt;cat&lt;/b&gt; &amp; dog</b>" in caption
    assert '<a href="tg://user?id=42">Ann &lt;admin&gt;</a>' in caption


def test_states() -> None:
    assert "Queued — 3 jobs ahead" in render_caption(job(queue_position=3), T, simulated=False)
    running = render_caption(job(status=JobStatus.RUNNING, progress=40), T, simulated=False)
    assert "40%" in running and progress_bar(40) in running
    failed = render_caption(
        job(status=JobStatus.FAILED, failure=FailureKind.BANNED, fail_reason="gore"), T, simulated=False
    )
    assert "rejected by moderation (gore)" in failed and "Nothing was charged." in failed
    timeout = render_caption(
        job(status=JobStatus.FAILED, failure=FailureKind.TIMEOUT), T, simulated=False, timeout_minutes=15
    )
    assert "15 minutes" in timeout and "Nothing was charged" not in timeout


def test_simulated_label_and_origin() -> None:
    caption = render_caption(job(origin=Action(ActionKind.UPSCALE, "u", 2)), T, simulated=True)
    assert "Image #2" in caption and "simulated" in caption


def test_long_prompt_fits_the_caption_limit() -> None:
    caption = render_caption(
        job(prompt="🦊 fox " * 400, status=JobStatus.RUNNING, progress=5), T, simulated=True
    )
    assert visible_length(caption) <= TELEGRAM_CAPTION_LIMIT
    assert "…" in caption and "5%" in caption


def test_truncate_counts_utf16() -> None:
    assert truncate("🦊🦊🦊", 4) == "🦊…"
    assert truncate("abc", 3) == "abc"
