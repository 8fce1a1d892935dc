"""The LLM's slots (feeds/llm_slots.py): a verdict's turn before a brief's, the feeds'
briefs in turns, and a caller given up on by its deadline neither keeps a slot nor
loses one."""
from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from feeds.llm_slots import BRIEF, VERDICT, PrioritySlots


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _taking(slots: PrioritySlots, order: list[str], name: str, priority: int,
            key: str | None = None) -> asyncio.Task:
    """A caller that takes a slot, notes its turn and keeps the slot until cancelled."""
    async def take() -> None:
        async with slots.held(priority, key):
            order.append(name)
            await asyncio.Event().wait()
    return asyncio.ensure_future(take())


async def _can_take_all(slots: PrioritySlots, n: int) -> bool:
    """Whether n callers get a slot at once, none waiting (they give them back)."""
    takers = [asyncio.ensure_future(slots.acquire(BRIEF)) for _ in range(n)]
    await _settle()
    done = all(t.done() for t in takers)
    for t in takers:
        if t.done():
            slots.release()
        else:
            t.cancel()
    await _settle()
    return done


async def test_a_verdict_waits_only_for_the_calls_in_flight():
    slots, order = PrioritySlots(1), []
    tasks = {"brief 1": _taking(slots, order, "brief 1", BRIEF)}
    await _settle()
    for name, priority in [("brief 2", BRIEF), ("brief 3", BRIEF), ("verdict", VERDICT)]:
        tasks[name] = _taking(slots, order, name, priority)
    await _settle()
    for _ in range(3):   # the holder is done: the next one's turn
        tasks[order[-1]].cancel()
        await _settle()
    assert order == ["brief 1", "verdict", "brief 2", "brief 3"]
    tasks[order[-1]].cancel()


async def test_a_caller_given_up_while_waiting_leaves_no_trace():
    # A brief's deadline cancels its wait for a slot (asyncio.wait_for): it must not be
    # handed a slot later, which would then be held by no one for good.
    slots, order = PrioritySlots(2), []
    holders = [_taking(slots, order, f"holder {i}", BRIEF) for i in range(2)]
    await _settle()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(slots.acquire(VERDICT), 0.01)
    for h in holders:
        h.cancel()
    await _settle()
    assert await _can_take_all(slots, 2) and not await _can_take_all(slots, 3)


async def test_a_caller_given_up_as_its_turn_came_passes_the_slot_on():
    # The slot is handed over and the caller's deadline cancels it before it runs: the
    # slot goes to the next in line rather than being lost.
    slots, order = PrioritySlots(1), []
    holder = _taking(slots, order, "holder", BRIEF)
    await _settle()
    handed = asyncio.ensure_future(slots.acquire(VERDICT))
    after = _taking(slots, order, "next", BRIEF)
    await _settle()
    holder.cancel()
    await asyncio.sleep(0)   # the holder lets go: the slot is handed to `handed` ...
    handed.cancel()          # ... which its deadline gives up before it runs
    await _settle()
    assert order == ["holder", "next"] and handed.cancelled()
    after.cancel()
    await _settle()
    assert await _can_take_all(slots, 1) and not await _can_take_all(slots, 2)


async def test_the_feeds_take_turns_for_a_slot():
    # A poll queues every new story's brief at once: one feed's twelve filled the queue
    # first come, first served, and another feed's two, read a moment later, got no
    # turn within their deadline. Every feed's first comes before any feed's second;
    # a feed's call in flight counts as its first.
    slots, order, tasks = PrioritySlots(1), [], {}
    queued = [("a0", BRIEF, "A"), ("a1", BRIEF, "A"), ("a2", BRIEF, "A"), ("a3", BRIEF, "A"),
              ("b0", BRIEF, "B"), ("b1", BRIEF, "B"), ("verdict a", VERDICT, "A")]
    for name, priority, key in queued:
        tasks[name] = _taking(slots, order, name, priority, key)
        await _settle()
    tasks["c0"] = _taking(slots, order, "c0", BRIEF, "C")   # a feed read later still
    await _settle()
    while len(order) < len(tasks):
        tasks[order[-1]].cancel()   # the holder is done: the next one's turn
        await _settle()
    assert order == ["a0", "verdict a", "b0", "c0", "a1", "b1", "a2", "a3"]
    tasks[order[-1]].cancel()
    await _settle()
    assert not slots._keys   # each feed forgotten once it has no call left


