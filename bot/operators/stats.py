"""/stats: jobs by kind and outcome, failure reasons, active and new users (and Stars, when credits are
sold) for today and the last 7 days, as one message readable on a phone."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.i18n import Translator
from bot.quotas import DAY_SECONDS, day_start
from bot.storage.audience import audience_counts
from bot.storage.database import Database
from bot.storage.stats import JobCount, active_users, job_counts

PERIOD_DAYS = 7

StarsTotals = Callable[[AsyncConnection, float], Awaitable[tuple[int, int]]]
"""Stars (received, refunded) since a moment: the payments' ledger answers it; without it /stats leaves the
Stars lines out."""

OUTCOMES = ("succeeded", "failed", "running")  # queued and waiting-for-input jobs count as running


def outcome_of(status: str) -> str:
    return status if status in ("succeeded", "failed") else "running"


@dataclass(frozen=True, slots=True)
class Pair:
    """A figure for today and for the last 7 days."""

    today: int = 0
    week: int = 0

    def __add__(self, other: Pair) -> Pair:
        return Pair(self.today + other.today, self.week + other.week)


@dataclass(frozen=True, slots=True)
class StatsReport:
    jobs: Pair
    outcomes: Mapping[str, Pair]
    kinds: Mapping[str, Mapping[str, Pair]]  # kind -> outcome -> figures, busiest kind first
    failures: Mapping[str, Pair]  # failure reason -> figures, commonest first
    active_users: Pair
    new_users: Pair
    stars_received: Pair | None = None
    stars_refunded: Pair | None = None
    day_start: float = field(default=0.0)


class StatsService:
    """Reads the figures: two grouped queries over the last 7 days of jobs, two over the audience."""

    def __init__(
        self, db: Database, *, stars: StarsTotals | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self.stars = stars
        self._clock = clock

    async def report(self) -> StatsReport:
        now = self._clock()
        today = day_start(now)
        week = now - PERIOD_DAYS * DAY_SECONDS
        async with self._db.read() as conn:
            counts = await job_counts(conn, period_start=week, today_start=today)
            active_today, active_week = await active_users(conn, period_start=week, today_start=today)
            new_today, _ = await audience_counts(conn, since=today)
            new_week, _ = await audience_counts(conn, since=week)
            stars = await self._stars(conn, today, week)
        outcomes, kinds, failures = _group(counts)
        return StatsReport(
            jobs=sum(outcomes.values(), Pair()),
            outcomes=outcomes,
            kinds=kinds,
            failures=failures,
            active_users=Pair(active_today, active_week),
            new_users=Pair(new_today, new_week),
            stars_received=stars[0] if stars else None,
            stars_refunded=stars[1] if stars else None,
            day_start=today,
        )

    async def _stars(self, conn: AsyncConnection, today: float, week: float) -> tuple[Pair, Pair] | None:
        if self.stars is None:
            return None
        received_today, refunded_today = await self.stars(conn, today)
        received_week, refunded_week = await self.stars(conn, week)
        return Pair(received_today, received_week), Pair(refunded_today, refunded_week)


def _group(
    counts: list[JobCount],
) -> tuple[dict[str, Pair], dict[str, dict[str, Pair]], dict[str, Pair]]:
    outcomes: dict[str, Pair] = {}
    kinds: dict[str, dict[str, Pair]] = {}
    failures: dict[str, Pair] = {}
    for count in counts:
        figures = Pair(count.today, count.period)
        outcome = outcome_of(count.status)
        outcomes[outcome] = outcomes.get(outcome, Pair()) + figures
        by_outcome = kinds.setdefault(count.kind, {})
        by_outcome[outcome] = by_outcome.get(outcome, Pair()) + figures
        if outcome == "failed":
            reason = count.failure or "unknown"
            failures[reason] = failures.get(reason, Pair()) + figures
    weight = Counter({kind: sum(p.week for p in by.values()) for kind, by in kinds.items()})
    ordered_kinds = {kind: kinds[kind] for kind, _ in weight.most_common()}
    ordered_failures = dict(sorted(failures.items(), key=lambda item: (-item[1].week, item[0])))
    return outcomes, ordered_kinds, ordered_failures


def render_stats(report: StatsReport, t: Translator) -> str:
    """The report as one short message: each line shows today · last 7 days."""

    def figures(pair: Pair) -> dict[str, int]:
        return {"today": pair.today, "week": pair.week}

    lines = [t("stats-title"), t("stats-columns"), "", t("stats-jobs", **figures(report.jobs))]
    for outcome in OUTCOMES:
        pair = report.outcomes.get(outcome)
        if pair is not None:
            lines.append(t("stats-outcome", outcome=outcome, **figures(pair)))
    if report.kinds:
        lines += ["", t("stats-kinds")]
        for kind, by_outcome in report.kinds.items():
            parts = [
                t("stats-kind-outcome", outcome=outcome, **figures(by_outcome[outcome]))
                for outcome in OUTCOMES
                if outcome in by_outcome
            ]
            lines.append(t("stats-kind", kind=kind, outcomes=" ".join(parts)))
    if report.failures:
        lines += ["", t("stats-failures")]
        lines += [
            t("stats-failure", reason=reason, **figures(pair)) for reason, pair in report.failures.items()
        ]
    lines += [
        "",
        t("stats-active-users", **figures(report.active_users)),
        t("stats-new-users", **figures(report.new_users)),
    ]
    if report.stars_received is not None and report.stars_refunded is not None:
        lines.append(t("stats-stars-received", **figures(report.stars_received)))
        lines.append(t("stats-stars-refunded", **figures(report.stars_refunded)))
    return "\n".join(lines)
