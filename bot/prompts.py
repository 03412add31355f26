"""Prompt text rules: undo phone keyboards' dash replacement, drop control characters, check length."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import EmptyPrompt, PromptTooLong

# iOS and Android turn "--" into an em or en dash; Midjourney parameters need the two hyphens back.
_DASH_PARAMETER = re.compile(r"(^|\s)[—–](?=[A-Za-z])")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _is_control(ch: str) -> bool:
    # Zero-width joiners stay (they build emoji); bidi overrides and C0/C1 controls go.
    return (unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in _BIDI_CONTROLS


def normalize_prompt(text: str) -> str:
    """The prompt as a backend should receive it."""
    cleaned = "".join(" " if _is_control(ch) else ch for ch in text)
    cleaned = _DASH_PARAMETER.sub(lambda m: f"{m.group(1)}--", cleaned)
    cleaned = _SPACES.sub(" ", cleaned.replace("\n", " "))
    return cleaned.strip()


def checked_prompt(text: str | None, *, limit: int) -> str:
    """Normalised prompt, or a DomainError saying why it can't be used."""
    prompt = normalize_prompt(text or "")
    if not prompt:
        raise EmptyPrompt()
    if len(prompt) > limit:
        raise PromptTooLong(length=len(prompt), limit=limit)
    return prompt


_KEYCAP_LINE = re.compile(r"^\s*([1-9])\ufe0f?\u20e3\s*(.+?)\s*$")
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
