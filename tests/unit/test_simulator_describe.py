"""The simulator's describe always names the picture's main colour (once it left it out for 1 seed in 200)."""

from __future__ import annotations

from bot.backends.simulator.recipes import ImageTraits
from bot.backends.simulator.text import describe_prompts

SEEDS = 5000


def test_every_describe_names_the_main_colour() -> None:
    blue = ImageTraits(300, 200, ((30, 60, 200),), 0.3)
    silent = [seed for seed in range(SEEDS) if not any("blue" in p for p in describe_prompts(blue, seed))]
    assert silent == []
