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


class SeedNotYours(DomainError):
    message_id = "seed-not-yours"


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


class PictureUnavailable(DomainError):
    message_id = "picture-unavailable"


class EmptyShorten(DomainError):
    message_id = "shorten-empty"


class BlendFull(DomainError):
    message_id = "blend-full"


class BlendExpired(DomainError):
    message_id = "blend-expired"


class TooManyActive(DomainError):
    message_id = "quota-active"


class ChatBusy(DomainError):
    message_id = "quota-chat-active"


class DailyQuotaReached(DomainError):
    message_id = "quota-daily"


class GroupPoolExhausted(DomainError):
    message_id = "quota-pool"


class AdminOnly(DomainError):
    message_id = "admin-only"


class JobNotFound(DomainError):
    message_id = "job-not-found"


class NothingToCancel(DomainError):
    message_id = "cancel-nothing"


class CancelNotPermitted(DomainError):
    message_id = "cancel-admin-only"


class CancelUnsupported(DomainError):
    message_id = "cancel-unsupported"


class CancelNotYet(DomainError):
    """The job's submit is still on its way: there is no task to stop yet."""

    message_id = "cancel-not-yet"


class AdminUsage(DomainError):
    message_id = "admin-usage"


class PreferUsage(DomainError):
    message_id = "prefer-usage"


class OptionNameInvalid(DomainError):
    message_id = "prefer-option-name-invalid"


class OptionSetMissing(DomainError):
    message_id = "prefer-option-missing"


class OptionSetsFull(DomainError):
    message_id = "prefer-option-sets-full"


class OptionParamsTooLong(DomainError):
    message_id = "prefer-option-too-long"


class SuffixTooLong(DomainError):
    message_id = "prefer-suffix-too-long"


class SettingsNotYours(DomainError):
    message_id = "settings-not-yours"


class ChatSettingsAdminsOnly(DomainError):
    message_id = "settings-admins-only"


class InvalidParameter(DomainError):
    message_id = "invalid-parameter"


class RepeatRefused(DomainError):
    """--repeat above one: Midjourney would run the prompt several times for one job the bot shows."""

    message_id = "prompt-repeat-refused"


class MaskRequired(DomainError):
    message_id = "region-mask-required"
