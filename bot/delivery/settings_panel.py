"""The /settings panel (pure): its text, its keyboard and the versioned callback data of its buttons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram.enums import ChatMemberStatus
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.domain.owners import Scope
from bot.i18n import Translator
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
    Preferences,
    Setting,
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


def shows(message: Message, text: str, keyboard: InlineKeyboardMarkup) -> bool:
    """Whether the message already shows this: Telegram refuses an edit that changes nothing."""

    def layout(rows: list[list[InlineKeyboardButton]]) -> list[list[tuple[str, str | None]]]:
        return [[(b.text, b.callback_data) for b in row] for row in rows]

    current = message.reply_markup.inline_keyboard if message.reply_markup else []
    return message.text == text and layout(current) == layout(keyboard.inline_keyboard)
