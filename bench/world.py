"""Who the bench's users are, which jobs they start, and how to tell what a job's message shows."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, StoredMessage
from tests.harness import GRID_BUTTONS

PRIVATE_USER_BASE = 2_000_000_000
REACTION_USER_BASE = 3_000_000_000
GROUP_ID_BASE = -1_002_000_000_000
GROUP_MEMBER_BASE = 4_000_000_000
POLL_STEP = 0.1  # seconds between looks at the fake while waiting on many messages
DONE_CAPTION = "✅ Done"
# (description, parameters): the job's tag goes between them, parameters stay last as Midjourney wants.
PROMPTS = (
    ("a lighthouse on a basalt cliff at dusk, muted teal and amber, painterly", "--ar 1:1"),
    ("isometric cutaway of a tiny tea shop, warm light, soft shadows", "--v 6"),
    ("portrait of an old fisherman, charcoal sketch, loose strokes", ""),
    ("a fox curled in fresh snow, macro photograph, shallow depth of field", "--style raw"),
    ("brutalist library interior flooded with morning fog, cinematic, 35mm", "--ar 16:9"),
)
_TAG_RE = re.compile(r"\(bench (?P<tag>[a-z]+-\d+)\)")


@dataclass(frozen=True, slots=True)
class Seat:
    """A chat and the member of it who writes /imagine."""

    chat: FakeChat
    user: FakeUser


@dataclass(slots=True)
class BenchJob:
    """One /imagine the bench sends, and what it has learnt about it since."""

    tag: str
    seat: Seat
    prompt: str
    task_id: str | None = None
    message_id: int | None = None
    shown_progress: int = field(default=0)

    @property
    def chat_id(self) -> int:
        return self.seat.chat.id

    @property
    def task(self) -> str:
        if self.task_id is None:
            raise RuntimeError(f"job {self.tag} has no backend task yet")
        return self.task_id


def private_seats(count: int, base: int = PRIVATE_USER_BASE) -> list[Seat]:
    seats = []
    for i in range(count):
        user = FakeUser(id=base + i, first_name=f"User {i}", username=f"bench_user_{base + i}")
        seats.append(Seat(FakeChat(id=user.id, type="private"), user))
    return seats


def group_seats(count: int) -> list[Seat]:
    seats = []
    for i in range(count):
        user = FakeUser(id=GROUP_MEMBER_BASE + i, first_name=f"Member {i}")
        chat = FakeChat(id=GROUP_ID_BASE - i, type="supergroup", title=f"Bench group {i}")
        seats.append(Seat(chat, user))
    return seats


def jobs_across(seats: list[Seat], count: int, prefix: str) -> list[BenchJob]:
    """`count` jobs dealt round-robin over the seats, each with a unique tag in its prompt."""
    jobs = []
    for i in range(count):
        tag = f"{prefix}-{i:04d}"
        description, parameters = PROMPTS[i % len(PROMPTS)]
        prompt = f"{description} (bench {tag}) {parameters}".rstrip()
        jobs.append(BenchJob(tag, seats[i % len(seats)], prompt))
    return jobs


def tag_of(prompt: str) -> str | None:
    match = _TAG_RE.search(prompt)
    return match.group("tag") if match else None


def message_of(tg: FakeTelegram, job: BenchJob) -> StoredMessage | None:
    """The bot's message for the job: found by the tag in its caption, then remembered by id."""
    if job.message_id is not None:
        return tg.message(job.chat_id, job.message_id)
    needle = f"(bench {job.tag})"
    for message in tg.chat_messages(job.chat_id):
        if message.caption and needle in message.caption:
            job.message_id = message.message_id
            return message
    return None


def shows_progress(percent: int) -> Callable[[StoredMessage], bool]:
    needle = f"Drawing… {percent}%"
    return lambda message: bool(message.caption and needle in message.caption)


def shows_done(message: StoredMessage) -> bool:
    return (
        bool(message.caption and DONE_CAPTION in message.caption) and message.button_texts() == GRID_BUTTONS
    )


def showing(tg: FakeTelegram, job: BenchJob, shows: Callable[[StoredMessage], bool]) -> bool:
    message = message_of(tg, job)
    return message is not None and not message.deleted and shows(message)


async def wait_until_shown(
    tg: FakeTelegram,
    jobs: Iterable[tuple[BenchJob, Callable[[StoredMessage], bool]]],
    *,
    within: float,
) -> list[BenchJob]:
    """Look every POLL_STEP until each job's message shows what it should; returns the jobs that never did."""
    remaining = list(jobs)
    deadline = time.monotonic() + within
    while remaining:
        remaining = [(job, shows) for job, shows in remaining if not showing(tg, job, shows)]
        if not remaining or time.monotonic() >= deadline:
            break
        await asyncio.sleep(POLL_STEP)
    return [job for job, _ in remaining]


async def wait_quiet(tg: FakeTelegram, methods: frozenset[str], quiet: float, *, within: float) -> bool:
    """Wait until no call of `methods` has reached the fake for `quiet` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        last = next((c.at for c in reversed(tg.calls) if c.method in methods), 0.0)
        idle_for = time.monotonic() - last
        if idle_for >= quiet:
            return True
        await asyncio.sleep(max(POLL_STEP, quiet - idle_for))
    return False
