"""The `mjgram` command as an operator meets it: help, and one-line configuration errors."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import limit_malloc_arenas

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "MJ_", "PUBLIC_", "DATABASE_"))
    }
    clean.update(env, PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_describes_the_command(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    assert "usage: mjgram" in result.stdout and "TELEGRAM_BOT_TOKEN" in result.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "mjgram: invalid configuration: TELEGRAM_BOT_TOKEN is required"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "MJ_BACKEND": "mjproxy"},
            "MJ_BASE_URL is required for MJ_BACKEND=mjproxy",
        ),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "MJ_BACKEND": "dalle"}, "MJ_BACKEND"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "HTTP_PORT": "99999"}, "HTTP_PORT"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:9"},
            "cannot reach the Telegram Bot API",
        ),
    ],
)
def test_bad_configuration_exits_with_one_line(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    result = run_cli(tmp_path, **env)
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert expected in last_line and "Traceback" not in result.stderr
    assert TOKEN.split(":")[1] not in result.stderr


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("PUBLIC_URL", "ftp://operator:hunter2-password@bot.example"),
        ("TELEGRAM_API_URL", "http://operator:hunter2-password@127.0.0.1:9"),
    ],
)
def test_errors_about_a_url_do_not_echo_its_credentials(tmp_path: Path, variable: str, url: str) -> None:
    result = run_cli(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, **{variable: url})
    assert result.returncode == 1
    assert variable in result.stderr.strip().splitlines()[-1]
    assert "hunter2-password" not in result.stderr and "operator" not in result.stderr


def test_check_config_accepts_a_token_alone(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check-config", TELEGRAM_BOT_TOKEN=TOKEN)
    assert result.returncode == 0 and "backend=simulator" in result.stdout


def test_webhook_url_is_stable_and_needs_public_url(tmp_path: Path) -> None:
    missing = run_cli(tmp_path, "webhook-url", TELEGRAM_BOT_TOKEN=TOKEN)
    assert missing.returncode == 1 and "PUBLIC_URL" in missing.stderr
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "PUBLIC_URL": "https://bot.example.com", "MJ_BACKEND": "imagineapi"}
    first = run_cli(tmp_path, "webhook-url", **env)
    second = run_cli(tmp_path, "webhook-url", **env)
    assert first.returncode == 0 and first.stdout.startswith("https://bot.example.com/hooks/imagineapi/")
    assert first.stdout == second.stdout, "the generated secret is kept"


def test_malloc_arenas_are_limited_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False, "an explicit MALLOC_ARENA_MAX is left to glibc"
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    on_glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert limit_malloc_arenas() is on_glibc
