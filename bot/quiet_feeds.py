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
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.cli_feeds import feed_row
from feeds.plural import count

QUIET_MIN = timedelta(days=7)
QUIET_GAPS = 4
QUIET_UNKNOWN = timedelta(days=30)
RHYTHM = timedelta(days=90)
DAY = timedelta(days=1)


def quiet_feeds(store, states, now) -> list[dict]:
    """feed_row of each feed quiet for longer than usual, with `quiet_days` and
    `usual_gap_days` (None: too few new stories to tell)."""
    candidates = [s for s in states if _last_news(s) and s.last_ok and not s.paused
                  and not s.failures and s.last_ok - _last_news(s) >= QUIET_MIN]
    if not candidates:
        return []
    news = store.news_since({s.source.url: s.last_new - RHYTHM for s in candidates
                             if s.last_new})
    rows = []
    for s in candidates:
        gap = _usual_gap(*news.get(s.source.url, (0, None)), s.last_new)
        quiet = s.last_ok - _last_news(s)
        if quiet >= (QUIET_UNKNOWN if gap is None else max(QUIET_MIN, QUIET_GAPS * gap)):
            rows.append({**feed_row(s, now), "quiet_days": quiet // DAY,
                         "usual_gap_days": None if gap is None else round(gap / DAY, 1)})
    return rows


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
