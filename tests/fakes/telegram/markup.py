"""Reply markup as Telegram checks it: inline keyboards, their buttons and URLs."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from tests.fakes.telegram.limits import (
    BUTTON_ACTIONS,
    CALLBACK_DATA_LIMIT,
    ERR_BUTTON_DATA_INVALID,
    ERR_BUTTON_TEXT,
    ERR_BUTTON_TYPE_INVALID,
    ERR_BUTTON_URL_INVALID,
    ERR_MARKUP_TOO_LONG,
    ERR_TEXT_BUTTONS,
    INLINE_KEYBOARD_MAX_BUTTONS,
    ApiError,
)
from tests.fakes.telegram.models import FakeChat, StoredMessage


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


def same_markup(first: dict[str, Any] | None, second: dict[str, Any] | None) -> bool:
    return inline_rows(first) == inline_rows(second)


def inline_rows(markup: dict[str, Any] | None) -> list[Any] | None:
    return cast(list[Any] | None, (markup or {}).get("inline_keyboard") or None)


def find_button(message: StoredMessage, text: str | None, data: str | None) -> dict[str, Any]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    for button in (button for row in rows for button in row):
        if (text is None or button["text"] == text) and (data is None or button.get("callback_data") == data):
            assert button.get("callback_data"), f"button {button['text']!r} is not a callback button"
            return cast(dict[str, Any], button)
    raise AssertionError(f"no button text={text!r} data={data!r} on the message; it has {message.buttons()}")
