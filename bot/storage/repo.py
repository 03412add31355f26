"""Repository functions: take a connection, return domain objects; the caller owns the transaction."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Action, ActionKind, FailureKind, Job, JobKind, JobStatus
from bot.storage.schema import access_rules, blend_drafts, buttons, input_requests, jobs, kv

BUTTON_TOKEN_BYTES = 9  # 12 URL-safe characters: unguessable, short enough for callback_data


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """What Telegram currently shows for a job."""

    shown_version: int
    shown_media: str | None
    shown_caption: str | None
    photo_file_id: str | None
    document_sent: bool
    delivery_error: str | None


@dataclass(frozen=True, slots=True)
class Button:
    token: str
    job_id: str
    action_ref: str


@dataclass(frozen=True, slots=True)
class InputRequest:
    """A ForceReply question: who must answer, what for, and for which job (None: a new /imagine)."""

    chat_id: int
    message_id: int
    user_id: int
    purpose: str
    job_id: str | None
    created_at: float


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


# --- jobs -------------------------------------------------------------------------------------------


def _action_to_wire(action: Action) -> list[Any]:
    return [action.kind.value, action.ref, action.index, action.label, action.emoji]


def _action_from_wire(raw: list[Any]) -> Action:
    kind, ref, index, label, emoji = raw
    try:
        action_kind = ActionKind(kind)
    except ValueError:
        action_kind = ActionKind.UNKNOWN
    return Action(kind=action_kind, ref=ref, index=int(index), label=label, emoji=emoji)


def _job_values(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind.value,
        "prompt": job.prompt,
        "chat_id": job.chat_id,
        "thread_id": job.thread_id,
        "user_id": job.user_id,
        "user_name": job.user_name,
        "language": job.language,
        "backend": job.backend,
        "status": job.status.value,
        "task_id": job.task_id,
        "parent_id": job.parent_id,
        "origin": json.dumps(_action_to_wire(job.origin)) if job.origin else None,
        "reply_to_message_id": job.reply_to_message_id,
        "message_id": job.message_id,
        "progress": job.progress,
        "queue_position": job.queue_position,
        "preview_url": job.preview_url,
        "image_url": job.image_url,
        "video_url": job.video_url,
        "actions": json.dumps([_action_to_wire(a) for a in job.actions], ensure_ascii=False),
        "text": job.text,
        "fail_reason": job.fail_reason,
        "failure": job.failure.value if job.failure else None,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "version": job.version,
        "used": json.dumps(list(job.used)),
    }


def _job_from_row(row: RowMapping) -> Job:
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        prompt=row["prompt"],
        chat_id=row["chat_id"],
        thread_id=row["thread_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        language=row["language"],
        backend=row["backend"],
        status=JobStatus(row["status"]),
        task_id=row["task_id"],
        parent_id=row["parent_id"],
        origin=_action_from_wire(json.loads(row["origin"])) if row["origin"] else None,
        reply_to_message_id=row["reply_to_message_id"],
        message_id=row["message_id"],
        progress=row["progress"],
        queue_position=row["queue_position"],
        preview_url=row["preview_url"],
        image_url=row["image_url"],
        video_url=row["video_url"],
        actions=tuple(_action_from_wire(a) for a in json.loads(row["actions"])),
        text=row["text"],
        fail_reason=row["fail_reason"],
        failure=FailureKind(row["failure"]) if row["failure"] else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        used=tuple(json.loads(row["used"])),
    )


def _delivery_from_row(row: RowMapping) -> DeliveryState:
    return DeliveryState(
        shown_version=row["shown_version"],
        shown_media=row["shown_media"],
        shown_caption=row["shown_caption"],
        photo_file_id=row["photo_file_id"],
        document_sent=bool(row["document_sent"]),
        delivery_error=row["delivery_error"],
    )


async def insert_job(conn: AsyncConnection, job: Job) -> None:
    await conn.execute(insert(jobs).values(**_job_values(job), shown_version=-1, document_sent=False))


async def save_job(conn: AsyncConnection, job: Job) -> None:
    """Write the job's domain fields; delivery bookkeeping is left as it is."""
    values = _job_values(job)
    values.pop("id")
    await conn.execute(update(jobs).where(jobs.c.id == job.id).values(**values))


async def save_jobs(conn: AsyncConnection, changed: Sequence[Job]) -> None:
    """`save_job` for many jobs in one statement (executemany)."""
    if not changed:
        return
    rows = []
    for job in changed:
        values = _job_values(job)
        values["job_id"] = values.pop("id")
        rows.append(values)
    await conn.execute(update(jobs).where(jobs.c.id == bindparam("job_id")), rows)


