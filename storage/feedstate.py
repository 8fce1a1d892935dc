"""Feeds and their fetch state: conditional-GET validators, schedule and health.

A feed that keeps failing is paused after `pause_after` failures in a row (the caller
tells an admin); `resume_feed` makes it due again at once.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.models import FeedSource, iso_utc, parse_iso
from feeds.schedule import CLOCK_SLACK
from feeds.urls import without_secrets
from storage.clusters import chunks

log = logging.getLogger("ainews.store")

_FEED_COLUMNS = ("url, name, tags, etag, last_modified, body_hash, last_polled, last_ok, "
                 "next_poll, failures, last_error, paused, polls_ok, ttl, moved_to, last_new, added_at")


# The failures a feed's host never answered (DNS, connection): when every feed has them,
# the bot's own network is down (looks_offline), and not the feeds.
NETWORK_KINDS = ("dns", "connect")


def network_error(last_error: str) -> bool:
    """Whether a feed's last error is one its host never answered (NETWORK_KINDS)."""
    return last_error.startswith(tuple(f"{k}:" for k in NETWORK_KINDS))


@dataclass(frozen=True, slots=True)
class FeedState:
    source: FeedSource
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled: datetime | None = None
    last_ok: datetime | None = None
    next_poll: datetime | None = None     # None: due now
    failures: int = 0                     # in a row; reset by a successful poll
    last_error: str = ""                  # "kind: message"
    paused: bool = False
    polls_ok: int = 0                     # 0 = never polled (see baselined)
    ttl_minutes: int | None = None        # the feed's own <ttl>, if any
    moved_to: str = ""                    # where its last poll was moved for good (301/308)
    last_new: datetime | None = None      # when a poll last stored a new story of it
    added_at: datetime | None = None      # when it was added (`feeds add`, the feed list)

    @property
    def baselined(self) -> bool:
        """A poll has read the feed's entries, so entries it lacks from now on are news.
        A 304 or an empty feed reads none: the pipeline keeps body_hash for polls that
        parsed entries only, so the next poll's archive is backlog, not a flood."""
        return self.polls_ok > 0 and self.body_hash is not None

    @property
    def health(self) -> str:
        if self.paused:
            return "paused"
        if self.failures:
            return "failing"
        return "ok" if self.polls_ok else "new"


