"""The bench's phases: start-up, intake, webhook ingest, reaction, and finals under flood limits."""

from __future__ import annotations

import asyncio
import gc
import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import aiohttp

from bench.botproc import BotConfig, BotProcess
from bench.fakes import MESSAGE_METHODS, BenchProxy, BenchTelegram
from bench.stats import Latency
from bench.world import BenchJob, shows_done, shows_progress, tag_of, wait_quiet, wait_until_shown

T = TypeVar("T")

STARTUP_TIMEOUT = 30.0
INTAKE_TIMEOUT = 90.0
CONFIRM_ATTEMPTS = 40
CONFIRM_PAUSE = 0.05
FIRST_PROGRESS = 5  # the step every job is started at (IN_PROGRESS with a preview)
WARMUP_PROGRESS = 6
LAST_PROGRESS = 95
HTTP_OK = 200
HOOK_TIMEOUT = 10.0
DRAIN_TIMEOUT = 150.0
QUIET_SECONDS = 1.1  # longer than the fake's 1 s global and per-chat windows
REACTION_TIMEOUT = 10.0
REACTION_INTERVAL = 0.05  # ≤ 20 finals/s: Telegram's 30/s global limit stays out of the figure
TELEGRAM_GLOBAL_RATE = 30.0
FINAL_CALLS_PER_GRID_JOB = 1  # one editMessageMedia: the grid, its caption and its buttons
POLLING_INTERVAL_EXAMPLE = 5.0


class BenchError(RuntimeError):
    """The system under test did not get where a phase needs it; the message says where it stuck."""


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds per wall second (1.0 = one core busy) of the bot and of this load generator."""

    bot: float
    generator: float


class CpuMeter:
    """CPU use of the bot process and of this process between `__init__` and `stop()`."""

    def __init__(self, bot: BotProcess) -> None:
        self._bot = bot
        self._wall = time.monotonic()
        self._bot_cpu = bot.cpu_seconds()
        self._own_cpu = time.process_time()

    def stop(self) -> CpuUse:
        wall = max(time.monotonic() - self._wall, 1e-9)
        return CpuUse(
            bot=(self._bot.cpu_seconds() - self._bot_cpu) / wall,
            generator=(time.process_time() - self._own_cpu) / wall,
        )


def steady_instrument() -> None:
    """Keep this process's own garbage collector out of the figures.

    The fakes and the load generator hold aiogram's pydantic models (via the test harness) and every
    recorded call: a full collection here takes ~170 ms and would show up as a latency outlier that
    belongs to the measuring side. Everything alive now is moved out of the collector's reach.
    """
    gc.collect()
    gc.freeze()


async def bounded(items: Iterable[T], concurrency: int, action: Callable[[T], Awaitable[None]]) -> None:
    """Run `action` over `items` with at most `concurrency` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: T) -> None:
        async with gate:
            await action(item)

    await asyncio.gather(*(one(item) for item in items))


