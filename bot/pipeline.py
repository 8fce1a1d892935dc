"""One pass of the pipeline: fetch, parse, classify (and, when configured, the LLM judge
for new stories that may be posted), store (new only), condense (fresh only).

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
import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from datetime import datetime, timedelta

from bot.busy_store import BusyStore
from bot.config import DEFAULT_POLL_MINUTES
from bot.feed_moves import moved_to, say_moved
from bot.first_polls import FirstPolls, _Backlog
from bot.new_stories import NewStories
from bot.parse_warnings import ParseWarnings
from bot.poll_failures import PollFailures
from bot.poll_summary import FeedOutcome, PollSummary
from bot.read_ahead import ReadAhead
from bot.unreached import Unreached, _Unreached
from feeds import schedule
from feeds.classify import Classifier
from feeds.fetcher import FetchError, Fetcher
from feeds.formatter import Formatter
from feeds.judge import Judge
from feeds.models import UNDATED, Story, shown_utc, utcnow
from feeds.parser import ParseError, off_the_loop, parse_feed
from feeds.urls import without_secrets
from storage.feedstate import FeedState
from storage.store import Store, StoreBusy

__all__ = ["BACKLOG_BATCH", "FeedOutcome", "Pipeline", "PollSummary"]

log = logging.getLogger("ainews.poller")
BACKLOG_BATCH = 500   # stories of first polls per transaction (~14 feeds; ~5 MB held)


@dataclass
class Pipeline(NewStories, FirstPolls, Unreached, PollFailures, BusyStore):
    """The pass itself; bot.new_stories classifies, stores and condenses a feed's
    unseen entries, bot.first_polls writes first polls together, bot.poll_failures
    records a feed's failure, bot.busy_store takes a store locked by another program."""
    store: Store
    fetcher: Fetcher
    classifier: Classifier
    formatter: Formatter
    poll_minutes: float = DEFAULT_POLL_MINUTES
    max_post_age: timedelta | None = None   # None: post whatever is new, however old
    judge: Judge | None = None   # the optional LLM judge (feeds/judge.py)
    # True: the caller shows each feed's failure and parser warning itself (`ainews
    # poll`'s summary), so the log keeps them for -v only instead of saying them twice.
    reports_feeds: bool = False
    # True: the process exits after this pass (`run --once`, `poll`), so no log line
    # promises a retry at the poll interval.
    single_pass: bool = False
    # First polls waiting for their transaction; a list only while poll_once runs.
    _backlog: list[_Backlog] | None = field(default=None, init=False, repr=False)
    _offline_said: bool = field(default=False, init=False, repr=False)   # once per outage
    _clock_back_said: bool = field(default=False, init=False, repr=False)   # once per step
    # This pass's DNS and connection failures, recorded at its end (bot/unreached.py).
    _unreached: list[_Unreached] | None = field(default=None, init=False, repr=False)
    # Feeds fetched and being read (parse, classify) at once; only while poll_once runs.
    _reading: ReadAhead | None = field(default=None, init=False, repr=False)
    _busy: StoreBusy | None = field(default=None, init=False, repr=False)   # this pass's
    _busy_said: bool = field(default=False, init=False, repr=False)   # once a lock
    # Each feed's parser warning, said once per kind and day (bot/parse_warnings.py).
    _warnings: ParseWarnings = field(default_factory=ParseWarnings, init=False, repr=False)

    async def poll_once(self, *, now: datetime | None = None, all_feeds: bool = False,
                        on_fresh: Callable[[], Awaitable] | None = None) -> PollSummary:
        """Poll the due feeds concurrently. `on_fresh` runs as soon as a feed has stored
        stories worth posting, so one slow feed doesn't hold up the others' posts."""
        now = now or utcnow()
        states = [s for s in self.store.feed_states() if _due(s, now, all_feeds)]
        self._say_clock_back(states, now)
        # An abandoned pass's are not this one's (its "offline" would be said of a pass
        # that polled nothing).
        self._backlog, self._unreached, self._busy = [], [], None
        self._reading = ReadAhead(self.fetcher.policy)
        try:
            outcomes = await _all_or_none([self._poll_and_hand_on(s, now, on_fresh)
                                           for s in states])
            summary = PollSummary(outcomes=[o for o, _ in outcomes])
            # Once every feed is in (DNS failures come back first, and a pass that went
            # on to read five feeds said "no feed can be reached"), before the backlogs'
            # writes, which may fail.
            offline = summary.offline = self._settle_unreached(summary)
            self._store_backlogs()
            self._lock_over(any(not o.store_locked for o in summary.outcomes))
        finally:   # an abandoned pass drops its waiting first polls: they are polled again
            self._backlog, self._reading, self._unreached = None, None, None
        for _, fresh in outcomes:
            summary.fresh.extend(fresh)
        if offline:
            self._say_offline()
        return summary

    async def _poll_and_hand_on(self, state: FeedState, now: datetime,
                                on_fresh: Callable[[], Awaitable] | None,
                                ) -> tuple[FeedOutcome, list[Story]]:
        outcome, fresh = await self.poll_feed(state, now)
        if fresh and on_fresh is not None:
            try:
                await on_fresh()
            except Exception as e:   # stored already: the next dispatch routes them
                if (halt := self.store.unusable(e)) is not None:
                    raise halt from None
                log.exception("poller: handing on new stories of %s failed",
                              without_secrets(state.source.url))
        return outcome, fresh

    async def poll_feed(self, state: FeedState, now: datetime) -> tuple[FeedOutcome, list[Story]]:
        src = state.source
        out = FeedOutcome(url=src.url, name=src.name, backlog=state.polls_ok == 0)
        try:
            fresh = await self._fetch_and_store(state, out, now)
        except (FetchError, ParseError) as e:
            self._record_failure(state, out, e, now)
            return out, []
        except Exception as e:  # a bug in one feed's handling must not stop the poll
            if (halt := self.store.unusable(e)) is not None:
                raise halt from None   # no feed's fault: the run stops, the feed not charged
            if self._locked_out(out, e):   # nor this: the next poll reads it again
                return out, []
            log.exception("poller: %s failed unexpectedly", without_secrets(src.url))
            self._record_failure(state, out, e, now)
            return out, []
        return out, fresh

    async def _fetch_and_store(self, state: FeedState, out: FeedOutcome, now) -> list[Story]:
        self._unless_locked()   # what it fetched could be stored no more than the rest
        reading = self._reading
        async with reading.turn(state.source.url) if reading else contextlib.nullcontext():
            read = await self._fetch_and_read(state, out, now)
        if read is None:
            return []
        stories, fetched = read
        if out.backlog and self._backlog is not None:
            self._queue_backlog(_Backlog(state, out, stories, now, fetched))
            return []
        return await self._store_polled(state, out, stories, now, fetched)

    async def _fetch_and_read(self, state: FeedState, out: FeedOutcome, now,
                              ) -> tuple[list[Story], dict] | None:
        """Fetch and parse a feed (None: unchanged); a first poll's entries come back
        classified too, a later poll's are classified once the store says which are new."""
        src = state.source
        res = await self.fetcher.fetch(src.url, etag=state.etag, last_modified=state.last_modified)
        say_moved(state, res)
        if res.not_modified:
            return self._unchanged(state, out, res, now)
        body_hash = hashlib.blake2b(res.body, digest_size=16).hexdigest()
        if body_hash == state.body_hash and state.polls_ok:
            # Servers that ignore conditional GET: the same bytes cost no parse.
            return self._unchanged(state, out, res, now)
        # Ids stay keyed to the configured URL, so a redirecting feed keeps its stories.
        parsed = await off_the_loop(parse_feed, res.body, feed_url=src.url,
                                    base_url=res.final_url, source=src.name,
                                    content_type=res.content_type, fetched_at=now)
        out.warning = parsed.warning or ""
        if self._warnings.worth_saying(src.url, out.warning, now):
            self._say(logging.INFO, "%s", out.warning)
        fetched = self._fetched(state, res, parsed, body_hash, now)
        if out.backlog and self._backlog is not None:
            return await self.classify_unseen_off_loop(parsed.stories), fetched
        return parsed.stories, fetched

    def _unchanged(self, state: FeedState, out: FeedOutcome, res, now) -> None:
        """Nothing new to read: the next poll keeps the feed's last rhythm."""
        next_ok = schedule.next_poll_after_unchanged(
            now, self.poll_minutes, _last_interval(state), max_age=res.max_age,
            ttl_minutes=state.ttl_minutes)
        out.unchanged = True
        self._unless_locked()
        self.store.record_not_modified(state.source.url, now=now, next_poll=next_ok,
                                       moved_to=moved_to(res), validators=_validators(res, state))

    def _fetched(self, state: FeedState, res, parsed, body_hash: str, now) -> dict:
        """record_fetch_ok's keywords for a poll that was parsed."""
        next_ok = schedule.next_poll_after_success(
            now, self.poll_minutes, max_age=res.max_age, ttl_minutes=parsed.ttl_minutes,
            published_times=[s.published for s in parsed.stories])
        if not (parsed.stories or state.baselined):
            body_hash = None   # no entries read yet: the next poll is still a first poll
        return dict(next_poll=next_ok, etag=res.etag, last_modified=res.last_modified,
                    body_hash=body_hash, ttl_minutes=parsed.ttl_minutes,
                    moved_to=moved_to(res), listed=[s.id for s in parsed.stories])

    def _queue_backlog(self, backlog: _Backlog) -> None:
        # Never posted, so it can wait for others; the feed is recorded as polled in
        # the same transaction, so a crash before it means a fresh first poll.
        self._backlog.append(backlog)
        if sum(len(b.stories) for b in self._backlog) >= BACKLOG_BATCH:
            self._store_backlogs()

    async def _store_polled(self, state: FeedState, out: FeedOutcome, stories: list[Story],
                            now, fetched: dict) -> list[Story]:
        """Store a poll's entries now; return the new strategy stories to post. The
        feed's validators are recorded only once they are: a poll whose stories were not
        stored (a store locked) must read them again."""
        self._unless_locked()
        new, fresh = await self._store_new(stories, backlog=out.backlog, now=now,
                                           too_old=self._too_old(state, now))
        self._count_new(out, new)
        if not out.backlog:
            posting = {s.id for s in fresh}
            held = [s for s in new if s.id not in posting]
            # Only the first-read rule holds an undated entry (it bears the fetch time).
            out.undated_held = sum(UNDATED in s.flags for s in held)
            out.too_old = len(held) - out.undated_held
        # Fresh: news (not a first poll's archive, nor an old entry turning up late).
        self.store.record_fetch_ok(state.source.url, now=now, new_stories=len(fresh),
                                   **fetched)
        return [s for s in fresh if s.classification.strategy]

    def _say_clock_back(self, states: list[FeedState], now: datetime) -> None:
        """One line when feeds polled "after now" are due: the clock went back. Said
        again only after a pass found none, so a pass abandoned before recording them
        does not say it every tick."""
        ahead = [s for s in states if schedule.polled_after_now(s.last_polled, now)]
        if ahead and not self._clock_back_said:
            latest = max(ahead, key=lambda s: s.last_polled)
            log.warning("poller: the clock went back (feed %s last polled %s, after now); "
                        "polling such feeds now", latest.source.name,
                        shown_utc(latest.last_polled))
        self._clock_back_said = bool(ahead)

    def _say(self, level: int, msg: str, *args) -> None:
        """A feed's failure or warning, logged unless the caller reports it itself."""
        log.log(logging.DEBUG if self.reports_feeds else level, msg, *args)


async def _all_or_none(coros: list) -> list:
    """gather(), but should one raise (a store that cannot be used ends the run), the
    others are cancelled and awaited, not left running unattended with their errors
    never retrieved."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _validators(res, state: FeedState) -> tuple[str | None, str | None]:
    """The ETag and Last-Modified to ask with after an unchanged poll: a 200's, whatever
    they are (the same bytes under a new ETag, a static feed rewritten: the old one no
    longer matches, and every poll would download it whole); those a 304 sends replace
    the feed's, one by one (RFC 9111 4.3.4)."""
    if not res.not_modified:
        return res.etag, res.last_modified
    return res.etag or state.etag, res.last_modified or state.last_modified


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
    if schedule.is_due(state.next_poll, state.last_polled, now):
        return True
    return all_feeds and not state.failures
