"""midjourney-proxy's JSON shapes: submit answers and tasks, camelCase on the wire."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated, Final

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from bot.backends.wire import Wire, blank_if_none, empty_if_none, no_items_if_none

STATE_MAX_LENGTH: Final = 255  # BaseSubmitDTO.state limit: the job id a submit carries back in its task


class ReturnCode(IntEnum):
    """The `code` of a submit answer; HTTP stays 200 for all but an unknown parent (404)."""

    LOGIC_FAILURE = -1  # trueai's exception filter: {"success": false, "code": -1, "message": …}
    SUCCESS = 1
    NOT_FOUND = 3
    VALIDATION_ERROR = 4
    FAILURE = 9
    MODAL_OR_EXISTED = 21
    IN_QUEUE = 22
    QUEUE_REJECTED = 23
    BANNED_PROMPT = 24


class ProxyStatus(StrEnum):
    NOT_START = "NOT_START"
    SUBMITTED = "SUBMITTED"
    MODAL = "MODAL"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCEL = "CANCEL"


class ProxyWire(Wire):
    """Base of the proxy's JSON shapes: camelCase on the wire, unknown keys ignored."""

    # trueai and the Java build disagree on some types (ids and `result` as numbers in old builds).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, coerce_numbers_to_str=True)


class ProxyProperties(ProxyWire):
    """The subset of `properties` (submit answers and tasks) the bot reads."""

    final_prompt: str | None = None
    number_of_queues: int | None = None
    remix: bool | None = None
    status: str | None = None
    image_url: str | None = None
    banned_word: str | None = None
    prompt_en: str | None = None


# trueai serialises absent objects, lists and strings as null; the bot treats them as empty.
Properties = Annotated[ProxyProperties, BeforeValidator(empty_if_none)]


class SubmitReply(ProxyWire):
    """Answer of every /mj/submit/* call and of image-seed (or trueai's Result.Fail, which says `message`)."""

    code: int
    description: Annotated[str, BeforeValidator(blank_if_none)] = ""
    message: Annotated[str, BeforeValidator(blank_if_none)] = ""
    result: str | None = None
    properties: Properties = Field(default_factory=ProxyProperties)

    @property
    def reason(self) -> str:
        return self.description or self.message


class ProxyButton(ProxyWire):
    custom_id: str | None = None
    label: str | None = None
    emoji: str | None = None


class ProxyVideo(ProxyWire):
    """One entry of trueai's `videoUrls`: a video and its still."""

    url: str | None = None
    thumbnail: str | None = None


class ProxyTask(ProxyWire):
    """A task as fetch returns it and the notify hook posts it."""

    id: str = Field(min_length=1)
    status: ProxyStatus
    action: str | None = None
    prompt: str | None = None
    prompt_en: str | None = None
    description: str | None = None
    state: str | None = None
    submit_time: int | None = None  # epoch milliseconds, the proxy's clock
    progress: str | None = None
    image_url: str | None = None
    content_type: str | None = None  # the result attachment's MIME type (trueai), e.g. video/mp4
    video_url: str | None = None
    video_urls: Annotated[tuple[ProxyVideo, ...], BeforeValidator(no_items_if_none)] = ()
    fail_reason: str | None = None
    properties: Properties = Field(default_factory=ProxyProperties)
    # Absent in the Java build's tasks (None); trueai always sends the list.
    buttons: Annotated[tuple[ProxyButton, ...] | None, BeforeValidator(no_items_if_none)] = None
