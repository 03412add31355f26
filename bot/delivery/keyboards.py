"""Backend actions → inline keyboards (pure): labels, emoji and rows laid out like Midjourney's own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import Action, ActionKind, Job, JobStatus
from bot.domain.buttons import CANCEL_REF, CONFIRM_REF, RETRY_REF, SEED_REF, is_servable
from bot.i18n import Translator

CALLBACK_PREFIX = "a1:"  # versioned: a change of token format gets a new prefix
_ROW_OF: dict[ActionKind, int] = {
    ActionKind.UPSCALE: 0,
    ActionKind.CROP: 0,
    ActionKind.PICK_CLIP: 0,
    ActionKind.REROLL: 0,
    ActionKind.VARIATION: 1,
    ActionKind.UPSCALE_SUBTLE: 2,
    ActionKind.UPSCALE_CREATIVE: 2,
    ActionKind.UPSCALE_2X: 2,
    ActionKind.UPSCALE_4X: 2,
    ActionKind.REDO_UPSCALE_SUBTLE: 2,
    ActionKind.REDO_UPSCALE_CREATIVE: 2,
    ActionKind.REDO_UPSCALE_2X: 2,
    ActionKind.REDO_UPSCALE_4X: 2,
    ActionKind.VARY_SUBTLE: 3,
    ActionKind.VARY_STRONG: 3,
    ActionKind.VARY_REGION: 3,
    ActionKind.ZOOM_OUT_2X: 4,
    ActionKind.ZOOM_OUT_1_5X: 4,
    ActionKind.CUSTOM_ZOOM: 4,
    ActionKind.MAKE_SQUARE: 4,
    ActionKind.PAN_LEFT: 5,
    ActionKind.PAN_RIGHT: 5,
    ActionKind.PAN_UP: 5,
    ActionKind.PAN_DOWN: 5,
    ActionKind.ANIMATE_HIGH: 6,
    ActionKind.ANIMATE_LOW: 6,
    ActionKind.EXTEND_HIGH: 6,
    ActionKind.EXTEND_LOW: 6,
    ActionKind.PROMPT_PICK: 7,
    ActionKind.DESCRIBE_AGAIN: 8,
    ActionKind.IMAGINE_ALL: 8,
    ActionKind.SHOW_DETAILS: 8,
}
_OTHER_ROW = 9
KEYCAPS = ("0️⃣", "1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣")
USED_MARK = "✅"

_FIXED_TEXT: dict[ActionKind, str] = {
    ActionKind.REROLL: "🔄",
    ActionKind.PAN_LEFT: "⬅️",
    ActionKind.PAN_RIGHT: "➡️",
    ActionKind.PAN_UP: "⬆️",
    ActionKind.PAN_DOWN: "⬇️",
    ActionKind.DESCRIBE_AGAIN: "🔄",
}

_MESSAGE_ID: dict[ActionKind, str] = {
    ActionKind.UPSCALE_SUBTLE: "btn-upscale-subtle",
    ActionKind.UPSCALE_CREATIVE: "btn-upscale-creative",
    ActionKind.UPSCALE_2X: "btn-upscale-2x",
    ActionKind.UPSCALE_4X: "btn-upscale-4x",
    ActionKind.REDO_UPSCALE_SUBTLE: "btn-redo-upscale-subtle",
    ActionKind.REDO_UPSCALE_CREATIVE: "btn-redo-upscale-creative",
    ActionKind.REDO_UPSCALE_2X: "btn-redo-upscale-2x",
    ActionKind.REDO_UPSCALE_4X: "btn-redo-upscale-4x",
    ActionKind.VARY_SUBTLE: "btn-vary-subtle",
    ActionKind.VARY_STRONG: "btn-vary-strong",
    ActionKind.VARY_REGION: "btn-vary-region",
    ActionKind.ZOOM_OUT_2X: "btn-zoom-out-2x",
    ActionKind.ZOOM_OUT_1_5X: "btn-zoom-out-1-5x",
    ActionKind.CUSTOM_ZOOM: "btn-custom-zoom",
    ActionKind.MAKE_SQUARE: "btn-make-square",
    ActionKind.IMAGINE_ALL: "btn-imagine-all",
    ActionKind.SHOW_DETAILS: "btn-show-details",
    ActionKind.ANIMATE_HIGH: "btn-animate-high",
    ActionKind.ANIMATE_LOW: "btn-animate-low",
    ActionKind.EXTEND_HIGH: "btn-extend-high",
    ActionKind.EXTEND_LOW: "btn-extend-low",
}


def button_label(action: Action, t: Translator) -> str:
    """The text shown on an action's button."""
    if action.kind is ActionKind.UPSCALE:
        return f"U{action.index}"
    if action.kind is ActionKind.CROP:
        return t("btn-crop", index=action.index)
    if action.kind is ActionKind.PICK_CLIP:
        return t("btn-pick-clip", index=action.index)
    if action.kind is ActionKind.VARIATION:
        return f"V{action.index}"
    if action.kind is ActionKind.PROMPT_PICK and 0 < action.index < len(KEYCAPS):
        return KEYCAPS[action.index]
    if action.kind in _FIXED_TEXT:
        return _FIXED_TEXT[action.kind]
    if action.kind in _MESSAGE_ID:
        return t(_MESSAGE_ID[action.kind])
    return " ".join(p for p in (action.emoji, action.label) if p) or action.ref


