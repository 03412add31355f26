"""/prefer: the suffix and named option sets, parsed from the command's words (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import OptionNameInvalid, OptionParamsTooLong, PreferUsage, SuffixTooLong
from bot.preferences.model import MAX_OPTION_PARAMS_LENGTH, MAX_SUFFIX_LENGTH, is_option_name
from bot.prompts import normalize_prompt

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
