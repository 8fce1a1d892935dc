"""What one pass of the pipeline did: a FeedOutcome per feed, summed up in a PollSummary
(the service's log line, `ainews run --once --json`)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from feeds.models import Story, shown_utc
from feeds.schedule import is_due
from feeds.plural import count
from feeds.urls import without_secrets
from storage.feedstate import network_error


@dataclass
class FeedOutcome:
    url: str
    name: str
    new: int = 0
    new_strategy: int = 0
    backlog: bool = False
    unchanged: bool = False
    error: str = ""
    unreached: bool = False  # the error came before any server answered (DNS, connection)
    paused: bool = False
    failures: int = 0       # in a row, this poll's counted (0: none, or the network's)
    warning: str = ""
    too_old: int = 0        # of `new`: stored, not posted (see NewStories._too_old)
    undated_held: int = 0   # of `new`: undated, stored, not posted before a first read
    store_locked: bool = False   # nothing stored: the store was locked (bot/busy_store.py)


@dataclass
class PollSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    fresh: list[Story] = field(default_factory=list)   # new, not backlog: for dispatch
    offline: bool = False   # its failures were the network's (bot/unreached.py), uncounted

    @property
    def feeds_polled(self) -> int:
        return len(self.outcomes)

    @property
    def new_stories(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def new_strategy(self) -> int:
        return sum(o.new_strategy for o in self.outcomes)

    @property
    def failures(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.error]

    @property
    def backlog(self) -> tuple[int, int]:
        """(stories, strategy stories) of first polls: counted as new, never posted."""
        firsts = [o for o in self.outcomes if o.backlog]
        return sum(o.new for o in firsts), sum(o.new_strategy for o in firsts)

    @property
    def too_old(self) -> int:
        """New stories of later polls published too long ago to post: stored only."""
        return sum(o.too_old for o in self.outcomes)

    @property
    def undated_held(self) -> int:
        """New undated stories of feeds whose entries no poll had read: stored only."""
        return sum(o.undated_held for o in self.outcomes)

    def line(self) -> str:
        paused = sum(o.paused for o in self.outcomes)
        text = (f"poller: {count(self.feeds_polled, 'feed')} polled, "
                f"{count(self.new_stories, 'new story')}, "
                f"{count(self.new_strategy, 'new strategy story')}, "
                f"{len(self.failures)} failed")
        # "20 failed" alone, every pass of an outage, read as twenty broken feeds.
        text += (" (no feed reached: the network looks down; not counted against the feeds)"
                 if self.offline else "")
        text += f", {paused} paused" if paused else ""
        if locked := sum(o.store_locked for o in self.outcomes):
            text += f", {locked} not stored (the store was locked; read again next time)"
        stories, strategy = self.backlog
        text += (f"; first polls' backlog (stored, never posted): {count(stories, 'story')}, "
                 f"{strategy} strategy" if stories else "")
        text += (f"; too old to post (stored, not posted): {count(self.too_old, 'story')}"
                 if self.too_old else "")
        return text + ("; undated, not posted until the feed's entries have been read once "
                       f"(stored): {count(self.undated_held, 'story')}" if self.undated_held
                       else "")

    def to_json(self) -> dict:
        return {
            "feeds_polled": self.feeds_polled, "new_stories": self.new_stories,
            "new_strategy_stories": self.new_strategy,
            "backlog_stories": self.backlog[0], "backlog_strategy_stories": self.backlog[1],
            "too_old_stories": self.too_old, "undated_held_stories": self.undated_held,
            "network_looks_down": self.offline,
            "failures": [{"url": without_secrets(o.url), "name": o.name, "error": o.error,
                          "paused": o.paused} for o in self.failures],
            "feeds": [{**o.__dict__, "url": without_secrets(o.url)} for o in self.outcomes],
        }


# A quiet pass (nothing new, nothing failed) is a DEBUG line, but one at least this
# often is INFO: a quiet night logged nothing for hours and looked like a hung bot.
QUIET_REPORT = timedelta(hours=1)


class PassLog:
    """The level and line of each pass the service logs: INFO when it found or failed
    something, for the run's first pass that polled a feed, and once a QUIET_REPORT."""

    def __init__(self):
        self.said: datetime | None = None     # the last INFO line
        self.quiet = 0                        # quiet passes since, each polled a feed
        self.kept_told = False                # kept_back said its line this start

    def line(self, summary: PollSummary, now: datetime) -> tuple[int, str]:
        quiet = not (summary.new_stories or summary.failures)
        if quiet and (not summary.feeds_polled or (
                self.said and now - self.said < QUIET_REPORT)):
            self.quiet += bool(summary.feeds_polled)
            return logging.DEBUG, summary.line()
        text = summary.line()
        if quiet and self.said:
            text += (f"; nothing new in {count(self.quiet + 1, 'poll')} since "
                     f"{shown_utc(self.said)}")
        self.said, self.quiet = now, 0
        return logging.INFO, text


    def kept_back(self, summary: PollSummary, *, console: Callable[[], bool]) -> str:
        """Once per start, what the first polls' stored stories mean to the operator:
        `make run` on a fresh clone logged only "first polls' backlog (stored, never
        posted)", then nothing until a new story, with no word of where to read them.
        `console()`, whether new briefs print in this terminal, reads the store: asked
        only on the pass that speaks, not at every pass of the bot's life."""
        stories, strategy = summary.backlog
        if self.kept_told or not strategy:      # none to read: the summary says enough
            return ""
        self.kept_told = True
        where = "print here" if console() else "are posted to the channels that follow them"
        were = "was" if strategy == 1 else "were"
        return (f"service: the {count(strategy, 'strategy story')} already in the feeds "
                f"{were} kept, not posted (no flood of old news): `ainews latest` lists "
                f"{'it' if strategy == 1 else 'them'} now, and new ones {where} as they "
                "appear")