async def test_a_feed_that_comes_back_takes_turns_with_those_that_kept_waiting():
    # Forgotten when it has no call left, a feed must not start over ahead of the
    # others: coming back with a burst, its calls would all go before theirs.
    slots, order, tasks = PrioritySlots(1), [], {}
    for name in ["a0"] + [f"b{i}" for i in range(6)]:
        tasks[name] = _taking(slots, order, name, BRIEF, name[0])
        await _settle()

    async def next_turn() -> None:
        tasks[order[-1]].cancel()   # the holder is done: the next one's turn
        await _settle()
    for _ in range(3):   # a0 (A is forgotten), b0 and b1 done: b2 holds the slot
        await next_turn()
    for name in ("a1", "a2", "a3"):
        tasks[name] = _taking(slots, order, name, BRIEF, "A")
        await _settle()
    while len(order) < len(tasks):
        await next_turn()
    assert order == ["a0", "b0", "b1", "b2", "a1", "b3", "a2", "b4", "a3", "b5"]
    await next_turn()


@pytest.mark.parametrize("n", [1, 2, 4])
async def test_callers_given_up_at_random_never_lose_or_add_a_slot(n):
    # Holders that fail, callers cancelled while waiting or as their turn comes: never
    # more than n at once, and afterwards every slot free and no feed remembered.
    rng, slots = random.Random(n), PrioritySlots(n)
    count = _Holders(slots, rng)

    async def user() -> None:
        async with count.holding():
            if rng.random() < 0.2:
                raise ValueError("the holder fails")
            for _ in range(rng.randint(0, 3)):
                await asyncio.sleep(0)

    tasks = []
    for _ in range(400):
        tasks.append(asyncio.ensure_future(user()))
        for _ in range(rng.randint(0, 2)):
            await asyncio.sleep(0)
        for t in rng.sample(tasks, min(len(tasks), rng.randint(0, 2))):
            t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert count.peak <= n and slots._free == n and not slots._waiting and not slots._keys


async def test_deadlines_racing_the_handover_never_lose_or_add_a_slot():
    rng, slots = random.Random(11), PrioritySlots(2)
    count = _Holders(slots, rng)

    async def call() -> None:
        async with count.holding():
            await asyncio.sleep(rng.choice((0, 0.001, 0.002)))

    async def one() -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(call(), rng.choice((0.001, 0.002, 0.003, 0.01)))
    await asyncio.gather(*(one() for _ in range(600)))
    assert count.peak <= 2 and slots._free == 2 and not slots._waiting and not slots._keys


class _Holders:
    """Slots held at random priorities and feeds, counted: the most ever held at once."""

    def __init__(self, slots: PrioritySlots, rng: random.Random):
        self.slots, self.rng, self.now, self.peak = slots, rng, 0, 0

    @contextlib.asynccontextmanager
    async def holding(self):
        async with self.slots.held(self.rng.choice((VERDICT, BRIEF)), self.rng.choice("ABC")):
            self.now += 1
            self.peak = max(self.peak, self.now)
            try:
                yield
            finally:
                self.now -= 1


async def test_a_feed_that_used_free_slots_is_not_sent_behind_another_feeds_whole_burst():
    """Feed A's calls kept one or two of two slots busy, each taking a free slot (its key
    never forgotten: always one in flight). Its turn counter grew to 12 while `_served`
    stayed 0. Then feed B queues a burst of six; A queues one. The docstring: a call's
    turn is the number of its key's calls waiting or holding before it (A: 2), so A's
    call goes in B's third round at the latest. It waits for B's whole burst instead:
    the first-come-first-served starvation llm-fair meant to end."""
    slots, order, gates, tasks = PrioritySlots(2), [], {}, []

    async def hold(name, key):
        gates[name] = asyncio.Event()
        async with slots.held(BRIEF, key):
            order.append(name)
            await gates[name].wait()

    def start(name, key):
        tasks.append(asyncio.ensure_future(hold(name, key)))

    async def finish_oldest():
        name = next(n for n in order if not gates[n].is_set())
        gates[name].set()
        for _ in range(5):
            await asyncio.sleep(0)

    start("a-0", "a")
    for i in range(1, 12):   # A alone: each call takes a free slot, one A always in flight
        start(f"a-{i}", "a")
        for _ in range(3):
            await asyncio.sleep(0)
        if i < 11:
            await finish_oldest()
    assert slots._free == 0 and not slots._waiting   # A holds both slots, nobody waits
    for i in range(6):
        start(f"b-{i}", "b")
    await asyncio.sleep(0)
    start("a-next", "a")
    await asyncio.sleep(0)
    served_from = len(order)
    while len(order) < served_from + 7:
        await finish_oldest()
    for g in gates.values():
        g.set()
    await asyncio.gather(*tasks)
    after = order[served_from:]
    assert after.index("a-next") <= 3, after
