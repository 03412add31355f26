"""ImagineAPI.dev's JSON shapes: Directus image items, webhook bodies and error answers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from bot.backends.wire import Items, Wire


class DirectusCode(StrEnum):
    """`errors[].extensions.code` values ImagineAPI's Directus answers with."""

    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    FORBIDDEN = "FORBIDDEN"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"
    FAILED_VALIDATION = "FAILED_VALIDATION"
    REQUESTS_EXCEEDED = "REQUESTS_EXCEEDED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class ImageStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"


class WebhookEvent(StrEnum):
    CREATE = "images.items.create"
    UPDATE = "images.items.update"


class ImagineImage(Wire):
    """An item of the `images` collection, as create/read answer it and webhooks carry it."""

    id: str = Field(min_length=1)
    status: ImageStatus
    prompt: str | None = None
    progress: float | None = None
    url: str | None = None
    error: str | None = None
    results: str | None = None
    upscaled_urls: Items = ()  # null until the image completes
    upscaled: Items = ()
    ref: str | None = None


class ImageEnvelope(Wire):
    data: ImagineImage


class WebhookBody(Wire):
    """What an account webhook POSTs on every create and update of an image."""

    event: WebhookEvent
    payload: ImagineImage


class DirectusErrorExtensions(Wire):
    code: str | None = None


class DirectusError(Wire):
    message: str = ""
    extensions: DirectusErrorExtensions = Field(default_factory=DirectusErrorExtensions)


class DirectusErrors(Wire):
    errors: tuple[DirectusError, ...] = Field(min_length=1)
