"""Feeds gone quiet: every poll answers, but no new story for longer than usual.

A feed that stops publishing (a frozen copy left at its old address, a broken CMS, an
outlet that moved its feed without a redirect) fails nothing, so it reads `ok`, and the
outlet is silently no longer followed. `ainews status` names a feed quiet for QUIET_GAPS
times its usual gap between new stories (those of the RHYTHM before its last), and never
sooner than QUIET_MIN: a daily outlet after a week, a blog posting every few weeks only
after months. With fewer than two new stories to tell a rhythm by, after QUIET_UNKNOWN;
one that never brought any (added at an address its outlet had left) counts from when it
was added.
The quiet counts up to the feed's last good poll, not to now: a bot stopped for a month
does not make every feed quiet.
The running bot says it too (QuietWatch): one log line when a feed goes quiet.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.cli_feeds import feed_row
from feeds.models import iso_utc, utcnow
from feeds.plural import count
from feeds.urls import without_secrets

log = logging.getLogger("ainews.poller")

QUIET_MIN = timedelta(days=7)
QUIET_GAPS = 4
QUIET_UNKNOWN = timedelta(days=30)
RHYTHM = timedelta(days=90)
DAY = timedelta(days=1)
CHECK_EVERY = timedelta(hours=1)   # quiet is counted in days: an hourly look is soon enough
SAID = "quiet_feeds_said"          # meta: feed URL -> the last news its quiet was said after


def quiet_feeds(store, states, now) -> list[dict]:
    """feed_row of each feed quiet for longer than usual, with `quiet_days` and
    `usual_gap_days` (None: too few new stories to tell)."""
    return [{**feed_row(s, now), "quiet_days": quiet // DAY,
             "usual_gap_days": None if gap is None else round(gap / DAY, 1)}
            for s, quiet, gap in quiet_spells(store, states)]


def quiet_spells(store, states) -> list[tuple]:
    """(state, how long quiet, its usual gap or None) of each feed quiet for longer
    than usual."""
    candidates = [s for s in states if _last_news(s) and s.last_ok and not s.paused
                  and not s.failures and s.last_ok - _last_news(s) >= QUIET_MIN]
    if not candidates:
        return []
    news = store.news_since({s.source.url: s.last_new - RHYTHM for s in candidates
                             if s.last_new})
    spells = []
    for s in candidates:
        gap = _usual_gap(*news.get(s.source.url, (0, None)), s.last_new)
        quiet = s.last_ok - _last_news(s)
        if quiet >= (QUIET_UNKNOWN if gap is None else max(QUIET_MIN, QUIET_GAPS * gap)):
            spells.append((s, quiet, gap))
    return spells


def _last_news(s) -> datetime | None:
    """Its last new story, or when it was added if it never brought one (its first
    poll's archive is no news)."""
    return s.last_new or s.added_at


def _usual_gap(n: int, first, last) -> timedelta | None:
    """The mean gap between a feed's new stories, from `first` to its `last`."""
    return (last - first) / (n - 1) if n >= 2 and last > first else None


def usually(gap_days: float | None) -> str:
    """A feed's rhythm in words: "every day", "every 3 days", "several a day"."""
    if gap_days is None:
        return "too few new stories to tell"
    if gap_days < 0.75:
        return "several a day"
    days = round(gap_days)
    return "every day" if days == 1 else f"every {count(days, 'day')}"


class QuietWatch:
    """Says in the log when a feed goes quiet, once a quiet spell: the spells said are
    kept in the store (SAID), so a restart does not say them again, and a feed says it
    again only once it has brought news (its last news moved on) and gone quiet again."""

    def __init__(self, store, clock=utcnow):
        self.store, self.clock = store, clock
        self._last: datetime | None = None

    def maybe(self) -> None:
        """check() at most once per CHECK_EVERY (the service calls it every pass)."""
        now = self.clock()
        if self._last is None or not self._last <= now < self._last + CHECK_EVERY:
            self._last = now
            self.check()

    def check(self) -> None:
        states = self.store.feed_states()
        marks = {s.source.url: iso_utc(_last_news(s)) for s in states if _last_news(s)}
        said = self.store.get_meta(SAID, {})
        # A spell stays said while the feed's last news is the one it was said after.
        kept = {url: mark for url, mark in said.items() if marks.get(url) == mark}
        for state, quiet, gap in quiet_spells(self.store, states):
            if kept.get(state.source.url) != marks[state.source.url]:
                _say(state, quiet, gap)
                kept[state.source.url] = marks[state.source.url]
        if kept != said:
            self.store.set_meta(SAID, kept)


def _say(state, quiet: timedelta, gap: timedelta | None) -> None:
    rhythm = usually(None if gap is None else round(gap / DAY, 1))
    log.warning("poller: %s (%s) has brought no new story for %s, though its polls "
                "succeed (%s): left behind at an old address, or the outlet stopped "
                "publishing; `ainews feeds check URL` shows what it serves now",
                state.source.name, without_secrets(state.source.url),
                count(quiet // DAY, "day"), rhythm if gap is None else "usually " + rhythm)
