"""`python -m bench --replicas 3 --postgres`: the 1,000-job load on several replicas sharing one PostgreSQL,
with one replica killed (`kill -9`) every 10 s and started again at once.

The replicas are real `python -m bot` processes behind a round-robin proxy (the backend's callbacks reach any
of them); Telegram is polled by whichever holds the lease. Figures: finals lost and duplicated, 429s, the last
final against Telegram's 30 messages/s, and after each kill the seconds until the chats the dead replica
delivered to get their next message from a survivor.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.botproc import BotConfig, BotProcess, bot_environment, free_port
from bench.fakes import BenchProxy, BenchTelegram
from bench.phases import (
    FINAL_CALLS_PER_GRID_JOB,
    TELEGRAM_GLOBAL_RATE,
    BenchError,
    poll_until,
    settle,
    start_running,
    submit_jobs,
)
from bench.report import aligned
from bench.world import BenchJob, group_seats, jobs_across, private_seats, shows_done, wait_until_shown
from bot.roster import MEMBER_PREFIX, rendezvous_owner
from bot.storage.leases import live_holders
from tests.fakes.telegram import FloodLimits
from tests.harness import TOKEN
from tests.postgres import postgres_server
from tests.roundrobin import RoundRobin

PROXY_SECRET = "bench-proxy-secret"
HOOK_SECRET = "bench-hook-secret-0123456789abcdef"
KILL_EVERY = 10.0
STARTUP_TIMEOUT = 60.0
LOAD_TIMEOUT = 180.0
TAKEOVER_TARGET = 15.0
BOUND_TARGET = 0.15


@dataclass(frozen=True, slots=True)
class Kill:
    at: float
    replica: str
    chats: frozenset[int]
    takeover: float | None  # seconds until one of its chats got a message again; None: none was waiting


@dataclass(frozen=True, slots=True)
class FleetFigures:
    replicas: int
    jobs: int
    lost: int
    duplicated: int
    refusals: int
    refused_by: dict[str, int]
    seconds: float
    bound_seconds: float
    kills: tuple[Kill, ...]
    kill_every: float
    commits_per_second: float  # PostgreSQL's, over the load, every replica together

    @property
    def over_bound(self) -> float:
        return self.seconds / self.bound_seconds - 1.0

    @property
    def worst_takeover(self) -> float:
        return max((k.takeover for k in self.kills if k.takeover is not None), default=math.nan)


@dataclass
class Fleet:
    """The replicas, each on a fixed port so that a restarted one takes its place behind the proxy."""

    config: BotConfig
    database_url: str
    public_url: str
    count: int
    ports: list[int] = field(default_factory=list)
    running: dict[int, BotProcess] = field(default_factory=dict)
    _generation: int = 0

    def __post_init__(self) -> None:
        self.ports = [free_port() for _ in range(self.count)]

    async def start(self, index: int) -> None:
        self._generation += 1
        folder = self.config.data_dir / f"replica-{index}-{self._generation}"
        folder.mkdir(parents=True)
        config = replace(self.config, data_dir=folder)
        env = bot_environment(config, self.ports[index])
        env.update(DATABASE_URL=self.database_url, PUBLIC_URL=self.public_url, LOG_LEVEL="INFO")
        self.running[index] = await BotProcess.spawn(config, port=self.ports[index], env=env)

    def kill(self, index: int) -> BotProcess:
        process = self.running.pop(index)
        with contextlib.suppress(ProcessLookupError):
            process.process.kill()
        return process

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.running.values()))


async def commits(url: str) -> int:
    """Transactions committed in the bench's database so far (PostgreSQL's statistics, flushed about every
    second by each connection)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            )
            return int(found.scalar() or 0)
    finally:
        await engine.dispose()


