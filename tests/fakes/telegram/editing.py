"""Editing and deleting the bot's messages: editMessageText/Caption/Media/ReplyMarkup, deleteMessage."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.telegram.limits import (
    ERR_CANT_EDIT,
    ERR_DELETE_NOT_FOUND,
    ERR_EDIT_NOT_FOUND,
    ERR_INLINE_MESSAGES,
    ERR_NO_CAPTION,
    ERR_NO_TEXT,
    ERR_NOT_MODIFIED,
    ApiError,
)
from tests.fakes.telegram.markup import same_markup, validate_reply_markup
from tests.fakes.telegram.media import MediaInputs
from tests.fakes.telegram.models import FakeChat, FormattedText, StoredMessage
from tests.fakes.telegram.params import Params


class Editing(MediaInputs):
    """Edits of the bot's own messages (each keeps the previous version in `history`) and deletion."""

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        chat, message = self._editable_message(params)
        if message.text is None:
            raise ApiError(ERR_NO_TEXT)
        body = self._message_text(params.opt_str("text"), params)
        markup = validate_reply_markup(params.opt_dict("reply_markup"), chat)
        same_text = (body.text, body.entities) == (message.text, message.entities)
        if same_text and same_markup(markup, message.reply_markup):
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
        if _caption_state(caption) == (message.caption, message.entities) and same_markup(
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
            and same_markup(markup, message.reply_markup)
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
        if same_markup(markup, message.reply_markup):
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


def _caption_state(caption: FormattedText | None) -> tuple[str | None, list[dict[str, Any]]]:
    return (caption.text, caption.entities) if caption else (None, [])
