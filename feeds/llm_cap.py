"""HourlyCap: at most so many LLM calls in any hour (LLM_HOURLY_CAP), shared in kind by
the condenser (feeds/llm.py) and the judge (feeds/judge.py), each with a cap of its own.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Callable, Protocol

from feeds.plural import count

log = logging.getLogger("ainews.llm")


class CallLedger(Protocol):
    """Where a cap's calls outlast the process (the Store: storage/llm_calls.py)."""
    def llm_call_ages(self, kind: str) -> list[float]: ...
    def record_llm_call(self, kind: str) -> None: ...


class HourlyCap:
    """At most `limit` calls in any hour (None: no cap, LLM_HOURLY_CAP=unlimited);
    reaching it is said once per capped stretch."""

    def __init__(self, limit: int | None, clock: Callable[[], float], fallback: str,
                 logger: logging.Logger = log):
        self.limit, self.clock, self.fallback, self.log = limit, clock, fallback, logger
        self.calls: deque[float] = deque()
        self._capped = self._unrecorded = False
        self.ledger: CallLedger | None = None
        self.kind = ""

    def keep_in(self, ledger: CallLedger, kind: str) -> None:
        """Count the calls `ledger` holds from the last hour, and keep each new one
        there: a bot restarted (by its supervisor after a crash, a cron's `run --once`)
        goes on with the hour's calls spent instead of a whole hour's cap again."""
        self.ledger, self.kind, now = ledger, kind, self.clock()
        spent = [now - age for age in ledger.llm_call_ages(kind)]
        self.calls = deque(sorted([*self.calls, *spent]))

    def room(self) -> int | None:
        """Calls left in the current hour (none taken); None: no cap."""
        if self.limit is None:
            return None
        self._forget_old(self.clock())
        return max(0, self.limit - len(self.calls))

    def _forget_old(self, now: float) -> None:
        while self.calls and now - self.calls[0] >= 3600:
            self.calls.popleft()

    def full(self) -> bool:
        """Whether the hour's calls are all taken (said once), spending none: asked
        before a call waits for a slot, the cap charged (`allow`) only as it is sent."""
        if self.room() != 0:
            self._capped = False
            return False
        if not self._capped:
            self.log.info("%s: hourly cap of %s reached; %s", self.log.name.rsplit(".", 1)[-1],
                          count(self.limit, "call"), self.fallback)
        self._capped = True
        return True

    def allow(self) -> bool:
        """Whether a call may be sent now, counted as sent if so."""
        if self.full():
            return False
        if self.limit is not None:
            self.calls.append(self.clock())
            self._record()
        return True

    def _record(self) -> None:
        """Keep the call in the ledger. A store that cannot take the write (locked by
        another program, a full disk) must not cost the call, which the cap has counted
        in memory: said once, as a restart then starts from fewer calls."""
        if self.ledger is None:
            return
        try:
            self.ledger.record_llm_call(self.kind)
        except Exception as e:   # the store's errors are not feeds' to know
            if not self._unrecorded:
                self.log.warning("%s: could not record an LLM call in the store (%s); the "
                                 "hourly cap counts it, but a restart within the hour "
                                 "does not", self.log.name.rsplit(".", 1)[-1], e)
            self._unrecorded = True
            return
        self._unrecorded = False
