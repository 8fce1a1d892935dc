"""The LLM's slots (feeds/llm_slots.py): a verdict's turn before a brief's, and a caller
given up on by its deadline neither keeps a slot nor loses one."""
from __future__ import annotations

import asyncio

import pytest

from feeds.llm_slots import BRIEF, VERDICT, PrioritySlots


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _taking(slots: PrioritySlots, order: list[str], name: str, priority: int) -> asyncio.Task:
    """A caller that takes a slot, notes its turn and keeps the slot until cancelled."""
    async def take() -> None:
        async with slots.held(priority):
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
