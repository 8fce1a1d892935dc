"""One pass of the pipeline: fetch, parse, classify, store (new only), condense (fresh only).

Each due feed goes through `poll_feed`; `poll_once` runs them concurrently (the fetcher
bounds concurrency) and sums up what happened. Dispatch to channels is the caller's
next step, on the stories this returns as `fresh`.

Within `poll_once`, first polls (backlogs: stored, never posted) are parsed and classified
as their feeds come in but written together, BACKLOG_BATCH stories to a transaction: a
backfill's commits rewrite the same index pages, and one commit per feed cost ~25% of
the store stage (docs/benchmarks.md, section 2). Feeds with stories to post are stored
at once, as before, so nothing that may be posted waits for another feed.

A story published more than `max_post_age` before it is first seen is stored as backlog
too: it is not news however it turned up late (the bot was down, a paused feed resumed,
a site changed its URLs or GUIDs, a feed re-published its archive). Until a poll has read
a feed's entries (its first answered 304, or was empty), only entries dated after the last
poll are news: the rest is the archive that poll did not show.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from datetime import datetime, timedelta

from feeds import schedule
from feeds.classify import Classifier
from feeds.fetcher import FetchError, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource, Story, utcnow
from feeds.parser import ParseError, parse_feed
from storage.feedstate import FeedState
from storage.store import Store

log = logging.getLogger("ainews.poller")
BACKLOG_BATCH = 500   # stories of first polls per transaction (~14 feeds; ~5 MB held)


@dataclass
class FeedOutcome:
    url: str
    name: str
    new: int = 0
    new_strategy: int = 0
    backlog: bool = False
    unchanged: bool = False
    error: str = ""
    paused: bool = False
    warning: str = ""
    too_old: int = 0        # of `new`: stored, not posted (see Pipeline._too_old)


@dataclass
class PollSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    fresh: list[Story] = field(default_factory=list)   # new, not backlog: for dispatch

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

    def line(self) -> str:
        paused = sum(o.paused for o in self.outcomes)
        text = (f"poller: {self.feeds_polled} feeds polled, {self.new_stories} new stories, "
                f"{self.new_strategy} new strategy stories, {len(self.failures)} failed")
        text += f", {paused} paused" if paused else ""
        stories, strategy = self.backlog
        text += (f"; first polls' backlog (stored, never posted): {stories} stories, "
                 f"{strategy} strategy" if stories else "")
        return text + (f"; too old to post (stored, not posted): {self.too_old} stories"
                       if self.too_old else "")

    def to_json(self) -> dict:
        return {
            "feeds_polled": self.feeds_polled, "new_stories": self.new_stories,
            "new_strategy_stories": self.new_strategy,
            "backlog_stories": self.backlog[0], "backlog_strategy_stories": self.backlog[1],
            "too_old_stories": self.too_old,
            "failures": [{"url": o.url, "name": o.name, "error": o.error, "paused": o.paused}
                         for o in self.failures],
            "feeds": [o.__dict__ for o in self.outcomes],
        }


@dataclass
class _Backlog:
    """A first poll, parsed and classified, waiting to be stored with others."""
    state: FeedState
    out: FeedOutcome
    stories: list[Story]
    now: datetime
    fetched: dict   # record_fetch_ok's keywords


@dataclass
class Pipeline:
    store: Store
    fetcher: Fetcher
    classifier: Classifier
    formatter: Formatter
    poll_minutes: float = 10.0
    max_post_age: timedelta | None = None   # None: post whatever is new, however old
    # First polls waiting for their transaction; a list only while poll_once runs.
    _backlog: list[_Backlog] | None = field(default=None, init=False, repr=False)
    _offline: bool = field(default=False, init=False, repr=False)   # said once per outage

    async def poll_once(self, *, now: datetime | None = None, all_feeds: bool = False,
                        on_fresh: Callable[[], Awaitable] | None = None) -> PollSummary:
        """Poll the due feeds concurrently. `on_fresh` runs as soon as a feed has stored
        stories worth posting, so one slow feed doesn't hold up the others' posts."""
        now = now or utcnow()
        states = [s for s in self.store.feed_states() if _due(s, now, all_feeds)]

        async def one(state: FeedState):
            outcome, fresh = await self.poll_feed(state, now)
            if fresh and on_fresh is not None:
                try:
                    await on_fresh()
                except Exception:   # stored already: the next dispatch routes them
                    log.exception("poller: handing on new stories of %s failed",
                                  state.source.url)
            return outcome, fresh
        self._backlog = []
        try:
            outcomes = await asyncio.gather(*(one(s) for s in states))
            self._store_backlogs()
        finally:   # an abandoned pass drops its waiting first polls: they are polled again
            self._backlog = None
        summary = PollSummary(outcomes=[o for o, _ in outcomes])
        for _, fresh in outcomes:
            summary.fresh.extend(fresh)
        return summary

    async def poll_feed(self, state: FeedState, now: datetime) -> tuple[FeedOutcome, list[Story]]:
        src = state.source
        out = FeedOutcome(url=src.url, name=src.name, backlog=state.polls_ok == 0)
        try:
            fresh = await self._fetch_and_store(state, out, now)
        except (FetchError, ParseError) as e:
            self._record_failure(state, out, e, now)
            return out, []
        except Exception as e:  # a bug in one feed's handling must not stop the poll
            log.exception("poller: %s failed unexpectedly", src.url)
            self._record_failure(state, out, e, now)
            return out, []
        return out, fresh

    async def _fetch_and_store(self, state: FeedState, out: FeedOutcome, now) -> list[Story]:
        src = state.source
        res = await self.fetcher.fetch(src.url, etag=state.etag, last_modified=state.last_modified)
        next_ok = schedule.next_poll_after_unchanged(
            now, self.poll_minutes, _last_interval(state), max_age=res.max_age,
            ttl_minutes=state.ttl_minutes)
        if res.not_modified:
            out.unchanged = True
            self.store.record_not_modified(src.url, now=now, next_poll=next_ok)
            return []
        body_hash = hashlib.blake2b(res.body, digest_size=16).hexdigest()
        if body_hash == state.body_hash and state.polls_ok:
            # Servers that ignore conditional GET: the same bytes cost no parse.
            out.unchanged = True
            self.store.record_not_modified(src.url, now=now, next_poll=next_ok)
            return []
        # Ids stay keyed to the configured URL, so a redirecting feed keeps its stories.
        parsed = parse_feed(res.body, feed_url=src.url, base_url=res.final_url, source=src.name,
                            content_type=res.content_type, fetched_at=now)
        out.warning = parsed.warning or ""
        next_ok = schedule.next_poll_after_success(
            now, self.poll_minutes, max_age=res.max_age, ttl_minutes=parsed.ttl_minutes,
            published_times=[s.published for s in parsed.stories])
        if not (parsed.stories or state.baselined):
            body_hash = None   # no entries read yet: the next poll is still a first poll
        fetched = dict(next_poll=next_ok, etag=res.etag, last_modified=res.last_modified,
                       body_hash=body_hash, ttl_minutes=parsed.ttl_minutes)
        if out.backlog and self._backlog is not None:
            # Never posted, so it can wait for others; the feed is recorded as polled in
            # the same transaction, so a crash before it means a fresh first poll.
            self._backlog.append(_Backlog(state, out, self.classify_unseen(parsed.stories),
                                          now, fetched))
            if sum(len(b.stories) for b in self._backlog) >= BACKLOG_BATCH:
                self._store_backlogs()
            return []
        new, fresh = await self._store_new(parsed.stories, backlog=out.backlog, now=now,
                                           too_old=self._too_old(state, now))
        self._count_new(out, new)
        out.too_old = 0 if out.backlog else len(new) - len(fresh)
        self.store.record_fetch_ok(src.url, now=now, **fetched)
        return [s for s in fresh if s.classification.strategy]

    def _store_backlogs(self) -> None:
        """Write the waiting first polls in one transaction. Should it fail, each is
        written on its own, so one feed's bad data fails that feed alone, as before."""
        waiting, self._backlog = self._backlog, []
        if not waiting:
            return
        try:
            with self.store.transaction():
                for b in waiting:
                    self._store_backlog(b)
        except Exception:
            log.warning("poller: storing %d first polls together failed; one by one now",
                        len(waiting), exc_info=True)
            for b in waiting:
                try:
                    self._store_backlog(b)
                except Exception as e:
                    log.exception("poller: %s failed unexpectedly", b.state.source.url)
                    self._count_new(b.out, [])
                    self._record_failure(b.state, b.out, e, b.now)

    def _store_backlog(self, b: _Backlog) -> None:
        with self.store.transaction():
            # condense_fresh has nothing to do for a backlog: briefs are made on lookup.
            self._count_new(b.out, self.store.add_new_stories(b.stories, backlog=True,
                                                              now=b.now))
            self.store.record_fetch_ok(b.state.source.url, now=b.now, **b.fetched)

    @staticmethod
    def _count_new(out: FeedOutcome, new: list[Story]) -> None:
        out.new = len(new)
        out.new_strategy = sum(s.classification.strategy for s in new)

    async def _store_new(self, stories: list[Story], *, backlog: bool, now,
                         too_old: Callable[[Story], bool] | None = None,
                         ) -> tuple[list[Story], list[Story]]:
        """Store the unseen entries; return (new, fresh): fresh are the new ones that
        may be posted (none of a backlog, none too old)."""
        classified = self.classify_unseen(stories)
        held = {s.id for s in classified if too_old(s)} if too_old and not backlog else set()
        new = self.store.add_new_stories(classified, backlog=backlog, now=now,
                                         hold=(lambda s: s.id in held) if held else None)
        fresh = [] if backlog else [s for s in new if s.id not in held]
        await self.condense_fresh(fresh, backlog=backlog)
        return new, fresh

    def _too_old(self, state: FeedState, now: datetime) -> Callable[[Story], bool] | None:
        """What makes a new story of a later poll too old to post: being published before
        the age limit, or, while no poll has read the feed's entries, not after the last
        poll (an undated entry bears the fetch time, so it can't show that either)."""
        cutoff = now - self.max_post_age if self.max_post_age else None
        since = None if state.baselined else state.last_ok
        if cutoff is None and since is None:
            return None

        def too_old(story: Story) -> bool:
            when = story.published
            return ((cutoff is not None and when < cutoff)
                    or (since is not None and not since < when < now))
        return too_old

    def classify_unseen(self, stories: list[Story]) -> list[Story]:
        """Classify the entries the store lacks. Known, unchanged entries are dropped
        before the costly steps; an edited one goes on so the store can update its text."""
        known = self.store.known_story_hashes([s.id for s in stories])
        # an unknown id is new without hashing its text (a sha256 per story of a backlog)
        return [s.with_classification(self.classifier.classify(s.title, s.text))
                for s in stories if s.id not in known or known[s.id] != s.content_hash]

    async def condense_fresh(self, new: list[Story], *, backlog: bool) -> None:
        """Brief the stories that may be posted. A backlog is never posted, so its briefs
        are made on first lookup (bot/commands.py), not for a whole feed's archive here."""
        if backlog:
            return
        for story in new:
            if story.classification.strategy:
                await self.formatter.brief_for(story)

    def _offline_now(self, now: datetime) -> bool:
        """Whether the bot itself looks offline (no feed reached lately, several tried):
        then a feed's failure is not its own, and must not back it off towards a pause."""
        offline = self.store.looks_offline(now=now, window=_offline_window(self.poll_minutes))
        if offline and not self._offline:
            log.warning("poller: no feed can be reached (DNS or connection failures "
                        "everywhere); the network looks down: feeds are retried every %g "
                        "min without counting it against them", self.poll_minutes)
        self._offline = offline
        return offline

    def _record_failure(self, state: FeedState, out: FeedOutcome, err: Exception, now) -> None:
        kind = getattr(err, "kind", "error")
        message = str(err) or type(err).__name__
        if not isinstance(err, (FetchError, ParseError)):   # those name their component
            message = f"poller: {state.source.url} failed ({type(err).__name__}: {message})"
        if kind in ("dns", "connect") and self._offline_now(now):
            self.store.record_unreachable(state.source.url, now=now, message=message, kind=kind,
                                          next_poll=now + timedelta(minutes=self.poll_minutes))
            out.error = message
            log.debug("%s", message)
            return
        retry_after = getattr(err, "retry_after", None)
        next_poll = schedule.next_poll_after_failure(now, self.poll_minutes, state.failures + 1,
                                                     retry_after=retry_after)
        # 410 Gone is the server saying the feed will not come back: pause at once.
        pause_after = 1 if getattr(err, "status", None) == 410 else schedule.PAUSE_AFTER
        new_state = self.store.record_fetch_failure(state.source.url, now=now, next_poll=next_poll,
                                                    kind=kind, message=message,
                                                    pause_after=pause_after)
        out.error, out.paused = message, new_state.paused
        if new_state.paused:
            log.warning("poller: paused %s after %d failures: %s", state.source.url,
                        new_state.failures, message)
        else:
            log.warning("%s", message)


