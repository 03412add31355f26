"""How long a job may run and wait, and how often the silent ones are polled."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobPolicy:
    """Timings: how long a job may run, how often to poll, when push is deemed silent."""

    timeout: float = 900.0
    poll_interval: float = 3.0
    max_poll_interval: float = 20.0
    push_silence: float = 60.0
    input_timeout: float = 600.0
