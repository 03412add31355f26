"""Which buttons a job offers in its current state: the bot's own and the backend's it can serve (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.actions import Action, ActionKind
from bot.domain.backend import Capabilities, Command
from bot.domain.jobs import Job
from bot.domain.kinds import FailureKind, JobKind, JobStatus

# Buttons of the bot's own, stored like backend actions.
RETRY_REF = "mjgram:retry"
CONFIRM_REF = "mjgram:confirm"
CANCEL_REF = "mjgram:cancel"
SEED_REF = "mjgram:seed"

# Buttons the bot can run today; anything else is left out rather than shown dead. Whether the backend
# in use can run one (Animate, Vary (Region)) is ButtonPolicy's call.
SERVABLE = frozenset(
    {
        ActionKind.UPSCALE,
        ActionKind.CROP,
        ActionKind.VARIATION,
        ActionKind.REROLL,
        ActionKind.UPSCALE_SUBTLE,
        ActionKind.UPSCALE_CREATIVE,
        ActionKind.UPSCALE_2X,
        ActionKind.UPSCALE_4X,
        ActionKind.REDO_UPSCALE_SUBTLE,
        ActionKind.REDO_UPSCALE_CREATIVE,
        ActionKind.REDO_UPSCALE_2X,
        ActionKind.REDO_UPSCALE_4X,
        ActionKind.VARY_SUBTLE,
        ActionKind.VARY_STRONG,
        ActionKind.ZOOM_OUT_2X,
        ActionKind.ZOOM_OUT_1_5X,
        ActionKind.MAKE_SQUARE,
        ActionKind.PAN_LEFT,
        ActionKind.PAN_RIGHT,
        ActionKind.PAN_UP,
        ActionKind.PAN_DOWN,
        ActionKind.CUSTOM_ZOOM,
        ActionKind.VARY_REGION,
        ActionKind.PROMPT_PICK,
        ActionKind.IMAGINE_ALL,
        ActionKind.DESCRIBE_AGAIN,
        ActionKind.SHOW_DETAILS,
        ActionKind.ANIMATE_HIGH,
        ActionKind.ANIMATE_LOW,
        ActionKind.PICK_CLIP,
        ActionKind.EXTEND_HIGH,
        ActionKind.EXTEND_LOW,
    }
)


def is_servable(action: Action) -> bool:
    return action.kind in SERVABLE


@dataclass(frozen=True, slots=True)
class ButtonPolicy:
    """The buttons this bot, with this backend, can serve."""

    capabilities: Capabilities
    # Vary (Region) needs the Mini App, so an https PUBLIC_URL.
    region_editing: bool = False

    def offers(self, action: Action) -> bool:
        """A button the bot can serve now (video buttons need a backend that reports the video)."""
        if action.kind is ActionKind.VARY_REGION:
            return self.region_editing
        if action.makes_video:
            return self.capabilities.animate and is_servable(action)
        return is_servable(action)

    def refs(self, job: Job) -> list[str]:
        """The refs of the buttons the job's message carries in its current state."""
        if job.status is JobStatus.SUCCEEDED:
            refs = [a.ref for a in job.actions if self.offers(a)]
            if Command.SEED in self.capabilities.commands and not job.kind.makes_text:
                refs.append(SEED_REF)
            return refs
        if job.status is JobStatus.FAILED:
            return [RETRY_REF] if retryable(job) else []
        if job.status is JobStatus.NEEDS_INPUT and job.origin and job.origin.kind is ActionKind.VARY_REGION:
            return [CANCEL_REF]  # the mask comes from the editor, never from "use as is"
        if job.status is JobStatus.NEEDS_INPUT:
            return [CONFIRM_REF, CANCEL_REF]
        return []


def retryable(job: Job) -> bool:
    """A failed job whose 🔁 can run it again.

    Not a banned prompt, not one the user cancelled, and not one the backend may be running still
    (UNCERTAIN: a retry could run and charge it twice).
    """
    if job.failure in (FailureKind.BANNED, FailureKind.CANCELLED, FailureKind.UNCERTAIN):
        return False
    return job.kind in (JobKind.IMAGINE, JobKind.SHORTEN) or job.origin is not None
