"""The backend registry: one adapter for every MJ_BACKEND value, capabilities that match the adapter."""

from __future__ import annotations

from dataclasses import replace
from typing import get_args

import httpx
import pytest

from bot.backends import BACKENDS, BackendNotAvailable, BackendOptions, create_backend, ensure_available
from bot.backends.base import Cancellable, Declines, check_capabilities
from bot.backends.imagineapi import ImagineApiBackend
from bot.config import BACKEND_BASE_URLS, BACKEND_NAMES, BackendName
from bot.domain import Command


def options(client: httpx.AsyncClient, **changes: object) -> BackendOptions:
    fields: dict[str, object] = {
        "client": client,
        "base_url": "http://backend.test",
        "api_key": "key",
        "notify_url": None,
        "image_host": None,
        "simulator_step_seconds": 0.0,
    }
    return BackendOptions(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_registry_builds_exactly_the_backends_settings_accept() -> None:
    assert set(BACKENDS) == set(BACKEND_NAMES) == set(get_args(BackendName))
    assert set(BACKEND_BASE_URLS) <= set(BACKEND_NAMES)


@pytest.mark.parametrize("name", BACKEND_NAMES)
async def test_every_backend_is_built_under_its_name_with_honest_capabilities(
    name: str, client: httpx.AsyncClient
) -> None:
    backend = create_backend(name, options(client))
    try:
        assert backend.name == name
        check_capabilities(backend)
        assert backend.capabilities.cancel == isinstance(backend, Cancellable)
    finally:
        await backend.aclose()


def test_an_unknown_backend_is_not_available() -> None:
    with pytest.raises(BackendNotAvailable, match="MJ_BACKEND=midjourney"):
        ensure_available("midjourney")


async def test_capabilities_that_offer_a_declined_ability_are_refused(client: httpx.AsyncClient) -> None:
    class Boasting(ImagineApiBackend):
        """Claims describe while inheriting Declines.describe."""

    backend = Boasting(client, "http://backend.test", api_key=None, push=False)
    assert ImagineApiBackend.describe is Declines.describe
    backend.capabilities = replace(
        backend.capabilities, commands=frozenset({Command.IMAGINE, Command.DESCRIBE})
    )
    with pytest.raises(TypeError, match="describe"):
        check_capabilities(backend)
