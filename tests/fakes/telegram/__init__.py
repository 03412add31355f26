"""A strict fake Telegram Bot API server on 127.0.0.1 for end-to-end tests with the real aiogram Bot."""

from tests.fakes.telegram.server import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    TEXT_LIMIT,
    ApiError,
    FakeChat,
    FakeTelegram,
    FakeUser,
    FloodLimits,
    LoopbackSession,
    RecordedCall,
    StoredMessage,
    UploadedFile,
)

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
