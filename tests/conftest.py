"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.postgres import PostgresServer, PostgresUnavailable, postgres_server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP client a backend adapter under test talks through."""
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole run; skipped on a machine without it, never in CI."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{exc}: the PostgreSQL variants of the storage tests need it")
