"""A /blend draft: the images gathered before the shape is chosen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BlendDraft:
    """Images gathered for /blend; status open → ready (shape asked) → used or cancelled."""

    id: str
    chat_id: int
    user_id: int
    thread_id: int | None
    message_id: int | None
    reply_to_message_id: int | None
    file_ids: tuple[str, ...]
    status: str
    created_at: float
