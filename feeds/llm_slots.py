"""The LLM's slots (LLM_CONCURRENCY calls in flight), a verdict's turn before a brief's.

A feed's burst of new stories queues a brief per story; the judge's verdicts and
same-event questions of the feeds polled meanwhile decide whether a story is posted at
all, a brief only how it reads. Queued first come, first served, a verdict waited behind
every brief and came past its deadline; here a slot that frees goes to the waiting call
of the lowest priority number, in order of arrival within one. A call in flight is never
cut short for a verdict.
"""
from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from typing import AsyncIterator

VERDICT, BRIEF = 0, 1   # priorities: the judge's calls, then the briefs (and the rest)


class PrioritySlots:
    """At most `n` holders at once. A caller cancelled while it waits (its deadline
    passed) leaves the queue; one cancelled as its slot was handed over passes it on."""

    def __init__(self, n: int):
        self._free = n
        self._waiting: list[tuple[int, int, asyncio.Future]] = []   # a heap
        self._arrivals = itertools.count()

    @contextlib.asynccontextmanager
    async def held(self, priority: int) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, priority: int) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        entry = (priority, next(self._arrivals), turn)
        heapq.heappush(self._waiting, entry)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.cancelled():   # still waiting: leave the queue
                self._leave(entry)
            else:                  # handed a slot as it was given up: the next one's
                self.release()
            raise

    def release(self) -> None:
        """The slot to the first caller waiting for one (handed over: no newcomer takes
        it meanwhile), else back to the free ones."""
        while self._waiting:
            *_, turn = heapq.heappop(self._waiting)
            if not turn.done():   # one cancelled, not yet woken to leave, is passed over
                turn.set_result(None)
                return
        self._free += 1

    def _leave(self, entry: tuple) -> None:
        if entry in self._waiting:
            self._waiting.remove(entry)
            heapq.heapify(self._waiting)