async def poll_until(condition: Callable[[], bool], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            raise BenchError(f"{what}: not reached within {within:.0f}s")
        await asyncio.sleep(0.02)


# --- start-up -------------------------------------------------------------------------------------------


async def start_bot(tg: BenchTelegram, config: BotConfig) -> tuple[BotProcess, float]:
    """Spawn the bot; start-up is process start → the fake's first getUpdates."""
    first_poll = tg.expect("getUpdates", None)
    bot = await BotProcess.spawn(config)
    exited: asyncio.Future[object] = asyncio.ensure_future(bot.process.wait())
    polled: asyncio.Future[object] = asyncio.ensure_future(first_poll)
    try:
        await asyncio.wait({polled, exited}, timeout=STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    finally:
        exited.cancel()
    if not first_poll.done():
        await bot.stop()
        raise BenchError(f"the bot did not poll Telegram within {STARTUP_TIMEOUT:.0f}s:\n{bot.log_tail()}")
    return bot, first_poll.result() - bot.started_at


# --- intake: /imagine updates through Telegram to submitted backend tasks -------------------------------


@dataclass(frozen=True, slots=True)
class Intake:
    jobs: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.jobs / self.seconds


async def submit_jobs(tg: BenchTelegram, proxy: BenchProxy, jobs: Sequence[BenchJob]) -> Intake:
    """Users send /imagine; done when the proxy has every task (each update handled and submitted)."""
    started = time.monotonic()
    for job in jobs:
        tg.user_sends(job.seat.chat, job.seat.user, f"/imagine {job.prompt}")
    await poll_until(
        lambda: len(proxy.tasks) >= len(jobs) or _answered_in_text(tg) is not None,
        within=INTAKE_TIMEOUT,
        what="tasks submitted",
    )
    seconds = time.monotonic() - started
    refusal = _answered_in_text(tg)
    if refusal:
        raise BenchError(f"the bot answered an /imagine with a text message instead of a job: {refusal!r}")
    match_tasks(proxy, jobs)
    return Intake(len(jobs), seconds)


def match_tasks(proxy: BenchProxy, jobs: Sequence[BenchJob]) -> None:
    """Give each job the proxy task its prompt became; every prompt must have reached the proxy as sent."""
    by_tag = {job.tag: job for job in jobs}
    for task_id, task in proxy.tasks.items():
        tag = tag_of(task.prompt)
        if tag in by_tag:
            by_tag[tag].task_id = task_id
    unmatched = [job.tag for job in jobs if job.task_id is None]
    if unmatched:
        raise BenchError(f"{len(unmatched)} prompts reached the proxy changed or not at all: {unmatched[:5]}")


def _answered_in_text(tg: BenchTelegram) -> str | None:
    """The first text message the bot sent: here every /imagine should become a photo card."""
    sent = next((c for c in tg.calls if c.method == "sendMessage" and c.ok), None)
    return str(sent.params.get("text")) if sent is not None else None


async def start_running(proxy: BenchProxy, jobs: Sequence[BenchJob], concurrency: int) -> None:
    """Move every task to IN_PROGRESS through the proxy's notify hook, until the bot has accepted each."""

    async def run(job: BenchJob) -> None:
        await proxy.advance(job.task, FIRST_PROGRESS)
        await _confirm_hook(proxy, job)
        job.shown_progress = FIRST_PROGRESS

    await bounded(jobs, concurrency, run)


async def _confirm_hook(proxy: BenchProxy, job: BenchJob) -> None:
    # A notify can beat the bot's bookkeeping of the submit answer (404: unknown task); send it again.
    for _ in range(CONFIRM_ATTEMPTS):
        if proxy.hook_status.get(job.task) == HTTP_OK:
            return
        await asyncio.sleep(CONFIRM_PAUSE)
        await proxy.renotify(job.task, proxy.snapshot(job.task))
    raise BenchError(f"the bot never accepted the notify of job {job.tag}: {proxy.hook_status.get(job.task)}")


# --- webhook ingest -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ingest:
    events: int
    seconds: float
    latency: Latency
    failures: int
    concurrency: int
    jobs: int
    cpu: CpuUse

    @property
    def per_second(self) -> float:
        return self.events / self.seconds


def progress_bodies(proxy: BenchProxy, jobs: Sequence[BenchJob], events: int) -> list[bytes]:
    """`events` notify bodies (the proxy's own task JSON), round-robin over the jobs, progress rising."""
    templates = [proxy.snapshot(job.task) for job in jobs]
    rounds = math.ceil(events / len(jobs))
    bodies = []
    for k in range(events):
        index, step = k % len(jobs), k // len(jobs) + 1
        percent = FIRST_PROGRESS + round(step * (LAST_PROGRESS - FIRST_PROGRESS) / rounds)
        jobs[index].shown_progress = percent
        body = {**templates[index], "status": "IN_PROGRESS", "progress": f"{percent}%"}
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


def warmup_bodies(proxy: BenchProxy, jobs: Sequence[BenchJob]) -> list[bytes]:
    return [
        json.dumps(
            {**proxy.snapshot(job.task), "progress": f"{WARMUP_PROGRESS}%"}, ensure_ascii=False
        ).encode()
        for job in jobs
    ]


async def post_all(
    client: aiohttp.ClientSession, url: str, bodies: Sequence[bytes], concurrency: int
) -> tuple[list[float], int]:
    """POST every body with `concurrency` in flight; (latency of each, number not applied)."""
    latencies: list[float] = []
    failures = 0
    pending = iter(bodies)
    headers = {"Content-Type": "application/json; charset=utf-8"}

    async def worker() -> None:
        nonlocal failures
        for body in pending:
            started = time.perf_counter()
            async with client.post(url, data=body, headers=headers) as response:
                answer = await response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != HTTP_OK or b'"applied":1' not in answer:
                failures += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failures


async def run_ingest(
    bot: BotProcess, url: str, proxy: BenchProxy, jobs: Sequence[BenchJob], events: int, concurrency: int
) -> Ingest:
    warmup = warmup_bodies(proxy, jobs[:concurrency])
    bodies = progress_bodies(proxy, jobs, events)
    # aiohttp, not httpx: httpx 0.28 spends 2-3 ms of CPU per request at 32-64 connections (its pool
    # scans every connection), so it tops out near 400 POSTs/s here and would measure itself.
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=HOOK_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        await post_all(client, url, warmup, concurrency)  # opens the connections; not counted
        steady_instrument()
        meter = CpuMeter(bot)
        started = time.perf_counter()
        latencies, failures = await post_all(client, url, bodies, concurrency)
        seconds = time.perf_counter() - started
        cpu = meter.stop()
    return Ingest(len(bodies), seconds, Latency.of(latencies), failures, concurrency, len(jobs), cpu)


# --- settling: every message shows its job's newest state -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Settle:
    seconds: float
    telegram_calls: int
    refusals: int


async def settle(tg: BenchTelegram, jobs: Sequence[BenchJob], since: float) -> Settle:
    """Wait until each message shows its job's newest progress and Telegram has been quiet a moment."""
    missing = await wait_until_shown(
        tg, [(job, shows_progress(job.shown_progress)) for job in jobs], within=DRAIN_TIMEOUT
    )
    if missing:
        raise BenchError(
            f"{len(missing)} messages never showed their newest progress, e.g. {missing[0].tag} "
            f"({missing[0].shown_progress}%)"
        )
    if not await wait_quiet(tg, MESSAGE_METHODS, QUIET_SECONDS, within=DRAIN_TIMEOUT):
        raise BenchError("Telegram never went quiet")
    calls = tg.message_calls(since)
    return Settle(time.monotonic() - since, len(calls), sum(1 for c in calls if not c.ok))


# --- reaction -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reaction:
    latency: Latency
    timeouts: int
    samples: tuple[float, ...]  # seconds, in the order the jobs finished


async def run_reaction(tg: BenchTelegram, proxy: BenchProxy, jobs: Sequence[BenchJob]) -> Reaction:
    """One job at a time: SUCCESS notify leaves the proxy → its editMessageMedia reaches Telegram."""
    samples: list[float] = []
    timeouts = 0
    steady_instrument()
    for job in jobs:
        started = time.monotonic()
        sample = await _one_reaction(tg, proxy, job)
        if sample is None:
            timeouts += 1
        else:
            samples.append(sample)
        await asyncio.sleep(max(0.0, started + REACTION_INTERVAL - time.monotonic()))
    return Reaction(Latency.of(samples), timeouts, tuple(samples))


async def _one_reaction(tg: BenchTelegram, proxy: BenchProxy, job: BenchJob) -> float | None:
    arrival = tg.expect("editMessageMedia", job.chat_id)
    await proxy.succeed(job.task)
    try:
        arrived = await asyncio.wait_for(arrival, REACTION_TIMEOUT)
    except TimeoutError:
        return None
    missing = await wait_until_shown(tg, [(job, shows_done)], within=REACTION_TIMEOUT)
    if missing:
        raise BenchError(f"reaction job {job.tag} was edited but does not show the finished grid")
    return arrived - proxy.sent_at[(job.task, "SUCCESS")]


# --- load: every job finishes at once, under Telegram's flood limits ------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    jobs: int
    chats: int
    groups: int
    notify_seconds: float
    seconds: float
    bound_seconds: float
    refusals: Counter[str]
    lost: int
    calls: int
    life_calls: int
    cpu: CpuUse

    @property
    def over_bound(self) -> float:
        return self.seconds / self.bound_seconds - 1.0


async def run_load(
    tg: BenchTelegram,
    proxy: BenchProxy,
    bot: BotProcess,
    jobs: Sequence[BenchJob],
    concurrency: int,
    within: float,
) -> Load:
    """Fire SUCCESS for every job at once; time until the last final reaches Telegram."""
    chats = {job.chat_id for job in jobs}
    steady_instrument()
    since = time.monotonic()
    refusals_before = Counter(tg.refusals)
    meter = CpuMeter(bot)
    await bounded(jobs, concurrency, lambda job: proxy.succeed(job.task))
    sent = [proxy.sent_at[(job.task, "SUCCESS")] for job in jobs]
    lost = await wait_until_shown(tg, [(job, shows_done) for job in jobs], within=within)
    cpu = meter.stop()
    calls = [c for c in tg.message_calls(since) if c.params.get("chat_id") in chats]
    finished = max((c.at for c in calls if c.ok), default=math.nan)
    needed = len(jobs) * FINAL_CALLS_PER_GRID_JOB
    return Load(
        jobs=len(jobs),
        chats=len(chats),
        groups=sum(1 for chat in chats if chat < 0),
        notify_seconds=max(sent) - min(sent),
        seconds=finished - min(sent),
        bound_seconds=needed / TELEGRAM_GLOBAL_RATE,
        refusals=tg.refusals - refusals_before,
        lost=len(lost),
        calls=len(calls),
        life_calls=sum(1 for c in tg.message_calls() if c.params.get("chat_id") in chats),
        cpu=cpu,
    )
