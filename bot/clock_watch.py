"""Noticing the wall clock step back, so delivery waits no longer than it meant to.

NTP stepping a clock that ran fast, a VM restored from a snapshot, a database copied
from a machine whose clock ran fast: every time delivery stored (a retry's next
attempt, the hourly cap's send times, a digest's last run) or keeps (a channel's
Retry-After) then lies as far ahead as the clock went back, and a post due in 5 s
waited an hour and 5 s. While the bot runs, the wall clock is compared with
time.monotonic at each look at the outbox; at start-up, with the latest time delivery
recorded. A step back past STEP_BACK moves those times back by the step; forward steps
(a laptop waking) need nothing. Pacing and the rate gate never sleep past their own
interval, however far ahead their last post lies (bot/pacing.py).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Callable

log = logging.getLogger("ainews.delivery")

STEP_BACK = timedelta(seconds=5)   # NTP slews smaller errors; a step is a deliberate jump


class ClockWatch:
    """The wall clock against a monotonic one, from one look to the next."""

    def __init__(self, clock: Callable[[], datetime],
                 monotonic: Callable[[], float] = time.monotonic):
        self.clock, self.monotonic = clock, monotonic
        self.reset()

    def reset(self) -> None:
        self._wall, self._mono = self.clock(), self.monotonic()

    def step_back(self) -> timedelta | None:
        """How far the wall clock went back since the last look, past STEP_BACK."""
        wall, mono = self.clock(), self.monotonic()
        expected = self._wall + timedelta(seconds=mono - self._mono)
        self._wall, self._mono = wall, mono
        return expected - wall if expected - wall > STEP_BACK else None


class ClockSteps:
    """Delivery's half that moves its times back with the clock; uses its store, clock,
    _watch, _step_due, _blocked, _cooldown and _held_until."""

    def _mind_the_clock(self) -> None:
        """At each look at the outbox. The watch counts a step once: one whose times
        could not be moved (the store busy) is moved at the next look."""
        self._step_due += self._watch.step_back() or timedelta(0)
        if self._step_due:
            self._moved_back(self._step_due, "since delivery last looked")
            self._step_due = timedelta(0)

    def _mind_stored_times(self) -> None:
        """At start-up: times recorded after now mean the clock went back meanwhile."""
        ahead = self.store.delivery_clock_ahead(self.clock())
        if ahead > STEP_BACK:
            self._moved_back(ahead, "delivery recorded times up to that far after now")
        self._watch.reset()

    def _moved_back(self, step: timedelta, why: str) -> None:
        self.store.shift_delivery_times(self.clock(), step)
        for key in self._blocked:
            self._blocked[key] -= step
        # An idle tick and a roundup's next look: looking now costs one read.
        self._cooldown.clear()
        self._held_until.clear()
        log.warning("delivery: the clock went back %s (%s); waiting posts, retries, the "
                    "hourly cap and digest times moved back as much", span(step), why)


def span(step: timedelta) -> str:
    """'1 h 5 min', '3 d 2 h', '40 s': the two largest units of a step."""
    seconds = round(step.total_seconds())
    units = [(seconds // 86400, "d"), (seconds // 3600 % 24, "h"),
             (seconds // 60 % 60, "min"), (seconds % 60, "s")]
    first = next(i for i, (n, _) in enumerate(units) if n or i == 3)
    return " ".join(f"{n} {u}" for n, u in units[first:first + 2] if n)
