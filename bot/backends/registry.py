"""Every backend the bot can run, by its MJ_BACKEND name, and how the composition root builds it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import httpx

from bot.backends.base import Backend, check_capabilities
from bot.backends.http import ImageHost


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """What a backend may be built from; the composition root fills it from Settings."""

    client: httpx.AsyncClient
    base_url: str | None  # Settings has applied the backend's default, or refused a missing one
    api_key: str | None
    notify_url: str | None  # where the backend should push updates; None: the bot polls
    image_host: ImageHost | None  # serves pictures under a public URL; None without PUBLIC_URL
    simulator_step_seconds: float


BackendFactory = Callable[[BackendOptions], Backend]


class BackendNotAvailable(Exception):
    """MJ_BACKEND names a backend this build cannot run."""


def _base_url(options: BackendOptions) -> str:
    if options.base_url is None:
        raise BackendNotAvailable("this backend needs MJ_BASE_URL")
    return options.base_url


# Adapters are imported when chosen: the simulator's drawing code is not loaded for a real backend.
def _simulator(options: BackendOptions) -> Backend:
    from bot.backends.simulator import SimulatorBackend

    return SimulatorBackend(step_seconds=options.simulator_step_seconds)


def _mjproxy(options: BackendOptions) -> Backend:
    from bot.backends.mjproxy import MjProxyBackend

    return MjProxyBackend(
        options.client,
        _base_url(options),
        api_key=options.api_key,
        notify_url=options.notify_url,
        image_host=options.image_host,
    )


def _imagineapi(options: BackendOptions) -> Backend:
    from bot.backends.imagineapi import ImagineApiBackend

    # ImagineAPI webhooks are set per account in its dashboard; PUBLIC_URL says the operator did.
    return ImagineApiBackend(
        options.client, _base_url(options), api_key=options.api_key, push=options.notify_url is not None
    )


def _acedata(options: BackendOptions) -> Backend:
    from bot.backends.acedata import AceDataBackend

    return AceDataBackend(
        options.client,
        _base_url(options),
        api_key=options.api_key,
        callback_url=options.notify_url,
        image_host=options.image_host,
    )


BACKENDS: Final[Mapping[str, BackendFactory]] = {
    "simulator": _simulator,
    "mjproxy": _mjproxy,
    "imagineapi": _imagineapi,
    "acedata": _acedata,
}


def ensure_available(name: str) -> None:
    if name not in BACKENDS:
        raise BackendNotAvailable(f"MJ_BACKEND={name} is not supported by this version yet")


async def prepare_backend(backend: Backend) -> None:
    """Let an adapter learn, before the bot offers commands, which server build it talks to."""
    from bot.backends.mjproxy import MjProxyBackend

    if isinstance(backend, MjProxyBackend):
        await backend.detect_flavour()


def create_backend(name: str, options: BackendOptions) -> Backend:
    """The adapter MJ_BACKEND names, its declared capabilities checked against what it implements."""
    ensure_available(name)
    backend = BACKENDS[name](options)
    check_capabilities(backend)
    return backend