async def get_job(conn: AsyncConnection, job_id: str) -> Job | None:
    row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).mappings().first()
    return _job_from_row(row) if row else None


async def get_job_with_delivery(conn: AsyncConnection, job_id: str) -> tuple[Job, DeliveryState] | None:
    row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).mappings().first()
    return (_job_from_row(row), _delivery_from_row(row)) if row else None


async def find_jobs_by_tasks(conn: AsyncConnection, backend: str, task_ids: Iterable[str]) -> dict[str, Job]:
    """The jobs of these backend tasks, by task id (tasks with no job are left out)."""
    wanted = sorted(set(task_ids))
    if not wanted:
        return {}
    query = select(jobs).where(jobs.c.backend == backend, jobs.c.task_id.in_(wanted))
    found: dict[str, Job] = {}
    for row in (await conn.execute(query)).mappings():
        job = _job_from_row(row)
        if job.task_id is not None:
            found.setdefault(job.task_id, job)
    return found


async def job_by_message(conn: AsyncConnection, chat_id: int, message_id: int) -> Job | None:
    query = select(jobs).where(jobs.c.chat_id == chat_id, jobs.c.message_id == message_id)
    row = (await conn.execute(query)).mappings().first()
    return _job_from_row(row) if row else None


async def jobs_waiting_for_input(conn: AsyncConnection, chat_id: int, user_id: int) -> list[Job]:
    query = (
        select(jobs)
        .where(
            jobs.c.chat_id == chat_id, jobs.c.user_id == user_id, jobs.c.status == JobStatus.NEEDS_INPUT.value
        )
        .order_by(jobs.c.created_at.desc())
    )
    return [_job_from_row(r) for r in (await conn.execute(query)).mappings()]


async def child_jobs(conn: AsyncConnection, parent_id: str) -> list[Job]:
    query = select(jobs).where(jobs.c.parent_id == parent_id).order_by(jobs.c.created_at)
    return [_job_from_row(r) for r in (await conn.execute(query)).mappings()]


async def unfinished_jobs(conn: AsyncConnection, backend: str) -> list[Job]:
    final = [JobStatus.SUCCEEDED.value, JobStatus.FAILED.value]
    query = (
        select(jobs).where(jobs.c.backend == backend, jobs.c.status.not_in(final)).order_by(jobs.c.created_at)
    )
    return [_job_from_row(r) for r in (await conn.execute(query)).mappings()]


async def undelivered_jobs(conn: AsyncConnection) -> list[tuple[str, int]]:
    """(job id, chat id) of jobs whose newest state Telegram has not shown yet, oldest first."""
    query = (
        select(jobs.c.id, jobs.c.chat_id)
        .where(jobs.c.shown_version < jobs.c.version, jobs.c.delivery_error.is_(None))
        .order_by(jobs.c.updated_at)
    )
    return [(r.id, r.chat_id) for r in await conn.execute(query)]


async def save_delivery(
    conn: AsyncConnection, job_id: str, state: DeliveryState, *, message_id: int | None
) -> None:
    await conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(
            shown_version=state.shown_version,
            shown_media=state.shown_media,
            shown_caption=state.shown_caption,
            photo_file_id=state.photo_file_id,
            document_sent=state.document_sent,
            delivery_error=state.delivery_error,
            message_id=message_id,
        )
    )


async def set_message_id(conn: AsyncConnection, job_id: str, message_id: int | None) -> None:
    await conn.execute(update(jobs).where(jobs.c.id == job_id).values(message_id=message_id))


# --- buttons ----------------------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(BUTTON_TOKEN_BYTES)


async def create_buttons(
    conn: AsyncConnection, job_id: str, refs: Iterable[str], now: float
) -> dict[str, str]:
    """Store a fresh token for each action ref of the job; returns ref -> token."""
    tokens = {ref: new_token() for ref in dict.fromkeys(refs)}
    if tokens:
        rows = [{"token": t, "job_id": job_id, "action_ref": r, "created_at": now} for r, t in tokens.items()]
        await conn.execute(insert(buttons), rows)
    return tokens


async def job_buttons(conn: AsyncConnection, job_id: str) -> dict[str, str]:
    """ref -> token of every button stored for the job."""
    query = select(buttons.c.action_ref, buttons.c.token).where(buttons.c.job_id == job_id)
    return {r.action_ref: r.token for r in await conn.execute(query)}


