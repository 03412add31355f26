"""Backend reports about tasks no job knows yet, kept for the replica that records the task id."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Action, FailureKind, JobStatus, TaskUpdate
from bot.storage.rows import action_from_wire, action_to_wire
from bot.storage.schema import metadata

# Defined on the shared metadata so `Database.open()` creates it with the other tables.
orphan_updates = Table(
    "orphan_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("backend", String(16), nullable=False),
    Column("task_id", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("received_at", Float, nullable=False),
    Index("ix_orphan_updates_task", "backend", "task_id"),
    Index("ix_orphan_updates_received_at", "received_at"),
)


@dataclass(frozen=True, slots=True)
class OrphanCounts:
    tasks: int
    updates: int
    bytes: int


def encode_update(update: TaskUpdate) -> str:
    values: dict[str, Any] = {f.name: getattr(update, f.name) for f in fields(TaskUpdate)}
    values["actions"] = None if update.actions is None else [action_to_wire(a) for a in update.actions]
    return json.dumps(values, ensure_ascii=False)


def decode_update(raw: str) -> TaskUpdate:
    values = json.loads(raw)
    actions: tuple[Action, ...] | None = None
    if values.get("actions") is not None:
        actions = tuple(action_from_wire(a) for a in values["actions"])
    failure = values.get("failure")
    return TaskUpdate(
        **{
            **values,
            "status": JobStatus(values["status"]),
            "failure": FailureKind(failure) if failure is not None else None,
            "actions": actions,
        }
    )


async def expire_orphans(conn: AsyncConnection, *, before: float) -> None:
    await conn.execute(delete(orphan_updates).where(orphan_updates.c.received_at <= before))


async def orphan_counts(conn: AsyncConnection) -> OrphanCounts:
    query = select(
        func.count(func.distinct(orphan_updates.c.backend + ":" + orphan_updates.c.task_id)),
        func.count(),
        func.coalesce(func.sum(orphan_updates.c.size), 0),
    )
    tasks, updates, size = (await conn.execute(query)).one()
    return OrphanCounts(int(tasks), int(updates), int(size))


async def task_orphan_sizes(conn: AsyncConnection, backend: str, task_id: str) -> list[tuple[int, int]]:
    """(id, size) of the kept reports of one task, oldest first."""
    query = (
        select(orphan_updates.c.id, orphan_updates.c.size)
        .where(orphan_updates.c.backend == backend, orphan_updates.c.task_id == task_id)
        .order_by(orphan_updates.c.id)
    )
    return [(row.id, row.size) for row in await conn.execute(query)]


async def delete_orphans(conn: AsyncConnection, ids: Sequence[int]) -> None:
    await conn.execute(delete(orphan_updates).where(orphan_updates.c.id.in_(list(ids))))


async def insert_orphan(
    conn: AsyncConnection, backend: str, task_id: str, payload: str, *, size: int, now: float
) -> None:
    await conn.execute(
        insert(orphan_updates).values(
            backend=backend, task_id=task_id, payload=payload, size=size, received_at=now
        )
    )


async def take_orphans(conn: AsyncConnection, backend: str, task_id: str) -> list[TaskUpdate]:
    """Remove and return the task's kept reports, oldest first; a report is taken by one replica only."""
    taken = await conn.execute(
        delete(orphan_updates)
        .where(orphan_updates.c.backend == backend, orphan_updates.c.task_id == task_id)
        .returning(orphan_updates.c.id, orphan_updates.c.payload)
    )
    updates: list[TaskUpdate] = []
    for _, payload in sorted(taken.all()):
        try:
            updates.append(decode_update(payload))
        except (ValueError, TypeError, KeyError):
            continue  # stored by another version of the bot: the job is polled anyway
    return updates
