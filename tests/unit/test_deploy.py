"""The compose file in deploy/ sets only settings the bot knows, and they start a valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
EXAMPLE = {
    "TELEGRAM_BOT_TOKEN": "123456:TEST-token-abcdefghijklmnopqrstuvwxyz",
    "DOMAIN": "bot.example.com",
    "POSTGRES_PASSWORD": "secret",
}


def bot_environment(compose: str) -> dict[str, str]:
    """The bot services' environment (the `x-bot` block), with ${VAR:-default} and ${VAR:?…} filled in."""
    block = compose.split("x-bot:", 1)[1].split("\nservices:", 1)[0]
    section = block.split("  environment:\n", 1)[1]
    values: dict[str, str] = {}
    for line in section.splitlines():
        found = re.match(r"^    ([A-Z_]+): (.*)$", line)
        if found:
            values[found[1]] = re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", _fill, found[2]).strip('"')
    return values


def _fill(match: re.Match[str]) -> str:
    name, kind, default = match[1], match[2], match[3]
    return EXAMPLE.get(name, default if kind == ":-" else "")


def test_the_replicas_set_only_known_settings_and_start_in_webhook_mode_on_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment = bot_environment((DEPLOY / "compose.yaml").read_text())
    known = {name.upper() for name in Settings.model_fields}
    assert set(environment) <= known, set(environment) - known
    for name in known:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.telegram_mode == "webhook"
    assert settings.public_url == "https://bot.example.com"
    assert settings.async_database_url.startswith("postgresql+asyncpg://mjgram:secret@postgres:5432/")


def test_the_proxy_sends_to_every_replica_the_compose_file_runs() -> None:
    compose = (DEPLOY / "compose.yaml").read_text()
    replicas = re.findall(r"^  (bot\d+): \*bot$", compose, flags=re.M)
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", (DEPLOY / "Caddyfile").read_text())
    assert upstreams is not None and len(replicas) >= 2
    assert upstreams[1].split() == [f"{name}:8080" for name in replicas]
