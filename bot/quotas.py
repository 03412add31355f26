"""Usage limits: running jobs per user and per chat, jobs per user per day, a group's shared daily pool."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.errors import ChatBusy, DailyQuotaReached, GroupPoolExhausted, TooManyActive
from bot.storage.jobs import active_jobs, counted_since

DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class Limits:
    """0 means no limit."""

    daily_per_user: int = 0
    active_per_user: int = 5
    active_per_chat: int = 15


@dataclass(frozen=True, slots=True)
class Usage:
    used_today: int
    daily_limit: int
    active: int
    active_limit: int
    resets_in: float


def day_start(now: float) -> float:
    """The last midnight (UTC): quotas reset then."""
    return now - now % DAY_SECONDS


def resets_in(now: float) -> float:
    return day_start(now) + DAY_SECONDS - now


def hours_minutes(seconds: float) -> tuple[int, int]:
    minutes = max(1, int(seconds // 60))
    return minutes // 60, minutes % 60


PoolLookup = Callable[[int], Awaitable[int | None]]


class QuotaGuard:
    """Checked inside the transaction that records a job; admins are never limited.

    Running and daily counts both include every job from the moment it is recorded (a submit in flight,
    a job waiting for the user's prompt), so concurrent requests cannot pass the check together.
    """

    def __init__(self, limits: Limits, admins: frozenset[int], pool_for: PoolLookup | None = None) -> None:
        self._limits = limits
        self._admins = admins
        self._pool_for = pool_for

    async def check(
        self, conn: AsyncConnection, user_id: int, chat_id: int, now: float, *, jobs: int = 1
    ) -> None:
        """Raise the DomainError of the first limit that `jobs` new jobs would break."""
        if user_id in self._admins:
            return
        limits = self._limits
        active_user = await active_jobs(conn, user_id=user_id)
        if limits.active_per_user and active_user + jobs > limits.active_per_user:
            raise TooManyActive(limit=limits.active_per_user)
        active_chat = await active_jobs(conn, chat_id=chat_id)
        if limits.active_per_chat and active_chat + jobs > limits.active_per_chat:
            raise ChatBusy(limit=limits.active_per_chat)
        hours, minutes = hours_minutes(resets_in(now))
        since = day_start(now)
        if limits.daily_per_user:
            used = await counted_since(conn, since, user_id=user_id)
            if used + jobs > limits.daily_per_user:
                raise DailyQuotaReached(limit=limits.daily_per_user, hours=hours, minutes=minutes)
        pool = await self._pool_for(chat_id) if self._pool_for is not None and chat_id < 0 else None
        if pool is not None:
            used = await counted_since(conn, since, chat_id=chat_id, exclude_users=self._admins)
            if used + jobs > pool:
                raise GroupPoolExhausted(limit=pool, hours=hours, minutes=minutes)

    async def usage(self, conn: AsyncConnection, user_id: int, now: float) -> Usage:
        return Usage(
            used_today=await counted_since(conn, day_start(now), user_id=user_id),
            daily_limit=0 if user_id in self._admins else self._limits.daily_per_user,
            active=await active_jobs(conn, user_id=user_id),
            active_limit=0 if user_id in self._admins else self._limits.active_per_user,
            resets_in=resets_in(now),
        )
