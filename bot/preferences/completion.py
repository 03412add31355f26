"""Prompt completion: option sets expanded, the suffix added once, missing settings appended (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.preferences.model import (
    IMAGE_URL,
    NIJI_PREFIX,
    PARAMETER,
    PARAMETER_KEYS,
    RAWLESS_MODELS,
    Preferences,
)
from bot.prompts import normalize_prompt

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
    match = PARAMETER.fullmatch(word)
    return match.group(1).lower() if match else None


def _key(parameter: Parameter) -> str:
    name = _parameter_name(parameter[0]) or ""
    return PARAMETER_KEYS.get(name, name)


def _split(words: list[str]) -> _Prompt:
    start = 0
    while start < len(words) and IMAGE_URL.fullmatch(words[start]):
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


def merged(user: Preferences, chat: Preferences | None) -> Preferences:
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
    prefs = merged(user, chat)
    words = _expand(normalize_prompt(prompt).split(), prefs.option_sets)
    if not words:
        return ""
    words = _with_suffix(words, _expand(normalize_prompt(prefs.suffix).split(), prefs.option_sets))
    added = _setting_parameters(prefs, _split(words))
    return " ".join([*words, *(word for parameter in added for word in parameter)])
