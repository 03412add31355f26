"""The fake's value objects: users and chats, recorded calls, files, formatted text and messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

from tests.fakes.telegram.limits import BUTTON_ACTIONS


@dataclass
class FakeUser:
    """A Telegram user (or the bot itself) as the fake knows it."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        return without_none(
            {
                "id": self.id,
                "is_bot": self.is_bot,
                "first_name": self.first_name,
                "username": self.username,
                "language_code": self.language_code,
            }
        )


@dataclass
class FakeChat:
    """A chat the bot can be written from; a private chat's id is the user's id."""

    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    is_forum: bool = False


@dataclass(frozen=True)
class FloodLimits:
    """Rates above which the fake answers 429, as Telegram's flood control does."""

    per_chat_per_second: float = 1.0
    per_group_per_minute: int = 20
    global_per_second: float = 30.0
    retry_after: int = 1


@dataclass(frozen=True)
class RecordedCall:
    """One Bot API call as the fake received and answered it."""

    method: str
    params: dict[str, Any]
    ok: bool
    error: str | None
    at: float

    def upload(self, name: str) -> UploadedFile | None:
        """The file uploaded for parameter `name`, following aiogram's `attach://<part>` indirection."""
        value = self.params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.params.get(value.removeprefix("attach://"))
        return value if isinstance(value, UploadedFile) else None


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


FileKind = Literal["photo", "document", "video", "animation"]


@dataclass(frozen=True)
class StoredFile:
    """A file the fake issued a file_id for."""

    file_id: str
    file_unique_id: str
    file_path: str
    kind: FileKind
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class FormattedText:
    """Text after entity parsing: what users see, plus the entities Telegram derived."""

    text: str
    entities: list[dict[str, Any]]


@dataclass(frozen=True)
class MediaContent:
    """What a media message shows: exactly one of a photo (its sizes), a document, a video, an animation."""

    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    video: dict[str, Any] | None = None
    animation: dict[str, Any] | None = None

    @property
    def kind(self) -> FileKind | None:
        kinds: tuple[FileKind, ...] = ("photo", "document", "video", "animation")
        return next((kind for kind in kinds if getattr(self, kind) is not None), None)

    @property
    def unique_id(self) -> str | None:
        """The file_unique_id of what is shown (the largest photo size); None without media."""
        if self.photo:
            return cast(str, self.photo[-1]["file_unique_id"])
        item = self.document or self.video or self.animation
        return cast(str, item["file_unique_id"]) if item else None


@dataclass
class StoredMessage:
    """A message in a chat, in its current state; `history` keeps the API form of earlier versions."""

    message_id: int
    chat_id: int
    from_user: FakeUser
    date: int
    text: str | None = None
    caption: str | None = None
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    video: dict[str, Any] | None = None
    animation: dict[str, Any] | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    media_group_id: str | None = None
    edits: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None
    raw_text: str | None = None  # text or caption exactly as sent: the HTML source when parse_mode=HTML
    entities: list[dict[str, Any]] = field(default_factory=list)  # of the text, or of the caption
    outgoing: bool = False  # sent by the bot
    deleted: bool = False
    edit_date: int | None = None
    invoice: dict[str, Any] | None = None  # an invoice message (sendInvoice)
    successful_payment: dict[str, Any] | None = None  # the service message of a paid invoice

    @property
    def has_media(self) -> bool:
        return self.content.kind is not None

    @property
    def content(self) -> MediaContent:
        return MediaContent(self.photo, self.document, self.video, self.animation)

    def show(self, content: MediaContent) -> None:
        self.photo, self.document = content.photo, content.document
        self.video, self.animation = content.video, content.animation

    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Rows of (text, callback_data) of the inline keyboard; other buttons show e.g. "url:https://…"."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(button["text"], _button_target(button)) for button in row] for row in rows]

    def button_texts(self) -> list[str]:
        return [text for row in self.buttons() for text, _ in row]


def _button_target(button: dict[str, Any]) -> str | None:
    if "callback_data" in button:
        return cast(str, button["callback_data"])
    if "url" in button:
        return f"url:{button['url']}"
    if "web_app" in button:
        return f"web_app:{button['web_app'].get('url')}"
    return next((action for action in BUTTON_ACTIONS if action in button), None)


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class NewFile:
    """File content that reached the fake in a request: an upload or a fetched URL."""

    data: bytes
    file_name: str
    content_type: str | None
