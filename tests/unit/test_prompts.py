"""Prompt normalisation and checks."""

import pytest

from bot.errors import EmptyPrompt, PromptTooLong
from bot.prompts import checked_prompt, normalize_prompt


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a cat —ar 16:9", "a cat --ar 16:9"),
        ("a cat –v 6", "a cat --v 6"),
        ("a cat —no dogs —stylize 250", "a cat --no dogs --stylize 250"),
        ("rock — paper", "rock — paper"),
        ("  spaced \n  out\t ", "spaced out"),
        ("bell\x07 and \u202egnirts", "bell and gnirts"),
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_prompt(raw) == expected


def test_empty_prompt_refused() -> None:
    with pytest.raises(EmptyPrompt):
        checked_prompt("  \x00 ", limit=10)


def test_long_prompt_refused_with_numbers() -> None:
    with pytest.raises(PromptTooLong) as info:
        checked_prompt("x" * 11, limit=10)
    assert info.value.args_for_message == {"length": 11, "limit": 10}


def test_prompt_at_limit_accepted() -> None:
    assert checked_prompt("x" * 10, limit=10) == "x" * 10
