"""Settings read from the environment and `.env`; the only place that reads either."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Final, Literal, get_args

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.payments import JobPrices, Pack, parse_packs, parse_prices

# MJ_BACKEND's values; bot.backends.registry builds one adapter for each (a test holds the two together).
BackendName = Literal["simulator", "mjproxy", "imagineapi", "acedata"]
BACKEND_NAMES: Final[tuple[BackendName, ...]] = get_args(BackendName)

# MJ_BASE_URL per backend that talks HTTP: its default, or None where the operator must give it.
BACKEND_BASE_URLS: Final[Mapping[BackendName, str | None]] = {
    "mjproxy": None,
    "imagineapi": "https://cl.imagineapi.dev",
    "acedata": "https://api.acedata.cloud",
}

_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")

# WEBHOOK_SECRET, TELEGRAM_WEBHOOK_SECRET and METRICS_TOKEN: at least this many characters (~190 bits as
# URL-safe base64).
MIN_SECRET_LENGTH: Final = 32
# Telegram's rule for setWebhook's secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
_TELEGRAM_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

IdSet = Annotated[frozenset[int], NoDecode]
Packs = Annotated[tuple[Pack, ...], NoDecode]
Prices = Annotated[JobPrices, NoDecode]


class Settings(BaseSettings):
    """Every configurable value; names are the public environment contract (see README)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None
    mj_backend: BackendName = "simulator"
    mj_base_url: str | None = None
    mj_api_key: SecretStr | None = None
    public_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    webhook_secret: SecretStr | None = None
    metrics_token: SecretStr | None = None  # set: /metrics answers to `Authorization: Bearer <token>`
    database_url: str = "sqlite:///data/mjgram.db"
    admin_ids: IdSet = frozenset()
    allowed_user_ids: IdSet = frozenset()
    allowed_chat_ids: IdSet = frozenset()
    job_timeout: float = Field(
        default=900.0, gt=0, description="seconds before a silent job is checked and failed"
    )
    poll_interval: float = Field(default=3.0, gt=0, description="first polling delay in seconds")
    push_silence: float = Field(
        default=60.0, gt=0, description="poll a push backend after this many silent seconds"
    )
    input_timeout: float = Field(default=600.0, gt=0, description="seconds a job waits for the user's prompt")
    daily_limit: int = Field(default=0, ge=0, description="jobs per user per day; 0: no limit")
    max_active_per_user: int = Field(default=5, ge=0, description="running jobs per user; 0: no limit")
    max_active_per_chat: int = Field(default=15, ge=0, description="running jobs per chat; 0: no limit")
    max_image_mb: int = Field(default=40, gt=0)
    results_retention_days: float = Field(
        default=30.0,
        ge=0,
        description="days until finished jobs' bulky fields are cleared (buttons keep working); 0: never",
    )
    simulator_step_seconds: float = Field(default=1.2, ge=0)
    log_level: str = "INFO"
    stars_packs: Packs = ()  # credits:stars pairs; none: payments off
    job_prices: Prices = Field(default_factory=JobPrices)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token (digits:secret from @BotFather)")
        return value

    @field_validator("webhook_secret", "telegram_webhook_secret", "metrics_token")
    @classmethod
    def _secret_strength(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty value is refused too: it would make the secret guessable, not unset.
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TELEGRAM_SECRET_RE.match(value.get_secret_value()):
            raise ValueError("may contain only A-Z, a-z, 0-9, _ and - (at most 256 characters)")
        return value

    @field_validator("admin_ids", "allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError("expected comma-separated numeric Telegram ids") from exc
        return value

    @field_validator("stars_packs", mode="before")
    @classmethod
    def _packs(cls, value: object) -> object:
        return parse_packs(value) if isinstance(value, str) else value

    @field_validator("job_prices", mode="before")
    @classmethod
    def _prices(cls, value: object) -> object:
        return parse_prices(value) if isinstance(value, str) else value

    @property
    def payments_on(self) -> bool:
        """Credits are sold (STARS_PACKS set): jobs cost credits beyond the free daily ones."""
        return bool(self.stars_packs)

    @field_validator("telegram_api_url", "public_url", "mj_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            # Not the value: a URL may carry credentials (https://user:password@host).
            raise ValueError("is not an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _backend_url(self) -> Settings:
        if self.mj_backend in BACKEND_BASE_URLS:
            self.mj_base_url = self.mj_base_url or BACKEND_BASE_URLS[self.mj_backend]
            if self.mj_base_url is None:
                raise ValueError(f"MJ_BASE_URL is required for MJ_BACKEND={self.mj_backend}")
        if self.telegram_mode == "webhook" and self.public_url is None:
            raise ValueError("TELEGRAM_MODE=webhook needs PUBLIC_URL")
        return self

    @property
    def async_database_url(self) -> str:
        """DATABASE_URL with the async driver SQLAlchemy needs."""
        url = self.database_url
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @property
    def max_image_bytes(self) -> int:
        return self.max_image_mb * 1024 * 1024


def describe_error(exc: Exception) -> str:
    """One line naming what is wrong with the configuration, without echoing secrets."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return f"invalid configuration: {exc}"
    problems = []
    for err in exc.errors():
        name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "is required"
        problems.append(f"{name} {message}" if name != "settings" else message)
    return "invalid configuration: " + "; ".join(problems)
