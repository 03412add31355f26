"""Request parameters: how the Bot API reads the query string and a JSON, urlencoded or multipart body."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aiohttp import web

from tests.fakes.telegram.limits import ERR_ENTITY_TOO_LARGE, ApiError
from tests.fakes.telegram.models import UploadedFile

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
        "prices",
    }
)
CHAT_ID_PARAMS = frozenset({"chat_id", "from_chat_id"})  # an id, or "@username"
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
        "ok",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "supports_streaming",
        "allow_paid_broadcast",
        "disable_web_page_preview",
    }
)


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
    if name in CHAT_ID_PARAMS or name in INT_PARAMS:
        with contextlib.suppress(ValueError):
            return int(value)
        if name in CHAT_ID_PARAMS:
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
