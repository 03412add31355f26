"""/settings, an inline panel like Midjourney's (chat defaults for group admins), and /prefer."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetChatMember
from aiogram.types import (
    CallbackQuery,
    Message,
    User,
)

from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender
from bot.delivery.settings_panel import (
    ADMIN_STATUSES,
    PANEL_PREFIX,
    PanelPress,
    PanelView,
    panel_keyboard,
    panel_text,
    parse_panel_data,
    shows,
)
from bot.domain import Capabilities
from bot.domain.errors import ButtonExpired, ChatSettingsAdminsOnly, SettingsNotYours
from bot.domain.owners import Scope
from bot.handlers.context import answer, say, thread_of
from bot.i18n import Locales, Translator
from bot.preferences import (
    ListOptions,
    PreferCommand,
    Preferences,
    PreferenceService,
    SetOption,
    SetSuffix,
    choose,
    parse_prefer,
)

# --- handlers -----------------------------------------------------------------------------------------------


def _translator(locales: Locales, own: Preferences, user: User) -> Translator:
    """The user's chosen language, else Telegram's."""
    return locales.translator(own.language or user.language_code)


async def _is_admin(sender: Sender, chat_id: int, user_id: int) -> bool:
    member = await sender.call(GetChatMember(chat_id=chat_id, user_id=user_id), chat_id=None)
    return member.status in ADMIN_STATUSES


async def settings_command(
    message: Message,
    preferences: PreferenceService,
    sender: Sender,
    locales: Locales,
    capabilities: Capabilities,
) -> None:
    user = message.from_user
    assert user is not None
    in_group = message.chat.type != ChatType.PRIVATE
    admin = in_group and await _is_admin(sender, message.chat.id, user.id)
    view = PanelView(user.id, Scope.USER, in_group, admin, remix=bool(capabilities.remix))
    prefs = await preferences.user(user.id)
    t = _translator(locales, prefs, user)
    panel = reply_message(
        message.chat.id,
        thread_of(message),
        panel_text(prefs, view, t),
        reply_to=message.message_id,
        reply_markup=panel_keyboard(prefs, view, t),
    )
    say(message, sender, panel)


async def panel_press(
    query: CallbackQuery,
    preferences: PreferenceService,
    sender: Sender,
    locales: Locales,
    capabilities: Capabilities,
) -> None:
    press = parse_panel_data(query.data)
    panel = query.message
    if press is None or not isinstance(panel, Message):
        raise ButtonExpired()
    if press.owner_id != query.from_user.id:
        raise SettingsNotYours()
    in_group = panel.chat.type != ChatType.PRIVATE
    admin = in_group and await _is_admin(sender, panel.chat.id, press.owner_id)
    if press.scope is Scope.CHAT and not admin:
        raise ChatSettingsAdminsOnly()
    view = PanelView(press.owner_id, press.scope, in_group, admin, remix=bool(capabilities.remix))
    prefs = await _apply(press, panel.chat.id, preferences)
    own = prefs if press.scope is Scope.USER else await preferences.user(press.owner_id)
    t = _translator(locales, own, query.from_user)
    text, keyboard = panel_text(prefs, view, t), panel_keyboard(prefs, view, t)
    changed = not shows(panel, text, keyboard)
    if changed:
        edit = EditMessageText(
            chat_id=panel.chat.id, message_id=panel.message_id, text=text, reply_markup=keyboard
        )
        await sender.call(edit, chat_id=panel.chat.id)
    note = t("settings-saved") if changed and press.setting is not None else None
    await sender.call(AnswerCallbackQuery(callback_query_id=query.id, text=note), chat_id=None)


async def _apply(press: PanelPress, chat_id: int, preferences: PreferenceService) -> Preferences:
    """The preferences after the press (a scope switch changes nothing)."""
    setting, value = press.setting, press.value
    if press.scope is Scope.USER:
        if setting is None:
            return await preferences.user(press.owner_id)
        return await preferences.change_user(press.owner_id, lambda prefs: choose(prefs, setting, value))
    if setting is None:
        return await preferences.chat(chat_id)
    return await preferences.change_chat(chat_id, lambda prefs: choose(prefs, setting, value))


async def prefer_command(
    message: Message,
    command: CommandObject,
    preferences: PreferenceService,
    sender: Sender,
    locales: Locales,
) -> None:
    user = message.from_user
    assert user is not None
    action = parse_prefer(command.args)
    prefs = await _run_prefer(action, user.id, preferences)
    await answer(message, sender, prefer_reply(action, prefs, _translator(locales, prefs, user)), html=True)


async def _run_prefer(action: PreferCommand, user_id: int, preferences: PreferenceService) -> Preferences:
    match action:
        case SetSuffix(text):
            return await preferences.update_user(user_id, suffix=text)
        case SetOption(name, params):
            return await preferences.change_user(user_id, lambda prefs: prefs.with_option_set(name, params))
        case ListOptions():
            return await preferences.user(user_id)


def prefer_reply(action: PreferCommand, prefs: Preferences, t: Translator) -> str:
    """The confirmation (HTML; the user's own text escaped)."""
    match action:
        case SetSuffix(""):
            return t("prefer-suffix-cleared")
        case SetSuffix(text):
            return t("prefer-suffix-set", suffix=escape(text, quote=False))
        case SetOption(name, ""):
            return t("prefer-option-deleted", name=name)
        case SetOption(name, params):
            return t("prefer-option-saved", name=name, params=escape(params, quote=False))
        case ListOptions():
            if not prefs.option_sets:
                return t("prefer-option-list-empty")
            lines = [
                t("prefer-option-line", name=name, params=escape(params, quote=False))
                for name, params in sorted(prefs.option_sets.items())
            ]
            return "\n".join([t("prefer-option-list"), *lines])


def create_router() -> Router:
    """A fresh router with this module's handlers (a router joins one dispatcher only)."""
    router = Router(name="settings")
    router.message.register(settings_command, Command("settings"))
    router.message.register(prefer_command, Command("prefer"))
    router.callback_query.register(panel_press, F.data.startswith(PANEL_PREFIX))
    return router