async def get_button(conn: AsyncConnection, token: str) -> Button | None:
    row = (await conn.execute(select(buttons).where(buttons.c.token == token))).mappings().first()
    return Button(row["token"], row["job_id"], row["action_ref"]) if row else None


# --- input requests (ForceReply questions waiting for an answer) --------------------------------


async def add_input_request(conn: AsyncConnection, request: InputRequest) -> None:
    await conn.execute(
        insert(input_requests).values(
            chat_id=request.chat_id,
            message_id=request.message_id,
            user_id=request.user_id,
            purpose=request.purpose,
            job_id=request.job_id,
            created_at=request.created_at,
        )
    )


def _input_request(row: RowMapping) -> InputRequest:
    return InputRequest(
        row["chat_id"], row["message_id"], row["user_id"], row["purpose"], row["job_id"], row["created_at"]
    )


async def get_input_request(conn: AsyncConnection, chat_id: int, message_id: int) -> InputRequest | None:
    where = (input_requests.c.chat_id == chat_id) & (input_requests.c.message_id == message_id)
    row = (await conn.execute(select(input_requests).where(where))).mappings().first()
    return _input_request(row) if row else None


async def job_input_request(conn: AsyncConnection, job_id: str) -> InputRequest | None:
    row = (
        (await conn.execute(select(input_requests).where(input_requests.c.job_id == job_id)))
        .mappings()
        .first()
    )
    return _input_request(row) if row else None


async def delete_input_request(conn: AsyncConnection, chat_id: int, message_id: int) -> None:
    where = (input_requests.c.chat_id == chat_id) & (input_requests.c.message_id == message_id)
    await conn.execute(delete(input_requests).where(where))


async def delete_job_input_requests(conn: AsyncConnection, job_id: str) -> None:
    await conn.execute(delete(input_requests).where(input_requests.c.job_id == job_id))


# --- blend drafts -----------------------------------------------------------------------------------


def _draft(row: RowMapping) -> BlendDraft:
    return BlendDraft(
        id=row["id"],
        chat_id=row["chat_id"],
        user_id=row["user_id"],
        thread_id=row["thread_id"],
        message_id=row["message_id"],
        reply_to_message_id=row["reply_to_message_id"],
        file_ids=tuple(json.loads(row["file_ids"])),
        status=row["status"],
        created_at=row["created_at"],
    )


async def insert_draft(conn: AsyncConnection, draft: BlendDraft) -> None:
    await conn.execute(
        insert(blend_drafts).values(
            id=draft.id,
            chat_id=draft.chat_id,
            user_id=draft.user_id,
            thread_id=draft.thread_id,
            message_id=draft.message_id,
            reply_to_message_id=draft.reply_to_message_id,
            file_ids=json.dumps(list(draft.file_ids)),
            status=draft.status,
            created_at=draft.created_at,
        )
    )


async def set_draft_message(conn: AsyncConnection, draft_id: str, message_id: int) -> None:
    await conn.execute(
        update(blend_drafts).where(blend_drafts.c.id == draft_id).values(message_id=message_id)
    )


async def set_draft_files(conn: AsyncConnection, draft_id: str, file_ids: tuple[str, ...]) -> None:
    values = {"file_ids": json.dumps(list(file_ids))}
    await conn.execute(update(blend_drafts).where(blend_drafts.c.id == draft_id).values(**values))


async def move_draft(conn: AsyncConnection, draft_id: str, from_status: str, to_status: str) -> bool:
    """Change a draft's status only if it still has `from_status` (two presses can race)."""
    query = (
        update(blend_drafts)
        .where(blend_drafts.c.id == draft_id, blend_drafts.c.status == from_status)
        .values(status=to_status)
    )
    return bool((await conn.execute(query)).rowcount)


async def close_open_drafts(conn: AsyncConnection, chat_id: int, user_id: int, status: str) -> None:
    query = (
        update(blend_drafts)
        .where(
            blend_drafts.c.chat_id == chat_id,
            blend_drafts.c.user_id == user_id,
            blend_drafts.c.status == "open",
        )
        .values(status=status)
    )
    await conn.execute(query)


async def get_draft(conn: AsyncConnection, draft_id: str) -> BlendDraft | None:
    row = (await conn.execute(select(blend_drafts).where(blend_drafts.c.id == draft_id))).mappings().first()
    return _draft(row) if row else None


