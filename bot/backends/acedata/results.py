"""Ace Data Cloud's reports read as TaskUpdates: results, task records, actions and their refs, describe."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from bot.backends.acedata.errors import account_problem
from bot.backends.acedata.wire import AceError, AceErrorCode, AceResult, AceState, AceTaskRecord
from bot.domain import Action, ActionKind, BlendDimensions, FailureKind, JobStatus, TaskUpdate, as_percent

VARIATION_REGION: Final = "variation_region"
MAX_PROGRESS: Final = 100
KEYCAPS: Final = ("1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", "4\ufe0f\u20e3", "5\ufe0f\u20e3")
BLEND_ASPECT: Final[Mapping[BlendDimensions, str]] = {
    BlendDimensions.PORTRAIT: "2:3",
    BlendDimensions.SQUARE: "1:1",
    BlendDimensions.LANDSCAPE: "3:2",
}

# Follow-ups need the result's image_id, not the task id, so an action's ref carries both halves.
ACTION_REF_SEPARATOR: Final = "@"  # "<action>@<image_id>"
PROMPT_REF_PREFIX: Final = "prompt:"  # a describe result's pick: the prompt itself
DESCRIBE_TASK_PREFIX: Final = "describe:"  # describe answers at once: a synthetic, finished task
SHORTEN_TASK_PREFIX: Final = "shorten:"  # and so does shorten
MODAL_TASK_PREFIX: Final = "modal:"  # "modal:variation_region@<image_id>": waiting for mask and prompt


def parse_progress(value: float | None) -> int | None:
    return as_percent(value)


def action_ref(name: str, image_id: str) -> str:
    return f"{name}{ACTION_REF_SEPARATOR}{image_id}"


_ACTION_REF_RE: Final = re.compile(r"^(?P<name>[a-z0-9_]+)@(?P<image>[\w-]+)$")


def parse_action_ref(ref: str) -> tuple[str, str] | None:
    """(action name, image_id) of an action's ref; None for a ref that is not ours."""
    match = _ACTION_REF_RE.match(ref)
    if match is None:
        return None
    return match.group("name"), match.group("image")


def modal_task_id(image_id: str) -> str:
    return f"{MODAL_TASK_PREFIX}{action_ref(VARIATION_REGION, image_id)}"


def parse_modal_task_id(task_id: str) -> str | None:
    """The image_id a pending Vary (Region) applies to; None for any other task id."""
    if not task_id.startswith(MODAL_TASK_PREFIX):
        return None
    target = parse_action_ref(task_id.removeprefix(MODAL_TASK_PREFIX))
    if target is None or target[0] != VARIATION_REGION:
        return None
    return target[1]


_INDEXED_ACTION_RE: Final = re.compile(r"^(?P<name>upscale|variation)(?P<index>[1-4])$")
_INDEXED_KINDS: Final[Mapping[str, ActionKind]] = {
    "upscale": ActionKind.UPSCALE,
    "variation": ActionKind.VARIATION,
}
# The names are Nexior's `MidjourneyImagineAction` (`src/models/midjourney.ts`): v5 upscales offer 2x/4x,
# v6 and v7 Subtle/Creative, and each further upscale a "Redo" of itself.
_NAMED_ACTIONS: Final[Mapping[str, ActionKind]] = {
    "reroll": ActionKind.REROLL,
    "upscale_2x": ActionKind.UPSCALE_2X,
    "upscale_4x": ActionKind.UPSCALE_4X,
    "upscale_subtle": ActionKind.UPSCALE_SUBTLE,
    "upscale_creative": ActionKind.UPSCALE_CREATIVE,
    "redo_upscale_2x": ActionKind.REDO_UPSCALE_2X,
    "redo_upscale_4x": ActionKind.REDO_UPSCALE_4X,
    "redo_upscale_subtle": ActionKind.REDO_UPSCALE_SUBTLE,
    "redo_upscale_creative": ActionKind.REDO_UPSCALE_CREATIVE,
    "square": ActionKind.MAKE_SQUARE,
    "variation_subtle": ActionKind.VARY_SUBTLE,
    "variation_strong": ActionKind.VARY_STRONG,
    VARIATION_REGION: ActionKind.VARY_REGION,
    "zoom_out_2x": ActionKind.ZOOM_OUT_2X,
    "zoom_out_1_5x": ActionKind.ZOOM_OUT_1_5X,
    "pan_left": ActionKind.PAN_LEFT,
    "pan_right": ActionKind.PAN_RIGHT,
    "pan_up": ActionKind.PAN_UP,
    "pan_down": ActionKind.PAN_DOWN,
}


