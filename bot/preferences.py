"""User and chat preferences: /settings choices, /prefer suffix and option sets, prompt completion."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypedDict, Unpack

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.errors import (
    OptionNameInvalid,
    OptionParamsTooLong,
    OptionSetMissing,
    OptionSetsFull,
    PreferUsage,
    SuffixTooLong,
)
from bot.prompts import normalize_prompt
from bot.storage import profiles
from bot.storage.database import Database
from bot.storage.profiles import Scope

VERSIONS = ("7", "6.1", "6", "5.2", "niji 6", "niji 5")
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "4:3", "3:4", "16:9", "9:16")
STYLIZE_RANGE = (0, 1000)
STYLIZE_CHOICES = (0, 50, 100, 250, 750, 1000)
SPEED_MODES = ("fast", "relax", "turbo")
LANGUAGES = ("en", "ru", "zh-Hans")
DAILY_POOL_CHOICES = (20, 50, 100, 200)
MAX_DAILY_POOL = 100_000
MAX_SUFFIX_LENGTH = 300
MAX_OPTION_SETS = 20
MAX_OPTION_PARAMS_LENGTH = 150  # 20 sets of this size still list in one 4096-character message
NIJI_PREFIX = "niji "
# Midjourney's --style raw exists for V5.1+ and Niji 6; Niji 5 refuses it.
RAWLESS_MODELS = frozenset({"niji 5"})

OPTION_NAME = re.compile(r"[a-z][a-z0-9_-]{0,23}")
# Midjourney's own parameters: an option set of one of these names would swallow the real parameter.
_MIDJOURNEY_PARAMETERS = (
    "ar aspect v version niji s stylize style raw fast relax turbo draft c chaos q quality no seed "
    "sameseed stop tile iw w weird r repeat p personalize profile cref cw sref sw sv oref ow video "
    "motion loop end bs batch hd test testp creative upbeta uplight upanime zoom exp public stealth remix"
)
RESERVED_OPTION_NAMES = frozenset(_MIDJOURNEY_PARAMETERS.split())

# Parameters that set the same thing, so a prompt never gets two of them.
_PARAMETER_KEYS = {
    "v": "model",
    "version": "model",
    "niji": "model",
    "ar": "aspect",
    "aspect": "aspect",
    "s": "stylize",
    "stylize": "stylize",
    "fast": "speed",
    "relax": "speed",
    "turbo": "speed",
    "c": "chaos",
    "chaos": "chaos",
    "q": "quality",
    "quality": "quality",
    "w": "weird",
    "weird": "weird",
    "r": "repeat",
    "repeat": "repeat",
    "p": "personalize",
    "personalize": "personalize",
}
_PARAMETER = re.compile(r"--([A-Za-z][A-Za-z0-9_-]*)")
_IMAGE_URL = re.compile(r"<?https?://\S+>?", re.IGNORECASE)


# --- the preferences ----------------------------------------------------------------------------------------


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], bool]:
    return lambda value: value is None or value in choices


def _is_int_in(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: value is None or (type(value) is int and low <= value <= high)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_suffix(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_SUFFIX_LENGTH


def is_option_name(name: str) -> bool:
    return OPTION_NAME.fullmatch(name) is not None and name not in RESERVED_OPTION_NAMES


def _is_option_set(name: Any, params: Any) -> bool:
    return (
        isinstance(name, str)
        and is_option_name(name)
        and isinstance(params, str)
        and 0 < len(params) <= MAX_OPTION_PARAMS_LENGTH
    )


def _are_option_sets(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and len(value) <= MAX_OPTION_SETS
        and all(_is_option_set(k, v) for k, v in value.items())
    )


_VALID: dict[str, Callable[[Any], bool]] = {
    "version": _one_of(VERSIONS),
    "aspect": _one_of(ASPECT_RATIOS),
    "stylize": _is_int_in(*STYLIZE_RANGE),
    "raw": _is_bool,
    "speed": _one_of(SPEED_MODES),
    "remix": _is_bool,
    "language": _one_of(LANGUAGES),
    "suffix": _is_suffix,
    "option_sets": _are_option_sets,
    "buttons_open": _is_bool,
    "daily_pool": _is_int_in(1, MAX_DAILY_POOL),
}


@dataclass(frozen=True, slots=True)
class Preferences:
    """One user's (or one chat's default) choices; None and False mean "not set: the backend's default"."""

    version: str | None = None
    aspect: str | None = None
    stylize: int | None = None
    raw: bool = False
    speed: str | None = None
    remix: bool = False
    language: str | None = None
    suffix: str = ""
    option_sets: Mapping[str, str] = field(default_factory=dict)  # name → params, used as --name
    buttons_open: bool = False  # chats: anyone may press any job's buttons
    daily_pool: int | None = None  # chats: shared daily job budget of non-admins

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_sets", MappingProxyType(dict(self.option_sets)))
        for name, valid in _VALID.items():
            if not valid(getattr(self, name)):
                raise ValueError(f"invalid {name}: {getattr(self, name)!r}")

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Preferences:
        """From a stored document; unknown keys and values no longer valid are left at their defaults."""
        values = {name: data[name] for name, valid in _VALID.items() if name in data and valid(data[name])}
        raw_sets = data.get("option_sets")
        if isinstance(raw_sets, Mapping) and "option_sets" not in values:
            kept = [(k, v) for k, v in raw_sets.items() if _is_option_set(k, v)]
            values["option_sets"] = dict(kept[:MAX_OPTION_SETS])
        return cls(**values)

    def to_data(self) -> dict[str, Any]:
        """The document to store: only what differs from the defaults."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data = {name: value for name, value in data.items() if value != getattr(_DEFAULT, name)}
        if "option_sets" in data:
            data["option_sets"] = dict(self.option_sets)
        return data

    def with_option_set(self, name: str, params: str) -> Preferences:
        """Add or replace an option set; empty params delete it."""
        sets = dict(self.option_sets)
        if not params:
            if name not in sets:
                raise OptionSetMissing(name=name)
            del sets[name]
        elif name not in sets and len(sets) >= MAX_OPTION_SETS:
            raise OptionSetsFull(limit=MAX_OPTION_SETS)
        else:
            sets[name] = params
        return replace(self, option_sets=sets)


