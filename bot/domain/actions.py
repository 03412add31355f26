"""Buttons: what a backend's actions mean, the bot's own buttons, and which of them a job offers (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.kinds import JobKind


class ActionKind(StrEnum):
    """Backend-independent meaning of a button."""

    UPSCALE = "upscale"
    CROP = "crop"  # one quarter of the grid, cut out as it is (ImagineAPI's "upscales"): no upscaling
    VARIATION = "variation"
    REROLL = "reroll"
    UPSCALE_SUBTLE = "upscale_subtle"
    UPSCALE_CREATIVE = "upscale_creative"
    UPSCALE_2X = "upscale_2x"
    UPSCALE_4X = "upscale_4x"
    REDO_UPSCALE_SUBTLE = "redo_upscale_subtle"
    REDO_UPSCALE_CREATIVE = "redo_upscale_creative"
    REDO_UPSCALE_2X = "redo_upscale_2x"
    REDO_UPSCALE_4X = "redo_upscale_4x"
    VARY_SUBTLE = "vary_subtle"
    VARY_STRONG = "vary_strong"
    VARY_REGION = "vary_region"
    ZOOM_OUT_2X = "zoom_out_2x"
    ZOOM_OUT_1_5X = "zoom_out_1_5x"
    CUSTOM_ZOOM = "custom_zoom"
    MAKE_SQUARE = "make_square"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    PAN_UP = "pan_up"
    PAN_DOWN = "pan_down"
    PROMPT_PICK = "prompt_pick"
    IMAGINE_ALL = "imagine_all"
    DESCRIBE_AGAIN = "describe_again"
    SHOW_DETAILS = "show_details"
    ANIMATE_HIGH = "animate_high"
    ANIMATE_LOW = "animate_low"
    PICK_CLIP = "pick_clip"  # one clip of a video batch on its own (mjproxy: video_virtual_upscale)
    EXTEND_HIGH = "extend_high"  # a longer video from one clip
    EXTEND_LOW = "extend_low"
    ANIMATE = "animate"  # other video buttons (🔄 under a video batch): not served
    BOOKMARK = "bookmark"
    UNKNOWN = "unknown"


_ACTION_RESULT: dict[ActionKind, JobKind] = {
    ActionKind.UPSCALE: JobKind.UPSCALE,
    ActionKind.CROP: JobKind.UPSCALE,
    ActionKind.VARIATION: JobKind.VARIATION,
    ActionKind.REROLL: JobKind.REROLL,
    ActionKind.UPSCALE_SUBTLE: JobKind.UPSCALE,
    ActionKind.UPSCALE_CREATIVE: JobKind.UPSCALE,
    ActionKind.UPSCALE_2X: JobKind.UPSCALE,
    ActionKind.UPSCALE_4X: JobKind.UPSCALE,
    ActionKind.REDO_UPSCALE_SUBTLE: JobKind.UPSCALE,
    ActionKind.REDO_UPSCALE_CREATIVE: JobKind.UPSCALE,
    ActionKind.REDO_UPSCALE_2X: JobKind.UPSCALE,
    ActionKind.REDO_UPSCALE_4X: JobKind.UPSCALE,
    ActionKind.VARY_SUBTLE: JobKind.VARIATION,
    ActionKind.VARY_STRONG: JobKind.VARIATION,
    ActionKind.VARY_REGION: JobKind.INPAINT,
    ActionKind.ZOOM_OUT_2X: JobKind.ZOOM,
    ActionKind.ZOOM_OUT_1_5X: JobKind.ZOOM,
    ActionKind.CUSTOM_ZOOM: JobKind.ZOOM,
    ActionKind.MAKE_SQUARE: JobKind.ZOOM,
    ActionKind.PAN_LEFT: JobKind.PAN,
    ActionKind.PAN_RIGHT: JobKind.PAN,
    ActionKind.PAN_UP: JobKind.PAN,
    ActionKind.PAN_DOWN: JobKind.PAN,
    ActionKind.PROMPT_PICK: JobKind.IMAGINE,
    ActionKind.IMAGINE_ALL: JobKind.IMAGINE,
    ActionKind.DESCRIBE_AGAIN: JobKind.DESCRIBE,
    ActionKind.SHOW_DETAILS: JobKind.SHORTEN,
    ActionKind.ANIMATE_HIGH: JobKind.VIDEO,
    ActionKind.ANIMATE_LOW: JobKind.VIDEO,
    ActionKind.PICK_CLIP: JobKind.VIDEO,
    ActionKind.EXTEND_HIGH: JobKind.VIDEO,
    ActionKind.EXTEND_LOW: JobKind.VIDEO,
}

# Actions that always open a backend modal (need user input the bot must collect first).
ALWAYS_MODAL = frozenset({ActionKind.CUSTOM_ZOOM, ActionKind.VARY_REGION, ActionKind.PROMPT_PICK})
ANIMATIONS = frozenset({ActionKind.ANIMATE_HIGH, ActionKind.ANIMATE_LOW})
EXTENSIONS = frozenset({ActionKind.EXTEND_HIGH, ActionKind.EXTEND_LOW})
# Actions whose result is made once: pressing one again points at that result instead of redoing it.
# A picked clip is the same clip every time; a video (Animate, Extend) is the costliest job there is, and a
# second press is far likelier a double tap than a wish to pay for another (a failed one may run again).
RESULT_KEPT = frozenset({ActionKind.UPSCALE, ActionKind.CROP, ActionKind.PICK_CLIP, *ANIMATIONS, *EXTENSIONS})
# Buttons Midjourney's Remix mode turns into a prompt edit before the follow-up runs.
REMIX_ACTIONS = frozenset(
    {
        ActionKind.REROLL,
        ActionKind.VARIATION,
        ActionKind.VARY_SUBTLE,
        ActionKind.VARY_STRONG,
        ActionKind.PAN_LEFT,
        ActionKind.PAN_RIGHT,
        ActionKind.PAN_UP,
        ActionKind.PAN_DOWN,
    }
)


@dataclass(frozen=True, slots=True)
class Action:
    """One button a backend offers on a finished task."""

    kind: ActionKind
    ref: str
    index: int = 0
    label: str = ""
    emoji: str = ""

    @property
    def result_kind(self) -> JobKind | None:
        """The kind of job pressing this starts; None for buttons the bot cannot serve."""
        return _ACTION_RESULT.get(self.kind)

    @property
    def needs_input(self) -> bool:
        return self.kind in ALWAYS_MODAL

    @property
    def result_kept(self) -> bool:
        """Pressed again, this button brings back the job it started rather than starting another."""
        return self.kind in RESULT_KEPT

    @property
    def animates(self) -> bool:
        return self.kind in ANIMATIONS

    @property
    def makes_video(self) -> bool:
        """Its result is a video (Animate, a clip pick, Extend): served where the backend reports videos."""
        return self.result_kind is JobKind.VIDEO
