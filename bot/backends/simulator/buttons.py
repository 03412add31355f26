"""The buttons the simulator offers under grids, upscales, describe and shorten results."""

from __future__ import annotations

from bot.backends.simulator.text import DESCRIBE_PROMPTS, KEYCAPS, SHORTEN_PROMPTS
from bot.domain import Action, ActionKind


def action_ref(kind: ActionKind, index: int = 0) -> str:
    return f"sim:{kind.value}:{index}"


def grid_actions() -> tuple[Action, ...]:
    """U1–U4, 🔄, V1–V4, as Midjourney lays them out under a grid."""
    upscales = tuple(
        Action(ActionKind.UPSCALE, action_ref(ActionKind.UPSCALE, i), i, f"U{i}") for i in range(1, 5)
    )
    reroll = Action(ActionKind.REROLL, action_ref(ActionKind.REROLL), 0, "", "🔄")
    variations = tuple(
        Action(ActionKind.VARIATION, action_ref(ActionKind.VARIATION, i), i, f"V{i}") for i in range(1, 5)
    )
    return (*upscales, reroll, *variations)


# Midjourney's buttons under an upscale, minus those that need a mask or a typed prompt.
UPSCALE_BUTTONS: tuple[tuple[ActionKind, str, str], ...] = (
    (ActionKind.VARY_SUBTLE, "Vary (Subtle)", "🪄"),
    (ActionKind.VARY_STRONG, "Vary (Strong)", "🪄"),
    (ActionKind.UPSCALE_SUBTLE, "Upscale (Subtle)", ""),
    (ActionKind.UPSCALE_CREATIVE, "Upscale (Creative)", ""),
    (ActionKind.ZOOM_OUT_2X, "Zoom Out 2x", "🔍"),
    (ActionKind.ZOOM_OUT_1_5X, "Zoom Out 1.5x", "🔍"),
    (ActionKind.PAN_LEFT, "", "⬅️"),
    (ActionKind.PAN_RIGHT, "", "➡️"),
    (ActionKind.PAN_UP, "", "⬆️"),
    (ActionKind.PAN_DOWN, "", "⬇️"),
    (ActionKind.ANIMATE_HIGH, "Animate (High motion)", "🎞️"),
    (ActionKind.ANIMATE_LOW, "Animate (Low motion)", "🎞️"),
)


def upscale_actions() -> tuple[Action, ...]:
    return tuple(Action(kind, action_ref(kind, 1), 1, label, emoji) for kind, label, emoji in UPSCALE_BUTTONS)


def pick_actions(count: int) -> tuple[Action, ...]:
    return tuple(
        Action(ActionKind.PROMPT_PICK, action_ref(ActionKind.PROMPT_PICK, i), i, "", KEYCAPS[i - 1])
        for i in range(1, count + 1)
    )


def describe_actions() -> tuple[Action, ...]:
    return (
        *pick_actions(DESCRIBE_PROMPTS),
        Action(ActionKind.DESCRIBE_AGAIN, action_ref(ActionKind.DESCRIBE_AGAIN), 0, "", "🔄"),
        Action(ActionKind.IMAGINE_ALL, action_ref(ActionKind.IMAGINE_ALL), 0, "Imagine all", "🎉"),
    )


def shorten_actions(details: bool) -> tuple[Action, ...]:
    show = (
        ()
        if details
        else (Action(ActionKind.SHOW_DETAILS, action_ref(ActionKind.SHOW_DETAILS), 0, "Show Details"),)
    )
    return (*pick_actions(SHORTEN_PROMPTS), *show)