def _offline_window(poll_minutes: float) -> timedelta:
    # Longer than any healthy feed's interval (2 x base, a <ttl> up to 60 min).
    return timedelta(minutes=max(3 * poll_minutes, 90))


def _last_interval(state: FeedState) -> float | None:
    """Minutes between the last poll and the next one it scheduled, when that poll
    succeeded (a failure's backoff is not the feed's rhythm)."""
    if state.failures or not (state.last_polled and state.next_poll):
        return None
    return (state.next_poll - state.last_polled).total_seconds() / 60


def _due(state: FeedState, now: datetime, all_feeds: bool) -> bool:
    """`all_feeds` (one-shot runs) ignores the adaptive schedule but not failure backoff."""
    if state.paused:
        return False
    if state.next_poll is None or state.next_poll <= now:
        return True
    return all_feeds and not state.failures


def sync_feed_list(store: Store, sources: list[FeedSource]) -> int:
    """Add feeds from the feeds file that the store has not seen; return how many.

    Removing a feed with `ainews feeds remove` sticks: a file entry is imported once."""
    imported = set(store.get_meta("imported_feeds", []))
    added = 0
    for src in sources:
        if src.url not in imported:
            store.upsert_feed(src)
            imported.add(src.url)
            added += 1
    store.set_meta("imported_feeds", sorted(imported))
    return added
