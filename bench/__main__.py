"""`python -m bench` (also `make bench`): start the fakes and the bot, run every phase, print the figures.

The bot runs as the real `python -m bot` in a child process, configured through its environment; the fake
Telegram (with Telegram's flood limits), the fake midjourney-proxy and the load generator share this process.
Everything listens on 127.0.0.1 and stops by itself, on errors and Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.botproc import BotConfig, BotProcess
from bench.fakes import BenchProxy, BenchTelegram
from bench.fleet import FleetFigures, fleet_table, measure_fleet
from bench.memory import QUICK_STEPS, STEPS, measure_memory
from bench.phases import (
    BenchError,
    run_ingest,
    run_load,
    run_reaction,
    settle,
    start_bot,
    start_running,
    submit_jobs,
)
from bench.polling import measure_acedata_polling, measure_polling
from bench.report import Results, json_line, table
from bench.world import REACTION_USER_BASE, BenchJob, group_seats, jobs_across, private_seats
from tests.fakes.telegram import FloodLimits
from tests.harness import TOKEN

PROXY_SECRET = "bench-proxy-secret"
HOOK_SECRET = "bench-hook-secret-0123456789abcdef"
RUN_DEADLINE = 900.0  # seconds; a run that takes longer is stopped and reported as failed
LOAD_TIMEOUT_FACTOR = 3.0
MIN_LOAD_TIMEOUT = 60.0
POLL_JOBS = 1000  # the polling figure always runs 1,000 jobs: it costs seconds, not minutes


@dataclass(frozen=True, slots=True)
class Plan:
    """How big each phase is."""

    private_chats: int = 150
    groups: int = 50
    load_jobs: int = 1000
    reaction_jobs: int = 200
    events: int = 10_000
    concurrency: int = 64
    profile: Path | None = None
    replicas: int | None = None  # run the replicas figure instead
    kill_every: float = 10.0
    memory_steps: tuple[int, int] | None = STEPS  # jobs in flight at the two memory readings; None: skipped

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            private_chats=30,
            groups=10,
            load_jobs=200,
            reaction_jobs=40,
            events=2000,
            concurrency=32,
            memory_steps=QUICK_STEPS,
        )


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the size, for a smoke run")
    parser.add_argument("--events", type=int, help="webhook ingest events (default 10000)")
    parser.add_argument("--concurrency", type=int, help="POSTs in flight (default 64)")
    parser.add_argument(
        "--profile", type=Path, help="run the bot under cProfile and write its stats here (slows the bot)"
    )
    parser.add_argument(
        "--replicas",
        type=int,
        help="instead: the load on N replicas, one killed every 10 s (needs --postgres)",
    )
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL (Debian's package)")
    parser.add_argument(
        "--kill-every", type=float, default=10.0, help="with --replicas: seconds between kills (0: none)"
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the memory phase (1,000 → 10,000 jobs, ~5 minutes)"
    )
    args = parser.parse_args(argv)
    if args.replicas is not None and (args.replicas < 2 or not args.postgres):
        parser.error("--replicas needs at least 2 replicas and --postgres")
    plan = Plan.quick() if args.quick else Plan()
    return Plan(
        private_chats=plan.private_chats,
        groups=plan.groups,
        load_jobs=plan.load_jobs,
        reaction_jobs=plan.reaction_jobs,
        events=args.events or plan.events,
        concurrency=args.concurrency or plan.concurrency,
        profile=args.profile,
        replicas=args.replicas,
        kill_every=args.kill_every,
        memory_steps=None if args.no_memory else plan.memory_steps,
    )


async def measure(plan: Plan, data_dir: Path) -> Results:
    started = time.monotonic()
    load_seats = private_seats(plan.private_chats) + group_seats(plan.groups)
    load_jobs = jobs_across(load_seats, plan.load_jobs, "load")
    reaction_seats = private_seats(plan.reaction_jobs, REACTION_USER_BASE)
    reaction_jobs = jobs_across(reaction_seats, plan.reaction_jobs, "react")
    proxy = BenchProxy(api_secret=PROXY_SECRET)
    async with BenchTelegram(TOKEN, flood=FloodLimits()) as tg, proxy:
        config = BotConfig(
            TOKEN, tg.base_url, proxy.base_url, PROXY_SECRET, HOOK_SECRET, data_dir, profile=plan.profile
        )
        bot, startup = await start_bot(tg, config)
        try:
            phases = _phases(plan, tg, proxy, bot, load_jobs, reaction_jobs, startup, started, data_dir)
            results = await _while_alive(bot, phases)
        except BenchError as exc:
            raise BenchError(f"{exc}\n--- bot log (tail) ---\n{bot.log_tail()}") from None
        finally:
            await bot.stop()
    if plan.memory_steps is None:
        return results
    low, high = plan.memory_steps
    _say(f"memory: a new bot, {low} jobs in flight, then {high}; garbage collected before each reading")
    memory = await measure_memory(data_dir, plan.memory_steps)
    return replace(results, memory=memory, wall_seconds=time.monotonic() - started)


async def _phases(
    plan: Plan,
    tg: BenchTelegram,
    proxy: BenchProxy,
    bot: BotProcess,
    load_jobs: list[BenchJob],
    reaction_jobs: list[BenchJob],
    startup: float,
    started: float,
    data_dir: Path,
) -> Results:
    every_job = load_jobs + reaction_jobs
    setup_started = time.monotonic()
    _say(f"bot up in {startup:.2f} s; {len(every_job)} users send /imagine")
    intake = await submit_jobs(tg, proxy, every_job)
    await start_running(proxy, every_job, plan.concurrency)
    in_flight = bot.memory()
    _say(f"{len(every_job)} jobs running; {plan.events} progress POSTs")
    ingest = await run_ingest(bot, bot.hook_url(HOOK_SECRET), proxy, load_jobs, plan.events, plan.concurrency)
    _say("waiting until every message shows its newest progress (setup, not counted)")
    settled = await settle(tg, every_job, setup_started)
    _say(f"reaction: {len(reaction_jobs)} jobs one at a time")
    reaction = await run_reaction(tg, proxy, reaction_jobs)
    _say(f"load: {len(load_jobs)} jobs finish at once")
    load_timeout = max(MIN_LOAD_TIMEOUT, LOAD_TIMEOUT_FACTOR * len(load_jobs) / 30)
    load = await run_load(tg, proxy, bot, load_jobs, plan.concurrency, load_timeout)
    _say(f"polling without PUBLIC_URL: {POLL_JOBS} jobs in flight, one fetch each, then one list for all")
    polling = await measure_polling(POLL_JOBS, data_dir)
    _say(f"Ace Data Cloud without PUBLIC_URL: {POLL_JOBS} async submits, then polled in batches")
    acedata = await measure_acedata_polling(POLL_JOBS, data_dir)
    return Results(
        startup_seconds=startup,
        intake=intake,
        ingest=ingest,
        settle=settled,
        reaction=reaction,
        load=load,
        in_flight=in_flight,
        final=bot.memory(),
        jobs_in_flight=len(every_job),
        bot_log=bot.log_counts(),
        wall_seconds=time.monotonic() - started,
        polling=polling,
        acedata=acedata,
    )


async def _while_alive(bot: BotProcess, work: Coroutine[Any, Any, Results]) -> Results:
    """Run `work`, but stop at once with the bot's log when the bot process dies under it."""
    task = asyncio.ensure_future(work)
    exited = asyncio.ensure_future(bot.process.wait())
    try:
        await asyncio.wait({task, exited}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        exited.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.done() and not task.cancelled():
        return task.result()  # or the phase's own exception
    raise BenchError(f"the bot exited with code {bot.process.returncode} in the middle of the run")


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


async def run(plan: Plan) -> Results:
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM stops the run as Ctrl-C does: everything is closed on the way out
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    with tempfile.TemporaryDirectory(prefix="mjgram-bench-") as tmp:
        async with asyncio.timeout(RUN_DEADLINE):
            return await measure(plan, Path(tmp))


async def run_fleet(plan: Plan) -> FleetFigures:
    with tempfile.TemporaryDirectory(prefix="mjgram-bench-fleet-") as tmp:
        async with asyncio.timeout(RUN_DEADLINE):
            assert plan.replicas is not None
            return await measure_fleet(
                plan.replicas,
                Path(tmp),
                private_chats=plan.private_chats,
                groups=plan.groups,
                jobs_count=plan.load_jobs,
                kill_every=plan.kill_every,
            )


def main(argv: list[str] | None = None) -> None:
    plan = parse_args(argv)
    if plan.replicas is not None:
        try:
            fleet = asyncio.run(run_fleet(plan))
        except (BenchError, TimeoutError) as exc:
            raise SystemExit(f"bench: failed: {exc or 'the run took longer than the deadline'}") from None
        print(fleet_table(fleet))
        return
    try:
        results = asyncio.run(run(plan))
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise SystemExit("bench: interrupted") from None
    except (BenchError, TimeoutError) as exc:
        raise SystemExit(f"bench: failed: {exc or 'the run took longer than the deadline'}") from None
    print(table(results))
    print(json_line(results))


if __name__ == "__main__":
    main()
