"""Telegram's limits and error descriptions, and the fake's own timings and settings."""

from __future__ import annotations

import re
from typing import Any

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
ERR_DEACTIVATED = "Forbidden: user is deactivated"  # Client.cpp: INPUT_USER_DEACTIVATED
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


# --- errors, answered as Telegram answers them ---------------------------------------------------
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
