"""Retention for the running bot and `ainews prune`: old stories slimmed once a day.

What slimming keeps and drops is storage/retention.py's; this module decides when
(AINEWS_KEEP_DAYS; 0 keeps everything) and says what it did in one line.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from feeds.plural import count
from storage.db_path import db_file
from storage.retention import Slimmed

log = logging.getLogger("ainews.store")
EVERY = timedelta(days=1)
# A slimmed story's row is deleted this long after it was first seen, once no feed lists
# it any more (storage/slim_rows.py): kept for good, every story ever seen stayed.
FORGET_DAYS = 400


def prune(store, keep_days: int, now: datetime) -> Slimmed | None:
    """Slim what is older than `keep_days`; None when everything is kept (0)."""
    if keep_days <= 0:
        return None
    return store.slim_stories_older_than(now - timedelta(days=keep_days), now=now,
                                         forget_before=now - timedelta(days=FORGET_DAYS))


def prune_line(result: Slimmed | None, keep_days: int, setting: str = "AINEWS_KEEP_DAYS") -> str:
    """`setting` names where keep_days came from (`ainews prune --days`)."""
    if result is None:
        return f"store: {setting}=0: every story is kept whole; nothing slimmed"
    gone = (f"; {count(result.forgotten, 'slim row')} no feed lists any more deleted "
            f"(first seen over {FORGET_DAYS} days ago)" if result.forgotten else "")
    return (f"store: slimmed {count(result.stories, 'story')} older than "
            f"{count(keep_days, 'day')} (text and search index); "
            f"{count(result.posts, 'delivered post')} forgotten{gone}")


class DailyPrune:
    """The service's daily prune: the first after the first poll of a start, then one a
    day. It runs in a thread on a connection of its own (the service's is used from the
    event loop alone): a first prune of a big store takes a while, and meanwhile the bot
    keeps delivering, each batch holding the write lock only briefly."""

    def __init__(self, store, keep_days: int, clock):
        self.store, self.keep_days, self.clock = store, keep_days, clock
        self.last: datetime | None = None

    async def maybe(self) -> None:
        now = self.clock()
        # A last prune after now: the clock went back since, and waiting for a day
        # after it would wait out the step as well.
        if self.keep_days <= 0 or (self.last is not None
                                   and timedelta(0) <= now - self.last < EVERY):
            return
        self.last = now
        if db_file(self.store.path) is None:   # in memory: one connection only (tests)
            result = prune(self.store, self.keep_days, now)
        else:
            result = await asyncio.to_thread(_prune_apart, self.store, self.keep_days, now)
        # Every start prunes: "slimmed 0 stories ... 0 forgotten" at each was noise.
        done = result is not None and (result.stories or result.posts or result.forgotten)
        log.log(logging.INFO if done else logging.DEBUG, "%s", prune_line(result, self.keep_days))


def _prune_apart(store, keep_days: int, now: datetime) -> Slimmed | None:
    # reopen: the file removed since the bot opened it, a new connection made a new,
    # empty database there, and everything after was lost (storage/store.py).
    with store.reopen() as apart:
        return prune(apart, keep_days, now)
