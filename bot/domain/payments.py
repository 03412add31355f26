"""Credits sold for Telegram Stars: packs, the price of each kind of job, invoice payloads, refusals."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.kinds import JobKind

STARS_CURRENCY: Final = "XTR"
MAX_PACKS: Final = 10  # /buy sends one invoice per pack: more would flood the chat
MAX_PACK_CREDITS: Final = 1_000_000
MAX_PACK_STARS: Final = 10_000  # a sanity bound against a typo in STARS_PACKS, not Telegram's own limit
MAX_JOB_PRICE: Final = 1_000
DEFAULT_JOB_PRICE: Final = 1
# Telegram's limit for an invoice payload is 1-128 bytes; ours is a short versioned token.
PAYLOAD_PREFIX: Final = "credits:v1"

# The price table's names (JOB_PRICES) and the kinds of job each covers: a reroll runs the prompt again,
# Vary (Region) is a variation.
PRICE_NAMES: Final[Mapping[str, tuple[JobKind, ...]]] = {
    "imagine": (JobKind.IMAGINE, JobKind.REROLL),
    "upscale": (JobKind.UPSCALE,),
    "variation": (JobKind.VARIATION, JobKind.INPAINT),
    "zoom": (JobKind.ZOOM,),
    "pan": (JobKind.PAN,),
    "describe": (JobKind.DESCRIBE,),
    "blend": (JobKind.BLEND,),
    "shorten": (JobKind.SHORTEN,),
    "video": (JobKind.VIDEO,),
}

_PAIR = re.compile(r"^\s*([0-9]{1,9})\s*:\s*([0-9]{1,9})\s*$")
_PRICE = re.compile(r"^\s*([a-z/]+)\s*:\s*([0-9]{1,9})\s*$")
_PAYLOAD = re.compile(rf"^{PAYLOAD_PREFIX}:([0-9]{{1,9}}):([0-9]{{1,9}})$")


@dataclass(frozen=True, slots=True, order=True)
class Pack:
    """`credits` for `stars` Telegram Stars."""

    credits: int
    stars: int

    @property
    def payload(self) -> str:
        """The invoice payload naming this pack (and its price, so a changed price is noticed)."""
        return f"{PAYLOAD_PREFIX}:{self.credits}:{self.stars}"


def parse_payload(payload: str) -> Pack | None:
    """The pack an invoice payload names, or None when it is not one of ours."""
    match = _PAYLOAD.match(payload)
    return Pack(int(match[1]), int(match[2])) if match else None


def parse_packs(text: str) -> tuple[Pack, ...]:
    """`100:50,500:200` → packs in the order given; an empty text: no packs (payments off)."""
    parts = [part for part in text.split(",") if part.strip()]
    if len(parts) > MAX_PACKS:
        raise ValueError(f"has more than {MAX_PACKS} packs")
    packs = []
    for part in parts:
        match = _PAIR.match(part)
        if match is None:
            raise ValueError("expected credits:stars pairs, e.g. 100:50,500:200")
        pack = Pack(int(match[1]), int(match[2]))
        if not 1 <= pack.credits <= MAX_PACK_CREDITS:
            raise ValueError(f"credits must be 1-{MAX_PACK_CREDITS} (got {pack.credits})")
        if not 1 <= pack.stars <= MAX_PACK_STARS:
            raise ValueError(f"a price must be 1-{MAX_PACK_STARS} Stars (got {pack.stars})")
        if pack in packs:
            raise ValueError(f"lists {pack.credits}:{pack.stars} twice")
        packs.append(pack)
    return tuple(packs)


@dataclass(frozen=True, slots=True)
class JobPrices:
    """Credits a job costs by its kind; kinds the table leaves out cost DEFAULT_JOB_PRICE."""

    by_kind: Mapping[JobKind, int] = field(default_factory=dict)

    def price_of(self, kind: JobKind) -> int:
        return self.by_kind.get(kind, DEFAULT_JOB_PRICE)


def parse_prices(text: str) -> JobPrices:
    """`upscale:0,video:5` → the price table; names are PRICE_NAMES (`zoom/pan` sets both)."""
    by_kind: dict[JobKind, int] = {}
    for part in (p for p in text.split(",") if p.strip()):
        match = _PRICE.match(part)
        if match is None:
            raise ValueError("expected name:credits pairs, e.g. upscale:0,video:5")
        names, price = match[1].split("/"), int(match[2])
        unknown = [name for name in names if name not in PRICE_NAMES]
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r} (known: {', '.join(PRICE_NAMES)})")
        if price > MAX_JOB_PRICE:
            raise ValueError(f"a price must be 0-{MAX_JOB_PRICE} credits (got {price})")
        for name in names:
            by_kind.update(dict.fromkeys(PRICE_NAMES[name], price))
    return JobPrices(by_kind)


class OutOfCredits(DomainError):
    """The job costs more credits than the user has (their free jobs for today are used up)."""

    message_id = "pay-out-of-credits"


class GrantUsage(DomainError):
    message_id = "pay-grant-usage"


class RefundUsage(DomainError):
    message_id = "pay-refund-usage"


class UnknownCharge(DomainError):
    message_id = "pay-refund-unknown"


class AlreadyRefunded(DomainError):
    message_id = "pay-refund-already"


class RefundRefused(DomainError):
    """Telegram declined refundStarPayment for another reason (its description is shown to the admin)."""

    message_id = "pay-refund-failed"