_DEFAULT = Preferences()


class PreferenceChanges(TypedDict, total=False):
    """Keyword arguments of `PreferenceService.update_user` / `update_chat`."""

    version: str | None
    aspect: str | None
    stylize: int | None
    raw: bool
    speed: str | None
    remix: bool
    language: str | None
    suffix: str
    option_sets: Mapping[str, str]
    buttons_open: bool
    daily_pool: int | None


# --- the /settings panel's choices --------------------------------------------------------------------------


class Setting(StrEnum):
    """What a /settings button changes."""

    VERSION = "version"
    ASPECT = "aspect"
    STYLIZE = "stylize"
    RAW = "raw"
    SPEED = "speed"
    REMIX = "remix"
    LANGUAGE = "language"
    BUTTONS = "buttons"
    POOL = "pool"
    RESET = "reset"


POOL_OFF = "0"
# The values a button may carry; settings without values are toggles (or reset).
CHOICES: Mapping[Setting, tuple[str, ...]] = {
    Setting.VERSION: VERSIONS,
    Setting.ASPECT: ASPECT_RATIOS,
    Setting.STYLIZE: tuple(str(s) for s in STYLIZE_CHOICES),
    Setting.SPEED: SPEED_MODES,
    Setting.LANGUAGE: LANGUAGES,
    Setting.POOL: (POOL_OFF, *(str(p) for p in DAILY_POOL_CHOICES)),
}
USER_SETTINGS = frozenset(Setting) - {Setting.BUTTONS, Setting.POOL}
CHAT_SETTINGS = frozenset(Setting) - {Setting.REMIX, Setting.LANGUAGE}
# What "reset" returns to the defaults; a chat's button access and pool are not image settings.
RESET_FIELDS = ("version", "aspect", "stylize", "raw", "speed", "remix", "language")


def choose(prefs: Preferences, setting: Setting, value: str | None) -> Preferences:
    """A button press: pick a value (picking the current one again goes back to the default), or toggle."""

    def pick(current: Any, chosen: Any) -> Any:
        return None if current == chosen else chosen

    match setting:
        case Setting.VERSION:
            return replace(prefs, version=pick(prefs.version, value))
        case Setting.ASPECT:
            return replace(prefs, aspect=pick(prefs.aspect, value))
        case Setting.STYLIZE:
            return replace(prefs, stylize=pick(prefs.stylize, int(value) if value else None))
        case Setting.SPEED:
            return replace(prefs, speed=pick(prefs.speed, value))
        case Setting.LANGUAGE:
            return replace(prefs, language=pick(prefs.language, value))
        case Setting.POOL:
            pool = int(value) if value and value != POOL_OFF else None
            return replace(prefs, daily_pool=pick(prefs.daily_pool, pool))
        case Setting.RAW:
            return replace(prefs, raw=not prefs.raw)
        case Setting.REMIX:
            return replace(prefs, remix=not prefs.remix)
        case Setting.BUTTONS:
            return replace(prefs, buttons_open=not prefs.buttons_open)
        case Setting.RESET:
            return replace(prefs, **{name: getattr(_DEFAULT, name) for name in RESET_FIELDS})


# --- /prefer ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetSuffix:
    text: str  # empty: clear


