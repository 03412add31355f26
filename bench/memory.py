"""Memory, one process: resident set size with 1,000 and then 10,000 jobs in flight, and the growth per job.

A bot of its own (`python -m bench.botmain`: `python -m bot` plus a garbage-collect signal) against a fake
Telegram without flood limits and with the bot's own pacing lifted (see bench.botmain: at 30 msg/s, 10,000
cards take six minutes of waiting; the per-chat pacing state is still kept as in production). Users in
separate private chats send /imagine; each job is submitted to the fake midjourney-proxy, gets its card, and
is moved to IN_PROGRESS with a preview through the notify hook, so it is in flight everywhere it can be: a
running task at the backend, a row the poller watches, a message delivery keeps current. Once every message
shows the progress and Telegram has been quiet a moment, the bench signals the bot to collect garbage and
reads the bot's VmRSS. Then 9,000 more jobs, the same way, in the same process.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from pathlib import Path

from bench.botmain import OPEN_PACING, TRACE
from bench.botproc import BotConfig, BotProcess
from bench.fakes import MESSAGE_METHODS, BenchProxy, BenchTelegram
from bench.phases import FIRST_PROGRESS, BenchError, match_tasks, poll_until, start_bot, start_running
from bench.world import (
    BenchJob,
    jobs_across,
    private_seats,
    shows_progress,
    wait_quiet,
    wait_until_shown,
)
from tests.harness import TOKEN

MEMORY_USER_BASE = 5_000_000_000
STEPS = (1000, 10_000)
QUICK_STEPS = (200, 2000)
CONCURRENCY = 64
SUBMIT_TIMEOUT = 300.0
SHOWN_TIMEOUT = 300.0
QUIET_SECONDS = 2.0
COLLECT_TIMEOUT = 30.0
SECRET = "bench-memory-proxy-secret"
HOOK_SECRET = "bench-memory-hook-secret-0123456789abcdef"


@dataclass(frozen=True, slots=True)
class MemoryStep:
    jobs: int
    rss_mb: float  # after a full garbage collection, with every job's message current
    seconds: float  # to start this step's jobs and settle


@dataclass(frozen=True, slots=True)
class MemoryFigure:
    low: MemoryStep
    high: MemoryStep
    peak_rss_mb: float  # VmHWM of this phase's bot

    @property
    def per_job_kb(self) -> float:
        return (self.high.rss_mb - self.low.rss_mb) * 1024 / (self.high.jobs - self.low.jobs)


async def measure_memory(
    data_dir: Path, steps: tuple[int, int] = STEPS, *, trace: bool = False
) -> MemoryFigure:
    own_dir = data_dir / "memory"
    own_dir.mkdir()
    seats = private_seats(steps[1], MEMORY_USER_BASE)
    jobs = jobs_across(seats, steps[1], "mem")
    proxy = BenchProxy(api_secret=SECRET)
    async with BenchTelegram(TOKEN, flood=None) as tg, proxy:
        wrapper_env = ((OPEN_PACING, "1"), (TRACE, "1" if trace else "0"))
        config = BotConfig(
            TOKEN,
            tg.base_url,
            proxy.base_url,
            SECRET,
            HOOK_SECRET,
            own_dir,
            module="bench.botmain",
            extra_env=wrapper_env,
        )
        bot, _ = await start_bot(tg, config)
        try:
            low = await _step(tg, proxy, bot, jobs[: steps[0]], 0, 1)
            high = await _step(tg, proxy, bot, jobs[steps[0] :], steps[0], 2)
            return MemoryFigure(low, high, bot.memory().peak_rss_mb)
        except BenchError as exc:
            raise BenchError(f"memory phase: {exc}\n--- bot log (tail) ---\n{bot.log_tail()}") from None
        finally:
            await bot.stop()


async def _step(
    tg: BenchTelegram, proxy: BenchProxy, bot: BotProcess, jobs: list[BenchJob], before: int, n: int
) -> MemoryStep:
    started = time.monotonic()
    await _submit(tg, proxy, jobs, before)
    await start_running(proxy, jobs, CONCURRENCY)
    missing = await wait_until_shown(
        tg, [(job, shows_progress(FIRST_PROGRESS)) for job in jobs], within=SHOWN_TIMEOUT
    )
    if missing:
        raise BenchError(f"{len(missing)} messages never showed their progress, e.g. {missing[0].tag}")
    if not await wait_quiet(tg, MESSAGE_METHODS, QUIET_SECONDS, within=SHOWN_TIMEOUT):
        raise BenchError("Telegram never went quiet")
    seconds = time.monotonic() - started
    rss_kb = await _collected(bot, n)
    return MemoryStep(before + len(jobs), rss_kb / 1024, seconds)


async def _submit(tg: BenchTelegram, proxy: BenchProxy, jobs: list[BenchJob], before: int) -> None:
    """Users send /imagine; done when the proxy has every task."""
    for job in jobs:
        tg.user_sends(job.seat.chat, job.seat.user, f"/imagine {job.prompt}")
    total = before + len(jobs)
    await poll_until(lambda: len(proxy.tasks) >= total, within=SUBMIT_TIMEOUT, what="memory tasks submitted")
    match_tasks(proxy, jobs)


async def _collected(bot: BotProcess, n: int) -> int:
    """Signal the bot to collect garbage; its VmRSS (kB) right after the collection."""
    bot.process.send_signal(signal.SIGUSR1)
    marker = bot.log.parent / f"collected-{n}"
    await poll_until(marker.exists, within=COLLECT_TIMEOUT, what="the bot's garbage collection")
    return int(marker.read_text())
