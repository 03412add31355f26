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
