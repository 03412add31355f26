"""Whose settings a record holds: a user's own, or a chat's defaults."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """Whose preferences a record holds."""

    USER = "user"
    CHAT = "chat"
