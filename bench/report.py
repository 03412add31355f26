"""The figures of one run: a readable table and one JSON line, each figure against its target."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.botproc import Memory
from bench.memory import MemoryFigure
from bench.phases import POLLING_INTERVAL_EXAMPLE, Ingest, Intake, Load, Reaction, Settle
from bench.polling import AceDataFigure, Polling

INGEST_RATE_TARGET = 2000.0
INGEST_P99_TARGET_MS = 50.0
REACTION_P99_TARGET_MS = 50.0
LOAD_OVER_BOUND_TARGET = 0.15
PEAK_RSS_TARGET_MB = 210.0
PER_JOB_KB_TARGET = 8.0  # RSS growth per extra job in flight, between the memory phase's two readings
POLLS_PER_MINUTE_TARGET = 20  # one request per 3 s poll interval, for all jobs together


@dataclass(frozen=True, slots=True)
class Results:
    """Everything one run measured."""

    startup_seconds: float
    intake: Intake
    ingest: Ingest
    settle: Settle
    reaction: Reaction
    load: Load
    in_flight: Memory
    final: Memory
    jobs_in_flight: int
    bot_log: dict[str, int]
    wall_seconds: float
    polling: Polling | None = None
    acedata: AceDataFigure | None = None
    memory: MemoryFigure | None = None


def targets(r: Results) -> dict[str, bool]:
    return {
        "ingest_rate": r.ingest.per_second >= INGEST_RATE_TARGET and r.ingest.failures == 0,
        "ingest_p99": r.ingest.latency.p99_ms <= INGEST_P99_TARGET_MS,
        "reaction_p99": r.reaction.latency.p99_ms <= REACTION_P99_TARGET_MS and r.reaction.timeouts == 0,
        "load_time": r.load.over_bound <= LOAD_OVER_BOUND_TARGET,
        "load_429": sum(r.load.refusals.values()) == 0,
        "load_lost": r.load.lost == 0,
        "peak_rss": r.final.peak_rss_mb <= PEAK_RSS_TARGET_MB,
        # At most one request per poll interval for all jobs together (the default grows 3 s → 20 s).
        "polling": r.polling is None or r.polling.after.requests <= POLLS_PER_MINUTE_TARGET,
        # Ace Data Cloud without a callback URL: no connection held open for any job.
        "acedata_connections": r.acedata is None or r.acedata.most_open == 0,
        "memory_per_job": r.memory is None or r.memory.per_job_kb <= PER_JOB_KB_TARGET,
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _rows(r: Results) -> list[tuple[str, str, str, str]]:
    met = targets(r)
    ing, load, rea = r.ingest, r.load, r.reaction
    refused = sum(load.refusals.values())
    by_limit = ", ".join(f"{n} {limit}" for limit, n in load.refusals.most_common()) or "none"
    return [
        ("start-up: process start → first getUpdates", f"{r.startup_seconds:.2f} s", "", ""),
        (
            "intake: /imagine updates → tasks at the proxy",
            f"{r.intake.jobs} in {r.intake.seconds:.1f} s = {r.intake.per_second:.0f}/s",
            "",
            "",
        ),
        (
            f"webhook ingest: {ing.events} progress POSTs, {ing.concurrency} in flight, {ing.jobs} jobs",
            f"{ing.per_second:.0f} events/s ({ing.failures} not applied)",
            f"≥ {INGEST_RATE_TARGET:.0f}/s",
            _verdict(met["ingest_rate"]),
        ),
        (
            "webhook ingest: POST latency p50 / p99 / max",
            f"{ing.latency.p50_ms:.1f} / {ing.latency.p99_ms:.1f} / {ing.latency.max_ms:.0f} ms",
            f"p99 ≤ {INGEST_P99_TARGET_MS:.0f} ms",
            _verdict(met["ingest_p99"]),
        ),
        (
            "webhook ingest: CPU (cores) bot / load generator",
            f"{ing.cpu.bot:.2f} / {ing.cpu.generator:.2f}",
            "",
            "",
        ),
        (
            f"reaction: SUCCESS notify → editMessageMedia at Telegram ({rea.latency.count} jobs, 1 by 1)",
            f"p50 {rea.latency.p50_ms:.1f} / p99 {rea.latency.p99_ms:.1f} ms ({rea.timeouts} timed out)",
            f"p99 ≤ {REACTION_P99_TARGET_MS:.0f} ms",
            _verdict(met["reaction_p99"]),
        ),
        (
            f"  (a bot polling every {POLLING_INTERVAL_EXAMPLE:.0f} s waits on average)",
            f"{POLLING_INTERVAL_EXAMPLE / 2 * 1000:.0f} ms",
            "",
            "",
        ),
        (
            f"load: {load.jobs} finals in {load.chats} chats ({load.groups} groups), all SUCCESS within",
            f"{load.notify_seconds:.2f} s",
            "~1 s",
            "",
        ),
        (
            "load: last final delivered vs 30 msg/s lower bound",
            f"{load.seconds:.1f} s vs {load.bound_seconds:.1f} s ({load.over_bound:+.0%})",
            f"≤ +{LOAD_OVER_BOUND_TARGET:.0%}",
            _verdict(met["load_time"]),
        ),
        ("load: 429s received", f"{refused} ({by_limit})", "0", _verdict(met["load_429"])),
        ("load: finals lost (not Done + 9 buttons)", f"{load.lost}", "0", _verdict(met["load_lost"])),
        (
            "load: Telegram calls per job, load phase / whole life",
            f"{load.calls / load.jobs:.2f} / {load.life_calls / load.jobs:.2f}",
            "",
            "",
        ),
        ("load: CPU (cores) bot / fakes", f"{load.cpu.bot:.2f} / {load.cpu.generator:.2f}", "", ""),
        (
            f"memory: bot RSS with {r.jobs_in_flight} jobs in flight / peak (VmHWM)",
            f"{r.in_flight.rss_mb:.0f} / {r.final.peak_rss_mb:.0f} MB",
            f"peak ≤ {PEAK_RSS_TARGET_MB:.0f} MB",
            _verdict(met["peak_rss"]),
        ),
        (
            "setup (not counted): Telegram calls until every message was current",
            f"{r.settle.telegram_calls} in {r.settle.seconds:.0f} s, {r.settle.refusals} refused",
            "",
            "",
        ),
        *_memory_rows(r),
        *_polling_rows(r),
        (
            "bot log: warnings / errors",
            f"{r.bot_log.get('WARNING', 0)} / {r.bot_log.get('ERROR', 0)}",
            "",
            "",
        ),
    ]


def _memory_rows(r: Results) -> list[tuple[str, str, str, str]]:
    if r.memory is None:
        return []
    low, high = r.memory.low, r.memory.high
    return [
        (
            f"memory phase (own bot): RSS after gc with {low.jobs} / {high.jobs} jobs in flight",
            f"{low.rss_mb:.1f} / {high.rss_mb:.1f} MB (peak {r.memory.peak_rss_mb:.0f} MB)",
            "",
            "",
        ),
        (
            f"memory phase: RSS growth per extra job in flight, {low.jobs} → {high.jobs}",
            f"{r.memory.per_job_kb:.2f} KB",
            f"≤ {PER_JOB_KB_TARGET:.0f} KB",
            _verdict(targets(r)["memory_per_job"]),
        ),
    ]


def _polling_rows(r: Results) -> list[tuple[str, str, str, str]]:
    if r.polling is None:
        return []
    before, after = r.polling.before, r.polling.after
    return [
        (
            f"polling, no PUBLIC_URL, {before.jobs} jobs: requests per job per minute, one fetch each",
            f"{before.per_job_per_minute:.3f} ({before.requests}/min)",
            "",
            "",
        ),
        (
            f"polling, no PUBLIC_URL, {after.jobs} jobs: requests per job per minute, list-by-condition",
            f"{after.per_job_per_minute:.4f} ({after.requests}/min)",
            f"≤ {POLLS_PER_MINUTE_TARGET}/min for all",
            _verdict(targets(r)["polling"]),
        ),
        *_acedata_rows(r),
    ]


def _acedata_rows(r: Results) -> list[tuple[str, str, str, str]]:
    if r.acedata is None:
        return []
    ace = r.acedata
    return [
        (
            f"Ace Data, no PUBLIC_URL, {ace.jobs} jobs: open connections per job (most at once)",
            f"{ace.open_per_job:.3f} ({ace.most_open})",
            "0 per job",
            _verdict(targets(r)["acedata_connections"]),
        ),
        (
            f"Ace Data, no PUBLIC_URL, {ace.jobs} jobs: requests per job per minute, retrieve_batch",
            f"{ace.per_job_per_minute:.4f} ({ace.requests}/min, {ace.batches} batch reads)",
            "",
            "",
        ),
    ]


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as lines of columns; a rule under the first row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return lines


def table(r: Results) -> str:
    lines = aligned([("figure", "measured", "target", "verdict"), *_rows(r)])
    header = (
        f"mjgram bench — {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"run took {r.wall_seconds:.0f} s"
    )
    return "\n".join([header, "", *lines])


def summary(r: Results) -> dict[str, Any]:
    ing, rea, load = r.ingest, r.reaction, r.load
    return {
        "bench": "mjgram",
        "cores": os.cpu_count(),
        "startup_s": round(r.startup_seconds, 3),
        "intake_per_s": round(r.intake.per_second, 1),
        "ingest_events_per_s": round(ing.per_second, 1),
        "ingest_p50_ms": round(ing.latency.p50_ms, 2),
        "ingest_p99_ms": round(ing.latency.p99_ms, 2),
        "ingest_not_applied": ing.failures,
        "reaction_p50_ms": round(rea.latency.p50_ms, 2),
        "reaction_p99_ms": round(rea.latency.p99_ms, 2),
        "reaction_timeouts": rea.timeouts,
        "load_jobs": load.jobs,
        "load_notify_spread_s": round(load.notify_seconds, 3),
        "load_s": round(load.seconds, 2),
        "load_bound_s": round(load.bound_seconds, 2),
        "load_over_bound": round(load.over_bound, 4),
        "load_429": sum(load.refusals.values()),
        "load_lost": load.lost,
        "calls_per_job_load": round(load.calls / load.jobs, 3),
        "calls_per_job_life": round(load.life_calls / load.jobs, 3),
        "rss_in_flight_mb": round(r.in_flight.rss_mb, 1),
        "peak_rss_mb": round(r.final.peak_rss_mb, 1),
        "poll_requests_per_job_min_before": round(r.polling.before.per_job_per_minute, 4)
        if r.polling
        else None,
        "poll_requests_per_job_min_after": round(r.polling.after.per_job_per_minute, 4)
        if r.polling
        else None,
        "acedata_open_connections_per_job": round(r.acedata.open_per_job, 4) if r.acedata else None,
        "acedata_poll_requests_per_job_min": round(r.acedata.per_job_per_minute, 4) if r.acedata else None,
        **_memory_summary(r.memory),
        "targets_met": targets(r),
        "wall_s": round(r.wall_seconds, 1),
    }


def _memory_summary(m: MemoryFigure | None) -> dict[str, Any]:
    if m is None:
        return {"memory_jobs": None, "memory_rss_mb": None, "memory_per_job_kb": None}
    return {
        "memory_jobs": [m.low.jobs, m.high.jobs],
        "memory_rss_mb": [round(m.low.rss_mb, 1), round(m.high.rss_mb, 1)],
        "memory_per_job_kb": round(m.per_job_kb, 2),
    }


def json_line(r: Results) -> str:
    return json.dumps(summary(r), ensure_ascii=False, separators=(",", ":"))
