"""A real PostgreSQL server for the tests: a throwaway cluster on 127.0.0.1, started once, stopped at exit.

Debian's `postgresql` package provides the binaries (`.ci/run` installs it). `initdb` refuses to run as root,
so as root the cluster belongs to the `postgres` system user the package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 30
SEARCH_PATHS = ("/usr/lib/postgresql",)
SERVICE_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    for root in SEARCH_PATHS:
        versions = sorted(Path(root).glob("*/bin/pg_ctl"), reverse=True)
        if versions:
            return versions[0].parent
    raise PostgresUnavailable("PostgreSQL server binaries not found (Debian package: postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class PostgresServer:
    """A running cluster; `url(name)` is a SQLAlchemy URL of database `name` on it."""

    port: int
    bin_dir: Path
    run_as: list[str]

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{SERVICE_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SERVICE_USER, name)
        return self.url(name)

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.run_as, str(self.bin_dir / tool), *args], check=True, capture_output=True)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a cluster in a temporary folder (trust authentication, loopback only); stop and remove it."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="mjgram-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVICE_USER)
        for path in (root, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", SERVICE_USER, "--"]
    port = _free_port()
    server = PostgresServer(port, bin_dir, run_as)
    server._run("initdb", "-D", str(data), "-U", SERVICE_USER, "-A", "trust", "-E", "UTF8", "--no-sync")
    options = (
        f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    server._run(
        "pg_ctl",
        "-D",
        str(data),
        "-o",
        options,
        "-w",
        "-t",
        str(START_TIMEOUT_SECONDS),
        "-l",
        str(root / "log"),
        "start",
    )
    try:
        _wait_ready(port)
        yield server
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"PostgreSQL did not listen on 127.0.0.1:{port}")
