"""Refusals a user is told about: each names its message id and the values that message needs."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A request the bot declines; handlers turn it into a localised message."""

    message_id: ClassVar[str] = "error-internal"

    def __init__(self, **args: str | int) -> None:
        super().__init__(self.message_id, args)
        self.args_for_message = args


class EmptyPrompt(DomainError):
    message_id = "empty-prompt"


class PromptTooLong(DomainError):
    message_id = "prompt-too-long"


class AccessDenied(DomainError):
    message_id = "access-denied"


class ButtonExpired(DomainError):
    message_id = "press-expired"


class NotYourButton(DomainError):
    message_id = "press-not-yours"


class ButtonUnavailable(DomainError):
    message_id = "press-unavailable"


class InvalidZoom(DomainError):
    message_id = "input-invalid-zoom"


class InputNotExpected(DomainError):
    message_id = "input-not-expected"


class SeedUnavailable(DomainError):
    message_id = "seed-unavailable"


class CommandUnsupported(DomainError):
    message_id = "command-unsupported"


class BlendCount(DomainError):
    message_id = "blend-count"


class ImageRequired(DomainError):
    message_id = "image-required"


class ImageUnreadable(DomainError):
    message_id = "image-unreadable"


class ImageTooBig(DomainError):
    message_id = "image-too-big"


class EmptyShorten(DomainError):
    message_id = "shorten-empty"


class BlendFull(DomainError):
    message_id = "blend-full"


class BlendExpired(DomainError):
    message_id = "blend-expired"
