"""Access rules admins set at runtime (/allow, /ban), on top of the configured lists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import from_row, to_values
from bot.storage.schema import access_rules


@dataclass(frozen=True, slots=True)
class AccessRule:
    subject: str  # "user" or "chat"
    subject_id: int
    rule: str  # "allow" or "ban"


def _subject(subject: str, subject_id: int) -> ColumnElement[bool]:
    return (access_rules.c.subject == subject) & (access_rules.c.subject_id == subject_id)


async def access_rule_list(conn: AsyncConnection) -> list[AccessRule]:
    query = select(access_rules).order_by(access_rules.c.subject, access_rules.c.subject_id)
    return [from_row(AccessRule, r) for r in (await conn.execute(query)).mappings()]


async def set_access_rule(conn: AsyncConnection, rule: AccessRule, *, by: int, at: float) -> None:
    await conn.execute(delete(access_rules).where(_subject(rule.subject, rule.subject_id)))
    await conn.execute(insert(access_rules).values(**to_values(rule), set_by=by, set_at=at))


async def clear_access_rule(conn: AsyncConnection, subject: str, subject_id: int) -> bool:
    result = await conn.execute(delete(access_rules).where(_subject(subject, subject_id)))
    return bool(result.rowcount)
