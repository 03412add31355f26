"""midjourney-proxy buttons: a customId prefix says which Action a button is."""

from __future__ import annotations

import re
from typing import Final

from bot.domain import Action, ActionKind

_PAN_KINDS: Final = {
    "left": ActionKind.PAN_LEFT,
    "right": ActionKind.PAN_RIGHT,
    "up": ActionKind.PAN_UP,
    "down": ActionKind.PAN_DOWN,
}
_VERSION: Final = r"v\d+(?:r\d+)?"  # v5, v6, v6r1 (6.1), v7
_END: Final = r"(?:::|$)"

# Ordered, first match wins. Emoji are never read: trueai sends custom emoji names such as "upscale_1".
_BUTTON_RULES: Final[tuple[tuple[re.Pattern[str], ActionKind], ...]] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"^MJ::JOB::upsample::(?P<index>\d+)::", ActionKind.UPSCALE),
        (r"^MJ::JOB::variation::(?P<index>\d+)::", ActionKind.VARIATION),
        (r"^MJ::JOB::reroll::", ActionKind.REROLL),
        (rf"^MJ::JOB::upsample_{_VERSION}_2x_subtle{_END}", ActionKind.UPSCALE_SUBTLE),
        (rf"^MJ::JOB::upsample_{_VERSION}_2x_creative{_END}", ActionKind.UPSCALE_CREATIVE),
        (rf"^MJ::JOB::upsample_{_VERSION}_2x{_END}", ActionKind.UPSCALE_2X),
        (rf"^MJ::JOB::upsample_{_VERSION}_4x{_END}", ActionKind.UPSCALE_4X),
        (r"^MJ::JOB::low_variation::", ActionKind.VARY_SUBTLE),
        (r"^MJ::JOB::high_variation::", ActionKind.VARY_STRONG),
        (r"^MJ::Inpaint::", ActionKind.VARY_REGION),
        (r"^MJ::Outpaint::50::", ActionKind.ZOOM_OUT_2X),
        (r"^MJ::Outpaint::75::", ActionKind.ZOOM_OUT_1_5X),
        (r"^MJ::Outpaint::100::", ActionKind.MAKE_SQUARE),
        (r"^MJ::CustomZoom::", ActionKind.CUSTOM_ZOOM),
        *((rf"^MJ::JOB::pan_{side}::", kind) for side, kind in _PAN_KINDS.items()),
        (r"^MJ::Job::PicReader::all\b", ActionKind.IMAGINE_ALL),
        (r"^MJ::Job::PicReader::(?P<index>\d+)", ActionKind.PROMPT_PICK),
        (r"^MJ::Picread::Retry", ActionKind.DESCRIBE_AGAIN),
        # trueai refuses every PromptAnalyzer customId ("未知的 Action 类型", SubmitController.cs): the
        # picks run as imagines of the bot's own; Show Details has no other way in, so it is not offered.
        (r"^MJ::Job::PromptAnalyzer::(?P<index>\d+)", ActionKind.PROMPT_PICK),
        (r"^MJ::BOOKMARK::", ActionKind.BOOKMARK),
        (r"^MJ::JOB::animate_high::", ActionKind.ANIMATE_HIGH),
        (r"^MJ::JOB::animate_low::", ActionKind.ANIMATE_LOW),
        # Under a video batch one U per clip; under one clip its extends (TaskInfo.SetVideoUpscaleButtons,
        # SetVideoExtendButtons). trueai runs a clip pick as an UPSCALE, an extend as a VIDEO task
        # (SubmitController.Action); both finish as a video.
        (r"^MJ::JOB::video_virtual_upscale::(?P<index>\d+)::", ActionKind.PICK_CLIP),
        (r"^MJ::JOB::animate_high_extend::", ActionKind.EXTEND_HIGH),
        (r"^MJ::JOB::animate_low_extend::", ActionKind.EXTEND_LOW),
        (r"^MJ::JOB::(?:animate|video)", ActionKind.ANIMATE),
    )
)


CHANGE_INDEXES: Final = range(1, 5)
CHANGE_REF: Final = "change::{action}::{index}"  # the Java build's /mj/submit/change, as a button ref


def change_buttons() -> tuple[Action, ...]:
    """U1–U4, 🔄, V1–V4 for the Java build, whose tasks carry no buttons (it runs them by action+index)."""
    return (
        *(
            Action(ActionKind.UPSCALE, CHANGE_REF.format(action="UPSCALE", index=i), i, f"U{i}")
            for i in CHANGE_INDEXES
        ),
        Action(ActionKind.REROLL, CHANGE_REF.format(action="REROLL", index=0), 0, "", "🔄"),
        *(
            Action(ActionKind.VARIATION, CHANGE_REF.format(action="VARIATION", index=i), i, f"V{i}")
            for i in CHANGE_INDEXES
        ),
    )


def parse_button(custom_id: str, label: str | None, emoji: str | None) -> Action:
    """Map one proxy button onto an Action by its customId prefix; label and emoji are kept as given."""
    for pattern, kind in _BUTTON_RULES:
        match = pattern.match(custom_id)
        if match is not None:
            index = match.groupdict().get("index")
            return Action(kind, custom_id, int(index) if index else 0, label or "", emoji or "")
    return Action(ActionKind.UNKNOWN, custom_id, 0, label or "", emoji or "")
