"""Prompt text: parameters and words, describe's suggested prompts and shorten's analysis."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.backends.simulator.colour import RGB, to_hls
from bot.backends.simulator.recipes import ImageTraits

KEYCAPS = ("1\ufe0f\u20e3", "2\ufe0f\u20e3", "3\ufe0f\u20e3", "4\ufe0f\u20e3", "5\ufe0f\u20e3")
DESCRIBE_COLOURS = 4
DESCRIBE_PROMPTS = 4
SHORTEN_PROMPTS = 5
SHORTEN_BOLD_TOKENS = 3
SHORTEN_DETAIL_BARS = 6
SHORTEN_KEEP_FRACTIONS = (1.0, 0.75, 0.5, 0.35, 0.2)
_PARAMETER_RE = re.compile(r"(?:^|\s)--[a-z][\w-]*(?:\s+(?!--)[^\s,]+)*", re.IGNORECASE)
_WORD_EDGE_RE = re.compile(r"^\W+|\W+$")


def strip_parameters(prompt: str) -> str:
    """The prompt without `--name value` parameters, whitespace collapsed."""
    return " ".join(_PARAMETER_RE.sub(" ", prompt).split())


def prompt_words(prompt: str) -> list[str]:
    return [_WORD_EDGE_RE.sub("", word).lower() for word in strip_parameters(prompt).split()]


GREY_NAMES = ((0.12, "black"), (0.3, "charcoal"), (0.6, "grey"), (0.85, "silver"), (1.01, "white"))
HUE_NAMES = (
    (0.04, "red"), (0.1, "orange"), (0.14, "amber"), (0.19, "yellow"), (0.25, "lime"), (0.42, "green"),
    (0.5, "teal"), (0.55, "cyan"), (0.6, "azure"), (0.69, "blue"), (0.75, "indigo"), (0.8, "violet"),
    (0.87, "purple"), (0.92, "magenta"), (0.97, "pink"), (1.01, "red"),
)  # fmt: skip
FILLER_COLOURS = ("ivory", "charcoal", "silver")
COMMON_RATIOS = ((1, 1), (5, 4), (4, 5), (4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (9, 16), (2, 1), (1, 2))
DESCRIBE_TEMPLATES = (
    "a {mood} landscape bathed in {c1} light, {c2} accents, {style}",
    "abstract {shapes} in {c1}, {c2} and {c3}, {style}, {mood} atmosphere",
    "a {mood} still life with {c1} tones and {c2} highlights, {light}, {style}",
    "{c1} and {c2} color field painting, {light}, {style}",
    "a dreamlike {c1} cityscape at dusk, {c2} reflections, {light}",
    "macro photograph of {c1} petals, {c2} background, {light}, {mood} mood",
)
DESCRIBE_STYLES = (
    "minimalist poster", "soft gradient art", "risograph print", "matte painting", "digital illustration",
    "mid-century modern", "watercolor wash", "cinematic still",
)  # fmt: skip
DESCRIBE_SHAPES = ("circles", "overlapping discs", "flowing ribbons", "geometric forms", "soft orbs")
DESCRIBE_LIGHT = (
    "soft diffuse light",
    "golden hour glow",
    "studio lighting",
    "hazy backlight",
    "moody shadows",
)
DARK_MOODS = ("moody", "nocturnal", "mysterious", "quiet")
BRIGHT_MOODS = ("serene", "airy", "joyful", "luminous")

STOP_WORDS = frozenset(
    (
        "a", "an", "the", "of", "in", "on", "at", "to", "for", "with", "and", "or", "by", "from", "into",
        "onto", "over", "under", "as", "is", "are", "be", "this", "that", "its", "it", "very", "some", "few",
        "many", "much", "more", "most", "style",
    )
)  # fmt: skip
ADJECTIVE_SUFFIXES = (
    "ful",
    "ous",
    "ive",
    "ic",
    "ical",
    "less",
    "ish",
    "able",
    "ible",
    "esque",
    "like",
    "ly",
    "ary",
)


def colour_name(colour: RGB) -> str:
    hue, lightness, saturation = to_hls(colour)
    if saturation < 0.15 or lightness < 0.06 or lightness > 0.95:
        return next(name for limit, name in GREY_NAMES if lightness < limit)
    name = next(name for limit, name in HUE_NAMES if hue < limit)
    if lightness < 0.3:
        return f"deep {name}"
    if lightness > 0.75:
        return f"pale {name}"
    return f"muted {name}" if saturation < 0.35 else name


def nearest_ratio(width: int, height: int) -> str:
    ratio = width / height
    best = min(COMMON_RATIOS, key=lambda pair: abs(math.log(ratio * pair[1] / pair[0])))
    return f"{best[0]}:{best[1]}"


def numbered(prompts: Sequence[str]) -> str:
    """Prompts in the proxy's layout: keycap emoji, blank line between."""
    return "\n\n".join(f"{KEYCAPS[index]} {prompt}" for index, prompt in enumerate(prompts))


