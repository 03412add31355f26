"""For integration tests: storage (each test runs on SQLite and on the real PostgreSQL the tests start),
and the fake Telegram with a real aiogram `Bot` aimed at it."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot

from bot.storage.database import Database
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import LoopbackSession
from tests.postgres import PostgresServer

_databases = itertools.count(1)
# The fake Telegram's tests' bot (id 123456); the end-to-end bots are tests.harness's.
TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


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


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The strict fake Bot API server, on 127.0.0.1 for this test."""
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A real aiogram `Bot` talking to `fake`."""
    client = Bot(TOKEN, session=LoopbackSession(fake.base_url))
    yield client
    await client.session.close()
