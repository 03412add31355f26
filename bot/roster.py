"""Which replicas are alive, and so which of them looks after each chat and each job.

Every replica renews its own lease (`replica:<id>`) every second or two; the live ones are those whose lease
has not run out. A chat's deliveries and a job's polling belong to one live replica, chosen by rendezvous
hashing: every replica that sees the same members picks the same owner, and when one dies only its share
moves. Chatter's part of Telegram's limits is split among the live replicas (the rest is the send budget
they share, bot.delivery.budget).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.storage.database import Database
from bot.storage.leases import claim_lease, live_holders, release_lease

log = logging.getLogger(__name__)

MEMBER_PREFIX = "replica:"
# A replica whose heartbeat is this old is taken for dead; three heartbeats may fail before that.
MEMBER_TTL = 3.0
HEARTBEAT_SECONDS = 1.0
# A joining replica sends nothing for a heartbeat (by then every other replica has read the roster and stopped
# sending to the chats that are now its own) and Telegram's per-chat second, with room for answers in flight.
JOIN_GRACE_SECONDS = 1.5

Listener = Callable[[int], None]
"""Told the number of live replicas whenever it changes."""


class Roster(Protocol):
    """What delivery and polling ask about the replicas."""

    @property
    def count(self) -> int: ...

    @property
    def me(self) -> str | None:
        """This replica's id; None for a lone process."""
        ...

    def owns(self, key: str | int) -> bool: ...

    def owner(self, key: str | int) -> str | None:
        """The live replica that owns `key`; None for a lone process."""
        ...

    def on_change(self, listener: Listener) -> None: ...


class SoleReplica:
    """One process (SQLite): it owns everything."""

    count = 1
    me = None

    def owns(self, key: str | int) -> bool:
        return True

    def owner(self, key: str | int) -> str | None:
        return None

    def on_change(self, listener: Listener) -> None:
        listener(1)


def rendezvous_owner(members: Sequence[str], key: str | int) -> str:
    """The member with the highest hash of (member, key): stable while the members stay the same."""
    return max(members, key=lambda member: _weight(member, key))


def _weight(member: str, key: str | int) -> bytes:
    return hashlib.blake2b(f"{member}\x00{key}".encode(), digest_size=8).digest()


class SharedRoster:
    """Replicas on one PostgreSQL: a heartbeat lease each, and the live set read back with every beat."""

    def __init__(
        self,
        db: Database,
        me: str,
        *,
        ttl: float = MEMBER_TTL,
        heartbeat: float = HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self.me = me
        self._ttl = ttl
        self._heartbeat = heartbeat
        self._clock = clock
        self.members: tuple[str, ...] = (me,)
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self.settled = asyncio.Event()

    @property
    def count(self) -> int:
        return len(self.members)

    def owns(self, key: str | int) -> bool:
        return rendezvous_owner(self.members, key) == self.me

    def owner(self, key: str | int) -> str | None:
        return rendezvous_owner(self.members, key)

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)
        listener(self.count)

    async def start(self) -> None:
        """Join: the first beat now; `settled` once the others have had a beat's time to see this one."""
        await self.beat()
        self._task = asyncio.create_task(self._run(), name="replica-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        async with self._db.write() as conn:  # a clean stop hands the share over at once
            await release_lease(conn, MEMBER_PREFIX + self.me, self.me)

    async def beat(self) -> None:
        """Renew this replica's lease and read who else is alive."""
        now = self._clock()
        async with self._db.write() as conn:
            await claim_lease(conn, MEMBER_PREFIX + self.me, self.me, now=now, ttl=self._ttl)
            alive = await live_holders(conn, MEMBER_PREFIX, now=now)
        self._set_members(tuple(alive) if self.me in alive else (*alive, self.me))

    async def _run(self) -> None:
        asyncio.get_running_loop().call_later(self._heartbeat + JOIN_GRACE_SECONDS, self.settled.set)
        while True:
            await asyncio.sleep(self._heartbeat)
            await self._beat_safely()

    async def _beat_safely(self) -> None:
        try:
            await self.beat()
        except Exception:  # a missed beat: the lease has TTL to spare; others see us as long as it runs
            log.exception("replica heartbeat failed")

    def _set_members(self, members: tuple[str, ...]) -> None:
        members = tuple(sorted(members))
        if members == self.members:
            return
        log.info("replicas alive: %d (%s)", len(members), ", ".join(members))
        self.members = members
        for listener in self._listeners:
            listener(len(members))