def describe_prompts(traits: ImageTraits, seed: int) -> tuple[str, ...]:
    """Four prompts a picture with these colours and proportions might have come from."""
    rng = random.Random(seed)
    names = list(dict.fromkeys(colour_name(colour) for colour in traits.colours))[:DESCRIBE_COLOURS]
    names += [name for name in FILLER_COLOURS if name not in names][: max(0, 3 - len(names))]
    moods = DARK_MOODS if traits.brightness < 0.4 else BRIGHT_MOODS
    ratio = nearest_ratio(traits.width, traits.height)
    prompts = []
    for number, template in enumerate(rng.sample(DESCRIBE_TEMPLATES, DESCRIBE_PROMPTS)):
        # The first prompt leads with the picture's main colour: a describe that never names it reads wrong.
        first, second, third = (names[0], *rng.sample(names[1:], 2)) if number == 0 else rng.sample(names, 3)
        text = template.format(
            c1=first,
            c2=second,
            c3=third,
            mood=rng.choice(moods),
            style=rng.choice(DESCRIBE_STYLES),
            shapes=rng.choice(DESCRIBE_SHAPES),
            light=rng.choice(DESCRIBE_LIGHT),
        )
        prompts.append(f"{text} --ar {ratio}")
    return tuple(prompts)


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a prompt as shorten sees it."""

    text: str
    phrase: int
    weight: float
    kept: bool
    stop: bool


def is_adjective_like(word: str) -> bool:
    return len(word) > 4 and word.endswith(ADJECTIVE_SUFFIXES)


def prompt_tokens(prompt: str) -> list[Token]:
    """Words with a weight: content words count more the earlier and longer they are; others barely."""
    tokens = []
    rank = 0
    for phrase, part in enumerate(strip_parameters(prompt).split(",")):
        for word in part.split():
            bare = _WORD_EDGE_RE.sub("", word).lower()
            stop = not bare or bare in STOP_WORDS
            kept = not stop and not is_adjective_like(bare)
            if kept:
                weight = (0.6 + 0.4 * min(len(bare), 10) / 10) / (1 + 0.3 * rank)
                rank += 1
            else:
                weight = 0.0 if stop else 0.03 / (1 + 0.3 * rank)
            tokens.append(Token(word, phrase, weight, kept, stop))
    top = max((token.weight for token in tokens), default=0.0) or 1.0
    return [replace(token, weight=token.weight / top) for token in tokens]


def shortened_prompts(tokens: Sequence[Token]) -> tuple[str, ...]:
    """Five ever shorter prompts keeping the heaviest content words, in their original order."""
    content = sorted((t for t in tokens if t.kept), key=lambda t: t.weight, reverse=True)
    if not content:
        whole = " ".join(t.text for t in tokens)
        return (whole,) * SHORTEN_PROMPTS
    prompts = []
    for fraction in SHORTEN_KEEP_FRACTIONS:
        keep = {id(t) for t in content[: max(1, math.ceil(len(content) * fraction))]}
        phrases: dict[int, list[str]] = {}
        for token in tokens:
            if id(token) in keep:
                phrases.setdefault(token.phrase, []).append(token.text.strip(","))
        prompts.append(", ".join(" ".join(words) for words in phrases.values()))
    return tuple(prompts)


def _marked(token: Token, bold: set[int], details: bool) -> str:
    text = token.text.rstrip(",")
    if id(token) in bold:
        text = f"**{text}**"
    elif not token.kept and not token.stop:
        text = f"~~{text}~~"
    if details and not token.stop:
        text += f" ({token.weight:.2f})"
    return text


def shorten_text(prompt: str, details: bool = False) -> tuple[str, tuple[str, ...]]:
    """The proxy's shorten analysis of `prompt` and its five shortened prompts."""
    tokens = prompt_tokens(prompt)
    heaviest = sorted((t for t in tokens if t.kept), key=lambda t: t.weight, reverse=True)
    bold = {id(t) for t in heaviest[:SHORTEN_BOLD_TOKENS]}
    phrases: dict[int, list[str]] = {}
    for token in tokens:
        phrases.setdefault(token.phrase, []).append(_marked(token, bold, details))
    lines = ["## Important tokens", ", ".join(" ".join(words) for words in phrases.values())]
    if details:
        bars = [
            "█" * max(1, round(t.weight * 10))
            + "░" * (10 - max(1, round(t.weight * 10)))
            + f" {t.text.strip(',')}"
            for t in heaviest[:SHORTEN_DETAIL_BARS]
        ]
        lines.append("\n" + "\n".join(bars))
    prompts = shortened_prompts(tokens)
    lines += ["## Shortened prompts", numbered(prompts)]
    return "\n".join(lines), prompts
