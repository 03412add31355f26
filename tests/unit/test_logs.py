"""Secrets redacted from log records: message, arguments, exception text, stack text."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from aiohttp import ClientResponseError, RequestInfo
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.config import Settings
from bot.logs import REDACTED, SecretRedaction, configured_secrets, install_redaction

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
SECRET_PART = TOKEN.split(":", 1)[1]
API_KEY = "backend-api-key-0123456789"


def file_download_error() -> ClientResponseError:
    url = URL(f"https://api.telegram.org/file/bot{TOKEN}/photos/file_1.jpg")
    info = RequestInfo(url, "GET", CIMultiDictProxy(CIMultiDict()), url)
    return ClientResponseError(info, (), status=404, message="Not Found")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """A handler added after the redaction is installed, as uvicorn adds its own when it starts."""
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, mj_api_key=API_KEY)  # type: ignore[call-arg]
    uninstall = install_redaction(SecretRedaction(configured_secrets(settings)))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        uninstall()


def test_an_exception_naming_a_file_url_is_logged_without_the_token(captured: io.StringIO) -> None:
    log = logging.getLogger("tests.redaction")
    try:
        raise file_download_error()
    except ClientResponseError:
        log.exception("handling a message failed")
    text = captured.getvalue()
    assert "ClientResponseError" in text and f"/file/bot{REDACTED}/photos/file_1.jpg" in text
    assert SECRET_PART not in text


def test_messages_arguments_and_stacks_are_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("tests.redaction")
    log.warning("download failed: %s", file_download_error())
    log.info(f"key {API_KEY} and token {TOKEN}", stack_info=True)
    log.debug("only the secret part %s", SECRET_PART)
    text = captured.getvalue()
    assert SECRET_PART not in text and API_KEY not in text
    assert text.count(REDACTED) >= 4


def test_short_values_and_other_records_are_left_alone() -> None:
    redaction = SecretRedaction(["short", TOKEN])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a short note about %s", ("nothing",), None)
    redaction.filter(record)
    assert (record.msg, record.args) == ("a short note about %s", ("nothing",))


def test_uninstall_restores_the_record_factory() -> None:
    before = logging.getLogRecordFactory()
    uninstall = install_redaction(SecretRedaction([TOKEN]))
    assert logging.getLogRecordFactory() is not before
    uninstall()
    assert logging.getLogRecordFactory() is before
