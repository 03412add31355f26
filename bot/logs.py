"""Logging for the `mjgram` command: one format, quiet libraries, and secrets kept out of every record."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from bot.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Shorter values are not redacted: replacing them would garble ordinary text (a bot token's secret part has
# at least 20 characters, see bot.config).
MIN_REDACTED_LENGTH = 16
QUIET_LOGGERS = {
    "httpx": logging.WARNING,  # every request URL at INFO: backend URLs can carry secrets in their path
    "aiosqlite": logging.INFO,  # every SQL statement with its parameters at DEBUG: stored secrets, prompts
}


class SecretRedaction(logging.Filter):
    """Replaces secrets in a record's message and arguments, exception text and stack text.

    Telegram file URLs hold the bot token (`…/file/bot<TOKEN>/…`), and aiohttp's ClientResponseError names
    the URL it failed on; libraries may log such errors with their traceback."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first: a token is replaced whole before its secret part is looked for.
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_REDACTED_LENGTH}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _found_in(self, text: str) -> bool:
        return any(secret in text for secret in self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (
            Exception
        ):  # arguments that do not fit the format: the handler reports it, unredacted otherwise
            message = f"{record.msg} {record.args!r}"
        if self._found_in(message):
            record.msg, record.args = self.redact(message), None
        if record.exc_info is not None and record.exc_text is None:
            exception_text = logging.Formatter().formatException(record.exc_info)
            if self._found_in(exception_text):
                # The rendered text replaces the exception itself, so no handler can render it again.
                record.exc_info, record.exc_text = None, self.redact(exception_text)
        elif record.exc_text is not None:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info is not None:
            record.stack_info = self.redact(record.stack_info)
        return True


def configured_secrets(settings: Settings) -> list[str]:
    """The secrets in the configuration that could turn up in a library's log line."""
    token = settings.telegram_bot_token.get_secret_value()
    found = [token, token.split(":", 1)[-1]]  # the secret part on its own, should the colon be URL-encoded
    if settings.mj_api_key is not None:
        found.append(settings.mj_api_key.get_secret_value())
    return found


def install_redaction(redaction: SecretRedaction) -> Callable[[], None]:
    """Apply `redaction` to every log record as it is made, whichever logger or handler (also ones added
    later, like uvicorn's) it goes to; returns the function that takes it out again."""
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redaction.filter(record)
        return record

    logging.setLogRecordFactory(make_record)

    def uninstall() -> None:
        if logging.getLogRecordFactory() is make_record:
            logging.setLogRecordFactory(previous)

    return uninstall


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    install_redaction(SecretRedaction(configured_secrets(settings)))