def callback_data(token: str) -> str:
    return CALLBACK_PREFIX + token


def parse_callback_data(data: str | None) -> str | None:
    """The button token in callback data of ours; None for anything else."""
    if not data or not data.startswith(CALLBACK_PREFIX):
        return None
    token = data[len(CALLBACK_PREFIX) :]
    plain = token.replace("-", "").replace("_", "")
    return token if 0 < len(token) <= 32 and plain.isascii() and plain.isalnum() else None


_ORDER = {kind: position for position, kind in enumerate(_ROW_OF)}


def _sort_key(action: Action) -> tuple[int, int, int]:
    # Row first, then Midjourney's order within the row (the reroll button closes the U row).
    return _ROW_OF.get(action.kind, _OTHER_ROW), _ORDER.get(action.kind, len(_ORDER)), action.index


def action_rows(actions: Iterable[Action]) -> list[list[Action]]:
    """Servable actions grouped into keyboard rows in Midjourney's order."""
    rows: dict[int, list[Action]] = {}
    for action in sorted((a for a in actions if is_servable(a)), key=_sort_key):
        rows.setdefault(_ROW_OF.get(action.kind, _OTHER_ROW), []).append(action)
    return [rows[k] for k in sorted(rows)]


def _button(text: str, token: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=callback_data(token))


def _own_row(
    tokens: Mapping[str, str], t: Translator, *labelled: tuple[str, str]
) -> list[InlineKeyboardButton]:
    return [_button(t(message_id), tokens[ref]) for ref, message_id in labelled if ref in tokens]


def _used(label: str, used: bool) -> str:
    return f"{USED_MARK} {label}" if used else label


def job_keyboard(
    job: Job, tokens: Mapping[str, str], t: Translator, *, editor: InlineKeyboardButton | None = None
) -> InlineKeyboardMarkup | None:
    """The keyboard a job's message carries in its current state (`editor`: the Vary (Region) opener)."""
    rows: list[list[InlineKeyboardButton]] = []
    if job.status is JobStatus.SUCCEEDED:
        for row in action_rows(job.actions):
            rows.append(
                [
                    _button(_used(button_label(a, t), a.ref in job.used), tokens[a.ref])
                    for a in row
                    if a.ref in tokens
                ]
            )
        rows.append(_own_row(tokens, t, (SEED_REF, "btn-seed")))
    elif job.status is JobStatus.FAILED:
        rows.append(_own_row(tokens, t, (RETRY_REF, "btn-retry")))
    elif job.status is JobStatus.NEEDS_INPUT:
        if editor is not None:
            rows.append([editor])
        rows.append(_own_row(tokens, t, (CONFIRM_REF, "btn-use-as-is"), (CANCEL_REF, "btn-cancel")))
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
