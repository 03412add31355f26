"""ImagineAPI.dev: the adapter and the pure mapping of its Directus wire format."""

from bot.backends.imagineapi.adapter import ImagineApiBackend
from bot.backends.imagineapi.errors import raise_for_error
from bot.backends.imagineapi.images import (
    REROLL_REF,
    UPSCALE_REF_PREFIX,
    classify_failure,
    grid_actions,
    image_to_update,
    parse_progress,
    parse_upscale_ref,
    parse_upscale_task_id,
    upscale_ref,
    upscale_task_id,
    upscale_update,
)
from bot.backends.imagineapi.wire import DirectusErrors, ImageStatus, ImagineImage, WebhookBody

__all__ = [
    "REROLL_REF",
    "UPSCALE_REF_PREFIX",
    "DirectusErrors",
    "ImageStatus",
    "ImagineApiBackend",
    "ImagineImage",
    "WebhookBody",
    "classify_failure",
    "grid_actions",
    "image_to_update",
    "parse_progress",
    "parse_upscale_ref",
    "parse_upscale_task_id",
    "raise_for_error",
    "upscale_ref",
    "upscale_task_id",
    "upscale_update",
]