@dataclass(frozen=True, slots=True)
class SetOption:
    name: str
    params: str  # empty: delete


@dataclass(frozen=True, slots=True)
class ListOptions:
    pass


PreferCommand = SetSuffix | SetOption | ListOptions


def parse_prefer(args: str | None) -> PreferCommand:
    """`suffix <text>`, `option set <name> <params>` or `option list`; anything else is a usage error."""
    words = normalize_prompt(args or "").split(" ", 1)
    head, rest = words[0].lower(), words[1].strip() if len(words) > 1 else ""
    if head == "suffix":
        if len(rest) > MAX_SUFFIX_LENGTH:
            raise SuffixTooLong(limit=MAX_SUFFIX_LENGTH)
        return SetSuffix(rest)
    if head != "option":
        raise PreferUsage()
    action, _, rest = rest.partition(" ")
    if action.lower() == "list" and not rest.strip():
        return ListOptions()
    if action.lower() != "set":
        raise PreferUsage()
    name, _, params = rest.strip().partition(" ")
    name = name.removeprefix("--").lower()
    if not name:
        raise PreferUsage()
    if not is_option_name(name):
        raise OptionNameInvalid(name=name)
    params = params.strip()
    if len(params) > MAX_OPTION_PARAMS_LENGTH:
        raise OptionParamsTooLong(limit=MAX_OPTION_PARAMS_LENGTH)
    return SetOption(name, params)


# --- prompt completion --------------------------------------------------------------------------------------

Parameter = list[str]  # "--name" followed by its value words


@dataclass(frozen=True, slots=True)
class _Prompt:
    """A prompt's words: leading image URLs, the text, then Midjourney parameters."""

    urls: list[str]
    text: list[str]
    parameters: list[Parameter]

    def keys(self) -> set[str]:
        return {_key(p) for p in self.parameters}


def _parameter_name(word: str) -> str | None:
    match = _PARAMETER.fullmatch(word)
    return match.group(1).lower() if match else None


def _key(parameter: Parameter) -> str:
    name = _parameter_name(parameter[0]) or ""
    return _PARAMETER_KEYS.get(name, name)


def _split(words: list[str]) -> _Prompt:
    start = 0
    while start < len(words) and _IMAGE_URL.fullmatch(words[start]):
        start += 1
    end = next((i for i in range(start, len(words)) if _parameter_name(words[i])), len(words))
    parameters: list[Parameter] = []
    for word in words[end:]:
        if _parameter_name(word):
            parameters.append([word])
        else:
            parameters[-1].append(word)
    return _Prompt(words[:start], words[start:end], parameters)


def _expand(words: list[str], option_sets: Mapping[str, str]) -> list[str]:
    """Replace each --<option set> with its parameters; a set already expanded is dropped, so none remain."""
    words = list(words)
    done: set[str] = set()
    position = 0
    while position < len(words):
        name = _parameter_name(words[position])
        if name is None or name not in option_sets:
            position += 1
        elif name in done:
            del words[position]
        else:
            done.add(name)
            words[position : position + 1] = normalize_prompt(option_sets[name]).split()
    return words


