"""Captions: escaped, within Telegram's limit, honest about state and simulation."""

from bot.delivery.render import (
    TELEGRAM_CAPTION_LIMIT,
    VideoProblem,
    progress_bar,
    render_caption,
    truncate,
    visible_length,
)
from bot.domain import Action, ActionKind, FailureKind, Job, JobKind, JobStatus
from bot.i18n import Locales
from tests.factories import make_job

T = Locales().translator("en")


def job(**kw: object) -> Job:
    return make_job(**{"prompt": "a <b>cat</b> & dog", "user_id": 42, "user_name": "Ann <admin>", **kw})


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


def test_a_running_video_job_says_it_is_animating() -> None:
    caption = render_caption(
        job(kind=JobKind.VIDEO, status=JobStatus.RUNNING, progress=60), T, simulated=False
    )
    assert "Animating… 60%" in caption and "Drawing" not in caption


def test_a_video_too_large_to_upload_is_linked_with_the_reason() -> None:
    url = "https://cdn.example/video/0_0.mp4?ex=1&hm=2"
    done = job(kind=JobKind.VIDEO, status=JobStatus.SUCCEEDED, video_url=url)
    caption = render_caption(
        done, T, simulated=False, video_problem=VideoProblem.TOO_LARGE, video_limit_mb=50
    )
    assert "larger than the 50 MB a bot may send" in caption
    assert '<a href="https://cdn.example/video/0_0.mp4?ex=1&amp;hm=2">▶️ Open the video</a>' in caption
    unavailable = render_caption(done, T, simulated=False, video_problem=VideoProblem.UNAVAILABLE)
    assert "could not be fetched" in unavailable and "Open the video" in unavailable
    assert "Open the video" not in render_caption(done, T, simulated=False)
    local = job(kind=JobKind.VIDEO, status=JobStatus.SUCCEEDED, video_url="sim://sim-1/animation-low.gif")
    no_link = render_caption(local, T, simulated=True, video_problem=VideoProblem.UNAVAILABLE)
    assert "could not be fetched" in no_link and '<a href="sim:' not in no_link


HOSTILE = 'x < y <a href="https://evil.example/">Sign in</a> & more'
ESCAPED = "x &lt; y &lt;a href=&quot;https://evil.example/&quot;&gt;Sign in&lt;/a&gt; &amp; more"


def test_every_failure_reason_a_backend_writes_is_escaped() -> None:
    for failure in (FailureKind.BANNED, FailureKind.INVALID, FailureKind.BACKEND, None):
        failed = job(status=JobStatus.FAILED, failure=failure, fail_reason=HOSTILE)
        caption = render_caption(failed, T, simulated=False)
        assert ESCAPED in caption and 'evil.example/">' not in caption, failure


def test_a_backends_label_of_an_unknown_button_is_escaped() -> None:
    origin = Action(ActionKind.UNKNOWN, "MJ::Odd::1", label="<i>Odd</i> & co", emoji="<b>")
    caption = render_caption(job(origin=origin), T, simulated=False)
    assert "&lt;b&gt; &lt;i&gt;Odd&lt;/i&gt; &amp; co" in caption


def test_a_long_failure_reason_keeps_the_caption_within_telegrams_limit() -> None:
    reason = "<" * 2000  # under Fluent's own cap of 2500 characters per placeable
    failed = job(status=JobStatus.FAILED, failure=FailureKind.BACKEND, fail_reason=reason)
    caption = render_caption(failed, T, simulated=False)
    assert visible_length(caption) <= TELEGRAM_CAPTION_LIMIT


def test_an_unreadable_result_says_so() -> None:
    failed = job(status=JobStatus.FAILED, failure=FailureKind.UNREADABLE_RESULT, fail_reason="truncated")
    assert "picture could not be read" in render_caption(failed, T, simulated=False)
