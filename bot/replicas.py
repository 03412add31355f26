"""Several processes on one database: who this replica is, and the leases it holds."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable

from bot.storage.database import Database
from bot.storage.leases import claim_lease, release_lease

log = logging.getLogger(__name__)

# A lease lasts this long unless renewed; a replica killed with `kill -9` is replaced within one TTL.
LEASE_TTL = 10.0
# Renewals per TTL: two may fail (a slow database) before the lease runs out.
RENEWALS_PER_TTL = 3

Holding = Callable[[bool], Awaitable[None]]
"""Told when this replica starts (True) or stops (False) holding a lease."""


def replica_id() -> str:
    """This process among the replicas: host, process id and a random part (pids repeat across hosts)."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(4)}"


class Lease:
    """One named lease for this replica: taken when free, renewed while held, given up on stop."""

    def __init__(
        self,
        db: Database,
        name: str,
        holder: str,
        *,
        ttl: float = LEASE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self.name = name
        self.holder = holder
        self._ttl = ttl
        self._clock = clock
        self.held = False

    async def claim(self) -> bool:
        """Take or renew the lease now; whether this replica holds it."""
        async with self._db.write() as conn:
            self.held = await claim_lease(conn, self.name, self.holder, now=self._clock(), ttl=self._ttl)
        return self.held

    async def keep(self, on_change: Holding) -> None:
        """Claim every TTL/3 for as long as it runs, telling `on_change` when holding starts or stops."""
        try:
            while True:
                was = self.held
                try:
                    now_held = await self.claim()
                except Exception:  # the database is unreachable: whoever can't renew must assume it lost
                    log.exception("renewing lease %s failed", self.name)
                    now_held = self.held = False
                if now_held != was:
                    log.info("lease %s %s by %s", self.name, "taken" if now_held else "lost", self.holder)
                    await on_change(now_held)
                await asyncio.sleep(self._ttl / RENEWALS_PER_TTL)
        finally:
            if self.held:
                self.held = False
                await on_change(False)

    async def release(self) -> None:
        """Give the lease up so another replica takes over at once (a clean shutdown)."""
        self.held = False
        async with self._db.write() as conn:
            await release_lease(conn, self.name, self.holder)