def _dt(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def _state(row: tuple) -> FeedState:
    (url, name, tags, etag, last_modified, body_hash, last_polled, last_ok, next_poll,
     failures, last_error, paused, polls_ok, ttl, moved_to, last_new, added_at) = row
    return FeedState(FeedSource(name, url, tuple(json.loads(tags))), etag, last_modified,
                     body_hash, _dt(last_polled), _dt(last_ok), _dt(next_poll), failures,
                     last_error, bool(paused), polls_ok, ttl, moved_to, _dt(last_new),
                     _dt(added_at))


class FeedStore:
    """Mixin of Store: uses self.db, self._write() and self._now()."""

    def upsert_feed(self, source: FeedSource) -> None:
        """Add a feed, or rename/retag a known one (its fetch state is kept)."""
        with self._write():
            self.db.execute(
                "INSERT INTO feeds (url, name, tags, added_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET name = excluded.name, tags = excluded.tags",
                (source.url, source.name, json.dumps(list(source.tags)),
                 iso_utc(self._now())))

    def remove_feed(self, url: str) -> bool:
        """Stop polling `url`; its stories stay. False when there was no such feed."""
        with self._write():
            return self.db.execute("DELETE FROM feeds WHERE url = ?", (url,)).rowcount > 0

    def feed_states(self) -> list[FeedState]:
        rows = self.db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY name, url")
        return [_state(r) for r in rows.fetchall()]

    def news_since(self, since: dict[str, datetime]) -> dict[str, tuple[int, datetime]]:
        """Feed URL -> (how many of its stories were news, the first of them) among those
        first seen at or after its time in `since`: news as in `last_new` (posted, or
        pruned since), never a first poll's archive. One pass over the stories per 900
        feeds (stories.feed_url has no index; a join scanned them once per feed)."""
        found: dict[str, tuple[int, datetime]] = {}
        for chunk in chunks(list(since), 900):   # SQLite 3.27 takes 999 parameters
            earliest = iso_utc(min(since[url] for url in chunk))
            rows = self.db.execute(
                "SELECT feed_url, first_seen FROM stories WHERE first_seen >= ? "
                f"AND feed_url IN ({','.join('?' * len(chunk))}) "
                "AND (status = 'new' OR pruned_from IN ('new', 'unknown')) ORDER BY pk",
                (earliest, *chunk))
            for url, seen in rows:
                when = parse_iso(seen)
                if when >= since[url]:
                    n, first = found.get(url, (0, when))
                    found[url] = (n + 1, min(first, when))
        return found

    def feed_state(self, url: str) -> FeedState | None:
        row = self.db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE url = ?",
                              (url,)).fetchone()
        return _state(row) if row else None

    def due_feeds(self, now: datetime) -> list[FeedState]:
        """Feeds to poll now: not paused and never polled or past their next_poll, or
        polled after now (the clock went back: feeds.schedule.is_due)."""
        rows = self.db.execute(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE paused = 0 "
            "AND (next_poll IS NULL OR next_poll <= ? OR last_polled > ?) "
            "ORDER BY next_poll, url", (iso_utc(now), iso_utc(now + CLOCK_SLACK)))
        return [_state(r) for r in rows.fetchall()]

    def record_fetch_ok(self, url: str, *, now: datetime, next_poll: datetime,
                        etag: str | None, last_modified: str | None,
                        body_hash: str | None, ttl_minutes: int | None = None,
                        moved_to: str = "", new_stories: int = 0,
                        listed: list[str] | None = None) -> None:
        """A poll that was read; `moved_to`: where it was moved for good ("" none);
        `new_stories`: how many it stored that are news (a first poll's archive is not);
        `listed`: the ids of its entries, if it had any (storage/slim_rows.py)."""
        self._update_feed(
            url, "etag = ?, last_modified = ?, body_hash = ?, ttl = ?, last_polled = ?, "
                 "last_ok = ?, next_poll = ?, failures = 0, last_error = '', "
                 "polls_ok = polls_ok + 1, moved_to = ?, "
                 "last_new = CASE WHEN ? THEN ? ELSE last_new END, "
                 "listed = COALESCE(?, listed)",
            (etag, last_modified, body_hash, ttl_minutes, iso_utc(now), iso_utc(now),
             iso_utc(next_poll), moved_to, new_stories > 0, iso_utc(now),
             json.dumps(listed) if listed else None))

    def record_not_modified(self, url: str, *, now: datetime, next_poll: datetime,
                            moved_to: str = "",
                            validators: tuple[str | None, str | None] | None = None) -> None:
        """A 304 (or identical bytes): a successful poll that changed nothing.
        `validators`: (etag, last_modified) to ask with from now on; None keeps them."""
        keep = validators is None
        etag, last_modified = validators or (None, None)
        self._update_feed(
            url, "last_polled = ?, last_ok = ?, next_poll = ?, failures = 0, "
                 "last_error = '', polls_ok = polls_ok + 1, moved_to = ?, "
                 "etag = CASE WHEN ? THEN etag ELSE ? END, "
                 "last_modified = CASE WHEN ? THEN last_modified ELSE ? END",
            (iso_utc(now), iso_utc(now), iso_utc(next_poll), moved_to,
             keep, etag, keep, last_modified))

    def record_fetch_failure(self, url: str, *, now: datetime, next_poll: datetime,
                             kind: str, message: str, pause_after: int = 10) -> FeedState:
        """Count a failure in a row; pause the feed when there have been `pause_after`."""
        error = f"{kind}: {message}".replace("\n", " ")
        with self._write():
            self._update_feed(
                url, "last_polled = ?, next_poll = ?, failures = failures + 1, "
                     "last_error = ?, paused = (paused OR failures + 1 >= ?)",
                (iso_utc(now), iso_utc(next_poll), error, pause_after))
            state = self.feed_state(url)
        if state is None:
            return FeedState(FeedSource(url, url), failures=1, last_error=error)
        return state     # the poller says when this paused the feed

    def looks_offline(self, *, now: datetime, window: timedelta, min_feeds: int = 3,
                      failing_now: set[str] = frozenset()) -> bool:
        """True when no feed has been fetched since `now - window` while at least
        `min_feeds` feeds failed to resolve or connect in that time (`failing_now`: the
        URLs of those failing now, not recorded yet): the bot's own network is down,
        not the feeds."""
        since = iso_utc(now - window)
        if self.db.execute("SELECT 1 FROM feeds WHERE last_ok >= ? LIMIT 1",
                           (since,)).fetchone():
            return False
        failed = {url for (url,) in self.db.execute(
            "SELECT url FROM feeds WHERE last_polled >= ? AND (last_error LIKE ? "
            "OR last_error LIKE ?)", (since, *(f"{k}:%" for k in NETWORK_KINDS)))}
        return len(failed | failing_now) >= min_feeds

    def record_unreachable(self, url: str, *, now: datetime, next_poll: datetime,
                           kind: str, message: str) -> None:
        """A failure while the bot itself is offline: noted, not counted against the
        feed beyond one (listed as failing: no backoff, no pause)."""
        error = f"{kind}: {message}".replace("\n", " ")
        self._update_feed(url, "last_polled = ?, next_poll = ?, last_error = ?, "
                               "failures = max(failures, 1)",
                          (iso_utc(now), iso_utc(next_poll), error))

    def resume_feed(self, url: str) -> bool:
        """Unpause `url`, clear its failure count and make it due now."""
        with self._write():
            return self.db.execute(
                "UPDATE feeds SET paused = 0, failures = 0, last_error = '', "
                "next_poll = NULL WHERE url = ?", (url,)).rowcount > 0

    def resume_paused_feeds(self) -> list[str]:
        """Unpause every paused feed (after an outage paused many); their URLs."""
        paused = [s.source.url for s in self.feed_states() if s.paused]
        for url in paused:
            self.resume_feed(url)
        return paused

    def retry_failing_feeds(self) -> list[str]:
        """Clear the backoff of every feed failing but not paused, as resume_feed does
        (the cause fixed, it was left waiting up to hours); their URLs."""
        failing = [s.source.url for s in self.feed_states() if s.failures and not s.paused]
        for url in failing:
            self.resume_feed(url)
        return failing

    def retry_feeds_refused_for(self, hint: str) -> list[str]:
        """Resume the feeds whose last failure was a refusal naming `hint` (a setting
        since changed): paused or waiting, they are polled at once; their URLs."""
        refused = [s.source.url for s in self.feed_states()
                   if s.failures and s.last_error.startswith("blocked:") and hint in s.last_error]
        for url in refused:
            self.resume_feed(url)
        return refused

    def _update_feed(self, url: str, assignments: str, params: tuple) -> None:
        with self._write():
            cur = self.db.execute(f"UPDATE feeds SET {assignments} WHERE url = ?",
                                  (*params, url))
        if cur.rowcount == 0:
            # Removed while its poll was in flight: nothing left to record.
            log.info("store: ignored fetch result for unknown feed %s", without_secrets(url))
