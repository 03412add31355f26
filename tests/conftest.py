"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client a backend adapter under test talks through."""
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http
