"""What a user or chat may prefer: the /settings choices, presets and their limits (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypedDict

from bot.domain.errors import OptionSetMissing, OptionSetsFull

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
PARAMETER_KEYS = {
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
PARAMETER = re.compile(r"--([A-Za-z][A-Za-z0-9_-]*)")
IMAGE_URL = re.compile(r"<?https?://\S+>?", re.IGNORECASE)


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
        data = {name: value for name, value in data.items() if value != getattr(DEFAULT_PREFERENCES, name)}
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


DEFAULT_PREFERENCES = Preferences()


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
            return replace(prefs, **{name: getattr(DEFAULT_PREFERENCES, name) for name in RESET_FIELDS})
