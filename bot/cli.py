"""The `mjgram` command: `mjgram run` (default) starts the bot; configuration errors exit with one line."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

from pydantic import ValidationError

from bot.config import Settings, describe_error
from bot.logs import configure_logging

DESCRIPTION = """\
mjgram: a Telegram bot for Midjourney-style image APIs.

Configuration comes from environment variables (or a .env file in the working
directory). Only TELEGRAM_BOT_TOKEN is required; the default backend is the
built-in simulator. See README.md for every variable.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mjgram", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "check-config", "webhook-url"],
        help="run the bot (default); only validate the configuration; or print the backend callback URL",
    )
    return parser.parse_args(argv)


WORKER_THREADS = 2
M_ARENA_MAX = -8  # glibc <malloc.h>
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """What MALLOC_ARENA_MAX=2 does, however the bot is started (an explicit setting wins).

    glibc gives every thread that allocates its own arena, up to eight per core, and seldom hands their
    memory back; the bot's threads (one per SQLite connection, image conversion) need no more than a
    couple. Returns False where the C library is not glibc.
    """
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SystemExit(f"mjgram: {describe_error(exc)}") from None


async def serve(settings: Settings) -> None:
    from bot.backends import BackendNotAvailable
    from bot.lifecycle import StartupError
    from bot.runtime import Runtime

    # Image conversion and the simulator's drawing run in threads: two are enough for a bot, and each
    # extra thread holds on to its own decoded pictures' memory.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="mjgram-worker")
    )
    try:
        runtime = await Runtime.build(settings)
    except (StartupError, BackendNotAvailable) as exc:
        raise SystemExit(f"mjgram: {exc}") from None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runtime.request_stop)
    try:
        await runtime.start()
        # Everything imported and built so far lives for the whole run: keep the collector from walking it
        # again and again (a full pass over aiogram's objects stalls the loop for ~180 ms).
        gc.collect()
        gc.freeze()
        await runtime.wait()
    except StartupError as exc:
        raise SystemExit(f"mjgram: {exc}") from None
    finally:
        await runtime.close()


async def callback_url(settings: Settings) -> str:
    """The URL backends post progress to (paste it into ImagineAPI's dashboard); needs PUBLIC_URL."""
    from bot.credentials import load_hook_secret, notify_url
    from bot.storage.database import Database

    db = Database(settings.async_database_url)
    try:
        await db.open()
        url = notify_url(settings, await load_hook_secret(settings, db))
    finally:
        await db.close()
    if url is None:
        raise SystemExit("mjgram: set PUBLIC_URL first: backends need a public address to call")
    return url


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = load_settings()
    configure_logging(settings)
    if args.command == "check-config":
        print(f"configuration is valid: backend={settings.mj_backend}")
        return
    if args.command == "webhook-url":
        print(asyncio.run(callback_url(settings)))
        return
    limit_malloc_arenas()
    asyncio.run(serve(settings))
