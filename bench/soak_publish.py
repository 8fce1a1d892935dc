"""The soak's publisher: a new story every few seconds in a feed the bot has polled
once and that stays clean for GRACE seconds, at the pace the run's mode asks for.

Uncapped (the default soak), every story is its own post: one every `--publish-every`
seconds on average until 85% of the active period. With `--cap N` (CapPace) the
channels' spread turns must take everything before the run ends: spread_from(cap)
stories at that pace (the channels' free posts), then one per spread_gap(cap) /
STORIES_PER_TURN on average, so a turn's roundup holds about six stories (at most
ROUNDUP_SIZE fit in one message), stopping when the cap has room for one more turn:
that last turn takes what is left, as the channel's cap-th message at most, so no story
waits for the cap's hour (the run would not end).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from bot.pacing import spread_from, spread_gap

GRACE = 30.0          # an entry counts only if its feed stays clean this long after
STORIES_PER_TURN = 6


class Pace:
    """Seconds to the next story (mean; jittered by the caller), or None: stop. The
    uncapped soak's is `every` until `until`; the capped one's is CapPace."""

    def __init__(self, every: float, until: float):
        self.every, self.until = every, until

    def __call__(self, published: int, now: float) -> float | None:
        return self.every if now < self.until else None


class CapPace(Pace):
    def __init__(self, every: float, until: float, cap: int):
        super().__init__(every, until)
        self.cap, self.stop = cap, None
        self.gap = spread_gap(cap).total_seconds()

    def __call__(self, published: int, now: float) -> float | None:
        if published < spread_from(self.cap):
            return super().__call__(published, now)
        if self.stop is None:       # the channel's spread turns start about now
            turns = self.cap - spread_from(self.cap) - 1
            self.stop = min(self.until, now + turns * self.gap)
        return self.gap / STORIES_PER_TURN if now < self.stop else None


def check_cap(cap: str) -> int:
    """--cap's type: a cap whose spread turns leave room for a roundup. CapPace holds
    stories back for cap - spread_from(cap) - 1 turns: none below 7 (4-6 spread, but
    a run at them would publish only free posts and test nothing capped)."""
    if int(cap) - spread_from(int(cap)) < 2:
        raise argparse.ArgumentTypeError(
            f"a cap of {cap} leaves no spread turn for a roundup in the soak; use "
            f"{SMALLEST_CAP} or more")
    return int(cap)


SMALLEST_CAP = next(c for c in range(1, 100) if c - spread_from(c) >= 2)


def drain_for(cap: int | None, base: float) -> float:
    """The drain: with a cap, the last turn comes up to one spread gap after the last story."""
    return base if cap is None else base + spread_gap(cap).total_seconds()


def polled_urls(db: Path) -> set[str]:
    """Feeds whose first poll is recorded: only their new entries may be posted."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return {r[0] for r in c.execute("SELECT url FROM feeds WHERE polls_ok > 0")}
    except sqlite3.Error:
        return set()


async def publish(fleet, pool, rng: random.Random, db: Path, expected: dict,
                  pace: Pace) -> None:
    while (every := pace(len(expected), fleet.now())) is not None:
        await asyncio.sleep(every * rng.uniform(0.5, 1.5))
        t, polled = fleet.now(), polled_urls(db)
        eligible = [f for f in fleet.feeds if f.url in polled and f.clean_until(t + GRACE)]
        if not eligible:
            continue
        feed, entry = rng.choice(eligible), pool.next()
        entry.published = datetime.now(timezone.utc).replace(microsecond=0)
        fleet.publish(feed, entry)
        expected[entry.uid] = {"t": t, "feed": feed.no, "hostile": entry.hostile}
