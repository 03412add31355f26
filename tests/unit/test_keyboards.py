"""Keyboards: Midjourney's layout, short callback data, unservable buttons left out."""

from bot.delivery.keyboards import action_rows, callback_data, job_keyboard, parse_callback_data
from bot.domain import Action, ActionKind, Job, JobStatus
from bot.domain.buttons import RETRY_REF
from bot.i18n import Locales
from tests.factories import make_job

T = Locales().translator("en")
H = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

GRID = tuple(
    [Action(ActionKind.UPSCALE, f"MJ::JOB::upsample::{i}::{H}", i, f"U{i}") for i in range(1, 5)]
    + [Action(ActionKind.REROLL, f"MJ::JOB::reroll::0::{H}::SOLO", 0, "", "🔄")]
    + [Action(ActionKind.VARIATION, f"MJ::JOB::variation::{i}::{H}", i, f"V{i}") for i in range(1, 5)]
)
UPSCALED = (
    Action(ActionKind.PAN_DOWN, "pd"),
    Action(ActionKind.VARY_STRONG, "vs"),
    Action(ActionKind.UPSCALE_SUBTLE, "us"),
    Action(ActionKind.PAN_LEFT, "pl"),
    Action(ActionKind.VARY_SUBTLE, "vsub"),
    Action(ActionKind.ZOOM_OUT_2X, "z2"),
    Action(ActionKind.VARY_REGION, "region"),
    Action(ActionKind.BOOKMARK, "heart"),
    Action(ActionKind.CUSTOM_ZOOM, "cz"),
)


def job(status: JobStatus, actions: tuple[Action, ...]) -> Job:
    return make_job(status=status, actions=actions)


def texts(markup: object) -> list[list[str]]:
    return [[b.text for b in row] for row in markup.inline_keyboard]  # type: ignore[attr-defined]


def test_grid_layout_u_row_with_reroll_then_v_row() -> None:
    tokens = {a.ref: f"tok{i}" for i, a in enumerate(GRID)}
    markup = job_keyboard(job(JobStatus.SUCCEEDED, GRID), tokens, T)
    assert texts(markup) == [["U1", "U2", "U3", "U4", "🔄"], ["V1", "V2", "V3", "V4"]]
    datas = [b.callback_data for row in markup.inline_keyboard for b in row]  # type: ignore[union-attr]
    assert all(d is not None and len(d.encode()) <= 64 for d in datas)


def test_upscale_rows_and_unservable_buttons_left_out() -> None:
    rows = action_rows(UPSCALED)
    kinds = [[a.kind for a in row] for row in rows]
    assert kinds == [
        [ActionKind.UPSCALE_SUBTLE],
        [ActionKind.VARY_SUBTLE, ActionKind.VARY_STRONG, ActionKind.VARY_REGION],
        [ActionKind.ZOOM_OUT_2X, ActionKind.CUSTOM_ZOOM],
        [ActionKind.PAN_LEFT, ActionKind.PAN_DOWN],
    ]


def test_no_keyboard_while_running_and_retry_after_failure() -> None:
    assert job_keyboard(job(JobStatus.RUNNING, GRID), {a.ref: "t" for a in GRID}, T) is None
    markup = job_keyboard(job(JobStatus.FAILED, ()), {RETRY_REF: "r1"}, T)
    assert texts(markup) == [["🔁 Try again"]]


def test_callback_data_round_trip_and_rejects_foreign_data() -> None:
    assert parse_callback_data(callback_data("AbC-_12")) == "AbC-_12"
    assert parse_callback_data("other:thing") is None
    assert parse_callback_data("a1:") is None
    assert parse_callback_data("a1:<script>") is None
    assert parse_callback_data(None) is None


def test_animate_buttons_get_their_own_row_after_the_pans() -> None:
    actions = (
        Action(ActionKind.ANIMATE_LOW, "low", 0, "Animate (Low motion)", "🎞️"),
        Action(ActionKind.PAN_UP, "pu"),
        Action(ActionKind.ANIMATE_HIGH, "high", 0, "Animate (High motion)", "🎞️"),
        Action(ActionKind.ANIMATE, "extend", 0, "Extend (High motion)", "🎞️"),
    )
    markup = job_keyboard(job(JobStatus.SUCCEEDED, actions), {a.ref: a.ref for a in actions}, T)
    assert texts(markup) == [["⬆️"], ["🎞️ Animate (High motion)", "🎞️ Animate (Low motion)"]]
    pressed = job(JobStatus.SUCCEEDED, actions).mark_used("high", 1.0)
    used = job_keyboard(pressed, {a.ref: a.ref for a in actions}, T)
    assert texts(used)[1] == ["✅ 🎞️ Animate (High motion)", "🎞️ Animate (Low motion)"]


def test_clip_picks_take_the_u_row_and_extends_the_animate_row() -> None:
    actions = (
        Action(ActionKind.EXTEND_LOW, "low", 0, "Extend (Low motion)", "🎞️"),
        *(Action(ActionKind.PICK_CLIP, f"clip{i}", i, f"U{i}") for i in (2, 1)),
        Action(ActionKind.EXTEND_HIGH, "high", 0, "Extend (High motion)", "🎞️"),
    )
    markup = job_keyboard(job(JobStatus.SUCCEEDED, actions), {a.ref: a.ref for a in actions}, T)
    assert texts(markup) == [
        ["🎞️ Clip 1", "🎞️ Clip 2"],
        ["🎞️ Extend (High motion)", "🎞️ Extend (Low motion)"],
    ]
