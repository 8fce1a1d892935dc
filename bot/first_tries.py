"""How long ago a post was first tried, for an adapter's find_sent (bot/adapter.py): how
far back a retry reads the channel's history, and whether Discord still knows the nonce.

Two measures, the longer one taken: this process's own, from its first attempt until
the post is confirmed, on time.monotonic, which a wall-clock step (NTP, a restored VM)
does not move; and the outbox's (`tried_ago`, passed by delivery, bot/retry.py), which
outlives a restart: a wall-clock time, moved back with the outbox's other times when
the clock steps back (storage/delivery_clock.py). Longer is the safe side: reading a
page further back costs a request, reading too little posts twice."""
from __future__ import annotations

import time

FIRST_TRIES_KEPT = 10_000   # first attempts remembered for posts not yet confirmed


class FirstTries:
    """Nonce -> when (time.monotonic) this process first tried that post."""

    def __init__(self):
        self._at: dict[str, float] = {}

    def remember(self, nonce: str) -> None:
        if nonce not in self._at and len(self._at) >= FIRST_TRIES_KEPT:
            del self._at[next(iter(self._at))]
        self._at.setdefault(nonce, time.monotonic())

    def forget(self, nonce: str) -> None:
        """Confirmed: no retry will ask about it."""
        self._at.pop(nonce, None)

    def age(self, nonce: str, tried_ago: float | None = None) -> float | None:
        """Seconds since the post was first tried; None when neither this process nor
        the outbox knows (a row queued before the outbox kept it)."""
        mine = self._at.get(nonce)
        ages = [a for a in (None if mine is None else time.monotonic() - mine, tried_ago)
                if a is not None]
        return max(ages) if ages else None


def epoch_ago(seconds: float) -> float:
    """The wall-clock time `seconds` ago, as platforms stamp their messages: now, less
    an age measured on clocks a step does not move."""
    return time.time() - seconds
