"""`python -m bench.botmain`: the bot as `python -m bot` runs it, with two things the memory phase needs.

- SIGUSR1 collects garbage (every generation), then writes the process's resident set size (VmRSS, kB) to
  `collected-<n>` in the working directory, so the bench reads memory only after a collection. With
  `MJGRAM_BENCH_TRACEMALLOC=1` the process also traces allocations from its start and writes a tracemalloc
  snapshot `snapshot-<n>.tm` next to it (slow and memory-hungry: to find where memory goes, not for figures).
- With `MJGRAM_BENCH_PROFILE=<file>`, SIGUSR2 starts cProfile on the event loop's thread and the next SIGUSR2
  stops it and writes its statistics to the file: one phase profiled, not the whole run (`--profile`).
- With `MJGRAM_BENCH_OPEN_PACING=1` the bot's own Telegram pacing (30 msg/s overall, 1/s per chat) is lifted:
  the memory phase starts 10,000 jobs against a fake Telegram without flood limits, which at 30 msg/s would
  take six minutes of waiting for nothing but the clock. Memory per job is the same either way: the pacing's
  per-chat windows are still kept (and bounded) as in production.
"""

from __future__ import annotations

import cProfile
import gc
import os
import signal
import tracemalloc
from pathlib import Path
from types import FrameType

OPEN_PACING = "MJGRAM_BENCH_OPEN_PACING"
TRACE = "MJGRAM_BENCH_TRACEMALLOC"
PROFILE = "MJGRAM_BENCH_PROFILE"
_collections = 0
_profiler: cProfile.Profile | None = None


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _collect(signum: int, frame: FrameType | None) -> None:
    global _collections
    _collections += 1
    gc.collect()
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(f"snapshot-{_collections}.tm")
    name = f"collected-{_collections}"
    Path(name + ".tmp").write_text(str(_rss_kb()))
    os.replace(name + ".tmp", name)  # the bench never reads a half-written file


def _toggle_profile(signum: int, frame: FrameType | None) -> None:
    global _profiler
    if _profiler is None:
        _profiler = cProfile.Profile()
        _profiler.enable()
        return
    _profiler.disable()
    _profiler.dump_stats(os.environ[PROFILE])
    _profiler = None


def _open_pacing() -> None:
    from bot.delivery import sender
    from bot.delivery.pacing import DeliveryLimits

    def opened() -> DeliveryLimits:
        return DeliveryLimits(global_per_second=100_000, chat_per_second=1_000, group_per_minute=1_000_000)

    sender.DeliveryLimits = opened  # type: ignore[misc,assignment]  # what Sender() builds by default


def main() -> None:
    if os.environ.get(TRACE) == "1":
        tracemalloc.start(1)
    signal.signal(signal.SIGUSR1, _collect)
    if os.environ.get(PROFILE):
        signal.signal(signal.SIGUSR2, _toggle_profile)
    if os.environ.get(OPEN_PACING) == "1":
        _open_pacing()
    from bot.cli import main as bot_main

    bot_main()


if __name__ == "__main__":
    main()
