"""The LLM's slots (LLM_CONCURRENCY calls in flight), a verdict's turn before a brief's,
and the feeds' briefs in turns.

A feed's burst of new stories queues a brief per story; the judge's verdicts and
same-event questions of the feeds polled meanwhile decide whether a story is posted at
all, a brief only how it reads. Queued first come, first served, a verdict waited behind
every brief and came past its deadline; here a slot that frees goes to the waiting call
of the lowest priority number. Within one priority the callers' keys (a story's feed)
take turns: a feed's twelve new stories filled the queue, and another feed's two, read
a moment later, got no turn within their deadline. A call in flight is never cut short.
"""
from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from typing import AsyncIterator, Hashable

VERDICT, BRIEF = 0, 1   # priorities: the judge's calls, then the briefs (and the rest)


class PrioritySlots:
    """At most `n` holders at once. A caller cancelled while it waits (its deadline
    passed) leaves the queue; one cancelled as its slot was handed over passes it on.

    Turns: a waiting call's place is (priority, turn, arrival), its turn the number of
    calls of its (priority, key) waiting or holding a slot before it, but never before
    the turn last served (a key that comes back is not ahead of those that kept waiting).
    A key is forgotten once it has no call waiting or holding a slot."""

    def __init__(self, n: int):
        self._free = n
        self._waiting: list[tuple[int, int, int, asyncio.Future, tuple]] = []   # a heap
        self._arrivals = itertools.count()
        self._keys: dict[tuple, list[int]] = {}   # (priority, key) -> [next turn, calls]
        self._served: dict[int, int] = {}          # priority -> the turn last served

    @contextlib.asynccontextmanager
    async def held(self, priority: int, key: Hashable = None) -> AsyncIterator[None]:
        await self.acquire(priority, key)
        try:
            yield
        finally:
            self.release(priority, key)

    async def acquire(self, priority: int, key: Hashable = None) -> None:
        who, served = (priority, key), self._served.get(priority, 0)
        mine = self._keys.setdefault(who, [served, 0])
        turn_number = max(mine[0], served)
        mine[0], mine[1] = turn_number + 1, mine[1] + 1
        if self._free and not self._waiting:
            self._free -= 1
            # Served: else a key always in flight climbed turns no one served, and its
            # next call queued behind another feed's whole burst.
            self._served[priority] = turn_number
            return
        turn = asyncio.get_running_loop().create_future()
        entry = (priority, turn_number, next(self._arrivals), turn, who)
        heapq.heappush(self._waiting, entry)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.cancelled():   # still waiting: leave the queue
                self._leave(entry)
            else:                  # handed a slot as it was given up: the next one's
                self.release(priority, key)
            raise

    def release(self, priority: int = BRIEF, key: Hashable = None) -> None:
        """The slot to the first caller waiting for one (handed over: no newcomer takes
        it meanwhile), else back to the free ones."""
        self._done(priority, key)
        while self._waiting:
            first, turn_number, _, turn, _ = heapq.heappop(self._waiting)
            if not turn.done():   # one cancelled, not yet woken to leave, is passed over
                self._served[first] = turn_number
                turn.set_result(None)
                return
        self._free += 1

    def _done(self, priority: int, key: Hashable) -> None:
        """One call of the key fewer waiting or holding: the key forgotten at none."""
        who = (priority, key)
        mine = self._keys.get(who)
        if mine is not None:
            mine[1] -= 1
            if not mine[1]:
                del self._keys[who]

    def _leave(self, entry: tuple) -> None:
        if entry in self._waiting:
            self._waiting.remove(entry)
            heapq.heapify(self._waiting)
        self._done(*entry[-1])