async def members(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await live_holders(conn, MEMBER_PREFIX, now=time.time())
    finally:
        await engine.dispose()


def replica_of(pid: int, alive: list[str]) -> str:
    """Replica ids are host-pid-random."""
    found = [member for member in alive if member.rsplit("-", 2)[1] == str(pid)]
    if not found:
        raise BenchError(f"replica with pid {pid} is not among the live ones: {alive}")
    return found[0]


async def measure_fleet(
    replicas: int,
    data_dir: Path,
    *,
    private_chats: int = 150,
    groups: int = 50,
    jobs_count: int = 1000,
    kill_every: float = KILL_EVERY,
) -> FleetFigures:
    """`kill_every` 0: no replica is killed (the figure without the kills, to compare)."""
    seats = private_seats(private_chats) + group_seats(groups)
    jobs = jobs_across(seats, jobs_count, "fleet")
    with postgres_server() as pg:
        url = pg.create_database("mjgram_bench_fleet")
        proxy = BenchProxy(api_secret=PROXY_SECRET)
        async with BenchTelegram(TOKEN, flood=FloodLimits()) as tg, proxy:
            fleet_ports: list[int] = []
            async with RoundRobin(lambda: fleet_ports) as front:
                config = BotConfig(TOKEN, tg.base_url, proxy.base_url, PROXY_SECRET, HOOK_SECRET, data_dir)
                fleet = Fleet(
                    config, url.replace("postgresql+asyncpg", "postgresql"), front.base_url, replicas
                )
                fleet_ports.extend(fleet.ports)
                try:
                    return await _run(tg, proxy, fleet, url, jobs, kill_every)
                finally:
                    await fleet.stop()


async def _run(
    tg: BenchTelegram, proxy: BenchProxy, fleet: Fleet, url: str, jobs: list[BenchJob], kill_every: float
) -> FleetFigures:
    for index in range(fleet.count):
        await fleet.start(index)
    await _until(lambda: len(tg.calls_of("getUpdates")) > 0, "a replica polls Telegram")
    started = time.monotonic()
    while len(await members(url)) < fleet.count:
        if time.monotonic() - started > STARTUP_TIMEOUT:
            raise BenchError(f"only {len(await members(url))} of {fleet.count} replicas joined")
        await asyncio.sleep(0.2)
    await asyncio.sleep(3.0)  # every replica counts the others in before the load
    await submit_jobs(tg, proxy, jobs)
    await start_running(proxy, jobs, 64)
    await settle(tg, jobs, time.monotonic())

    chats = {job.chat_id for job in jobs}
    since = time.monotonic()
    refusals_before = sum(tg.refusals.values())
    before_by = dict(tg.refusals)
    commits_before = await commits(url)
    load = asyncio.create_task(_finish_all(tg, proxy, jobs))
    kills: list[tuple[float, str, frozenset[int]]] = []
    victim = 0
    while not load.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(load), timeout=kill_every or None)
        if load.done():
            break
        alive = await members(url)
        replica = replica_of(fleet.running[victim].process.pid, alive)
        owned = frozenset(chat for chat in chats if rendezvous_owner(alive, chat) == replica)
        fleet.kill(victim)
        kills.append((time.monotonic(), replica, owned))
        await fleet.start(victim)
        victim = (victim + 1) % fleet.count
    lost = load.result()
    load_seconds = time.monotonic() - since
    await asyncio.sleep(1.5)  # every connection's statistics reach the server
    commits_during = await commits(url) - commits_before
    calls = [c for c in tg.message_calls(since) if c.params.get("chat_id") in chats]
    finished = max((c.at for c in calls if c.ok), default=math.nan)
    first_success = min(proxy.sent_at[(job.task, "SUCCESS")] for job in jobs)
    return FleetFigures(
        replicas=fleet.count,
        jobs=len(jobs),
        lost=len(lost),
        duplicated=sum(1 for job in jobs if _messages_of(tg, job) > 1),
        refusals=sum(tg.refusals.values()) - refusals_before,
        refused_by={k: v - before_by.get(k, 0) for k, v in tg.refusals.items() if v > before_by.get(k, 0)},
        seconds=finished - first_success,
        bound_seconds=len(jobs) * FINAL_CALLS_PER_GRID_JOB / TELEGRAM_GLOBAL_RATE,
        kills=tuple(_takeover(tg, at, replica, owned) for at, replica, owned in kills),
        kill_every=kill_every,
        commits_per_second=commits_during / load_seconds,
    )


async def _finish_all(tg: BenchTelegram, proxy: BenchProxy, jobs: list[BenchJob]) -> list[BenchJob]:
    for job in jobs:  # all at once, as in the single-process load
        await proxy.succeed(job.task)
    return await wait_until_shown(tg, [(job, shows_done) for job in jobs], within=LOAD_TIMEOUT)


def _messages_of(tg: BenchTelegram, job: BenchJob) -> int:
    needle = f"(bench {job.tag})"
    return sum(1 for m in tg.chat_messages(job.chat_id) if m.caption and needle in m.caption)


def _takeover(tg: BenchTelegram, at: float, replica: str, chats: frozenset[int]) -> Kill:
    after = [c.at for c in tg.message_calls(at) if c.ok and c.params.get("chat_id") in chats]
    return Kill(at, replica, chats, (min(after) - at) if after else None)


async def _until(condition: Callable[[], bool], what: str) -> None:
    await poll_until(condition, within=STARTUP_TIMEOUT, what=what)


def fleet_table(f: FleetFigures) -> str:
    takeovers = [k.takeover for k in f.kills]
    shown = ", ".join("—" if t is None else f"{t:.1f} s" for t in takeovers)
    rows = [
        ("figure", "measured", "target"),
        (
            "replicas / jobs / kills",
            f"{f.replicas} / {f.jobs} / {len(f.kills)}"
            + (f" (one every {f.kill_every:.0f} s)" if f.kill_every else ""),
            "",
        ),
        ("finals lost", str(f.lost), "0"),
        ("finals duplicated", str(f.duplicated), "0"),
        ("429s", f"{f.refusals} {f.refused_by}" if f.refusals else "0", "0"),
        (
            "last final vs the 30 msg/s bound",
            f"{f.seconds:.1f} s vs {f.bound_seconds:.1f} s ({f.over_bound:+.0%})",
            f"≤ +{BOUND_TARGET:.0%}",
        ),
        ("takeover after each kill", shown or "—", f"≤ {TAKEOVER_TARGET:.0f} s"),
        ("PostgreSQL commits during the load", f"{f.commits_per_second:.0f}/s", ""),
    ]
    return "\n".join(aligned(rows))