def _contains(words: list[str], part: list[str]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _with_suffix(words: list[str], suffix: list[str]) -> list[str]:
    """The suffix's text after the prompt's text, its parameters after the prompt's unless already set."""
    # "Contained" rather than "at the end": once settings are appended a completed prompt no longer ends
    # with its suffix, and completing it again must change nothing.
    if not suffix or _contains(words, suffix):
        return words
    parts, extra = _split(words), _split(suffix)
    head, tail = [*parts.urls, *parts.text], [*extra.urls, *extra.text]
    if head[max(0, len(head) - len(tail)) :] != tail:
        head += tail
    parameters, keys = list(parts.parameters), parts.keys()
    for parameter in extra.parameters:
        if _key(parameter) not in keys:
            parameters.append(parameter)
            keys.add(_key(parameter))
    return [*head, *(word for parameter in parameters for word in parameter)]


def _merged(user: Preferences, chat: Preferences | None) -> Preferences:
    """The user's own choices over the chat's defaults (a chat's raw style adds to the user's)."""
    if chat is None:
        return user

    def own(mine: Any, theirs: Any) -> Any:
        return theirs if mine is None else mine

    return replace(
        user,
        version=own(user.version, chat.version),
        aspect=own(user.aspect, chat.aspect),
        stylize=own(user.stylize, chat.stylize),
        raw=user.raw or chat.raw,
        speed=own(user.speed, chat.speed),
        suffix=user.suffix or chat.suffix,
        option_sets={**chat.option_sets, **user.option_sets},
    )


def _model_of(parameter: Parameter) -> str:
    name = _parameter_name(parameter[0])
    value = parameter[1] if len(parameter) > 1 else ""
    return f"{NIJI_PREFIX}{value}".strip() if name == "niji" else value


def _setting_parameters(prefs: Preferences, present: _Prompt) -> list[Parameter]:
    """Parameters the settings add, each only when the prompt doesn't set that thing itself."""
    keys = present.keys()
    wanted: list[Parameter] = []
    if prefs.aspect and "aspect" not in keys:
        wanted.append(["--ar", prefs.aspect])
    model = next((_model_of(p) for p in present.parameters if _key(p) == "model"), prefs.version)
    if prefs.version and "model" not in keys:
        niji = prefs.version.startswith(NIJI_PREFIX)
        wanted.append(["--niji", prefs.version.removeprefix(NIJI_PREFIX)] if niji else ["--v", prefs.version])
    if prefs.stylize is not None and "stylize" not in keys:
        wanted.append(["--s", str(prefs.stylize)])
    if prefs.raw and "style" not in keys and model not in RAWLESS_MODELS:
        wanted.append(["--style", "raw"])
    if prefs.speed and "speed" not in keys:
        wanted.append([f"--{prefs.speed}"])
    return wanted


def effective_prompt(prompt: str, user: Preferences, chat: Preferences | None) -> str:
    """The prompt as sent: option sets expanded, the suffix added once, missing settings appended.

    Applying it to its own result changes nothing. A blank prompt stays blank.
    """
    prefs = _merged(user, chat)
    words = _expand(normalize_prompt(prompt).split(), prefs.option_sets)
    if not words:
        return ""
    words = _with_suffix(words, _expand(normalize_prompt(prefs.suffix).split(), prefs.option_sets))
    added = _setting_parameters(prefs, _split(words))
    return " ".join([*words, *(word for parameter in added for word in parameter)])


# --- the service --------------------------------------------------------------------------------------------

Change = Callable[[Preferences], Preferences]


class PreferenceService:
    """Stored preferences of users and chats; each change is one read-modify-write transaction."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def user(self, user_id: int) -> Preferences:
        return await self._get(Scope.USER, user_id)

    async def chat(self, chat_id: int) -> Preferences:
        return await self._get(Scope.CHAT, chat_id)

    async def update_user(self, user_id: int, **changes: Unpack[PreferenceChanges]) -> Preferences:
        return await self.change_user(user_id, lambda prefs: replace(prefs, **changes))

    async def update_chat(self, chat_id: int, **changes: Unpack[PreferenceChanges]) -> Preferences:
        return await self.change_chat(chat_id, lambda prefs: replace(prefs, **changes))

    async def change_user(self, user_id: int, change: Change) -> Preferences:
        """Apply `change` to the user's current preferences and store the result."""
        return await self._change(Scope.USER, user_id, change)

    async def change_chat(self, chat_id: int, change: Change) -> Preferences:
        return await self._change(Scope.CHAT, chat_id, change)

    async def effective_prompt(self, user_id: int, chat_id: int, prompt: str) -> str:
        """`effective_prompt` with the user's preferences and, in groups, the chat's defaults."""
        async with self._db.read() as conn:
            user = await self._load(conn, Scope.USER, user_id)
            chat = None if chat_id == user_id else await self._load(conn, Scope.CHAT, chat_id)
        return effective_prompt(prompt, user, chat)

    async def remix(self, user_id: int, chat_id: int) -> bool:
        """Whether the user's remix-able buttons ask for the prompt first (Remix mode)."""
        async with self._db.read() as conn:
            user = await self._load(conn, Scope.USER, user_id)
            chat = None if chat_id == user_id else await self._load(conn, Scope.CHAT, chat_id)
        return _merged(user, chat).remix

    async def language_override(self, user_id: int) -> str | None:
        return (await self.user(user_id)).language

    async def buttons_open(self, chat_id: int) -> bool:
        return (await self.chat(chat_id)).buttons_open

    async def daily_pool(self, chat_id: int) -> int | None:
        return (await self.chat(chat_id)).daily_pool

    async def _get(self, scope: Scope, owner_id: int) -> Preferences:
        async with self._db.read() as conn:
            return await self._load(conn, scope, owner_id)

    @staticmethod
    async def _load(conn: AsyncConnection, scope: Scope, owner_id: int) -> Preferences:
        profile = await profiles.get_profile(conn, scope, owner_id)
        return Preferences.from_data(profile.data) if profile else _DEFAULT

    async def _change(self, scope: Scope, owner_id: int, change: Change) -> Preferences:
        async with self._db.write() as conn:
            current = await self._load(conn, scope, owner_id)
            changed = change(current)
            if changed != current:
                await profiles.save_profile(conn, scope, owner_id, changed.to_data(), self._clock())
        return changed
