"""The job state rule: updates never move a job backwards and a finished job stays finished."""

from bot.domain import Action, ActionKind, FailureKind, Job, JobKind, JobStatus, TaskUpdate
from tests.factories import make_job as job_with

GRID_ACTIONS = (Action(ActionKind.UPSCALE, "u1", 1), Action(ActionKind.REROLL, "r"))


def make_job(**kw: object) -> Job:
    return job_with(
        **{"id": "j1", "prompt": "a cat", "user_id": 2, "user_name": "Ann", "task_id": "t1", **kw}
    )


def running(progress: int, preview: str | None = None) -> TaskUpdate:
    return TaskUpdate("t1", JobStatus.RUNNING, progress=progress, preview_url=preview)


def test_progress_moves_forward_and_bumps_version() -> None:
    job = make_job().apply(running(30, "p30"), now=5.0)
    assert (job.status, job.progress, job.preview_url, job.version, job.updated_at) == (
        JobStatus.RUNNING,
        30,
        "p30",
        1,
        5.0,
    )


def test_late_progress_is_ignored() -> None:
    job = make_job().apply(running(70, "p70"), 1).apply(running(30, "p30"), 2)
    assert (job.progress, job.preview_url, job.version) == (70, "p70", 1)


def test_duplicate_update_changes_nothing() -> None:
    job = make_job().apply(running(30, "p"), 1)
    assert job.apply(running(30, "p"), 2) is job


def test_queued_after_running_is_ignored() -> None:
    job = make_job().apply(running(10), 1)
    assert job.apply(TaskUpdate("t1", JobStatus.QUEUED, queue_position=3), 2) is job


def test_success_is_final_and_clears_preview() -> None:
    done = (
        make_job()
        .apply(running(50, "p"), 1)
        .apply(TaskUpdate("t1", JobStatus.SUCCEEDED, image_url="grid.png", actions=GRID_ACTIONS), 2)
    )
    assert (done.status, done.progress, done.preview_url, done.image_url, done.actions) == (
        JobStatus.SUCCEEDED,
        100,
        None,
        "grid.png",
        GRID_ACTIONS,
    )
    assert done.apply(TaskUpdate("t1", JobStatus.FAILED, fail_reason="late"), 3) is done
    assert done.apply(running(99), 3) is done


def test_failure_defaults_to_backend_kind_and_keeps_reason() -> None:
    failed = make_job().apply(TaskUpdate("t1", JobStatus.FAILED, fail_reason="[Invalid parameter] x"), 1)
    assert (failed.failure, failed.fail_reason) == (FailureKind.BACKEND, "[Invalid parameter] x")


def test_bot_side_failure() -> None:
    failed = make_job().fail(FailureKind.TIMEOUT, None, 9)
    assert failed.status is JobStatus.FAILED and failed.failure is FailureKind.TIMEOUT and failed.version == 1


def test_action_result_kinds() -> None:
    assert Action(ActionKind.UPSCALE, "x", 2).result_kind is JobKind.UPSCALE
    assert Action(ActionKind.PAN_LEFT, "x").result_kind is JobKind.PAN
    assert Action(ActionKind.BOOKMARK, "x").result_kind is None
    assert Action(ActionKind.CUSTOM_ZOOM, "x").needs_input
    assert not Action(ActionKind.VARY_STRONG, "x").needs_input


def test_nothing_charged_only_where_the_backend_never_ran() -> None:
    assert FailureKind.BANNED.nothing_charged and FailureKind.QUEUE_FULL.nothing_charged
    assert not FailureKind.TIMEOUT.nothing_charged and not FailureKind.UNAVAILABLE.nothing_charged


def test_a_finished_video_keeps_its_video_url_and_late_updates_do_not_drop_it() -> None:
    video = make_job(kind=JobKind.VIDEO).apply(running(40, "still40"), 1)
    done = video.apply(TaskUpdate("t1", JobStatus.SUCCEEDED, video_url="https://cdn/v.mp4"), 2)
    assert (done.status, done.video_url, done.preview_url) == (JobStatus.SUCCEEDED, "https://cdn/v.mp4", None)
    assert done.apply(running(90), 3) is done


def test_animate_buttons_start_video_jobs_that_are_made_once() -> None:
    for kind in (ActionKind.ANIMATE_HIGH, ActionKind.ANIMATE_LOW):
        action = Action(kind, f"MJ::JOB::{kind.value}::1::h::SOLO")
        assert (action.result_kind, action.result_kept, action.animates) == (JobKind.VIDEO, True, True)
    other_video_button = Action(ActionKind.ANIMATE, "MJ::JOB::animate_high_extend::1::h")
    assert (other_video_button.result_kind, other_video_button.animates) == (None, False)
    assert Action(ActionKind.UPSCALE, "u1", 1).result_kept
    for kind in (ActionKind.PICK_CLIP, ActionKind.EXTEND_HIGH, ActionKind.EXTEND_LOW):
        action = Action(kind, f"{kind.value}-ref", 1)
        assert (action.result_kind, action.result_kept, action.makes_video) == (JobKind.VIDEO, True, True)
    assert not Action(ActionKind.VARIATION, "v1", 1).result_kept
