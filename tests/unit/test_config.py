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


@pytest.mark.parametrize("variable", ["webhook_secret", "telegram_webhook_secret", "metrics_token"])
@pytest.mark.parametrize("value", ["", "short", "x" * 31])
def test_weak_webhook_secrets_are_refused_by_name(variable: str, value: str) -> None:
    message = error_of(telegram_bot_token=TOKEN, **{variable: value})
    assert message.startswith(f"invalid configuration: {variable.upper()} must be at least 32 characters")
    assert "\n" not in message
    if value:
        assert value not in message.removeprefix(f"invalid configuration: {variable.upper()}")


def test_secrets_of_32_characters_are_taken() -> None:
    secret = "S3cr3t_-" * 4
    s = settings(telegram_bot_token=TOKEN, webhook_secret=secret, telegram_webhook_secret=secret)
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == secret
    assert s.telegram_webhook_secret is not None


def test_telegram_secret_outside_telegrams_alphabet_is_refused() -> None:
    message = error_of(telegram_bot_token=TOKEN, telegram_webhook_secret="a" * 40 + "!")
    assert message.startswith("invalid configuration: TELEGRAM_WEBHOOK_SECRET may contain only")


def test_token_error_names_the_variable_once() -> None:
    message = error_of(telegram_bot_token="not-a-token-secret")
    assert message.count("TELEGRAM_BOT_TOKEN") == 1


@pytest.mark.parametrize("variable", ["telegram_api_url", "public_url", "mj_base_url"])
def test_url_errors_name_the_variable_not_the_value(variable: str) -> None:
    url = "ftp://operator:hunter2-password@internal.example:8443/path"
    values = {"telegram_bot_token": TOKEN, "mj_backend": "mjproxy", "mj_base_url": "http://proxy"}
    message = error_of(**{**values, variable: url})
    assert message == f"invalid configuration: {variable.upper()} is not an http(s) URL"
    assert "hunter2-password" not in message and "operator" not in message
