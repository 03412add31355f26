"""The bot under test: the real `python -m bot` in its own process, configured through its environment."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
PR_SET_PDEATHSIG = 1  # linux/prctl.h: signal the child when its parent dies
STOP_TIMEOUT = 15.0
LOG_TAIL_LINES = 30
# Five jobs per chat from one user: the quotas must allow it (they are still checked on every job).
QUOTAS = {"max_active_per_user": "10", "max_active_per_chat": "20", "daily_limit": "0"}


@dataclass(frozen=True, slots=True)
class BotConfig:
    """What the bench tells the bot: where the fakes are and which secrets to use."""

    token: str
    telegram_url: str
    proxy_url: str
    proxy_secret: str
    hook_secret: str
    data_dir: Path
    profile: Path | None = None  # write the bot's cProfile statistics here
    module: str = "bot"  # what `python -m` runs: the bot, or a bench wrapper around it (bench.botmain)
    extra_env: tuple[tuple[str, str], ...] = ()  # for the wrapper, beyond the bot's own settings


@dataclass(frozen=True, slots=True)
class Memory:
    """Resident set size of the bot process now, and its high-water mark so far."""

    rss_mb: float
    peak_rss_mb: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_environment(config: BotConfig, port: int) -> dict[str, str]:
    """Only the bench's values: whatever the caller's environment says about the bot is dropped."""
    names = {name.upper() for name in Settings.model_fields}
    unknown = sorted(set(QUOTAS) - set(Settings.model_fields))
    if unknown:
        raise RuntimeError(f"bot.config.Settings no longer has {unknown}: update bench.botproc.QUOTAS")
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update({name.upper(): value for name, value in QUOTAS.items()})
    env.update(
        TELEGRAM_BOT_TOKEN=config.token,
        TELEGRAM_API_URL=config.telegram_url,
        MJ_BACKEND="mjproxy",
        MJ_BASE_URL=config.proxy_url,
        MJ_API_KEY=config.proxy_secret,
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        HTTP_HOST="127.0.0.1",
        HTTP_PORT=str(port),
        WEBHOOK_SECRET=config.hook_secret,
        DATABASE_URL=f"sqlite:///{config.data_dir / 'mjgram.db'}",
        LOG_LEVEL="WARNING",
    )
    env.update(config.extra_env)
    # The child runs in the data directory: without this it would import whichever checkout the
    # interpreter's environment has installed, not the code this bench belongs to.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO_ROOT), env.get("PYTHONPATH"))))
    return env


def bot_command(profile: Path | None, module: str = "bot") -> list[str]:
    """The production entry point, optionally under cProfile (which slows it: figures are then off)."""
    if profile is None:
        return [sys.executable, "-m", module]
    return [sys.executable, "-m", "cProfile", "-o", str(profile.resolve()), "-m", module]


def _die_with_parent() -> None:
    """Runs in the child before exec: if the bench is killed outright, the bot gets SIGTERM."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class BotProcess:
    """One running bot; `stop()` always ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, process: asyncio.subprocess.Process, started_at: float, port: int, log: Path) -> None:
        self.process = process
        self.started_at = started_at
        self.port = port
        self.log = log

    @classmethod
    async def spawn(
        cls, config: BotConfig, *, port: int | None = None, env: dict[str, str] | None = None
    ) -> BotProcess:
        """`port`: a free one by default; `env`: the whole environment (by default `bot_environment`)."""
        port = port or free_port()
        log = config.data_dir / "bot.log"
        with log.open("wb") as sink:
            started_at = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *bot_command(config.profile, config.module),
                cwd=config.data_dir,  # no stray .env is read from the working directory
                env=env or bot_environment(config, port),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                preexec_fn=_die_with_parent,
            )
        return cls(process, started_at, port, log)

    def hook_url(self, secret: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/mjproxy/{secret}"

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def memory(self) -> Memory:
        """Current and peak resident set size (VmRSS, VmHWM) of the bot process."""
        fields = _proc_fields(self.process.pid)
        return Memory(fields.get("VmRSS", 0) / 1024, fields.get("VmHWM", 0) / 1024)

    def cpu_seconds(self) -> float:
        """User + system CPU time the bot process (all its threads) has used so far."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def log_counts(self) -> dict[str, int]:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return {}
        return {level: text.count(f" {level} ") for level in ("WARNING", "ERROR", "CRITICAL")}

    async def stop(self) -> int:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        return self.process.returncode if self.process.returncode is not None else -1


def _proc_fields(pid: int) -> dict[str, int]:
    """The kB values of /proc/<pid>/status (Linux); empty where there is no /proc."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            values[name] = int(parts[0])
    return values
