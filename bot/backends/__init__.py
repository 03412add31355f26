"""Backend adapters, and the factory that picks one from the settings."""

from __future__ import annotations

import httpx

from bot.backends.base import Backend
from bot.config import Settings

AVAILABLE_BACKENDS = frozenset({"simulator", "mjproxy"})


class BackendNotAvailable(Exception):
    """MJ_BACKEND names a backend this build cannot run."""


def ensure_available(settings: Settings) -> None:
    if settings.mj_backend not in AVAILABLE_BACKENDS:
        raise BackendNotAvailable(f"MJ_BACKEND={settings.mj_backend} is not supported by this version yet")


def create_backend(settings: Settings, client: httpx.AsyncClient, notify_url: str | None) -> Backend:
    """The adapter MJ_BACKEND selects, wired to the shared HTTP client."""
    if settings.mj_backend == "simulator":
        from bot.backends.simulator import SimulatorBackend

        return SimulatorBackend(step_seconds=settings.simulator_step_seconds)
    if settings.mj_backend == "mjproxy":
        from bot.backends.mjproxy import MjProxyBackend

        assert settings.mj_base_url is not None
        key = settings.mj_api_key.get_secret_value() if settings.mj_api_key else None
        return MjProxyBackend(client, settings.mj_base_url, api_key=key, notify_url=notify_url)
    raise BackendNotAvailable(f"MJ_BACKEND={settings.mj_backend} is not supported by this version yet")
