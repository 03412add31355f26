"""Placeholder cards: decodable PNGs of the asked size, one look per state, a visible simulated band."""

from __future__ import annotations

import io
from typing import get_args

import pytest
from PIL import Image

from bot.delivery.cards import CardState, placeholder_card

STATES: tuple[CardState, ...] = get_args(CardState)
BAND_SHARE = 0.85  # the simulated band stays below this share of the height


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("size", [640, 200])
def test_each_card_is_a_png_of_the_requested_size(state: CardState, size: int) -> None:
    card = decoded(placeholder_card(state, size=size))
    assert card.size == (size, size)
    assert card.mode == "RGB"


def test_default_size_is_640() -> None:
    assert decoded(placeholder_card("queued")).size == (640, 640)


def test_states_look_different() -> None:
    pixels = {decoded(placeholder_card(state, size=160)).tobytes() for state in STATES}
    assert len(pixels) == len(STATES)


@pytest.mark.parametrize("state", STATES)
def test_simulated_variant_adds_a_band_at_the_bottom_only(state: CardState) -> None:
    plain = decoded(placeholder_card(state, size=320))
    simulated = decoded(placeholder_card(state, size=320, simulated=True))
    split = round(320 * BAND_SHARE)
    assert plain.crop((0, 0, 320, split)).tobytes() == simulated.crop((0, 0, 320, split)).tobytes()
    assert plain.crop((0, split, 320, 320)).tobytes() != simulated.crop((0, split, 320, 320)).tobytes()


def test_cards_are_cached() -> None:
    assert placeholder_card("failed", simulated=True) is placeholder_card("failed", simulated=True)


def test_unknown_state_or_absurd_size_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown card state"):
        placeholder_card("finished")  # type: ignore[arg-type]
    for size in (8, 100_000):
        with pytest.raises(ValueError, match="card size"):
            placeholder_card("queued", size=size)
