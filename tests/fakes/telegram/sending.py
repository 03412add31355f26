"""The sending methods: sendMessage, sendPhoto/Document/Video/Animation, sendMediaGroup, sendChatAction."""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram.limits import (
    CHAT_ACTIONS,
    ERR_ALBUM_ANIMATION,
    ERR_CHAT_ACTION,
    ERR_MEDIA_GROUP_MIX,
    ERR_MEDIA_GROUP_SIZE,
    MEDIA_GROUP_MAX_ITEMS,
    MEDIA_GROUP_MIN_ITEMS,
    ApiError,
)
from tests.fakes.telegram.markup import validate_reply_markup
from tests.fakes.telegram.media import MediaInputs
from tests.fakes.telegram.models import FileKind
from tests.fakes.telegram.params import Params


class Sending(MediaInputs):
    """sendMessage, the file-sending methods, sendMediaGroup and sendChatAction."""

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
