"""A strict fake Telegram Bot API server on 127.0.0.1 for end-to-end tests with the real aiogram Bot."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import mimetypes
import re
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from io import BytesIO
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, cast
from urllib.parse import urlsplit

import aiohttp
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from PIL import Image

T = TypeVar("T")

# --- Telegram's limits ---------------------------------------------------------------------------
TEXT_LIMIT = 4096  # Unicode code points after entity parsing, not UTF-16 units
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8
CALLBACK_ANSWER_TEXT_LIMIT = 200
INLINE_KEYBOARD_MAX_BUTTONS = 100
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES_SUM = 10_000
PHOTO_MAX_ASPECT_RATIO = 20
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
UPLOAD_MAX_BYTES = DOCUMENT_MAX_BYTES  # any file a bot uploads: document, video, animation
MP4_BRAND_BOX = b"ftyp"  # an MP4 opens with an ftyp box: 4 bytes of size, then "ftyp"
GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
ANIMATION_MIME = "video/mp4"  # Telegram turns GIF animations into silent MPEG-4 clips
GET_FILE_MAX_BYTES = 20 * 1024 * 1024
THUMBNAIL_SIDE = 90
MEDIA_GROUP_MIN_ITEMS = 2
MEDIA_GROUP_MAX_ITEMS = 10
GET_UPDATES_MAX_LIMIT = 100
BOT_COMMAND_MAX_LENGTH = 32
BOT_COMMAND_DESCRIPTION_MAX_LENGTH = 256

# --- the fake's own timings and settings ----------------------------------------------------------
LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
URL_FETCH_TIMEOUT = 10.0
WEBHOOK_DELIVERY_TIMEOUT = 10.0
WEBHOOK_RETRY_DELAY = 0.2  # Telegram retries a failing webhook; the fake retries quickly
SERVER_SHUTDOWN_TIMEOUT = 1.0
REQUEST_BODY_LIMIT = DOCUMENT_MAX_BYTES + 1024 * 1024  # bigger bodies are refused with 413 by aiohttp
DEFAULT_WAIT_TIMEOUT = 10.0
DEFAULT_WEBHOOK_CONNECTIONS = 40
TIMEOUT_REPORT_CALLS = 20
FIRST_UPDATE_ID = 500_000_001
FIRST_CALLBACK_QUERY_ID = 4_000_000_000_000_000_001
FIRST_MEDIA_GROUP_ID = 13_000_000_000_000_001
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
BOT_COMMAND_PATTERN = re.compile(r"[a-z0-9_]+")
LEADING_COMMAND_PATTERN = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")

# --- Telegram's error descriptions ---------------------------------------------------------------
ERR_NOT_FOUND = "Not Found"
ERR_UNAUTHORIZED = "Unauthorized"
ERR_ENTITY_TOO_LARGE = "Request Entity Too Large"
ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_TEXT_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_CANT_PARSE_ENTITIES = "Bad Request: can't parse entities: "
ERR_BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
ERR_BUTTON_TYPE_INVALID = "Bad Request: BUTTON_TYPE_INVALID"
ERR_BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
ERR_TEXT_BUTTONS = (
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
ERR_BUTTON_TEXT = 'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String'
ERR_MARKUP_TOO_LONG = "Bad Request: reply markup is too long"
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
ERR_NO_CAPTION = "Bad Request: there is no caption in the message to edit"
ERR_NO_TEXT = "Bad Request: there is no text in the message to edit"
ERR_CANT_EDIT = "Bad Request: message can't be edited"
ERR_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
ERR_REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
ERR_THREAD_NOT_FOUND = "Bad Request: message thread not found"
ERR_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ERR_ANSWER_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
ERR_URL_CONTENT = "Bad Request: failed to get HTTP URL content"
ERR_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_FILE_TYPE_MISMATCH = "Bad Request: type of file mismatch"
ERR_INVALID_FILE_ID = "Bad Request: invalid file_id"
ERR_FILE_TOO_BIG = "Bad Request: file is too big"
ERR_IMAGE_PROCESS_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
ERR_PHOTO_DIMENSIONS = "Bad Request: PHOTO_INVALID_DIMENSIONS"
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
ERR_POLL_TERMINATED = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
ERR_POLL_BY_WEBHOOK = "Conflict: terminated by setWebhook request"
ERR_CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
ERR_BAD_WEBHOOK_HOST = "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
ERR_SECRET_TOKEN = "Bad Request: secret token contains unallowed characters"
ERR_BOT_COMMAND = "Bad Request: BOT_COMMAND_INVALID"
ERR_BOT_COMMAND_DESCRIPTION = "Bad Request: command description is empty or too long"
ERR_CHAT_ACTION = "Bad Request: wrong parameter action in request"
ERR_MEDIA_GROUP_SIZE = "Bad Request: media group must include 2-10 items"
ERR_MEDIA_GROUP_MIX = "Bad Request: documents can't be mixed with other media types in an album"
ERR_UNSUPPORTED_MEDIA = "Bad Request: the fake supports only photo, video, animation and document media"
ERR_ALBUM_ANIMATION = "Bad Request: animations can't be sent in an album"
ERR_INLINE_MESSAGES = "Bad Request: MESSAGE_ID_INVALID"

DEFAULT_FAILURE_TEXT = {
    400: "Bad Request: injected failure",
    403: ERR_BLOCKED,
    404: ERR_NOT_FOUND,
    409: ERR_POLL_TERMINATED,
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# --- wire details -------------------------------------------------------------------------------
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "allowed_updates",
        "menu_button",
    }
)
INT_PARAMS = frozenset(
    {
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "max_connections",
        "duration",
        "width",
        "height",
    }
)
BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "supports_streaming",
        "allow_paid_broadcast",
        "disable_web_page_preview",
    }
)
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
HTML_TAG_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
HTML_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


# =================================================================================================
# Value objects
# =================================================================================================
@dataclass
class FakeUser:
    """A Telegram user (or the bot itself) as the fake knows it."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        return _without_none(
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


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# =================================================================================================
# Errors
# =================================================================================================
class ApiError(Exception):
    """A Bot API failure, answered as {"ok": false, ...}."""

    def __init__(self, description: str, *, error_code: int = 400, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.error_code = error_code
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(f"Too Many Requests: retry after {retry_after}", error_code=429, retry_after=retry_after)


# =================================================================================================
# Request parameters
# =================================================================================================
def coerce_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode form strings the way the Bot API reads them: JSON objects, integers, booleans."""
    return {name: _coerce(name, value) for name, value in raw.items()}


def _coerce(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value  # JSON bodies and file parts arrive typed already
    if name in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(f"Bad Request: can't parse {name} JSON object") from None
    if name == "chat_id" or name in INT_PARAMS:
        with contextlib.suppress(ValueError):
            return int(value)
        if name == "chat_id":
            return value  # "@username"
        raise ApiError(f"Bad Request: invalid {name} specified")
    if name in BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


class Params:
    """Typed read access to one request's decoded parameters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def opt_str(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float):
            return str(value)
        raise ApiError(f'Bad Request: field "{name}" must be of type String')

    def req_str(self, name: str) -> str:
        value = self.opt_str(name)
        if not value:
            raise ApiError(f"Bad Request: {name} is empty")
        return value

    def opt_int(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ApiError(f"Bad Request: invalid {name} specified")

    def req_int(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise ApiError(f"Bad Request: {name} is empty")
        return value

    def subset(self, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: self._values[name] for name in names if self._values.get(name) is not None}

    def flag(self, name: str) -> bool:
        return bool(self._values.get(name))

    def opt_dict(self, name: str) -> dict[str, Any] | None:
        value = self._values.get(name)
        if value is None or isinstance(value, dict):
            return value
        raise ApiError(f"Bad Request: can't parse {name} JSON object")

    def opt_list(self, name: str) -> list[Any] | None:
        value = self._values.get(name)
        if value is None or isinstance(value, list):
            return value
        raise ApiError(f"Bad Request: can't parse {name} JSON array")


async def read_request_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a JSON, urlencoded or multipart body; file parts become `UploadedFile`."""
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            raw.update(await _read_json_body(request))
        else:
            raw.update(await _read_form_body(request))
    return coerce_params(raw)


async def _read_json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError("Bad Request: can't parse JSON encoded request body") from None
    if not isinstance(body, dict):
        raise ApiError("Bad Request: request body must be a JSON object")
    return body


async def _read_form_body(request: web.Request) -> dict[str, Any]:
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(ERR_ENTITY_TOO_LARGE, error_code=413) from None
    return {name: _form_value(value) for name, value in form.items()}


def _form_value(value: str | bytes | bytearray | web.FileField) -> str | UploadedFile:
    if isinstance(value, web.FileField):
        return UploadedFile(value.filename, value.content_type, value.file.read())
    if isinstance(value, bytes | bytearray):
        return value.decode()
    return value


# =================================================================================================
# HTML formatting, as Telegram parses parse_mode=HTML
# =================================================================================================
@dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the output text
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    expandable: bool = False


class HtmlParser:
    """Telegram's HTML subset: allowed tags only, attributes checked, `&lt;`-style escapes decoded."""

    def __init__(self, source: str) -> None:
        self._src = source
        self._pos = 0
        self._out: list[str] = []
        self._out16 = 0
        self._stack: list[_OpenTag] = []
        self._entities: list[dict[str, Any]] = []

    def parse(self) -> FormattedText:
        while self._pos < len(self._src):
            char = self._src[self._pos]
            if char == "<":
                self._take_tag()
            elif char == "&":
                self._take_escape()
            else:
                self._emit(char)
                self._pos += 1
        if self._stack:
            raise self._error(f'Can\'t find end tag corresponding to start tag "{self._stack[-1].name}"')
        self._entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return strip_formatted(FormattedText("".join(self._out), self._entities))

    def _emit(self, text: str) -> None:
        self._out.append(text)
        self._out16 += utf16_length(text)

    def _error(self, reason: str) -> ApiError:
        return ApiError(ERR_CANT_PARSE_ENTITIES + reason)

    def _byte_offset(self, position: int) -> int:
        return len(self._src[:position].encode())

    def _take_escape(self) -> None:
        decoded = decode_html_escape(self._src, self._pos)
        if decoded is None:  # Telegram keeps a lone "&" as it is
            self._emit("&")
            self._pos += 1
            return
        char, end = decoded
        self._emit(char)
        self._pos = end

    def _take_tag(self) -> None:
        if self._src.startswith("</", self._pos):
            self._take_end_tag()
        else:
            self._take_start_tag()

    def _take_end_tag(self) -> None:
        start = self._pos
        close = self._src.find(">", start)
        if close == -1:
            raise self._error(f"Unclosed end tag at byte offset {self._byte_offset(start)}")
        name = self._src[start + 2 : close].strip().lower()
        if not self._stack:
            raise self._error(f"Unexpected end tag at byte offset {self._byte_offset(start)}")
        opened = self._stack.pop()
        if name and name != opened.name:
            raise self._error(
                f"Unmatched end tag at byte offset {self._byte_offset(start)}, "
                f'expected "</{opened.name}>", found "</{name}>"'
            )
        self._close(opened)
        self._pos = close + 1

    def _take_start_tag(self) -> None:
        start = self._pos
        end = start + 1
        while end < len(self._src) and not self._src[end].isspace() and self._src[end] != ">":
            end += 1
        if end >= len(self._src):
            raise self._error(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
        name = self._src[start + 1 : end].lower()
        if name not in HTML_TAG_ENTITY_TYPES:
            raise self._error(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(start)}')
        attributes = self._read_attributes(name, end, start)
        self._stack.append(self._open(name, attributes, start))

    def _read_attributes(self, tag: str, position: int, start: int) -> dict[str, str]:
        attributes: dict[str, str] = {}
        while True:
            position = self._skip_spaces(position, start)
            if self._src[position] == ">":
                self._pos = position + 1
                return attributes
            name_end = position
            while name_end < len(self._src) and _is_attribute_char(self._src[name_end]):
                name_end += 1
            name = self._src[position:name_end].lower()
            if not name:
                offset = self._byte_offset(start)
                raise self._error(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
            position = self._skip_spaces(name_end, start)
            if self._src[position] != "=":
                if tag == "blockquote" and name == "expandable":
                    attributes[name] = ""
                    continue
                raise self._error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {self._byte_offset(start)}"
                )
            value, position = self._read_attribute_value(self._skip_spaces(position + 1, start), start)
            attributes[name] = value

    def _skip_spaces(self, position: int, start: int) -> int:
        while position < len(self._src) and self._src[position].isspace():
            position += 1
        if position >= len(self._src):
            raise self._error(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
        return position

    def _read_attribute_value(self, position: int, start: int) -> tuple[str, int]:
        quote = self._src[position]
        if quote in "\"'":
            end = self._src.find(quote, position + 1)
            if end == -1:
                raise self._error(f"Unclosed start tag at byte offset {self._byte_offset(start)}")
            return decode_html_escapes(self._src[position + 1 : end]), end + 1
        end = position
        while end < len(self._src) and (self._src[end].isalnum() or self._src[end] in ".-"):
            end += 1
        if end == position:
            raise self._error(f"Expected quote at byte offset {self._byte_offset(position)}")
        return self._src[position:end], end

    def _open(self, name: str, attributes: dict[str, str], start: int) -> _OpenTag:
        tag = _OpenTag(name=name, start=self._out16)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            offset = self._byte_offset(start)
            raise self._error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji":
            tag.custom_emoji_id = attributes.get("emoji-id", "")
            if not tag.custom_emoji_id.isdigit():
                raise self._error("Invalid custom emoji identifier specified")
        if name == "a":
            tag.url = attributes.get("href")
        if name == "code" and attributes.get("class", "").startswith("language-"):
            tag.language = attributes["class"].removeprefix("language-")
        tag.expandable = name == "blockquote" and "expandable" in attributes
        return tag

    def _close(self, tag: _OpenTag) -> None:
        if tag.name == "code" and tag.language and self._stack and self._stack[-1].name == "pre":
            self._stack[-1].language = tag.language  # <pre><code class="language-x"> is one pre entity
            return
        length = self._out16 - tag.start
        if length == 0 or (tag.name == "a" and not tag.url):
            return
        entity_type = "expandable_blockquote" if tag.expandable else HTML_TAG_ENTITY_TYPES[tag.name]
        entity = {"type": entity_type, "offset": tag.start, "length": length}
        entity.update(_without_none({"url": tag.url, "custom_emoji_id": tag.custom_emoji_id}))
        if tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        self._entities.append(entity)


def _is_attribute_char(char: str) -> bool:
    return char.isalnum() or char in "-_"


def decode_html_escape(text: str, position: int) -> tuple[str, int] | None:
    """The character of an `&name;`/`&#N;`/`&#xN;` escape at `position` and the index after it."""
    end = text.find(";", position)
    if end == -1:
        return None
    body = text[position + 1 : end]
    if body in HTML_NAMED_ENTITIES:
        return HTML_NAMED_ENTITIES[body], end + 1
    code = _numeric_escape(body)
    if code is None or not 0 < code <= sys.maxunicode:
        return None
    return chr(code), end + 1


def _numeric_escape(body: str) -> int | None:
    if body[:2] in ("#x", "#X") and body[2:] and all(c in "0123456789abcdefABCDEF" for c in body[2:]):
        return int(body[2:], 16)
    if body[:1] == "#" and body[1:].isdigit():
        return int(body[1:])
    return None


def decode_html_escapes(text: str) -> str:
    parts: list[str] = []
    position = 0
    while position < len(text):
        decoded = decode_html_escape(text, position) if text[position] == "&" else None
        if decoded is None:
            parts.append(text[position])
            position += 1
        else:
            parts.append(decoded[0])
            position = decoded[1]
    return "".join(parts)


def strip_formatted(formatted: FormattedText) -> FormattedText:
    """Telegram trims leading and trailing whitespace and moves the entities along."""
    text = formatted.text.strip()
    shift = utf16_length(formatted.text[: len(formatted.text) - len(formatted.text.lstrip())])
    total = utf16_length(text)
    entities = []
    for entity in formatted.entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return FormattedText(text, entities)


def format_text(text: str, parse_mode: str | None, entities: list[Any] | None) -> FormattedText:
    """Apply explicit entities or a parse mode; MarkdownV2/Markdown are stored unparsed."""
    if entities is not None:
        return strip_formatted(
            FormattedText(text, [entity for entity in entities if isinstance(entity, dict)])
        )
    mode = (parse_mode or "").lower()
    if mode == "html":
        return HtmlParser(text).parse()
    if mode in ("", "markdown", "markdownv2"):
        return FormattedText(text.strip(), [])
    raise ApiError("Bad Request: unsupported parse_mode")


def command_entities(text: str | None) -> list[dict[str, Any]]:
    """A bot_command entity when the text starts with /command (or /command@bot)."""
    match = LEADING_COMMAND_PATTERN.match(text or "")
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]


# =================================================================================================
# Inline keyboards
# =================================================================================================
def validate_reply_markup(markup: dict[str, Any] | None, chat: FakeChat) -> dict[str, Any] | None:
    """Check an inline keyboard like Telegram; other markups are stored unchecked. Empty means none."""
    if markup is None or "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError('Bad Request: field "inline_keyboard" must be an Array of Arrays')
    buttons = [button for row in rows for button in row]
    if len(buttons) > INLINE_KEYBOARD_MAX_BUTTONS:
        raise ApiError(ERR_MARKUP_TOO_LONG)
    for button in buttons:
        validate_inline_button(button, chat)
    return markup if buttons else None


def validate_inline_button(button: Any, chat: FakeChat) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise ApiError(ERR_BUTTON_TEXT)
    # an empty string counts as absent, so `callback_data: ""` alone is a text button
    actions = [action for action in BUTTON_ACTIONS if button.get(action) not in (None, "")]
    if not actions:
        raise ApiError(ERR_TEXT_BUTTONS)
    if "callback_data" in actions and len(str(button["callback_data"]).encode()) > CALLBACK_DATA_LIMIT:
        raise ApiError(ERR_BUTTON_DATA_INVALID)
    if "url" in actions and not _is_button_url(button["url"], schemes=("https", "http", "tg")):
        raise ApiError(ERR_BUTTON_URL_INVALID)
    if "web_app" in actions:
        _validate_web_app_button(button["web_app"], chat)


def _validate_web_app_button(web_app: Any, chat: FakeChat) -> None:
    if chat.type != "private":
        raise ApiError(ERR_BUTTON_TYPE_INVALID)
    if not isinstance(web_app, dict) or not _is_button_url(web_app.get("url"), schemes=("https",)):
        raise ApiError(ERR_BUTTON_URL_INVALID)


def _is_button_url(url: Any, *, schemes: tuple[str, ...]) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme in schemes and (scheme == "tg" or bool(parts.hostname))


def _same_markup(first: dict[str, Any] | None, second: dict[str, Any] | None) -> bool:
    return _inline_rows(first) == _inline_rows(second)


def _inline_rows(markup: dict[str, Any] | None) -> list[Any] | None:
    return cast(list[Any] | None, (markup or {}).get("inline_keyboard") or None)


# =================================================================================================
# Flood control
# =================================================================================================
class SlidingWindow:
    """At most `capacity` events in any `seconds`-long window."""

    def __init__(self, capacity: int, seconds: float) -> None:
        self._capacity = capacity
        self._seconds = seconds
        self._events: deque[float] = deque()

    @classmethod
    def for_rate(cls, per_second: float) -> SlidingWindow:
        capacity = max(1, math.floor(per_second))
        return cls(capacity, capacity / per_second)

    def is_full(self, now: float) -> bool:
        while self._events and now - self._events[0] >= self._seconds:
            self._events.popleft()
        return len(self._events) >= self._capacity

    def add(self, now: float) -> None:
        self._events.append(now)


class FloodGate:
    """Telegram's per-chat, per-group and global sending limits."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._global = SlidingWindow.for_rate(limits.global_per_second)
        self._per_chat: dict[int, SlidingWindow] = {}
        self._per_group: dict[int, SlidingWindow] = {}

    def admit(self, chat: FakeChat) -> bool:
        """Count one message-producing call to `chat`; False (and nothing counted) when over a limit."""
        now = self._clock()
        windows = [self._global, self._chat_window(chat.id)]
        if chat.type != "private":
            windows.append(self._group_window(chat.id))
        if any(window.is_full(now) for window in windows):
            return False
        for window in windows:
            window.add(now)
        return True

    def _chat_window(self, chat_id: int) -> SlidingWindow:
        if chat_id not in self._per_chat:
            self._per_chat[chat_id] = SlidingWindow.for_rate(self.limits.per_chat_per_second)
        return self._per_chat[chat_id]

    def _group_window(self, chat_id: int) -> SlidingWindow:
        if chat_id not in self._per_group:
            self._per_group[chat_id] = SlidingWindow(self.limits.per_group_per_minute, 60.0)
        return self._per_group[chat_id]


# =================================================================================================
# Files
# =================================================================================================
class FileStore:
    """Every file the fake issued a file_id for, addressable by id and by download path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}
        self._documents: dict[str, dict[str, Any]] = {}
        self._videos: dict[str, dict[str, Any]] = {}
        self._animations: dict[str, dict[str, Any]] = {}
        self._serial = itertools.count(1)

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def photo_sizes(self, file_id: str) -> list[dict[str, Any]] | None:
        return self._photo_sets.get(file_id)

    def document(self, file_id: str) -> dict[str, Any] | None:
        return self._documents.get(file_id)

    def video(self, file_id: str) -> dict[str, Any] | None:
        return self._videos.get(file_id)

    def animation(self, file_id: str) -> dict[str, Any] | None:
        return self._animations.get(file_id)

    def add_photo(self, data: bytes) -> list[dict[str, Any]]:
        """Validate like Telegram; return the PhotoSize list: a thumbnail (if bigger) and the full size."""
        image = decode_photo(data)
        suffix = ".png" if image.format == "PNG" else ".jpg"
        sizes: list[dict[str, Any]] = []
        if max(image.size) > THUMBNAIL_SIDE:
            thumbnail = make_thumbnail(image)
            sizes.append(self._photo_size(thumbnail, ".jpg", Image.open(BytesIO(thumbnail)).size))
        sizes.append(self._photo_size(data, suffix, image.size))
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    def add_video(self, source: NewFile, params: Params) -> MediaContent:
        """An MP4 becomes a video; anything else Telegram can't play arrives as a plain document."""
        if not is_mp4(source.data):
            return self._as_document(source)
        _check_upload_size(source.data)
        stored = self._add(source.data, "video", ".mp4")
        video = {
            **self._file_fields(stored, source, "video/mp4"),
            # The fake reads no MP4 boxes: it reports what the bot declared (0 when it declared nothing).
            "width": params.opt_int("width") or 0,
            "height": params.opt_int("height") or 0,
            "duration": params.opt_int("duration") or 0,
        }
        self._videos[stored.file_id] = video
        return MediaContent(video=video)

    def add_animation(self, source: NewFile, params: Params) -> MediaContent:
        """A GIF (turned into a silent MP4, as Telegram does) or an MP4 becomes an animation."""
        if not (is_mp4(source.data) or source.data.startswith(GIF_SIGNATURES)):
            return self._as_document(source)
        _check_upload_size(source.data)
        width, height, duration = params.opt_int("width") or 0, params.opt_int("height") or 0, 0
        name = source.file_name
        if source.data.startswith(GIF_SIGNATURES):
            width, height, duration = gif_geometry(source.data)
            name += ".mp4"
        stored = self._add(source.data, "animation", ".mp4")
        animation = {
            **self._file_fields(stored, replace(source, file_name=name), ANIMATION_MIME),
            "width": width,
            "height": height,
            "duration": duration or params.opt_int("duration") or 0,
        }
        self._animations[stored.file_id] = animation
        return MediaContent(animation=animation)

    def _as_document(self, source: NewFile) -> MediaContent:
        return MediaContent(document=self.add_document(source.data, source.file_name, source.content_type))

    @staticmethod
    def _file_fields(stored: StoredFile, source: NewFile, mime_type: str) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": source.file_name,
            "mime_type": mime_type,
            "file_size": len(stored.data),
        }

    def add_document(self, data: bytes, file_name: str, mime_type: str | None) -> dict[str, Any]:
        _check_upload_size(data)
        suffix = "." + file_name.rsplit(".", 1)[1] if "." in file_name else ""
        stored = self._add(data, "document", suffix)
        guessed = mimetypes.guess_type(file_name)[0]
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": _specific_mime(mime_type) or guessed or "application/octet-stream",
            "file_size": len(data),
        }
        self._documents[stored.file_id] = document
        return document

    def _photo_size(self, data: bytes, suffix: str, size: tuple[int, int]) -> dict[str, Any]:
        stored = self._add(data, "photo", suffix)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
            "width": size[0],
            "height": size[1],
        }

    def _add(self, data: bytes, kind: FileKind, suffix: str) -> StoredFile:
        serial = next(self._serial)
        stored = StoredFile(
            file_id=f"{FILE_ID_PREFIXES[kind]}{serial:08d}",
            file_unique_id=f"AQAD{serial:08d}",
            file_path=f"{kind}s/file_{serial}{suffix}",
            kind=kind,
            data=data,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored


# The start of real file ids of each kind (they encode the file's type).
FILE_ID_PREFIXES: dict[FileKind, str] = {
    "photo": "AgACAgIAAxkBAA",
    "document": "BQACAgIAAxkBAA",
    "video": "BAACAgIAAxkBAA",
    "animation": "CgACAgIAAxkBAA",
}


def _check_upload_size(data: bytes) -> None:
    if len(data) > UPLOAD_MAX_BYTES:
        raise ApiError(ERR_ENTITY_TOO_LARGE, error_code=413)


def is_mp4(data: bytes) -> bool:
    return data[4:8] == MP4_BRAND_BOX


def gif_geometry(data: bytes) -> tuple[int, int, int]:
    """Width, height and whole seconds of a GIF, or Telegram's "can't process" error."""
    try:
        image = Image.open(BytesIO(data))
        frames = getattr(image, "n_frames", 1)
        milliseconds = 0
        for index in range(frames):
            image.seek(index)
            milliseconds += int(image.info.get("duration", 0))
    except (OSError, ValueError, SyntaxError, EOFError):
        raise ApiError(ERR_IMAGE_PROCESS_FAILED) from None
    return image.width, image.height, milliseconds // 1000


def _specific_mime(mime_type: str | None) -> str | None:
    return None if mime_type in (None, "", "application/octet-stream") else mime_type


def decode_photo(data: bytes) -> Image.Image:
    """Open an image the way Telegram's photo pipeline accepts it, or fail with Telegram's error."""
    if len(data) > PHOTO_MAX_BYTES:
        raise ApiError(ERR_FILE_TOO_BIG)
    try:
        image = Image.open(BytesIO(data))
        width, height = image.size
        if not _acceptable_dimensions(width, height):
            raise ApiError(ERR_PHOTO_DIMENSIONS)
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ApiError(ERR_IMAGE_PROCESS_FAILED) from None
    return image


def _acceptable_dimensions(width: int, height: int) -> bool:
    return width + height <= PHOTO_MAX_SIDES_SUM and max(width, height) <= PHOTO_MAX_ASPECT_RATIO * min(
        width, height
    )


def make_thumbnail(image: Image.Image) -> bytes:
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = BytesIO()
    thumbnail.save(buffer, format="JPEG")
    return buffer.getvalue()


@dataclass(frozen=True)
class NewFile:
    """File content that reached the fake in a request: an upload or a fetched URL."""

    data: bytes
    file_name: str
    content_type: str | None


# =================================================================================================
# Updates
# =================================================================================================
class UpdateQueue:
    """Updates waiting to be confirmed by getUpdates' offset (or delivered to the webhook)."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._next_id = FIRST_UPDATE_ID
        self.allowed: frozenset[str] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._items.append(update)
        return update

    def confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._items = self._items[offset:]
        else:
            self._items = [update for update in self._items if update["update_id"] >= offset]

    def peek(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` updates; types outside allowed_updates are dropped, as Telegram does."""
        if self.allowed:
            self._items = [update for update in self._items if _update_type(update) in self.allowed]
        return self._items[:limit]

    def drop(self, update_id: int) -> None:
        self._items = [update for update in self._items if update["update_id"] != update_id]

    def clear(self) -> None:
        self._items.clear()


def _update_type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


@dataclass
class Webhook:
    """The webhook set by setWebhook."""

    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


def _is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS


# =================================================================================================
# The server
# =================================================================================================
class LoopbackSession(AiohttpSession):
    """aiogram's own session aimed at a fake; closes without the 250 ms grace aiogram waits for TLS."""

    def __init__(self, base_url: str) -> None:
        super().__init__(api=TelegramAPIServer.from_base(base_url))

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


MethodHandler = Callable[[Params], Awaitable[Any]]


class FakeTelegram:
    """A Bot API server on 127.0.0.1 that answers like Telegram, strictly; start it with `async with`."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int | None = None,
        bot_username: str = "mjgram_test_bot",
        flood: FloodLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        # Like Telegram, the bot's user id is the number before the colon of its token.
        if bot_id is None:
            bot_id = int(token.split(":", 1)[0])
        self.bot_user = FakeUser(bot_id, "MJ Gram Test", bot_username, language_code=None, is_bot=True)
        self.base_url = ""
        self.calls: list[RecordedCall] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.admins: dict[int, set[int]] = {}  # chat id -> user ids getChatMember reports as administrators
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}  # chat id (None: default) -> menu button
        self.blocked_chats: set[int] = set()
        self.flood_hits = 0
        self._flood = FloodGate(flood, clock) if flood else None
        self._chats: dict[int, FakeChat] = {}
        self._private_peers: dict[int, FakeUser] = {}
        self._threads: dict[int, set[int]] = {}
        self._messages: dict[int, dict[int, StoredMessage]] = {}
        self._files = FileStore()
        self._updates = UpdateQueue()
        self._webhook: Webhook | None = None
        self._poll_generation = 0
        self._polls_in_flight = 0
        self._open_callback_queries: set[str] = set()
        self._callback_query_ids = itertools.count(FIRST_CALLBACK_QUERY_ID)
        self._media_group_ids = itertools.count(FIRST_MEDIA_GROUP_ID)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._injected: dict[str, deque[ApiError]] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._handlers = self._method_handlers()
        self._canonical = {name.lower(): name for name in self._handlers}

    # ---------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=REQUEST_BODY_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        self._runner = web.AppRunner(app, shutdown_timeout=SERVER_SHUTDOWN_TIMEOUT, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, 0).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{LOOPBACK}:{port}"
        self._http = aiohttp.ClientSession(trust_env=False)
        self._webhook_task = asyncio.create_task(self._deliver_webhook_updates())

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls return at once
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()
        self._runner = self._http = self._webhook_task = None

    # ---------------------------------------------------------------- driving the bot
    def register_chat(self, chat: FakeChat, user: FakeUser | None = None) -> None:
        """Make a chat known (as if a user had written there) without sending anything."""
        self._chats[chat.id] = chat
        if chat.type == "private" and user is not None:
            self._private_peers[chat.id] = user

    def user_sends(
        self,
        chat: FakeChat,
        user: FakeUser,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        photo: bytes | None = None,
        caption: str | None = None,
        document: tuple[str, bytes, str] | None = None,
        media_group_id: str | None = None,
    ) -> StoredMessage:
        """A user writes to the bot: store the message and queue its Update."""
        if text is not None and (photo is not None or document is not None):
            raise ValueError("a media message carries `caption`, not `text`")
        if caption is not None and photo is None and document is None:
            raise ValueError("`caption` needs `photo` or `document`")
        self.register_chat(chat, user)
        if thread_id is not None:
            assert chat.is_forum, f"chat {chat.id} is not a forum; message_thread_id needs is_forum=True"
            self._threads.setdefault(chat.id, set()).add(thread_id)
        if reply_to is not None:
            assert self._live_message(chat.id, reply_to), f"no message {reply_to} in chat {chat.id}"
        message = StoredMessage(
            message_id=self._next_message_id(chat.id),
            chat_id=chat.id,
            from_user=user,
            date=int(time.time()),
            text=text,
            caption=caption if (photo or document) else None,
            raw_text=text or caption,
            entities=command_entities(text or caption),
            reply_to_message_id=reply_to,
            message_thread_id=self._resolve_thread(chat, thread_id, reply_to),
            media_group_id=media_group_id,
            photo=self._user_photo(photo),
            document=self._user_document(document),
        )
        self._store(message)
        self._updates.push("message", self.message_payload(message))
        self._notify()
        return message

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        user: FakeUser,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> str:
        """Press an inline button of the message's current keyboard; returns the callback query id."""
        if text is None and data is None:
            raise ValueError("press_button needs the button's text or its callback data")
        message = self._live_message(chat_id, message_id)
        assert message is not None, f"no message {message_id} in chat {chat_id}"
        button = _find_button(message, text, data)
        query_id = str(next(self._callback_query_ids))
        self._open_callback_queries.add(query_id)
        self._updates.push(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "chat_instance": _chat_instance(chat_id),
                "message": self.message_payload(message),
                "data": button["callback_data"],
            },
        )
        self._notify()
        return query_id

    # ---------------------------------------------------------------- inspecting
    def calls_of(self, *methods: str) -> list[RecordedCall]:
        wanted = {method.lower() for method in methods}
        return [call for call in self.calls if call.method.lower() in wanted]

    def chat_messages(self, chat_id: int) -> list[StoredMessage]:
        """Messages the bot sent to the chat and has not deleted, oldest first, in their current state."""
        return [m for m in self._messages.get(chat_id, {}).values() if m.outgoing and not m.deleted]

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        """Any stored message, deleted ones included (see `deleted`)."""
        try:
            return self._messages[chat_id][message_id]
        except KeyError:
            raise KeyError(f"no message {message_id} in chat {chat_id}") from None

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._files.get(file_id)
        if stored is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return stored.data

    def updates_pending(self) -> int:
        """Updates not yet confirmed by getUpdates (or not yet delivered to the webhook)."""
        return len(self._updates)

    def polls_in_flight(self) -> int:
        """getUpdates requests received and not yet answered: non-zero while the bot long-polls."""
        return self._polls_in_flight

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return list(self._commands.get(_commands_key(scope, language_code), []))

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    async def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 - part of the fake's interface
    ) -> T:
        """Re-evaluate `predicate` after every change of the fake's state; return its first truthy value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            result = predicate()
            if result:
                return cast(T, result)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_report(timeout))
            await _wait_event(changed, remaining)

    # ---------------------------------------------------------------- fault injection
    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail before anything else is checked."""
        if error_code == 429:
            retry_after = 1 if retry_after is None else retry_after
            error = too_many_requests(retry_after)
            if description is not None:
                error = ApiError(description, error_code=429, retry_after=retry_after)
        else:
            text = description or DEFAULT_FAILURE_TEXT.get(error_code, f"Error {error_code}")
            error = ApiError(text, error_code=error_code, retry_after=retry_after)
        self._injected.setdefault(method.lower(), deque()).extend([error] * times)

    def clear_failures(self, method: str) -> None:
        """Forget the failures still queued for `method` (the outage is over)."""
        self._injected.pop(method.lower(), None)

    def block_user(self, chat_id: int) -> None:
        """From now on, sends and edits to the chat fail with 403 as after the user blocked the bot."""
        self.blocked_chats.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self.blocked_chats.discard(chat_id)

    def delete_message_by_user(self, chat_id: int, message_id: int) -> None:
        message = self._live_message(chat_id, message_id)
        assert message is not None, f"no message {message_id} in chat {chat_id}"
        message.deleted = True
        self._notify()

    # ---------------------------------------------------------------- HTTP
    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await read_request_params(request)
        except ApiError as error:
            self._record(method, {}, error)
            return web.json_response(error.payload(), status=error.error_code)
        status, body = await self._execute(method, params, token=request.match_info["token"])
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(ERR_UNAUTHORIZED, error_code=401).payload(), status=401)
        stored = self._files.by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(ApiError(ERR_NOT_FOUND, error_code=404).payload(), status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _execute(
        self, method: str, params: dict[str, Any], *, token: str
    ) -> tuple[int, dict[str, Any]]:
        name = self._canonical.get(method.lower(), method)
        try:
            result = await self._dispatch(name, params, token)
        except ApiError as error:
            self._record(name, params, error)
            return error.error_code, error.payload()
        self._record(name, params, None)
        return 200, {"ok": True, "result": result}

    async def _dispatch(self, name: str, params: dict[str, Any], token: str) -> Any:
        injected = self._injected.get(name.lower())
        if injected:
            raise injected.popleft()
        if token != self.token:
            raise ApiError(ERR_UNAUTHORIZED, error_code=401)
        handler = self._handlers.get(name)
        if handler is None:
            raise ApiError(ERR_NOT_FOUND, error_code=404)
        return await handler(Params(params))

    def _record(self, method: str, params: dict[str, Any], error: ApiError | None) -> None:
        description = error.description if error else None
        self.calls.append(RecordedCall(method, params, error is None, description, time.monotonic()))
        self._notify()

    def _notify(self) -> None:
        """Wake everything waiting for a change: long polls, the webhook sender, `wait_for`."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _method_handlers(self) -> dict[str, MethodHandler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVideo": self._send_video,
            "sendAnimation": self._send_animation,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageMedia": self._edit_message_media,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    # ---------------------------------------------------------------- bot & updates
    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(ERR_WEBHOOK_ACTIVE, error_code=409)
        limit = min(max(params.opt_int("limit") or GET_UPDATES_MAX_LIMIT, 1), GET_UPDATES_MAX_LIMIT)
        deadline = asyncio.get_running_loop().time() + max(params.opt_int("timeout") or 0, 0)
        self._set_allowed_updates(params.opt_list("allowed_updates"))
        self._updates.confirm(params.opt_int("offset"))
        self._poll_generation += 1
        self._polls_in_flight += 1
        self._notify()  # an older long poll still waiting now ends with 409, as on Telegram
        try:
            return await self._poll(self._poll_generation, limit, deadline)
        finally:
            self._polls_in_flight -= 1

    async def _poll(self, generation: int, limit: int, deadline: float) -> list[dict[str, Any]]:
        while True:
            changed = self._changed
            if self._webhook is not None:
                raise ApiError(ERR_POLL_BY_WEBHOOK, error_code=409)
            if generation != self._poll_generation:
                raise ApiError(ERR_POLL_TERMINATED, error_code=409)
            batch = self._updates.peek(limit)
            remaining = deadline - asyncio.get_running_loop().time()
            if batch or self._closing or remaining <= 0:
                return batch
            await _wait_event(changed, remaining)

    def _set_allowed_updates(self, allowed: list[Any] | None) -> None:
        if allowed is not None:  # an empty list means "all the default types"
            self._updates.allowed = frozenset(str(kind) for kind in allowed) or None

    async def _set_webhook(self, params: Params) -> bool:
        url = params.opt_str("url") or ""
        if not url:
            self._webhook = None
            return True
        if not _is_loopback_url(url):
            raise ApiError(ERR_BAD_WEBHOOK_HOST)
        secret = params.opt_str("secret_token")
        if secret is not None and not SECRET_TOKEN_PATTERN.fullmatch(secret):
            raise ApiError(ERR_SECRET_TOKEN)
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._set_allowed_updates(params.opt_list("allowed_updates"))
        self._webhook = Webhook(url, secret, params.opt_int("max_connections") or DEFAULT_WEBHOOK_CONNECTIONS)
        self._notify()  # long polls in flight end with 409
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._webhook = None
        self._notify()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook is not None:
            info |= _without_none(
                {
                    "url": self._webhook.url,
                    "max_connections": self._webhook.max_connections,
                    "last_error_date": self._webhook.last_error_date,
                    "last_error_message": self._webhook.last_error_message,
                }
            )
        if self._updates.allowed:
            info["allowed_updates"] = sorted(self._updates.allowed)
        return info

    # ---------------------------------------------------------------- sending
    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._sendable_chat(params)
        body = self._message_text(params.opt_str("text"), params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        message = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=markup)
        message.text, message.entities = body.text, body.entities
        message.raw_text, message.parse_mode = params.opt_str("text"), params.opt_str("parse_mode")
        return self._store(message)

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "photo")

    async def _send_document(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "document")

    async def _send_video(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "video")

    async def _send_animation(self, params: Params) -> dict[str, Any]:
        return await self._send_file(params, "animation")

    async def _send_file(self, params: Params, kind: FileKind) -> dict[str, Any]:
        """sendPhoto, sendDocument, sendVideo, sendAnimation: the file is in the parameter named `kind`."""
        chat = self._sendable_chat(params)
        caption = self._top_level_caption(params)
        content = await self._content_input(kind, params.raw(kind), params, params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        message = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=markup)
        message.show(content)
        self._set_caption(message, caption, params.opt_str("caption"), params.opt_str("parse_mode"))
        return self._store(message)

    async def _send_media_group(self, params: Params) -> list[dict[str, Any]]:
        chat = self._sendable_chat(params)
        items = params.opt_list("media") or []
        if not MEDIA_GROUP_MIN_ITEMS <= len(items) <= MEDIA_GROUP_MAX_ITEMS:
            raise ApiError(ERR_MEDIA_GROUP_SIZE)
        kinds = {item.get("type") if isinstance(item, dict) else None for item in items}
        if "document" in kinds and len(kinds) > 1:
            raise ApiError(ERR_MEDIA_GROUP_MIX)
        if "animation" in kinds:
            raise ApiError(ERR_ALBUM_ANIMATION)
        contents = [await self._input_media(item, params) for item in items]
        reply_to = self._reply_target(chat, params)
        thread_id = self._thread_for(chat, params, reply_to)
        self._admit(chat)
        group_id = str(next(self._media_group_ids))
        sent = []
        for item, (caption, content) in zip(items, contents, strict=True):
            message = self._new_outgoing(chat, reply_to=reply_to, thread_id=thread_id, markup=None)
            message.show(content)
            message.media_group_id = group_id
            self._set_caption(message, caption, item.get("caption"), item.get("parse_mode"))
            sent.append(self._store(message))
        return sent

    async def _send_chat_action(self, params: Params) -> bool:
        self._sendable_chat(params)
        if params.opt_str("action") not in CHAT_ACTIONS:
            raise ApiError(ERR_CHAT_ACTION)
        return True

    # ---------------------------------------------------------------- editing
    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        if message.text is None:
            raise ApiError(ERR_NO_TEXT)
        body = self._message_text(params.opt_str("text"), params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        same_text = (body.text, body.entities) == (message.text, message.entities)
        if same_text and _same_markup(markup, message.reply_markup):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        message.text, message.entities, message.reply_markup = body.text, body.entities, markup
        message.raw_text, message.parse_mode = params.opt_str("text"), params.opt_str("parse_mode")
        return self._finish_edit(message)

    async def _edit_message_caption(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        if not message.has_media:
            raise ApiError(ERR_NO_CAPTION)
        caption = self._top_level_caption(params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        if _caption_state(caption) == (message.caption, message.entities) and _same_markup(
            markup, message.reply_markup
        ):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        self._set_caption(message, caption, params.opt_str("caption"), params.opt_str("parse_mode"))
        message.reply_markup = markup
        return self._finish_edit(message)

    async def _edit_message_media(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        media = params.opt_dict("media")
        if media is None:
            raise ApiError("Bad Request: media is empty")
        caption, content = await self._input_media(media, params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        if content.unique_id == message.content.unique_id and (
            _caption_state(caption) == (message.caption, message.entities)
            and _same_markup(markup, message.reply_markup)
        ):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        message.text, message.reply_markup = None, markup
        message.show(content)
        self._set_caption(message, caption, media.get("caption"), media.get("parse_mode"))
        return self._finish_edit(message)

    async def _edit_reply_markup(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        if _same_markup(markup, message.reply_markup):
            raise ApiError(ERR_NOT_MODIFIED)
        self._admit(chat)
        self._begin_edit(message)
        message.reply_markup = markup
        return self._finish_edit(message)

    async def _delete_message(self, params: Params) -> bool:
        chat = self._known_chat(params)
        message = self._live_message(chat.id, params.req_int("message_id"))
        if message is None:
            raise ApiError(ERR_DELETE_NOT_FOUND)
        message.deleted = True
        self._notify()
        return True

    def _editable_message(self, params: Params) -> tuple[FakeChat, StoredMessage]:
        if params.opt_str("inline_message_id"):
            raise ApiError(ERR_INLINE_MESSAGES)  # the fake has no inline mode
        chat = self._sendable_chat(params)
        message = self._live_message(chat.id, params.req_int("message_id"))
        if message is None:
            raise ApiError(ERR_EDIT_NOT_FOUND)
        if not message.outgoing:
            raise ApiError(ERR_CANT_EDIT)
        return chat, message

    def _begin_edit(self, message: StoredMessage) -> None:
        message.history.append(self.message_payload(message))

    def _finish_edit(self, message: StoredMessage) -> dict[str, Any]:
        message.edits += 1
        message.edit_date = int(time.time())
        self._notify()
        return self.message_payload(message)

    # ---------------------------------------------------------------- callbacks, commands, chats, files
    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.req_str("callback_query_id")
        if query_id not in self._open_callback_queries:
            raise ApiError(ERR_QUERY_TOO_OLD)
        if len(params.opt_str("text") or "") > CALLBACK_ANSWER_TEXT_LIMIT:
            raise ApiError(ERR_ANSWER_TOO_LONG)
        self._open_callback_queries.discard(query_id)
        self.callback_answers[query_id] = params.subset(CALLBACK_ANSWER_PARAMS)
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.opt_list("commands")
        if commands is None:
            raise ApiError("Bad Request: commands is empty")
        for command in commands:
            _validate_bot_command(command)
        self._commands[_commands_key_of(params)] = commands
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, Any]]:
        return list(self._commands.get(_commands_key_of(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(_commands_key_of(params), None)
        return True

    async def _set_chat_menu_button(self, params: Params) -> bool:
        chat_id = params.raw("chat_id")
        if chat_id is not None:
            self._known_chat(params)
        self.menu_buttons[chat_id] = params.opt_dict("menu_button") or {"type": "default"}
        return True

    async def _get_chat_menu_button(self, params: Params) -> dict[str, Any]:
        return self.menu_buttons.get(params.raw("chat_id"), {"type": "commands"})

    async def _get_chat(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(params)
        return {**self._chat_payload(chat), **CHAT_FULL_INFO_DEFAULTS}

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = self._known_chat(params)
        user_id = params.req_int("user_id")
        user = self._known_user(user_id)
        if user_id in self.admins.get(chat.id, set()):
            return {"status": "administrator", "user": user.to_api(), **ADMINISTRATOR_RIGHTS}
        return {"status": "member", "user": user.to_api()}

    async def _get_file(self, params: Params) -> dict[str, Any]:
        stored = self._files.get(params.req_str("file_id"))
        if stored is None:
            raise ApiError(ERR_INVALID_FILE_ID)
        if len(stored.data) > GET_FILE_MAX_BYTES:
            raise ApiError(ERR_FILE_TOO_BIG)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ---------------------------------------------------------------- chats and messages
    def _known_chat(self, params: Params) -> FakeChat:
        chat_id = params.raw("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError("Bad Request: chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None and chat_id in self._known_users():
            raise ApiError(ERR_CANT_INITIATE, error_code=403)
        if chat is None:
            raise ApiError(ERR_CHAT_NOT_FOUND)
        return chat

    def _sendable_chat(self, params: Params) -> FakeChat:
        chat = self._known_chat(params)
        if chat.id in self.blocked_chats:
            raise ApiError(ERR_BLOCKED, error_code=403)
        return chat

    def _known_user(self, user_id: int) -> FakeUser:
        user = self._known_users().get(user_id)
        if user is None:
            raise ApiError("Bad Request: user not found")
        return user

    def _known_users(self) -> dict[int, FakeUser]:
        """Everyone who wrote anywhere, and the bot."""
        known = {m.from_user.id: m.from_user for chat in self._messages.values() for m in chat.values()}
        return known | {user.id: user for user in self._private_peers.values()}

    def _admit(self, chat: FakeChat) -> None:
        if self._flood is not None and not self._flood.admit(chat):
            self.flood_hits += 1
            raise too_many_requests(self._flood.limits.retry_after)

    def _live_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        message = self._messages.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message

    def _next_message_id(self, chat_id: int) -> int:
        return max(self._messages.get(chat_id, {}), default=0) + 1

    def _new_outgoing(
        self, chat: FakeChat, *, reply_to: int | None, thread_id: int | None, markup: dict[str, Any] | None
    ) -> StoredMessage:
        return StoredMessage(
            message_id=self._next_message_id(chat.id),
            chat_id=chat.id,
            from_user=self.bot_user,
            date=int(time.time()),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            message_thread_id=thread_id,
            outgoing=True,
        )

    def _store(self, message: StoredMessage) -> dict[str, Any]:
        self._messages.setdefault(message.chat_id, {})[message.message_id] = message
        self._notify()
        return self.message_payload(message)

    def _reply_target(self, chat: FakeChat, params: Params) -> int | None:
        reply = params.opt_dict("reply_parameters") or {}
        message_id = reply.get("message_id", params.opt_int("reply_to_message_id"))
        if message_id is None:
            return None
        if self._live_message(chat.id, message_id) is not None:
            return cast(int, message_id)
        if params.flag("allow_sending_without_reply") or reply.get("allow_sending_without_reply"):
            return None
        raise ApiError(ERR_REPLY_NOT_FOUND)

    def _thread_for(self, chat: FakeChat, params: Params, reply_to: int | None) -> int | None:
        """Telegram ignores message_thread_id outside forums; in a forum the topic must exist."""
        thread_id = params.opt_int("message_thread_id")
        return self._resolve_thread(chat, thread_id, reply_to, strict=True)

    def _resolve_thread(
        self, chat: FakeChat, thread_id: int | None, reply_to: int | None, *, strict: bool = False
    ) -> int | None:
        """The forum topic a message goes to: the given one, else the replied-to message's one."""
        if not chat.is_forum:
            return None
        if thread_id is None and reply_to is not None:
            thread_id = self._messages[chat.id][reply_to].message_thread_id
        if strict and thread_id is not None and thread_id not in self._threads.get(chat.id, set()):
            raise ApiError(ERR_THREAD_NOT_FOUND)
        return thread_id

    def _message_text(self, raw: str | None, params: Params) -> FormattedText:
        body = format_text(raw or "", params.opt_str("parse_mode"), params.opt_list("entities"))
        if not body.text:
            raise ApiError(ERR_TEXT_EMPTY)
        if len(body.text) > TEXT_LIMIT:
            raise ApiError(ERR_TEXT_TOO_LONG)
        return body

    def _top_level_caption(self, params: Params) -> FormattedText | None:
        return self._caption(
            params.opt_str("caption"), params.opt_str("parse_mode"), params.raw("caption_entities")
        )

    def _caption(self, raw: str | None, parse_mode: str | None, entities: Any) -> FormattedText | None:
        if not raw:
            return None
        body = format_text(raw, parse_mode, entities if isinstance(entities, list) else None)
        if len(body.text) > CAPTION_LIMIT:
            raise ApiError(ERR_CAPTION_TOO_LONG)
        return body if body.text else None

    def _set_caption(
        self, message: StoredMessage, caption: FormattedText | None, raw: str | None, parse_mode: str | None
    ) -> None:
        message.caption = caption.text if caption else None
        message.entities = caption.entities if caption else []
        message.raw_text = raw if caption else None
        message.parse_mode = parse_mode

    # ---------------------------------------------------------------- media inputs
    async def _input_media(self, item: Any, params: Params) -> tuple[FormattedText | None, MediaContent]:
        """An InputMedia object (photo, video, animation, document): its caption and what it shows."""
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in FILE_ID_PREFIXES:
            raise ApiError(ERR_UNSUPPORTED_MEDIA)
        caption = self._caption(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
        # InputMediaVideo/Animation carry their own width, height and duration.
        own = Params(coerce_params({k: v for k, v in item.items() if k in ("width", "height", "duration")}))
        return caption, await self._content_input(cast(FileKind, kind), item.get("media"), params, own)

    async def _content_input(
        self, kind: FileKind, value: Any, params: Params, details: Params
    ) -> MediaContent:
        """New or reused content of one kind; `details` holds the declared width, height, duration."""
        if kind == "photo":
            return MediaContent(photo=await self._photo_input(value, params))
        if kind == "document":
            return MediaContent(document=await self._document_input(value, params))
        source = await self._file_input(value, params, kind)
        if isinstance(source, NewFile):
            adding = self._files.add_video if kind == "video" else self._files.add_animation
            return adding(source, details)
        if kind == "video" and (video := self._files.video(source.file_id)) is not None:
            return MediaContent(video=video)
        if kind == "animation" and (animation := self._files.animation(source.file_id)) is not None:
            return MediaContent(animation=animation)
        raise ApiError(ERR_FILE_TYPE_MISMATCH)

    async def _photo_input(self, value: Any, params: Params) -> list[dict[str, Any]]:
        source = await self._file_input(value, params, "photo")
        if isinstance(source, NewFile):
            return self._files.add_photo(source.data)
        sizes = self._files.photo_sizes(source.file_id)
        if sizes is None:
            raise ApiError(ERR_FILE_TYPE_MISMATCH)
        return sizes

    async def _document_input(self, value: Any, params: Params) -> dict[str, Any]:
        source = await self._file_input(value, params, "document")
        if isinstance(source, NewFile):
            return self._files.add_document(source.data, source.file_name, source.content_type)
        document = self._files.document(source.file_id)
        if document is None:
            raise ApiError(ERR_FILE_TYPE_MISMATCH)
        return document

    async def _file_input(self, value: Any, params: Params, field_name: str) -> NewFile | StoredFile:
        """An upload, an `attach://<part>` reference, an http(s) URL or a file_id issued earlier."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.raw(value.removeprefix("attach://"))
            if not isinstance(value, UploadedFile):
                raise ApiError(ERR_WRONG_FILE)
        if isinstance(value, UploadedFile):
            return NewFile(value.data, value.filename, value.content_type)
        if not isinstance(value, str) or not value:
            raise ApiError(f"Bad Request: there is no {field_name} in the request")
        if value.startswith(("http://", "https://")):
            return await self._fetch_url(value)
        stored = self._files.get(value)
        if stored is None:
            raise ApiError(ERR_WRONG_FILE)
        return stored

    async def _fetch_url(self, url: str) -> NewFile:
        """Telegram downloads by-URL files itself; the fake only ever fetches from loopback."""
        if urlsplit(url).hostname not in LOOPBACK_HOSTS or self._http is None:
            raise ApiError(ERR_URL_CONTENT)
        try:
            timeout = aiohttp.ClientTimeout(total=URL_FETCH_TIMEOUT)
            async with self._http.get(url, timeout=timeout) as response:
                if response.status >= 400:
                    raise ApiError(ERR_WRONG_FILE)
                data = await response.read()
                content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError):
            raise ApiError(ERR_URL_CONTENT) from None
        file_name = urlsplit(url).path.rsplit("/", 1)[-1] or "file"
        return NewFile(data, file_name, content_type)

    def _user_photo(self, photo: bytes | None) -> list[dict[str, Any]] | None:
        if photo is None:
            return None
        try:
            return self._files.add_photo(photo)
        except ApiError as error:
            raise ValueError(f"user_sends(photo=...) needs a decodable image: {error.description}") from None

    def _user_document(self, document: tuple[str, bytes, str] | None) -> dict[str, Any] | None:
        if document is None:
            return None
        file_name, data, mime_type = document
        return self._files.add_document(data, file_name, mime_type)

    # ---------------------------------------------------------------- API objects
    def message_payload(self, message: StoredMessage, *, with_reply: bool = True) -> dict[str, Any]:
        """The message as the Bot API returns it (and as updates carry it)."""
        chat = self._chats[message.chat_id]
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": message.from_user.to_api(),
            "date": message.date,
            "chat": self._chat_payload(chat),
        }
        if message.message_thread_id is not None:
            body |= {"message_thread_id": message.message_thread_id, "is_topic_message": True}
        target = self._messages.get(chat.id, {}).get(message.reply_to_message_id or 0)
        if with_reply and target is not None:
            body["reply_to_message"] = self.message_payload(target, with_reply=False)
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        body |= _content_payload(message)
        if _inline_rows(message.reply_markup):
            body["reply_markup"] = message.reply_markup
        return body

    def _chat_payload(self, chat: FakeChat) -> dict[str, Any]:
        if chat.type == "private":
            peer = self._private_peers.get(chat.id)
            if peer is None:
                return {"id": chat.id, "type": "private", "first_name": "User"}
            names = {"first_name": peer.first_name, "username": peer.username}
            return _without_none({"id": chat.id, "type": "private", **names})
        return _without_none(
            {
                "id": chat.id,
                "type": chat.type,
                "title": chat.title or f"Chat {chat.id}",
                "is_forum": chat.is_forum or None,
            }
        )

    # ---------------------------------------------------------------- webhook delivery
    async def _deliver_webhook_updates(self) -> None:
        while not self._closing:
            changed = self._changed
            pending = self._updates.peek(1) if self._webhook is not None else []
            if not pending:
                await _wait_event(changed, None)
            elif not await self._post_update(pending[0]):
                await _wait_event(self._changed, WEBHOOK_RETRY_DELAY)  # retry after a pause or any change

    async def _post_update(self, update: dict[str, Any]) -> bool:
        webhook, http = self._webhook, self._http
        assert webhook is not None and http is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_TOKEN_HEADER] = webhook.secret_token
        try:
            async with http.post(
                webhook.url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_DELIVERY_TIMEOUT),
            ) as response:
                if response.status // 100 != 2:
                    reason = f"Wrong response from the webhook: {response.status}"
                    return self._webhook_failed(webhook, reason)
                reply = await read_webhook_reply(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            return self._webhook_failed(webhook, f"Connection failed: {type(error).__name__}")
        self._updates.drop(update["update_id"])
        self._notify()
        if reply is not None:  # a method call in the webhook's answer runs like a request
            await self._execute(reply[0], coerce_params(reply[1]), token=self.token)
        return True

    def _webhook_failed(self, webhook: Webhook, message: str) -> bool:
        webhook.last_error_date, webhook.last_error_message = int(time.time()), message
        self._notify()
        return False

    # ---------------------------------------------------------------- diagnostics
    def _timeout_report(self, timeout: float) -> str:
        polls = len(self.calls_of("getUpdates"))
        recent = [call for call in self.calls if call.method != "getUpdates"][-TIMEOUT_REPORT_CALLS:]
        lines = [
            f"condition not met within {timeout}s; {len(self.calls)} calls ({polls} getUpdates), "
            f"{len(self._updates)} updates pending, webhook={self.webhook_url!r}; last calls:"
        ]
        lines += [f"  {call.method} {call.error or 'ok'} {_brief(call.params)}" for call in recent]
        return "\n".join(lines)


CALLBACK_ANSWER_PARAMS = ("callback_query_id", "text", "show_alert", "url", "cache_time")
CHAT_FULL_INFO_DEFAULTS: dict[str, Any] = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": dict.fromkeys(
        ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"),
        False,
    ),
}
ADMINISTRATOR_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


def _content_payload(message: StoredMessage) -> dict[str, Any]:
    entities_key = "caption_entities" if message.has_media else "entities"
    return _without_none(
        {
            "text": message.text,
            "caption": message.caption,
            "photo": message.photo,
            # For backward compatibility Telegram sets `document` too when a message is an animation.
            "document": message.document or message.animation,
            "video": message.video,
            "animation": message.animation,
            "media_group_id": message.media_group_id,
            entities_key: message.entities or None,
        }
    )


def _caption_state(caption: FormattedText | None) -> tuple[str | None, list[dict[str, Any]]]:
    return (caption.text, caption.entities) if caption else (None, [])


def _find_button(message: StoredMessage, text: str | None, data: str | None) -> dict[str, Any]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    for button in (button for row in rows for button in row):
        if (text is None or button["text"] == text) and (data is None or button.get("callback_data") == data):
            assert button.get("callback_data"), f"button {button['text']!r} is not a callback button"
            return cast(dict[str, Any], button)
    raise AssertionError(f"no button text={text!r} data={data!r} on the message; it has {message.buttons()}")


def _chat_instance(chat_id: int) -> str:
    return str(abs(chat_id) * 7919 % 10**18 + 10**17)


def _commands_key_of(params: Params) -> tuple[str, str]:
    return _commands_key(params.opt_dict("scope"), params.opt_str("language_code") or "")


def _commands_key(scope: dict[str, Any] | None, language_code: str) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def _validate_bot_command(command: Any) -> None:
    if not isinstance(command, dict):
        raise ApiError("Bad Request: can't parse BotCommand JSON object")
    name, description = str(command.get("command", "")), str(command.get("description", ""))
    if not (0 < len(name) <= BOT_COMMAND_MAX_LENGTH and BOT_COMMAND_PATTERN.fullmatch(name)):
        raise ApiError(ERR_BOT_COMMAND)
    if not 0 < len(description.strip()) <= BOT_COMMAND_DESCRIPTION_MAX_LENGTH:
        raise ApiError(ERR_BOT_COMMAND_DESCRIPTION)


def _brief(params: dict[str, Any]) -> str:
    text = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return text if len(text) <= 200 else text[:197] + "..."


async def _wait_event(event: asyncio.Event, seconds: float | None) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def read_webhook_reply(response: aiohttp.ClientResponse) -> tuple[str, dict[str, Any]] | None:
    """A Bot API call returned in the webhook's response body (JSON or multipart form), if any."""
    if response.content_type == "application/json":
        body = await response.json()
        fields = body if isinstance(body, dict) else {}
    elif response.content_type == "multipart/form-data":
        fields = {name: value async for name, value in _multipart_fields(response)}
    else:
        return None
    method = fields.pop("method", None)
    return (str(method), fields) if method else None


async def _multipart_fields(response: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, str]]:
    reader = aiohttp.MultipartReader.from_response(response)
    while (part := await reader.next()) is not None:
        if isinstance(part, aiohttp.BodyPartReader) and part.name:
            yield part.name, await part.text()
