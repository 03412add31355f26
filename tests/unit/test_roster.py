"""Rendezvous ownership: replicas agree on each key's owner, and a death moves only the dead one's keys."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.roster import SoleReplica, rendezvous_owner

members = st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=6, unique=True)
keys = st.lists(st.integers(min_value=-(10**13), max_value=10**13), min_size=1, max_size=200, unique=True)


@given(members, keys)
def test_only_the_dead_replicas_keys_move(alive: list[str], chats: list[int]) -> None:
    dead = alive[0]
    survivors = alive[1:]
    for chat in chats:
        before = rendezvous_owner(alive, chat)
        after = rendezvous_owner(survivors, chat)
        assert after in survivors
        if before != dead:
            assert after == before, "a live replica's chat moved"


@given(members, keys)
def test_the_owner_does_not_depend_on_the_listing_order(alive: list[str], chats: list[int]) -> None:
    for chat in chats:
        assert rendezvous_owner(alive, chat) == rendezvous_owner(list(reversed(alive)), chat)


def test_work_spreads_over_the_replicas() -> None:
    alive = ["a-1", "b-2", "c-3"]
    share = {m: 0 for m in alive}
    for chat in range(3000):
        share[rendezvous_owner(alive, chat)] += 1
    assert all(800 < n < 1200 for n in share.values()), share


def test_a_lone_process_owns_everything_and_counts_one() -> None:
    sole = SoleReplica()
    seen: list[int] = []
    sole.on_change(seen.append)
    assert sole.owns(123) and sole.owns("job-id") and seen == [1]
