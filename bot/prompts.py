"""Prompt text rules: undo phone keyboards' dash replacement, drop control characters, check length."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.domain.errors import EmptyPrompt, InvalidParameter, PromptTooLong, RepeatRefused

# iOS and Android turn "--" into an em or en dash; Midjourney parameters need the two hyphens back.
_DASH_PARAMETER = re.compile(r"(^|\s)[—–](?=[A-Za-z])")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_SPACES = re.compile(r"\s+")  # every Unicode space and line break, U+2028 and U+3000 included


def _is_control(ch: str) -> bool:
    # Zero-width joiners stay (they build emoji); bidi overrides and C0/C1 controls go.
    return (unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in _BIDI_CONTROLS


def normalize_prompt(text: str) -> str:
    """The prompt as a backend should receive it."""
    cleaned = "".join(" " if _is_control(ch) else ch for ch in text)
    cleaned = _DASH_PARAMETER.sub(lambda m: f"{m.group(1)}--", cleaned)
    cleaned = _SPACES.sub(" ", cleaned)
    return cleaned.strip()


def checked_prompt(text: str | None, *, limit: int) -> str:
    """Normalised prompt, or a DomainError saying why it can't be used."""
    prompt = normalize_prompt(text or "")
    if not prompt:
        raise EmptyPrompt()
    if len(prompt) > limit:
        raise PromptTooLong(length=len(prompt), limit=limit)
    check_parameters(prompt)
    return prompt


_KEYCAP_LINE = re.compile(r"^\s*([1-9])\ufe0f?\u20e3\s*(\S.*?)\s*$")
_ZOOM = re.compile(r"(?:^|\s)--zoom\s+([0-9]*\.?[0-9]+)")
ZOOM_RANGE = (1.0, 2.0)
DEFAULT_CUSTOM_ZOOM = "2"


def numbered_prompts(text: str | None) -> dict[int, str]:
    """The "1️⃣ …" lines of a describe or shorten result, by number."""
    found: dict[int, str] = {}
    for line in (text or "").splitlines():
        match = _KEYCAP_LINE.match(line)
        if match:
            found[int(match.group(1))] = match.group(2)
    return found


def with_zoom(prompt: str, zoom: str = DEFAULT_CUSTOM_ZOOM) -> str:
    """The prompt offered for Custom Zoom: any --zoom it had replaced by `zoom`."""
    return f"{_ZOOM.sub('', prompt).strip()} --zoom {zoom}"


def zoom_is_valid(prompt: str) -> bool:
    """Custom Zoom needs --zoom with a value from 1 to 2."""
    match = _ZOOM.search(prompt)
    return match is not None and ZOOM_RANGE[0] <= float(match.group(1)) <= ZOOM_RANGE[1]


@dataclass(frozen=True, slots=True)
class _Rule:
    """What a Midjourney parameter accepts: a number range, a set of words, a ratio, or any text."""

    kind: str
    low: float = 0
    high: float = 0
    choices: tuple[str, ...] = ()


_RANGE = "range"
_CHOICE = "choice"
_RATIO = "ratio"
_TEXT = "text"
_FLAG = "flag"
_PARAMETER_RULES: dict[str, _Rule] = {
    "ar": _Rule(_RATIO),
    "aspect": _Rule(_RATIO),
    "v": _Rule(_CHOICE, choices=("1", "2", "3", "4", "5", "5.0", "5.1", "5.2", "6", "6.0", "6.1", "7")),
    "version": _Rule(_CHOICE, choices=("1", "2", "3", "4", "5", "5.0", "5.1", "5.2", "6", "6.0", "6.1", "7")),
    "niji": _Rule(_CHOICE, choices=("", "4", "5", "6")),
    "s": _Rule(_RANGE, 0, 1000),
    "stylize": _Rule(_RANGE, 0, 1000),
    "c": _Rule(_RANGE, 0, 100),
    "chaos": _Rule(_RANGE, 0, 100),
    "q": _Rule(_CHOICE, choices=(".25", "0.25", ".5", "0.5", "1", "2", "4")),
    "quality": _Rule(_CHOICE, choices=(".25", "0.25", ".5", "0.5", "1", "2", "4")),
    "seed": _Rule(_RANGE, 0, 4_294_967_295),
    "sameseed": _Rule(_RANGE, 0, 4_294_967_295),
    "iw": _Rule(_RANGE, 0, 3),
    "w": _Rule(_RANGE, 0, 3000),
    "weird": _Rule(_RANGE, 0, 3000),
    "r": _Rule(_RANGE, 1, 40),
    "repeat": _Rule(_RANGE, 1, 40),
    "stop": _Rule(_RANGE, 10, 100),
    "zoom": _Rule(_RANGE, 1, 2),
    "no": _Rule(_TEXT),
    "style": _Rule(_TEXT),
    "tile": _Rule(_FLAG),
    "fast": _Rule(_FLAG),
    "relax": _Rule(_FLAG),
    "turbo": _Rule(_FLAG),
}
_RATIO_VALUE = re.compile(r"^(\d{1,4}):(\d{1,4})$")


def parameters(prompt: str) -> list[tuple[str, str]]:
    """The `--name value` pairs of a prompt, in order (names lower-cased, values as written)."""
    found: list[tuple[str, str]] = []
    for word in prompt.split():
        if word.startswith("--") and len(word) > 2:
            found.append((word[2:].lower(), ""))
        elif found:
            name, value = found[-1]
            found[-1] = (name, f"{value} {word}".strip())
    return found


# --repeat N makes Midjourney run the prompt N times for one submit, but the backend reports (and the
# bot shows, and the quota counts) one task: every run beyond the first would be a charge nobody sees.
REPEAT_PARAMETERS = frozenset({"r", "repeat"})
REPEAT_CAP = 1


def check_parameters(prompt: str) -> None:
    """Raise InvalidParameter for a known Midjourney parameter with a value it can't take.

    `--repeat`/`--r` above REPEAT_CAP is refused (RepeatRefused): one job, one quota unit, one result.
    """
    for name, value in parameters(prompt):
        rule = _PARAMETER_RULES.get(name)
        if rule is not None and not _accepts(rule, value):
            raise InvalidParameter(name=name, value=value or "—", expected=_expected(rule))
        if name in REPEAT_PARAMETERS and float(value) > REPEAT_CAP:
            raise RepeatRefused(name=name, value=value)


def _accepts(rule: _Rule, value: str) -> bool:
    match rule.kind:
        case "range":
            try:
                number = float(value)
            except ValueError:
                return False
            return rule.low <= number <= rule.high
        case "choice":
            return value in rule.choices
        case "ratio":
            ratio = _RATIO_VALUE.match(value)
            return ratio is not None and int(ratio.group(1)) > 0 and int(ratio.group(2)) > 0
        case "text":
            return bool(value)
    return True


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _expected(rule: _Rule) -> str:
    match rule.kind:
        case "range":
            return f"{_number(rule.low)}–{_number(rule.high)}"
        case "choice":
            return ", ".join(c or "(none)" for c in rule.choices if not c.startswith("0."))
        case "ratio":
            return "W:H"
    return "…"
