"""Credits follow the job through the writer's hook: reserved with the row, given back with its failure."""

from __future__ import annotations

import pytest

from bot.domain import Capabilities, Command, FailureKind, JobKind
from bot.domain.buttons import ButtonPolicy
from bot.domain.payments import JobPrices, OutOfCredits
from bot.jobs.writer import JobWriter
from bot.payments import CreditHook, CreditRules
from bot.storage.credits import Entry, Reason, add_entry, balance, job_entries
from bot.storage.database import Database
from tests.factories import make_job

CAPABILITIES = Capabilities(commands=frozenset({Command.IMAGINE}), push=False, max_prompt_length=100)
USER = 1001
ADMIN = 7
NOW = 1_000_000.0
PRICES = JobPrices({JobKind.UPSCALE: 0, JobKind.VIDEO: 5})


def writer(db: Database, *, free_daily: int = 0) -> JobWriter:
    rules = CreditRules(PRICES, free_daily=free_daily, admins=frozenset({ADMIN}))
    return JobWriter(db, ButtonPolicy(CAPABILITIES), lambda: NOW, hooks=[CreditHook(rules, lambda: NOW)])


async def give(db: Database, credits: int, user_id: int = USER) -> None:
    async with db.write() as conn:
        await add_entry(conn, Entry(user_id, credits, Reason.GRANT, NOW))


async def balance_of(db: Database, user_id: int = USER) -> int:
    async with db.read() as conn:
        return await balance(conn, user_id)


async def test_free_jobs_first_then_the_price_then_a_refusal_that_records_nothing(database: Database) -> None:
    jobs = writer(database, free_daily=1)
    await give(database, 6)

    await jobs.create(make_job(id="free", user_id=USER))
    assert await balance_of(database) == 6, "the day's free job costs nothing"
    await jobs.create(make_job(id="video", kind=JobKind.VIDEO, user_id=USER))
    assert await balance_of(database) == 1
    await jobs.create(make_job(id="upscale", kind=JobKind.UPSCALE, user_id=USER))
    assert await balance_of(database) == 1, "a job priced 0 costs nothing"

    with pytest.raises(OutOfCredits) as refused:
        await jobs.create(make_job(id="too-dear", kind=JobKind.VIDEO, user_id=USER))

    assert refused.value.args_for_message == {"price": 5, "balance": 1}
    assert await jobs.get("too-dear") is None, "a refused job is not recorded"
    assert await balance_of(database) == 1


async def test_several_jobs_are_paid_all_or_none(database: Database) -> None:
    jobs = writer(database)
    await give(database, 3)

    with pytest.raises(OutOfCredits):
        await jobs.create_all([make_job(id=f"all-{n}", user_id=USER) for n in range(4)])

    assert [await jobs.get(f"all-{n}") for n in range(4)] == [None] * 4
    assert await balance_of(database) == 3


async def test_a_failure_with_nothing_charged_gives_the_credits_back_once(database: Database) -> None:
    jobs = writer(database)
    await give(database, 5)
    await jobs.create(make_job(id="banned", kind=JobKind.VIDEO, user_id=USER))
    assert await balance_of(database) == 0

    await jobs.update("banned", lambda job: job.fail(FailureKind.BANNED, "word", NOW))
    await jobs.update("banned", lambda job: job.fail(FailureKind.BANNED, "word", NOW + 1))

    assert await balance_of(database) == 5
    async with database.read() as conn:
        reasons = [entry.reason for entry in await job_entries(conn, "banned")]
    assert reasons == [Reason.JOB, Reason.JOB_BACK]


async def test_a_failure_the_backend_charged_for_keeps_the_credits(database: Database) -> None:
    jobs = writer(database)
    await give(database, 1)
    await jobs.create(make_job(id="timed-out", user_id=USER))

    await jobs.update("timed-out", lambda job: job.fail(FailureKind.BACKEND, "broke", NOW))

    assert await balance_of(database) == 0


async def test_a_free_job_given_back_frees_its_place_for_today(database: Database) -> None:
    jobs = writer(database, free_daily=1)
    await jobs.create(make_job(id="first", user_id=USER))
    with pytest.raises(OutOfCredits):
        await jobs.create(make_job(id="second", user_id=USER))

    await jobs.update("first", lambda job: job.fail(FailureKind.QUEUE_FULL, None, NOW))
    await jobs.create(make_job(id="second", user_id=USER))

    assert await balance_of(database) == 0


async def test_admins_never_pay(database: Database) -> None:
    jobs = writer(database)

    await jobs.create(make_job(id="admin-job", user_id=ADMIN, kind=JobKind.VIDEO))

    assert await balance_of(database, ADMIN) == 0
