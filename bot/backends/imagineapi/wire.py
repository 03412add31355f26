"""ImagineAPI.dev's JSON shapes: Directus image items, webhook bodies and error answers."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

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
    """`status` of an image (imagineapi/imagineapi `api/image/src/shared.ts`, `Image`)."""

    PENDING = "pending"
    QUEUED = "queued"
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


class ImageEnvelope(Wire):
    data: ImagineImage


class BotStatus(StrEnum):
    """`bot_status` of the `status` singleton: whether ImagineAPI's Discord bot takes prompts now.

    Its consumer of the `bot_status` queue accepts these four (`api/image/src/index.ts`); the field reads
    "not started" until the bot first reports (`api/build_files/snapshot.json`), read here as starting.
    """

    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    PAUSED = "paused"


NOT_STARTED = "not started"


class ServiceStatus(Wire):
    bot_status: BotStatus | None = None
    message: str | None = None

    @field_validator("bot_status", mode="before")
    @classmethod
    def _known_or_none(cls, value: object) -> object:
        if value == NOT_STARTED:
            return BotStatus.STARTING  # the bot has not reported yet: prompts wait all the same
        return value if value in set(BotStatus) else None


class StatusEnvelope(Wire):
    data: ServiceStatus


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
