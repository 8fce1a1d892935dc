"""The pipeline hands a feed's own timing on to the schedule: <ttl>, Cache-Control
max-age and Retry-After (issue 7's adaptive scheduling). tests/test_schedule.py checks
the arithmetic; these check the wiring, through a real fetcher against a loopback feed
server (dropping any one of them used to leave every test passing)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.pipeline import Pipeline
from feeds.classify import Classifier, load_gazetteer
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource, shown_utc, utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, Reply, make_entries, make_rss

BASE = 20     # minutes: floor 10, ceiling 40, so what counted shows in the interval


@pytest.fixture
async def env(tmp_path):
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))
        classifier = Classifier(load_gazetteer())
        yield srv, store, Pipeline(store, fetcher, classifier, Formatter(store),
                                   poll_minutes=BASE)
    store.close()


def busy_feed(now, **kw) -> Reply:
    """A feed publishing every 2.5 minutes: alone it is polled at the floor (base / 2)."""
    entries = make_entries(6, seed=3, start=now, gap_minutes=2.5)
    return Reply(200, make_rss("Wire", entries, ttl=kw.pop("ttl", None)), **kw)


def refusal(status: int) -> Reply:
    return Reply(status, b"", "text/plain", {"Retry-After": "7200"}, etag=None)


@pytest.mark.parametrize("answer, minutes", [
    ("ttl", 30), ("max-age", 30), ("429", 120), ("503", 120), ("plain", 10)])
async def test_the_feeds_ttl_cache_control_and_retry_after_set_its_next_poll(env, answer,
                                                                             minutes):
    srv, store, pipeline = env
    now = utcnow()
    srv.script("/f.xml", [{
        "ttl": lambda: busy_feed(now, ttl=30),
        "max-age": lambda: busy_feed(now, headers={"Cache-Control": "max-age=1800"}),
        "429": lambda: refusal(429), "503": lambda: refusal(503),
        "plain": lambda: busy_feed(now)}[answer]()])
    await pipeline.poll_once(now=now, all_feeds=True)
    state = store.feed_state(srv.url("/f.xml"))
    assert state.next_poll - state.last_polled == timedelta(minutes=minutes)


async def test_a_304_after_a_failure_still_honours_the_feeds_ttl(env):
    """After a failure a 304 has no rhythm to keep, so the stored <ttl> is what is left."""
    srv, store, pipeline = env
    url, now = srv.url("/f.xml"), utcnow()
    srv.script("/f.xml", [busy_feed(now, ttl=30), 500, busy_feed(now, ttl=30)])
    await pipeline.poll_once(now=now, all_feeds=True)                # full poll: ttl stored
    await pipeline.poll_once(now=store.feed_state(url).next_poll)    # the 500
    await pipeline.poll_once(now=store.feed_state(url).next_poll)    # a 304
    state = store.feed_state(url)
    assert srv.requests_for("/f.xml")[-1].status == 304 and state.failures == 0
    assert state.next_poll - state.last_polled == timedelta(minutes=30)


async def test_feeds_polled_after_now_are_due_at_once_when_the_clock_went_back(env, caplog):
    """The clock stepped back three hours (NTP, a restored snapshot, a database copied
    from a machine running fast): the feeds' last polls are dated after now. Each is due
    at once and rescheduled from now, not left waiting three hours; one line says so
    for the pass, not one per feed, and none once the feeds are polled again."""
    srv, store, pipeline = env
    srv.add("/f.xml", make_rss("Wire", make_entries(6, seed=3)))
    srv.add("/g.xml", make_rss("Other", make_entries(6, seed=4)))
    store.upsert_feed(FeedSource("Other", srv.url("/g.xml")))
    now = utcnow().replace(microsecond=0)   # as stored
    await pipeline.poll_once(now=now, all_feeds=True)
    back = now - timedelta(hours=3)
    caplog.set_level("INFO", logger="ainews.poller")
    summary = await pipeline.poll_once(now=back)
    later = await pipeline.poll_once(now=back + timedelta(minutes=1))
    assert len(summary.outcomes) == 2 and later.outcomes == []
    for state in store.feed_states():
        assert state.last_polled == back and state.next_poll - back <= timedelta(minutes=40)
    said = [r.getMessage() for r in caplog.records if "clock went back" in r.getMessage()]
    assert said == [f"poller: the clock went back (feed Other last polled "
                    f"{shown_utc(now)}, after now); polling such feeds now"]


async def test_a_feed_polled_seconds_after_now_keeps_its_schedule(env):
    """Clocks of one machine disagree by milliseconds and an NTP slew is seconds: a
    last poll under a minute after now is no step back, and the schedule stands."""
    srv, store, pipeline = env
    srv.add("/f.xml", make_rss("Wire", make_entries(6, seed=3)))
    now = utcnow()
    await pipeline.poll_once(now=now, all_feeds=True)
    summary = await pipeline.poll_once(now=now - timedelta(seconds=30))
    assert summary.outcomes == []
