"""Fixtures every end-to-end test shares: the fake Telegram server and a fake midjourney-proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.mjproxy import FakeMjProxy
from tests.fakes.telegram import FakeTelegram
from tests.harness import PROXY_SECRET, TOKEN


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
async def proxy() -> AsyncIterator[FakeMjProxy]:
    async with FakeMjProxy(api_secret=PROXY_SECRET) as fake:
        yield fake
