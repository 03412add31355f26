"""Media inputs: the text, caption and files that sending and editing requests carry."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

import aiohttp

from tests.fakes.telegram.core import TelegramCore
from tests.fakes.telegram.files import FILE_ID_PREFIXES
from tests.fakes.telegram.html import format_text
from tests.fakes.telegram.limits import (
    CAPTION_LIMIT,
    ERR_CAPTION_TOO_LONG,
    ERR_FILE_TYPE_MISMATCH,
    ERR_TEXT_EMPTY,
    ERR_TEXT_TOO_LONG,
    ERR_UNSUPPORTED_MEDIA,
    ERR_URL_CONTENT,
    ERR_WRONG_FILE,
    LOOPBACK_HOSTS,
    TEXT_LIMIT,
    URL_FETCH_TIMEOUT,
    ApiError,
)
from tests.fakes.telegram.models import (
    FileKind,
    FormattedText,
    MediaContent,
    NewFile,
    StoredFile,
    StoredMessage,
    UploadedFile,
)
from tests.fakes.telegram.params import Params, coerce_params


class MediaInputs(TelegramCore):
    """Reading what a message is to show from a request: text, caption, uploads, URLs and file_ids."""

    # ---------------------------------------------------------------- text and captions
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
