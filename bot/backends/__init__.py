"""Backend adapters, and the factory that picks one from the settings."""

from __future__ import annotations

import httpx

from bot.backends.base import Backend
from bot.config import Settings
from bot.imagehost import ImageHost

AVAILABLE_BACKENDS = frozenset({"simulator", "mjproxy", "imagineapi", "acedata"})


class BackendNotAvailable(Exception):
    """MJ_BACKEND names a backend this build cannot run."""


def ensure_available(settings: Settings) -> None:
    if settings.mj_backend not in AVAILABLE_BACKENDS:
        raise BackendNotAvailable(f"MJ_BACKEND={settings.mj_backend} is not supported by this version yet")


def create_backend(
    settings: Settings, client: httpx.AsyncClient, notify_url: str | None, image_host: ImageHost | None
) -> Backend:
    """The adapter MJ_BACKEND selects, wired to the shared HTTP client."""
    key = settings.mj_api_key.get_secret_value() if settings.mj_api_key else None
    if settings.mj_backend == "simulator":
        from bot.backends.simulator import SimulatorBackend

        return SimulatorBackend(step_seconds=settings.simulator_step_seconds)
    if settings.mj_backend == "mjproxy":
        from bot.backends.mjproxy import MjProxyBackend

        assert settings.mj_base_url is not None
        return MjProxyBackend(client, settings.mj_base_url, api_key=key, notify_url=notify_url)
    if settings.mj_backend == "imagineapi":
        from bot.backends.imagineapi import ImagineApiBackend

        assert settings.mj_base_url is not None
        # ImagineAPI webhooks are set per account in its dashboard; PUBLIC_URL says the operator did.
        return ImagineApiBackend(client, settings.mj_base_url, api_key=key, push=notify_url is not None)
    if settings.mj_backend == "acedata":
        from bot.backends.acedata import AceDataBackend

        assert settings.mj_base_url is not None
        return AceDataBackend(
            client,
            settings.mj_base_url,
            api_key=key,
            callback_url=notify_url,
            image_host=image_host.publish if image_host else None,
        )
    raise BackendNotAvailable(f"MJ_BACKEND={settings.mj_backend} is not supported by this version yet")
