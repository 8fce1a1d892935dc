"""Old stories are not news: through the real poller against a loopback feed server.

A story first seen on a later poll is posted only if it was published within the age
limit (AINEWS_MAX_POST_AGE_HOURS); an older one (the bot was down, a paused feed was
resumed, a site changed its GUIDs) is stored for lookups and never reaches dispatch.
A first poll that read no entries (a 304, an empty feed) must not make the next poll's
archive news either."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.pipeline import FeedOutcome, Pipeline, PollSummary
from feeds.classify import Classifier, load_gazetteer
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource, utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, Reply, make_rss
from tests.fakes.stories import archive_entry, strategy_entry

LIMIT = timedelta(hours=48)
HOUR, WEEK = timedelta(hours=1), timedelta(days=7)


@pytest.fixture(scope="module")
def classifier():
    return Classifier(load_gazetteer())


@pytest.fixture
async def wire(tmp_path, classifier):
    """(server, store, a function making a pipeline with a given age limit)."""
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/f.xml", make_rss("Wire", [archive_entry(0)]))
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))

        def pipeline(max_post_age=LIMIT):
            return Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=2,
                            max_post_age=max_post_age)
        yield srv, store, pipeline
    store.close()


def aged(i: int, age: timedelta, now) -> dict:
    return strategy_entry(i, published=now - age)


def link(i: int) -> str:
    return f"https://news.example.com/story/{i}"


def to_dispatch(store) -> set[str]:
    """What the bot would post: dispatch reads new stories back from the store."""
    return {s.url for s in store.stories_to_dispatch(0, store.last_story_pk())}


async def poll(pipeline, now):
    return await pipeline.poll_once(now=now, all_feeds=True)


@pytest.mark.parametrize("limit,posted,too_old", [
    (LIMIT, {link(2)}, 1),
    (None, {link(1), link(2)}, 0),         # AINEWS_MAX_POST_AGE_HOURS=0: no limit
], ids=["48h", "no-limit"])
async def test_a_week_old_story_on_a_later_poll_is_stored_not_posted(wire, limit, posted,
                                                                     too_old):
    srv, store, make = wire
    pipeline, now = make(limit), utcnow()
    await poll(pipeline, now)                                   # first poll: backlog
    old, fresh = aged(1, WEEK, now), aged(2, HOUR, now)
    srv.add("/f.xml", make_rss("Wire", [fresh, old, archive_entry(0)]))
    summary = await poll(pipeline, now + timedelta(minutes=10))
    assert {s.url for s in summary.fresh} == posted == to_dispatch(store)
    assert summary.new_stories == 2 and summary.too_old == too_old
    # Stored all the same: the lookups find the old story.
    assert link(1) in {b.url for b in store.latest(10, strategy_only=True)}
    assert link(1) in {b.url for b in store.search("Tencent")}       # story 1's company


async def test_stories_just_inside_the_limit_are_posted(wire):
    srv, store, make = wire
    pipeline, now = make(), utcnow()
    await poll(pipeline, now)
    srv.add("/f.xml", make_rss("Wire", [aged(1, LIMIT - HOUR, now), aged(2, LIMIT + HOUR, now)]))
    summary = await poll(pipeline, now + timedelta(minutes=10))
    assert {s.url for s in summary.fresh} == {link(1)} == to_dispatch(store)


async def test_a_resumed_feeds_old_stories_are_not_posted(wire):
    srv, store, make = wire
    pipeline, now = make(), utcnow()
    url = srv.url("/f.xml")
    await poll(pipeline, now - WEEK)                            # read the archive, then...
    store.record_fetch_failure(url, now=now - WEEK, next_poll=now - WEEK, kind="http",
                               message="HTTP 500", pause_after=1)   # ...paused for a week
    srv.add("/f.xml", make_rss("Wire", [aged(i, timedelta(days=i, hours=1), now)
                                          for i in range(7)]))
    assert (await poll(pipeline, now)).feeds_polled == 0       # paused: not polled
    assert store.resume_feed(url)
    summary = await poll(pipeline, now)
    assert {s.url for s in summary.fresh} == {link(0), link(1)} == to_dispatch(store)
    assert summary.new_stories == 7 and summary.too_old == 5


def without_dates(body: bytes) -> bytes:
    return re.sub(rb"<pubDate>[^<]*</pubDate>", b"", body)


@pytest.mark.parametrize("first_reply", [
    Reply(304, b"", etag=None),                                 # a server that 304s anyone
    Reply(200, make_rss("Wire", [])),                           # an empty feed
], ids=["304", "empty"])
async def test_a_first_poll_that_read_nothing_does_not_make_the_archive_news(
        wire, first_reply):
    srv, store, make = wire
    # No age limit: this rule stands on its own (the archive here is 3 hours old).
    pipeline, now = make(None), utcnow()
    archive = [aged(i, 3 * HOUR + timedelta(minutes=i), now) for i in range(1, 6)]
    after = strategy_entry(9, published=now + timedelta(minutes=5))
    srv.script("/f.xml", [first_reply, Reply(200, make_rss("Wire", [after, *archive]))])
    first = await poll(pipeline, now)
    assert first.new_stories == 0 and first.outcomes[0].backlog
    summary = await poll(pipeline, now + timedelta(minutes=10))
    # Only the entry published after the first poll is news; the archive is stored.
    assert {s.url for s in summary.fresh} == {link(9)} == to_dispatch(store)
    assert summary.new_stories == 6 and summary.too_old == 5
    # Entries read: from now on the feed is like any other.
    srv.add("/f.xml", make_rss("Wire", [aged(10, 2 * HOUR, now), after, *archive]))
    third = await poll(pipeline, now + timedelta(minutes=20))
    assert {s.url for s in third.fresh} == {link(10)}


async def test_an_undated_entry_after_an_empty_first_poll_waits_for_a_date(wire):
    # An entry without a date bears the fetch time: it cannot show it came after (a
    # feed that was empty or answered 304 may now list its whole undated archive). It
    # was counted "too old to post", which sent the operator looking at its date.
    srv, store, make = wire
    pipeline, now = make(), utcnow()
    srv.add("/f.xml", make_rss("Wire", []))
    await poll(pipeline, now)
    srv.add("/f.xml", without_dates(make_rss("Wire", [aged(1, HOUR, now)])))
    summary = await poll(pipeline, now + timedelta(minutes=10))
    assert summary.fresh == [] and to_dispatch(store) == set()
    assert summary.too_old == 0 and summary.undated_held == 1
    assert summary.line().endswith("; undated, not posted until the feed's entries have "
                                   "been read once (stored): 1 story")
    # Read once now: the feed's next undated entry is news.
    srv.add("/f.xml", without_dates(make_rss("Wire", [aged(2, HOUR, now), aged(1, HOUR, now)])))
    third = await poll(pipeline, now + timedelta(minutes=20))
    assert {s.url for s in third.fresh} == {link(2)} and third.undated_held == 0


async def test_an_undated_entry_of_a_known_feed_is_fresh(wire):
    # Without a date the published time is the fetch time: never too old.
    srv, store, make = wire
    pipeline, now = make(), utcnow()
    await poll(pipeline, now)
    srv.add("/f.xml", without_dates(make_rss("Wire", [aged(1, WEEK, now)])))
    summary = await poll(pipeline, now + timedelta(minutes=10))
    assert {s.url for s in summary.fresh} == {link(1)} == to_dispatch(store)


async def test_a_future_date_is_fresh(wire):
    srv, store, make = wire
    pipeline, now = make(), utcnow()
    await poll(pipeline, now)
    srv.add("/f.xml", make_rss("Wire", [aged(1, -WEEK, now)]))    # clamped to fetch time
    summary = await poll(pipeline, now + timedelta(minutes=10))
    assert {s.url for s in summary.fresh} == {link(1)}


def test_the_summary_says_how_many_new_stories_were_too_old_to_post():
    summary = PollSummary(outcomes=[
        FeedOutcome("https://a.example/rss", "A", new=12, new_strategy=4, backlog=True),
        FeedOutcome("https://b.example/rss", "B", new=5, new_strategy=2, too_old=3),
        FeedOutcome("https://c.example/rss", "C", new=2, undated_held=2)])
    assert summary.line().endswith(
        "first polls' backlog (stored, never posted): 12 stories, 4 strategy; "
        "too old to post (stored, not posted): 3 stories; undated, not posted until the "
        "feed's entries have been read once (stored): 2 stories")
    assert summary.to_json()["too_old_stories"] == 3
    assert summary.to_json()["undated_held_stories"] == 2
    line = PollSummary(outcomes=[FeedOutcome("u", "B", new=1)]).line()
    assert "too old" not in line and "undated" not in line


@pytest.mark.parametrize("dated, news", [
    (timedelta(0), True), (timedelta(seconds=-30), True),
    (timedelta(seconds=-61), False), (timedelta(hours=-1), False), (timedelta(days=-400), False),
    # Dated after the poll reading it: the publisher's clock is ahead. The parser dates
    # it as fetched, and it was held as "too old" though it is as new as entries come.
    (timedelta(minutes=3), True), (timedelta(hours=5), True),
], ids=["the poll's own second", "earlier in the poll's minute", "past the grain",
        "an hour before", "the archive", "a clock minutes ahead", "a clock hours ahead"])
async def test_an_empty_feeds_next_entry_is_news_only_from_the_minute_of_its_last_poll(
        wire, dated, news):
    # Feeds date entries in whole seconds or minutes: an entry published just after an
    # empty poll may carry a time that reads as before it (the demo lost its first story).
    # Only that minute counts: never an older entry (a feed now showing its archive).
    srv, store, make = wire
    pipeline, now = make(), utcnow()
    srv.add("/f.xml", make_rss("Wire", []))
    await poll(pipeline, now)
    entry = strategy_entry(3, published=(now + dated).replace(microsecond=0))
    srv.add("/f.xml", make_rss("Wire", [entry]))
    summary = await poll(pipeline, now + timedelta(minutes=2))
    expected = {link(3)} if news else set()
    assert {s.url for s in summary.fresh} == expected == to_dispatch(store)
    assert summary.too_old == (0 if news else 1)


@pytest.mark.parametrize("first_reply", [
    Reply(304, b"", etag=None), Reply(200, make_rss("Wire", []))], ids=["304", "empty"])
async def test_an_entry_dated_ahead_of_the_poll_after_a_first_poll_that_read_nothing_is_posted(
        wire, first_reply):
    # A publisher's clock a few minutes ahead: the new blog's first post was stored,
    # counted "too old to post" and never posted.
    srv, store, make = wire
    pipeline, now = make(), utcnow()
    ahead = strategy_entry(4, published=now + timedelta(minutes=12))
    srv.script("/f.xml", [first_reply, Reply(200, make_rss("Wire", [ahead]))])
    await poll(pipeline, now)
    summary = await poll(pipeline, now + timedelta(minutes=10))
    assert {s.url for s in summary.fresh} == {link(4)} == to_dispatch(store)
    assert summary.too_old == 0 and summary.undated_held == 0
