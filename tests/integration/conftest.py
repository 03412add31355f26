"""Storage for integration tests: each runs on SQLite and on the real PostgreSQL the tests start."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.database import Database
from tests.postgres import PostgresServer

_databases = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'mjgram.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"mjgram_{os.getpid()}_{next(_databases)}")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """An opened database (schema created) of each kind."""
    db = Database(database_url)
    await db.open()
    yield db
    await db.close()
