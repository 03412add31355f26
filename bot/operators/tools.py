"""The operators' objects of one runtime, built together."""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery.sender import Sender
from bot.i18n import Locales
from bot.operators.audience import Audience
from bot.operators.broadcast import BROADCAST_LEASE, Broadcaster
from bot.operators.metrics import Metrics
from bot.operators.stats import StarsTotals, StatsService
from bot.replicas import LEASE_TTL, Lease
from bot.storage.database import Database


@dataclass(frozen=True, slots=True)
class Operators:
    audience: Audience
    stats: StatsService
    broadcaster: Broadcaster
    metrics: Metrics


def operators_for(
    db: Database,
    sender: Sender,
    locales: Locales,
    me: str,
    *,
    stars: StarsTotals | None = None,
    lease_ttl: float = LEASE_TTL,
) -> Operators:
    """`me`: this replica's id; `stars`: the payments' Stars totals for /stats (left out of it when None)."""
    audience = Audience(db)
    # Replicas on one database take turns at broadcasts; a lone process (SQLite) just runs them.
    lease = Lease(db, BROADCAST_LEASE, me, ttl=lease_ttl) if db.shared else None
    return Operators(
        audience=audience,
        stats=StatsService(db, stars=stars),
        broadcaster=Broadcaster(db, sender, locales, audience, lease=lease),
        metrics=Metrics(),
    )
