"""Prompt normalisation and checks."""

import pytest

from bot.domain.errors import EmptyPrompt, InvalidParameter, PromptTooLong, RepeatRefused
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


@pytest.mark.parametrize(
    "prompt",
    [
        "a cat --ar 16:9",
        "a cat --v 6.1 --s 250 --c 20",
        "a cat --niji 6 --style raw",
        "https://example.com/a.png a cat --iw 1.5",
        "a cat --no dogs, birds --seed 123",
        "a cat --tile --fast",
        "a cat --myset",
        "a cat --zoom 1.5",
    ],
)
def test_valid_parameters_pass(prompt: str) -> None:
    assert checked_prompt(prompt, limit=500) == prompt


@pytest.mark.parametrize(
    ("prompt", "name", "expected"),
    [
        ("a cat --ar 16", "ar", "W:H"),
        ("a cat --ar 0:1", "ar", "W:H"),
        ("a cat --v 9", "v", "7"),
        ("a cat --s 5000", "s", "0–1000"),
        ("a cat --chaos lots", "chaos", "0–100"),
        ("a cat --no", "no", "…"),
        ("a cat --seed -1", "seed", "0–4294967295"),
    ],
)
def test_invalid_parameters_are_named(prompt: str, name: str, expected: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        checked_prompt(prompt, limit=500)
    assert info.value.args_for_message["name"] == name
    assert expected in str(info.value.args_for_message["expected"])


@pytest.mark.parametrize(
    ("prompt", "name", "value"),
    [
        ("a cat --repeat 40", "repeat", "40"),
        ("a cat --r 2", "r", "2"),
        ("a cat —r 3 --ar 1:1", "r", "3"),  # a phone's em dash is turned back into "--" first
        ("a cat --REPEAT 1.5", "repeat", "1.5"),
    ],
)
def test_repeat_above_one_is_refused(prompt: str, name: str, value: str) -> None:
    """One job, one quota unit, one result: --repeat would run the prompt again for nobody to see."""
    with pytest.raises(RepeatRefused) as info:
        checked_prompt(prompt, limit=500)
    assert info.value.args_for_message == {"name": name, "value": value}


def test_repeat_of_one_and_malformed_repeats() -> None:
    assert checked_prompt("a cat --r 1", limit=500) == "a cat --r 1"
    with pytest.raises(InvalidParameter):
        checked_prompt("a cat --repeat lots", limit=500)
