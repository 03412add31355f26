"""A strict fake Telegram Bot API server on 127.0.0.1 for end-to-end tests with the real aiogram Bot."""

from tests.fakes.telegram.limits import CALLBACK_DATA_LIMIT, CAPTION_LIMIT, TEXT_LIMIT, ApiError
from tests.fakes.telegram.models import (
    FakeChat,
    FakeUser,
    FloodLimits,
    RecordedCall,
    StoredMessage,
    UploadedFile,
)
from tests.fakes.telegram.server import FakeTelegram, LoopbackSession

__all__ = [
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "ApiError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "FloodLimits",
    "LoopbackSession",
    "RecordedCall",
    "StoredMessage",
    "UploadedFile",
]
