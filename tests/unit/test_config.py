"""Settings: the environment contract and its one-line errors."""

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_error

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"


def settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[arg-type]


def error_of(**kw: object) -> str:
    with pytest.raises(ValidationError) as info:
        settings(**kw)
    return describe_error(info.value)


def test_defaults_need_only_the_token() -> None:
    s = settings(telegram_bot_token=TOKEN)
    assert (s.mj_backend, s.telegram_mode, s.http_host, s.http_port) == (
        "simulator",
        "polling",
        "127.0.0.1",
        8080,
    )
    assert s.async_database_url == "sqlite+aiosqlite:///data/mjgram.db"


def test_missing_token_is_one_line() -> None:
    message = error_of()
    assert message == "invalid configuration: TELEGRAM_BOT_TOKEN is required"


def test_malformed_token_is_not_echoed() -> None:
    message = error_of(telegram_bot_token="not-a-token-secret")
    assert "TELEGRAM_BOT_TOKEN" in message and "not-a-token-secret" not in message


def test_proxy_needs_base_url() -> None:
    assert "MJ_BASE_URL is required" in error_of(telegram_bot_token=TOKEN, mj_backend="mjproxy")


def test_id_lists_parse_commas() -> None:
    s = settings(telegram_bot_token=TOKEN, admin_ids="1, 2,3", allowed_chat_ids="-100123")
    assert s.admin_ids == frozenset({1, 2, 3}) and s.allowed_chat_ids == frozenset({-100123})
    assert "comma-separated" in error_of(telegram_bot_token=TOKEN, admin_ids="1,x")


def test_urls_validated_and_trailing_slash_removed() -> None:
    s = settings(telegram_bot_token=TOKEN, mj_backend="mjproxy", mj_base_url="http://proxy:8080/")
    assert s.mj_base_url == "http://proxy:8080"
    assert "http(s) URL" in error_of(telegram_bot_token=TOKEN, public_url="ftp://x")


def test_webhook_mode_needs_public_url() -> None:
    assert "PUBLIC_URL" in error_of(telegram_bot_token=TOKEN, telegram_mode="webhook")
