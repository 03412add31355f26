"""The fake's tasks and pictures, and how `/midjourney/tasks` reports a task."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from tests.fakes.acedata.wire import ImageKind

APPLICATION_ID: Final = "9dec7b2a-1cad-41ff-8536-d4ddaf2525d4"
CREDENTIAL_ID: Final = "68253cc8-505d-47f4-97ad-0050a62e4975"
# Raw sizes of what the fake draws; the thumbnail (`image_url`) is half of each side.
RAW_SIZES: Final[dict[str, tuple[int, int]]] = {
    "preview": (256, 256),
    "grid": (1024, 1024),
    "upscale": (512, 512),
    "upscale_hd": (1024, 1024),
}
BREAK: Final = None  # queued into a stream: cut the connection mid-answer

Mode = Literal["wait", "stream", "callback", "async"]
"""How a submit was answered: held until done, NDJSON lines, a callback per line, or at once (`async`)."""
State = Literal["pending", "generating", "finished", "failed"]  # Nexior `MidjourneyImagineState`


def is_final(line: dict[str, Any]) -> bool:
    return line.get("success") is False or line.get("progress") == 100


@dataclass(slots=True)
class FakeImage:
    """One picture the fake has published: a progress preview or a result that actions can name."""

    id: str
    task_id: str
    kind: ImageKind
    name: str
    colours: tuple[tuple[int, int, int], ...]
    actions: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def raw_size(self) -> tuple[int, int]:
        return RAW_SIZES[self.kind]


@dataclass(slots=True)
class FakeTask:
    """One imagine task; mutable, because the fake moves it along."""

    id: str
    action: str
    prompt: str
    request: dict[str, Any]
    mode: Mode
    ndjson: bool
    kind: ImageKind
    colours: tuple[tuple[int, int, int], ...]
    callback_url: str | None = None
    parent_image_id: str | None = None
    job_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    abandoned: bool = False
    lines: list[dict[str, Any]] = field(default_factory=list)
    image_ids: list[str] = field(default_factory=list)
    stream: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def response(self) -> dict[str, Any] | None:
        return self.lines[-1] if self.lines else None

    @property
    def final(self) -> bool:
        return self.abandoned or (self.response is not None and is_final(self.response))

    @property
    def state(self) -> State:
        if self.abandoned or (self.response is not None and self.response.get("success") is False):
            return "failed"
        if self.final:
            return "finished"
        return "generating" if self.started_at is not None else "pending"

    def record(self) -> dict[str, Any]:
        """The task as /midjourney/tasks `retrieve` answers it (Nexior `IMidjourneyImagineTask`)."""
        record: dict[str, Any] = {
            "_id": hashlib.sha256(self.id.encode()).hexdigest()[:24],
            "id": self.id,
            "application_id": APPLICATION_ID,
            "created_at": self.created_at,
            "credential_id": CREDENTIAL_ID,
            "request": copy.deepcopy(self.request),
            "type": "imagine",
            "state": self.state,
            "hold": False,
            "job_id": self.job_id,
        }
        if self.image_ids:
            record["image_id"] = self.image_ids[-1]
        if self.response is not None:
            record["response"] = {**copy.deepcopy(self.response), "job_id": self.job_id, "hold": False}
        if self.started_at is not None:
            record["started_at"] = self.started_at
        if self.finished_at is not None:
            record["finished_at"] = self.finished_at
            record["duration"] = self.finished_at - self.created_at
        return record