def waiting_note(states: list, now: datetime, offline: bool = False) -> str:
    """"; N waiting after failures, next try HH:MM UTC" for the start-up line, or "":
    restarted after an outage, the bot polls nothing until their backoff ends, and
    without a word it looked idle (`run --once` printed no poll at all). `offline`: the
    last polls found the network down, which counted against no feed."""
    unreached, own = split_waiting([s for s in states if s.failures and not s.paused
                                    and not _due(s, now)], offline)
    note = (f"; no feed could be reached at the last poll (the network looked down; not "
            f"counted against the feeds), next try {_next_try(unreached)}" if unreached else "")
    if own:
        whose = f"{'its' if len(own) == 1 else 'their'} own " if unreached else ""
        note += (f"; {len(own)} waiting after {whose}failures, next try {_next_try(own)} "
                 "(`ainews feeds list` says why)")
    return note


def split_waiting(waiting: list, offline: bool) -> tuple[list, list]:
    """Feeds waiting after failures: (the network's, their own). During an outage a feed
    that failed for its own reason (a 404, backed off for hours) keeps its backoff; told
    with the rest "not counted against the feeds", it read as merely unreached."""
    network, own = [], []
    for s in waiting:       # one pass: `not in network` compared every pair of 1,000 feeds
        (network if offline and network_error(s.last_error) else own).append(s)
    return network, own


def _due(state, now: datetime) -> bool:
    return is_due(state.next_poll, state.last_polled, now)


def _next_try(states: list) -> str:
    return shown_utc(min(s.next_poll for s in states))


def idle_warning(states: list) -> str:
    """What to do when the bot has no feed to poll, or "": it ran on, silent for good,
    with only "0 feeds" (an empty AINEWS_FEEDS file, every feed removed) or "(0
    active)" (every feed paused) in its start-up line to tell."""
    if not states:
        return ("service: no feeds to poll: add one with `ainews feeds add URL`, or list "
                "them in the AINEWS_FEEDS file")
    if all(s.paused for s in states):
        return ("service: every feed is paused, so nothing is polled: `ainews feeds list` "
                "says why, `ainews feeds resume all` polls them again")
    return ""


def first_poll_note(states: list, now: datetime) -> str:
    """When `ainews run` polls first and why, or "" when a feed is due now: started
    right after `ainews poll --once` it said nothing until the feeds were due again
    (up to twice the interval) and looked hung."""
    active = [s for s in states if not s.paused]
    if not active or any(_due(s, now) for s in active):
        return ""
    on_time = [s for s in active if not s.failures and s.last_polled]
    if not on_time:   # all wait after failures: waiting_note says until when
        return ""
    failing = len(active) - len(on_time)
    why = [_polled_ago(on_time, len(active), now)]
    why += [f"{failing} waiting after failures"] if failing else []
    return (f"poller: {', '.join(why)}, none is due yet; next poll "
            f"{shown_utc(min(s.next_poll for s in active))}")


def _polled_ago(states: list, active: int, now: datetime) -> str:
    """"all 20 feeds were polled 1 min ago" ("both feeds": "all 2" read oddly), "17 feeds
    were polled 1-3 min ago"."""
    ages = sorted(round((now - s.last_polled).total_seconds() / 60) for s in states)
    # "<1" alone: "<1-3 min ago" read as a typo
    ago = "-".join(dict.fromkeys(map(str, (ages[0], ages[-1])))) if ages[-1] else "<1"
    if len(states) < active:
        which = count(len(states), "feed")
    else:
        which = {1: "the feed", 2: "both feeds"}.get(active, f"all {count(active, 'feed')}")
    return f"{which} {'was' if len(states) == 1 else 'were'} polled {ago} min ago"