async def open_draft(conn: AsyncConnection, chat_id: int, user_id: int) -> BlendDraft | None:
    """The user's newest draft in the chat that still collects images."""
    query = (
        select(blend_drafts)
        .where(
            blend_drafts.c.chat_id == chat_id,
            blend_drafts.c.user_id == user_id,
            blend_drafts.c.status == "open",
        )
        .order_by(blend_drafts.c.created_at.desc())
    )
    row = (await conn.execute(query)).mappings().first()
    return _draft(row) if row else None


# --- key/value ----------------------------------------------------------------------------------------


async def kv_get(conn: AsyncConnection, key: str) -> str | None:
    value = (await conn.execute(select(kv.c.value).where(kv.c.key == key))).scalar()
    return str(value) if value is not None else None


async def kv_set(conn: AsyncConnection, key: str, value: str) -> None:
    await conn.execute(delete(kv).where(kv.c.key == key))
    await conn.execute(insert(kv).values(key=key, value=value))


async def count_jobs(conn: AsyncConnection, statuses: Sequence[JobStatus] | None = None) -> int:
    query = select(func.count()).select_from(jobs)
    if statuses:
        query = query.where(jobs.c.status.in_([s.value for s in statuses]))
    return int((await conn.execute(query)).scalar_one())


# --- usage (quotas) ----------------------------------------------------------------------------------

ACTIVE_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value, JobStatus.NEEDS_INPUT.value)


async def active_jobs(
    conn: AsyncConnection, *, user_id: int | None = None, chat_id: int | None = None
) -> int:
    """Jobs still queued, running or waiting for input, of a user or in a chat."""
    query = select(func.count()).select_from(jobs).where(jobs.c.status.in_(ACTIVE_STATUSES))
    if user_id is not None:
        query = query.where(jobs.c.user_id == user_id)
    if chat_id is not None:
        query = query.where(jobs.c.chat_id == chat_id)
    return int((await conn.execute(query)).scalar_one())


async def submitted_since(
    conn: AsyncConnection,
    since: float,
    *,
    user_id: int | None = None,
    chat_id: int | None = None,
    exclude_users: frozenset[int] = frozenset(),
) -> int:
    """Jobs handed to the backend (they have a task id) since `since`: what a daily quota counts."""
    query = (
        select(func.count()).select_from(jobs).where(jobs.c.created_at >= since, jobs.c.task_id.is_not(None))
    )
    if user_id is not None:
        query = query.where(jobs.c.user_id == user_id)
    if chat_id is not None:
        query = query.where(jobs.c.chat_id == chat_id)
    if exclude_users:
        query = query.where(jobs.c.user_id.not_in(list(exclude_users)))
    return int((await conn.execute(query)).scalar_one())


async def recent_jobs(conn: AsyncConnection, user_id: int, *, chat_id: int | None, limit: int) -> list[Job]:
    query = select(jobs).where(jobs.c.user_id == user_id)
    if chat_id is not None:
        query = query.where(jobs.c.chat_id == chat_id)
    query = query.order_by(jobs.c.created_at.desc()).limit(limit)
    return [_job_from_row(r) for r in (await conn.execute(query)).mappings()]


async def latest_active_job(conn: AsyncConnection, user_id: int, chat_id: int) -> Job | None:
    query = (
        select(jobs)
        .where(jobs.c.user_id == user_id, jobs.c.chat_id == chat_id, jobs.c.status.in_(ACTIVE_STATUSES))
        .order_by(jobs.c.created_at.desc())
    )
    row = (await conn.execute(query)).mappings().first()
    return _job_from_row(row) if row else None


# --- access rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccessRule:
    subject: str  # "user" or "chat"
    subject_id: int
    rule: str  # "allow" or "ban"


async def access_rule_list(conn: AsyncConnection) -> list[AccessRule]:
    query = select(access_rules).order_by(access_rules.c.subject, access_rules.c.subject_id)
    return [AccessRule(r.subject, r.subject_id, r.rule) for r in await conn.execute(query)]


async def set_access_rule(conn: AsyncConnection, rule: AccessRule, *, by: int, at: float) -> None:
    where = (access_rules.c.subject == rule.subject) & (access_rules.c.subject_id == rule.subject_id)
    await conn.execute(delete(access_rules).where(where))
    await conn.execute(
        insert(access_rules).values(
            subject=rule.subject, subject_id=rule.subject_id, rule=rule.rule, set_by=by, set_at=at
        )
    )


async def clear_access_rule(conn: AsyncConnection, subject: str, subject_id: int) -> bool:
    where = (access_rules.c.subject == subject) & (access_rules.c.subject_id == subject_id)
    result = await conn.execute(delete(access_rules).where(where))
    return bool(result.rowcount)
