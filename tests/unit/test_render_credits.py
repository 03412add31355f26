"""With credits sold, a job that failed uncharged says its credits were given back; others say nothing."""

import pytest

from bot.delivery.render import render_caption, render_text
from bot.domain import FailureKind, JobKind, JobStatus
from bot.i18n import Locales
from tests.factories import make_job

T = Locales().translator("en")
GIVEN_BACK = "The credits for this job were given back"


@pytest.mark.parametrize("failure", [FailureKind.BANNED, FailureKind.QUEUE_FULL, FailureKind.INTERRUPTED])
def test_an_uncharged_failure_says_the_credits_came_back(failure: FailureKind) -> None:
    failed = make_job(status=JobStatus.FAILED, failure=failure)
    assert GIVEN_BACK in render_caption(failed, T, simulated=False, credits_back=True)
    assert GIVEN_BACK in render_text(
        make_job(kind=JobKind.DESCRIBE, status=JobStatus.FAILED, failure=failure),
        T,
        simulated=False,
        credits_back=True,
    )
    assert GIVEN_BACK not in render_caption(failed, T, simulated=False), (
        "payments off: no credits to speak of"
    )


def test_a_cancel_before_the_backend_had_the_job_gives_back_too() -> None:
    cancelled = make_job(status=JobStatus.FAILED, failure=FailureKind.CANCELLED, task_id=None)
    assert GIVEN_BACK in render_caption(cancelled, T, simulated=False, credits_back=True)


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED])
def test_other_states_say_nothing_of_credits(status: JobStatus) -> None:
    assert GIVEN_BACK not in render_caption(make_job(status=status), T, simulated=False, credits_back=True)


def test_a_charged_failure_keeps_the_credits() -> None:
    failed = make_job(status=JobStatus.FAILED, failure=FailureKind.BACKEND, fail_reason="boom", task_id="t")
    assert GIVEN_BACK not in render_caption(failed, T, simulated=False, credits_back=True)
