"""Replicas as real processes (`python -m bot`), to be killed outright the way a crashed host loses one."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from tests.harness import TOKEN, free_port

# The replicas run this checkout's code, not whatever copy of the project the interpreter has installed.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
PR_SET_PDEATHSIG = 1  # linux/prctl.h: signal the child when its parent dies
STOP_SECONDS = 15.0
SOURCE_ROOT = Path(__file__).resolve().parents[1]  # the code under test, not whichever `bot` is installed


def _die_with_parent() -> None:
    """In the child before exec: a test run killed outright takes its replicas with it."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Replica:
    """One `python -m bot` process."""

    process: asyncio.subprocess.Process
    port: int
    log: Path

    @classmethod
    async def spawn(
        cls,
        folder: Path,
        telegram_url: str,
        database_url: str,
        *,
        port: int | None = None,
        **settings: str,
    ) -> Replica:
        """Start `python -m bot` on `port` (a free one by default); `settings`: more environment variables
        by their Settings name (admin_ids=...)."""
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        port = port or free_port()
        names = {name.upper() for name in Settings.model_fields}
        env = {k: v for k, v in os.environ.items() if k.upper() not in names}
        env.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=telegram_url,
            DATABASE_URL=database_url,
            HTTP_HOST="127.0.0.1",
            HTTP_PORT=str(port),
            SIMULATOR_STEP_SECONDS="0.2",
            LOG_LEVEL="INFO",
            PYTHONPATH=os.pathsep.join(filter(None, [str(SOURCE_ROOT), os.environ.get("PYTHONPATH")])),
        )
        env.update({name.upper(): value for name, value in settings.items()})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        log = folder / "bot.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=folder,  # no stray .env is read
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                preexec_fn=_die_with_parent,
            )
        return cls(process, port, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """`kill -9`: no shutdown, no lease given back."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
            except TimeoutError:
                self.kill()
                await self.process.wait()