def parse_action(name: str, image_id: str) -> Action:
    """Map one of a result's `actions` strings onto an Action whose ref names it and the result's image."""
    ref = action_ref(name, image_id)
    indexed = _INDEXED_ACTION_RE.match(name)
    if indexed is not None:
        kind = _INDEXED_KINDS[indexed.group("name")]
        index = int(indexed.group("index"))
        return Action(kind, ref, index, f"{'U' if kind is ActionKind.UPSCALE else 'V'}{index}")
    named = _NAMED_ACTIONS.get(name)
    if named is None:
        return Action(ActionKind.UNKNOWN, ref, label=name)
    return Action(named, ref)


_FAILURE_BY_CODE: Final[Mapping[str, FailureKind]] = {
    AceErrorCode.FORBIDDEN: FailureKind.BANNED,
    AceErrorCode.TOO_MANY_REQUESTS: FailureKind.QUEUE_FULL,
    AceErrorCode.TIMEOUT: FailureKind.TIMEOUT,
    AceErrorCode.BAD_REQUEST: FailureKind.INVALID,
}
_MODERATION_WORDING: Final = ("moderators", "community standards", "banned prompt")


def classify_failure(code: str, message: str) -> FailureKind:
    """Why a job failed, by its error code (and Midjourney's moderation wording under any code)."""
    if account_problem(code) is not None:
        return FailureKind.ACCOUNT
    kind = _FAILURE_BY_CODE.get(code)
    if kind is not None:
        return kind
    if any(marker in message.lower() for marker in _MODERATION_WORDING):
        return FailureKind.BANNED
    return FailureKind.BACKEND


def describe_text(descriptions: tuple[str, ...]) -> str:
    """The four prompts as Midjourney lists them: "1️⃣ …", a blank line, "2️⃣ …" and so on."""
    # One line per prompt: the bot finds the picks by their keycap at the start of a line.
    return "\n\n".join(
        f"{keycap} {' '.join(text.split())}" for keycap, text in zip(KEYCAPS, descriptions, strict=False)
    )


def shorten_update(task_id: str, prompts: tuple[str, ...]) -> TaskUpdate:
    """Shorten's prompts laid out and offered like describe's: numbered lines, each a pick."""
    return describe_update(task_id, prompts)


def describe_update(task_id: str, descriptions: tuple[str, ...]) -> TaskUpdate:
    picks = tuple(
        Action(ActionKind.PROMPT_PICK, f"{PROMPT_REF_PREFIX}{' '.join(text.split())}", index, emoji=keycap)
        for index, (keycap, text) in enumerate(zip(KEYCAPS, descriptions, strict=False), start=1)
    )
    return TaskUpdate(
        task_id=task_id,
        status=JobStatus.SUCCEEDED,
        progress=MAX_PROGRESS,
        text=describe_text(descriptions),
        actions=picks,
    )


def result_to_update(task_id: str, result: AceResult) -> TaskUpdate:
    """Normalise one report of task `task_id` into a TaskUpdate."""
    if result.success is False or result.error is not None:
        error = result.error or AceError()
        problem = account_problem(error.code)
        return TaskUpdate(
            task_id=task_id,
            status=JobStatus.FAILED,
            # An account failure's reason is which problem it is: the message for it is the bot's own.
            fail_reason=problem.value if problem is not None else (error.message or error.code or None),
            failure=classify_failure(error.code, error.message),
        )
    if result.descriptions:
        return describe_update(task_id, result.descriptions)
    progress = parse_progress(result.progress)
    if result.actions or (progress is not None and progress >= MAX_PROGRESS):
        # Progress lines each carry a temporary image_id that cannot be acted on; only the last one counts.
        image_id = result.image_id
        actions = tuple(parse_action(name, image_id) for name in result.actions) if image_id else ()
        return TaskUpdate(
            task_id=task_id,
            status=JobStatus.SUCCEEDED,
            progress=MAX_PROGRESS,
            image_url=result.raw_image_url or result.image_url,
            actions=actions,
        )
    return TaskUpdate(
        task_id=task_id,
        status=JobStatus.RUNNING,
        progress=progress,
        preview_url=result.image_url or result.raw_image_url,
    )


def record_to_update(task_id: str, record: AceTaskRecord) -> TaskUpdate:
    """A retrieved task: queued until its first response is stored, then that response; a `state` of
    "failed" ends it even when the stored response is still a progress line (or there is none)."""
    if record.state == AceState.FAILED:
        failed = result_to_update(task_id, record.response) if record.response is not None else None
        if failed is not None and failed.status is JobStatus.FAILED:
            return failed
        return TaskUpdate(task_id=task_id, status=JobStatus.FAILED, failure=FailureKind.BACKEND)
    if record.response is None:
        return TaskUpdate(task_id=task_id, status=JobStatus.QUEUED)
    return result_to_update(task_id, record.response)


def blend_prompt(image_urls: list[str], dimensions: BlendDimensions) -> str:
    """Ace Data Cloud has no blend call: a blend is an imagine whose prompt starts with the image URLs."""
    return f"{' '.join(image_urls)} --ar {BLEND_ASPECT[dimensions]}"
