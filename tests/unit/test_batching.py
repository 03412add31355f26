"""Group commit: arrivals during a write share the next one, in order, and errors stay in their batch."""

from __future__ import annotations

import asyncio

import pytest

from bot.batching import GroupCommit


class Recorder:
    """An `apply` that records each batch and can be held open to let items pile up."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.entered = asyncio.Event()
        self.fail_on: int | None = None

    async def apply(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.entered.set()
        await self.gate.wait()
        if self.fail_on in items:
            raise ValueError(f"refused {self.fail_on}")
        return [item * 10 for item in items]


async def test_a_lone_item_is_applied_at_once() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.apply)
    assert await commit.submit(7) == 70
    assert recorder.batches == [[7]]


async def test_items_arriving_during_a_write_share_the_next_one_in_order() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.apply)
    recorder.gate.clear()
    first = asyncio.ensure_future(commit.submit(1))
    await recorder.entered.wait()
    later = [asyncio.ensure_future(commit.submit(n)) for n in range(2, 7)]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await first == 10
    assert [await f for f in later] == [20, 30, 40, 50, 60]
    assert recorder.batches == [[1], [2, 3, 4, 5, 6]]


async def test_submit_many_keeps_its_items_together_and_in_order() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.apply)
    assert await commit.submit_many([3, 1, 2]) == [30, 10, 20]
    assert await commit.submit_many([]) == []
    assert recorder.batches == [[3, 1, 2]]


async def test_batches_are_capped() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.apply, max_batch=2)
    assert await commit.submit_many([1, 2, 3, 4, 5]) == [10, 20, 30, 40, 50]
    assert recorder.batches == [[1, 2], [3, 4], [5]]


async def test_a_failing_batch_fails_its_callers_only() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.apply)
    recorder.gate.clear()
    first = asyncio.ensure_future(commit.submit(1))
    await recorder.entered.wait()
    recorder.fail_on = 2
    doomed = [asyncio.ensure_future(commit.submit(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    recorder.gate.set()
    assert await first == 10
    for future in doomed:
        with pytest.raises(ValueError, match="refused 2"):
            await future
    recorder.fail_on = None
    assert await commit.submit(4) == 40, "the next batch is unaffected"


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.apply)
    recorder.gate.clear()
    first = asyncio.ensure_future(commit.submit(1))
    await recorder.entered.wait()
    impatient = asyncio.ensure_future(commit.submit(2))
    patient = asyncio.ensure_future(commit.submit(3))
    await asyncio.sleep(0)
    impatient.cancel()
    recorder.gate.set()
    assert await first == 10
    assert await patient == 30
    assert impatient.cancelled()
    assert recorder.batches == [[1], [2, 3]], "an item already received is still applied"


async def test_flush_waits_for_everything_submitted() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.apply)
    recorder.gate.clear()
    pending = [asyncio.ensure_future(commit.submit(n)) for n in (1, 2)]
    await recorder.entered.wait()
    flushed = asyncio.ensure_future(commit.flush())
    await asyncio.sleep(0.01)
    assert not flushed.done()
    recorder.gate.set()
    await flushed
    assert all(f.done() for f in pending)
    assert recorder.batches == [[1, 2]]
