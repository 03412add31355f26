"""/settings, an inline panel like Midjourney's (chat defaults for group admins), and /prefer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetChatMember
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    User,
)

from bot.delivery.methods import reply_message
from bot.delivery.sender import Sender
from bot.domain import Capabilities
from bot.domain.errors import ButtonExpired, ChatSettingsAdminsOnly, SettingsNotYours
from bot.domain.owners import Scope
from bot.handlers.context import thread_of
from bot.i18n import Locales, Translator
from bot.preferences import (
    ASPECT_RATIOS,
    CHAT_SETTINGS,
    CHOICES,
    DAILY_POOL_CHOICES,
    LANGUAGES,
    NIJI_PREFIX,
    POOL_OFF,
    SPEED_MODES,
    STYLIZE_CHOICES,
    USER_SETTINGS,
    VERSIONS,
    ListOptions,
    PreferCommand,
    Preferences,
    PreferenceService,
    SetOption,
    SetSuffix,
    Setting,
    choose,
    parse_prefer,
)

PANEL_PREFIX = "s1:"  # versioned: s1:<owner's user id>:<u|c>:<code>[=<value>], or …:sw to switch scope
SWITCH = "sw"
MARK = "✅"
STYLIZE_ICON = "🖌"
ROW_WIDTH = 4  # version and aspect ratio rows wrap after this many buttons
ADMIN_STATUSES = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR})

_SCOPE_CODES = {Scope.USER: "u", Scope.CHAT: "c"}
_SETTING_CODES = {
    Setting.VERSION: "v",
    Setting.ASPECT: "a",
    Setting.STYLIZE: "s",
    Setting.RAW: "r",
    Setting.SPEED: "p",
    Setting.REMIX: "m",
    Setting.LANGUAGE: "l",
    Setting.BUTTONS: "b",
    Setting.POOL: "q",
    Setting.RESET: "x",
}
_VERSION_FAMILIES = (  # Midjourney's own models on one row, Niji's on the next
    tuple(v for v in VERSIONS if not v.startswith(NIJI_PREFIX)),
    tuple(v for v in VERSIONS if v.startswith(NIJI_PREFIX)),
)
_SCOPES_BY_CODE = {code: scope for scope, code in _SCOPE_CODES.items()}
_SETTINGS_BY_CODE = {code: setting for setting, code in _SETTING_CODES.items()}


@dataclass(frozen=True, slots=True)
class PanelView:
    """Which preferences a panel shows and who it belongs to."""

    owner_id: int
    scope: Scope
    in_group: bool
    admin: bool  # a group administrator also gets the "my settings / chat defaults" switch
    remix: bool = True  # the backend can remix; if not, the toggle is hidden, as unsupported commands are


@dataclass(frozen=True, slots=True)
class PanelPress:
    """A decoded panel button: change `setting` in `scope`, or (setting None) switch the panel to `scope`."""

    owner_id: int
    scope: Scope
    setting: Setting | None
    value: str | None


# --- callback data ------------------------------------------------------------------------------------------


def panel_data(owner_id: int, scope: Scope, setting: Setting | None, value: str | None = None) -> str:
    op = SWITCH if setting is None else _SETTING_CODES[setting] + (f"={value}" if value is not None else "")
    return f"{PANEL_PREFIX}{owner_id}:{_SCOPE_CODES[scope]}:{op}"


def parse_panel_data(data: str | None) -> PanelPress | None:
    """The press encoded in callback data of ours; None for anything malformed or not allowed in its scope."""
    if not data or not data.startswith(PANEL_PREFIX):
        return None
    owner, _, rest = data[len(PANEL_PREFIX) :].partition(":")
    scope_code, _, op = rest.partition(":")
    scope = _SCOPES_BY_CODE.get(scope_code)
    if not (owner.isascii() and owner.isdigit()) or scope is None:
        return None
    if op == SWITCH:
        return PanelPress(int(owner), scope, None, None)
    code, has_value, value = op.partition("=")
    setting = _SETTINGS_BY_CODE.get(code)
    if setting not in (USER_SETTINGS if scope is Scope.USER else CHAT_SETTINGS):
        return None
    choices = CHOICES.get(setting)
    if choices is None:
        return None if has_value else PanelPress(int(owner), scope, setting, None)
    return PanelPress(int(owner), scope, setting, value) if value in choices else None


# --- the panel (pure) ---------------------------------------------------------------------------------------


def version_label(version: str) -> str:
    return f"Niji {version.removeprefix(NIJI_PREFIX)}" if version.startswith(NIJI_PREFIX) else f"V{version}"


def _on_off(value: bool, t: Translator) -> str:
    return t("settings-value-on") if value else t("settings-value-off")


def panel_text(prefs: Preferences, view: PanelView, t: Translator) -> str:
    """Plain text (no parse mode), so it compares directly with the message Telegram shows."""
    default = t("settings-value-default")
    personal = view.scope is Scope.USER
    lines = [t("settings-title-user") if personal else t("settings-title-chat")]
    if not personal:
        lines.append(t("settings-chat-explained"))
    elif view.in_group:
        lines.append(t("settings-group-note"))
    lines += [
        "",
        t("settings-line-version", value=version_label(prefs.version) if prefs.version else default),
        t("settings-line-aspect", value=prefs.aspect or default),
        t("settings-line-stylize", value=default if prefs.stylize is None else str(prefs.stylize)),
        t("settings-line-raw", value=_on_off(prefs.raw, t)),
        t("settings-line-speed", value=t(f"settings-speed-{prefs.speed}") if prefs.speed else default),
    ]
    if personal:
        language = (
            t(f"settings-language-{prefs.language}") if prefs.language else t("settings-value-telegram")
        )
        if view.remix:
            lines.append(t("settings-line-remix", value=_on_off(prefs.remix, t)))
        lines.append(t("settings-line-language", value=language))
    else:
        buttons = t("settings-buttons-everyone") if prefs.buttons_open else t("settings-buttons-requester")
        pool = (
            t("settings-value-pool", count=prefs.daily_pool) if prefs.daily_pool else t("settings-value-off")
        )
        lines += [t("settings-line-buttons", value=buttons), t("settings-line-pool", value=pool)]
    lines += ["", t("settings-hint")]
    return "\n".join(lines)


def _rows(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def panel_keyboard(prefs: Preferences, view: PanelView, t: Translator) -> InlineKeyboardMarkup:
    """Every choice of the scope, the current ones marked."""

    def button(
        label: str, setting: Setting | None, value: str | None = None, *, marked: bool = False
    ) -> InlineKeyboardButton:
        data = panel_data(view.owner_id, view.scope, setting, value)
        return InlineKeyboardButton(text=f"{MARK} {label}" if marked else label, callback_data=data)

    def switch(scope: Scope, label: str) -> InlineKeyboardButton:
        text = f"{MARK} {label}" if scope is view.scope else label
        return InlineKeyboardButton(text=text, callback_data=panel_data(view.owner_id, scope, None))

    personal = view.scope is Scope.USER
    rows: list[list[InlineKeyboardButton]] = []
    if view.admin:
        rows.append([switch(Scope.USER, t("settings-btn-mine")), switch(Scope.CHAT, t("settings-btn-chat"))])
    for family in _VERSION_FAMILIES:
        versions = [button(version_label(v), Setting.VERSION, v, marked=prefs.version == v) for v in family]
        rows += _rows(versions, ROW_WIDTH)
    aspects = [button(a, Setting.ASPECT, a, marked=prefs.aspect == a) for a in ASPECT_RATIOS]
    rows += _rows(aspects, ROW_WIDTH)
    rows.append(
        [
            button(f"{STYLIZE_ICON} {s}", Setting.STYLIZE, str(s), marked=prefs.stylize == s)
            for s in STYLIZE_CHOICES
        ]
    )
    toggles = [button(t("settings-btn-raw"), Setting.RAW, marked=prefs.raw)]
    if personal and view.remix:
        toggles.append(button(t("settings-btn-remix"), Setting.REMIX, marked=prefs.remix))
    rows.append(toggles)
    rows.append(
        [button(t(f"settings-speed-{s}"), Setting.SPEED, s, marked=prefs.speed == s) for s in SPEED_MODES]
    )
    if personal:
        rows.append(
            [
                button(t(f"settings-language-{lang}"), Setting.LANGUAGE, lang, marked=prefs.language == lang)
                for lang in LANGUAGES
            ]
        )
    else:
        access = "settings-btn-buttons-everyone" if prefs.buttons_open else "settings-btn-buttons-requester"
        rows.append([button(t(access), Setting.BUTTONS)])
        pools = [button(t("settings-btn-pool-off"), Setting.POOL, POOL_OFF, marked=prefs.daily_pool is None)]
        pools += [
            button(str(p), Setting.POOL, str(p), marked=prefs.daily_pool == p) for p in DAILY_POOL_CHOICES
        ]
        rows.append(pools)
    rows.append([button(t("settings-btn-reset"), Setting.RESET)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _shows(message: Message, text: str, keyboard: InlineKeyboardMarkup) -> bool:
    """Whether the message already shows this: Telegram refuses an edit that changes nothing."""

    def layout(rows: list[list[InlineKeyboardButton]]) -> list[list[tuple[str, str | None]]]:
        return [[(b.text, b.callback_data) for b in row] for row in rows]

    current = message.reply_markup.inline_keyboard if message.reply_markup else []
    return message.text == text and layout(current) == layout(keyboard.inline_keyboard)


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
    await sender.call(
        reply_message(
            message.chat.id,
            thread_of(message),
            panel_text(prefs, view, t),
            reply_to=message.message_id,
            reply_markup=panel_keyboard(prefs, view, t),
        ),
        chat_id=message.chat.id,
    )


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
    changed = not _shows(panel, text, keyboard)
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
    await sender.call(
        reply_message(
            message.chat.id,
            thread_of(message),
            prefer_reply(action, prefs, _translator(locales, prefs, user)),
            reply_to=message.message_id,
            html=True,
        ),
        chat_id=message.chat.id,
    )


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
