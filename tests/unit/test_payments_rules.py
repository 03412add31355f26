"""STARS_PACKS and JOB_PRICES: parsing, one-line errors, the kinds each price covers, invoice payloads."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_error
from bot.domain import JobKind
from bot.domain.payments import (
    DEFAULT_JOB_PRICE,
    MAX_PACKS,
    PAYLOAD_PREFIX,
    Pack,
    parse_packs,
    parse_payload,
    parse_prices,
)

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


def from_environment(**values: str) -> Settings:
    """Settings read from the environment, as the bot reads them (strings, not Python values)."""
    with mock.patch.dict(os.environ, {"TELEGRAM_BOT_TOKEN": TOKEN, **values}, clear=True):
        return Settings(_env_file=None)  # type: ignore[call-arg]


def error_from_environment(**values: str) -> str:
    with pytest.raises(ValidationError) as info:
        from_environment(**values)
    return describe_error(info.value)


def test_packs_are_read_in_the_order_given() -> None:
    settings = from_environment(STARS_PACKS="100:50, 500:200")
    assert settings.stars_packs == (Pack(100, 50), Pack(500, 200))
    assert settings.payments_on


@pytest.mark.parametrize("unset", [{}, {"STARS_PACKS": ""}])
def test_no_packs_means_payments_off(unset: dict[str, str]) -> None:
    settings = from_environment(**unset)
    assert settings.stars_packs == ()
    assert not settings.payments_on


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("100-50", "expected credits:stars pairs"),
        ("100:50,abc", "expected credits:stars pairs"),
        ("0:50", "credits must be"),
        ("100:0", "a price must be"),
        ("100:50,100:50", "twice"),
        (",".join(f"{n}:{n}" for n in range(1, MAX_PACKS + 2)), "more than"),
    ],
)
def test_a_malformed_pack_list_is_one_line_naming_the_variable(value: str, says: str) -> None:
    message = error_from_environment(STARS_PACKS=value)
    assert message.startswith("invalid configuration: STARS_PACKS ")
    assert says in message and "\n" not in message


def test_prices_default_to_one_and_cover_their_kinds() -> None:
    prices = from_environment(JOB_PRICES="upscale:0,video:5,zoom/pan:2,imagine:3").job_prices
    assert prices.price_of(JobKind.UPSCALE) == 0
    assert prices.price_of(JobKind.VIDEO) == 5
    assert prices.price_of(JobKind.ZOOM) == prices.price_of(JobKind.PAN) == 2
    assert prices.price_of(JobKind.IMAGINE) == prices.price_of(JobKind.REROLL) == 3
    assert prices.price_of(JobKind.DESCRIBE) == DEFAULT_JOB_PRICE == 1
    assert parse_prices("").price_of(JobKind.BLEND) == 1


@pytest.mark.parametrize(
    ("value", "says"),
    [("upscal:0", "unknown kind 'upscal'"), ("video=5", "expected name:credits"), ("video:5000", "0-1000")],
)
def test_a_malformed_price_table_is_one_line_naming_the_variable(value: str, says: str) -> None:
    message = error_from_environment(JOB_PRICES=value)
    assert message.startswith("invalid configuration: JOB_PRICES ") and says in message


def test_a_payload_names_its_pack_and_nothing_else() -> None:
    pack = Pack(500, 200)
    assert parse_payload(pack.payload) == pack
    assert len(pack.payload.encode()) <= 128
    assert parse_payload(f"{PAYLOAD_PREFIX}:500") is None
    assert parse_payload("credits:v0:500:200") is None
    assert parse_payload(pack.payload + ":1") is None


def test_parse_packs_of_an_empty_text_is_no_packs() -> None:
    assert parse_packs(" ") == ()
