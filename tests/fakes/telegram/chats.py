"""The bot, its callback queries, commands, menu button, chats, members and files."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.telegram.core import TelegramCore
from tests.fakes.telegram.limits import (
    BOT_COMMAND_DESCRIPTION_MAX_LENGTH,
    BOT_COMMAND_MAX_LENGTH,
    BOT_COMMAND_PATTERN,
    CALLBACK_ANSWER_TEXT_LIMIT,
    ERR_ANSWER_TOO_LONG,
    ERR_BOT_COMMAND,
    ERR_BOT_COMMAND_DESCRIPTION,
    ERR_FILE_TOO_BIG,
    ERR_INVALID_FILE_ID,
    ERR_QUERY_TOO_OLD,
    GET_FILE_MAX_BYTES,
    ApiError,
)
from tests.fakes.telegram.params import Params


class Chats(TelegramCore):
    """getMe, answerCallbackQuery, the command and menu-button methods, getChat, getChatMember, getFile."""

    # ---------------------------------------------------------------- the bot
    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

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


def _commands_key_of(params: Params) -> tuple[str, str]:
    return commands_key(params.opt_dict("scope"), params.opt_str("language_code") or "")


def commands_key(scope: dict[str, Any] | None, language_code: str) -> tuple[str, str]:
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code


def _validate_bot_command(command: Any) -> None:
    if not isinstance(command, dict):
        raise ApiError("Bad Request: can't parse BotCommand JSON object")
    name, description = str(command.get("command", "")), str(command.get("description", ""))
    if not (0 < len(name) <= BOT_COMMAND_MAX_LENGTH and BOT_COMMAND_PATTERN.fullmatch(name)):
        raise ApiError(ERR_BOT_COMMAND)
    if not 0 < len(description.strip()) <= BOT_COMMAND_DESCRIPTION_MAX_LENGTH:
        raise ApiError(ERR_BOT_COMMAND_DESCRIPTION)
