"""Store: feeds, fetch state and health transitions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from feeds.models import FeedSource
from storage.store import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
URL = "https://a.example/feed.xml"
MIN = timedelta(minutes=1)


@pytest.fixture
def store():
    s = Store(":memory:")
    s.upsert_feed(FeedSource("Outlet A", URL, ("china", "ai")))
    yield s
    s.close()


def fail(store: Store, n: int = 1, **kw):
    state = None
    for i in range(n):
        state = store.record_fetch_failure(URL, now=T0 + i * MIN, next_poll=T0 + (i + 5) * MIN,
                                           kind="timeout", message="a.example timed out", **kw)
    return state


def test_new_feed_is_due_at_once_and_health_new(store):
    [state] = store.due_feeds(T0)
    assert state.source == FeedSource("Outlet A", URL, ("china", "ai"))
    assert (state.health, state.polls_ok, state.next_poll) == ("new", 0, None)


def test_fetch_ok_records_validators_and_schedule(store):
    store.record_fetch_ok(URL, now=T0, next_poll=T0 + 10 * MIN, etag='"abc"',
                          last_modified="Mon, 02 Mar 2026 08:00:00 GMT", body_hash="h1",
                          ttl_minutes=30)
    s = store.feed_state(URL)
    assert (s.etag, s.last_modified, s.body_hash, s.ttl_minutes) == \
        ('"abc"', "Mon, 02 Mar 2026 08:00:00 GMT", "h1", 30)
    assert (s.last_polled, s.last_ok, s.next_poll) == (T0, T0, T0 + 10 * MIN)
    assert (s.health, s.polls_ok) == ("ok", 1)
    assert store.due_feeds(T0 + 9 * MIN) == []
    assert [f.source.url for f in store.due_feeds(T0 + 10 * MIN)] == [URL]


@pytest.mark.parametrize("back, due", [(3 * 60 * MIN, True), (MIN / 2, False)])
def test_a_feed_polled_after_now_is_due_when_the_clock_went_back(store, back, due):
    """Its next poll is as far off as the clock's step back: hours or days."""
    store.record_fetch_ok(URL, now=T0, next_poll=T0 + 10 * MIN, etag=None,
                          last_modified=None, body_hash="h")
    assert bool(store.due_feeds(T0 - back)) is due


def test_not_modified_counts_as_a_good_poll_and_keeps_validators(store):
    store.record_fetch_ok(URL, now=T0, next_poll=T0, etag="e", last_modified=None,
                          body_hash="h")
    fail(store)
    store.record_not_modified(URL, now=T0 + MIN, next_poll=T0 + 20 * MIN)
    s = store.feed_state(URL)
    assert (s.etag, s.body_hash, s.failures, s.last_error, s.polls_ok, s.health) == \
        ("e", "h", 0, "", 2, "ok")


def test_failures_are_counted_then_feed_paused_after_ten(store):
    s = fail(store, 9)
    assert (s.health, s.failures, s.paused) == ("failing", 9, False)
    assert s.last_error == "timeout: a.example timed out"
    assert store.due_feeds(T0 + timedelta(days=1))
    s = fail(store)
    assert (s.health, s.failures, s.paused) == ("paused", 10, True)
    assert store.due_feeds(T0 + timedelta(days=1)) == [], "a paused feed is never due"
    assert store.feed_state(URL).health == "paused"


def test_pause_after_is_configurable_and_resume_makes_it_due(store):
    assert fail(store, 3, pause_after=3).paused
    assert store.resume_feed(URL) is True
    s = store.feed_state(URL)
    assert (s.paused, s.failures, s.last_error, s.next_poll) == (False, 0, "", None)
    assert [f.source.url for f in store.due_feeds(T0)] == [URL]
    assert store.resume_feed("https://unknown.example/") is False


def test_success_after_failures_is_ok_again(store):
    fail(store, 4)
    store.record_fetch_ok(URL, now=T0, next_poll=T0, etag=None, last_modified=None,
                          body_hash="h")
    assert store.feed_state(URL).health == "ok"


def test_upsert_renames_without_losing_state_and_remove(store):
    store.record_fetch_ok(URL, now=T0, next_poll=T0, etag="e", last_modified=None,
                          body_hash="h")
    store.upsert_feed(FeedSource("Renamed", URL))
    s = store.feed_state(URL)
    assert (s.source.name, s.source.tags, s.etag, s.polls_ok) == ("Renamed", (), "e", 1)
    store.upsert_feed(FeedSource("B", "https://b.example/rss"))
    assert [f.source.name for f in store.feed_states()] == ["B", "Renamed"]
    assert store.remove_feed(URL) is True
    assert store.remove_feed(URL) is False
    assert store.feed_state(URL) is None


def test_result_for_a_feed_removed_mid_poll_is_ignored(store):
    store.remove_feed(URL)
    store.record_fetch_ok(URL, now=T0, next_poll=T0, etag=None, last_modified=None,
                          body_hash="h")
    s = fail(store)
    assert (s.failures, s.paused) == (1, False), "not reported to the admin as paused"
    assert store.feed_states() == []


WINDOW = timedelta(minutes=90)


@pytest.mark.parametrize("failing,kind,answered_ago,offline", [
    (3, "connect", None, True),              # nothing answers, 3 feeds can't connect
    (3, "dns", timedelta(hours=2), True),    # the last answer predates the window
    (2, "connect", None, False),             # two dead feeds are the feeds' own problem
    (3, "connect", 10 * MIN, False),         # another feed answered lately: not us
    (3, "connect", WINDOW, False),           # ...just within the window
    (3, "timeout", None, False),             # the servers were reached, slowly
], ids=["none-answer", "answer-before-window", "two-only", "one-answers", "answer-at-edge", "timeouts"])
def test_the_bot_looks_offline_only_when_no_feed_answers_and_several_cannot_be_reached(
        store, failing, kind, answered_ago, offline):
    # Offline, failures are not held against the feeds (no backoff, no pause); wrongly
    # offline, dead feeds would be retried every few minutes forever and never paused.
    now = T0 + timedelta(hours=3)
    if answered_ago is not None:
        store.record_fetch_ok(URL, now=now - answered_ago, next_poll=now, etag=None,
                              last_modified=None, body_hash="h")
    for i in range(failing):
        url = f"https://dead{i}.example/rss"
        store.upsert_feed(FeedSource(f"Dead {i}", url))
        store.record_fetch_failure(url, now=now - MIN, next_poll=now, kind=kind,
                                   message="no route")
    assert store.looks_offline(now=now, window=WINDOW) is offline


def test_polls_while_the_bot_is_offline_never_pause_a_feed(store):
    """An hour without network must not leave every feed one failure from a pause, or
    with a day's backoff, once the network is back."""
    for i in range(12):
        store.record_unreachable(URL, now=T0 + i * MIN, next_poll=T0 + (i + 1) * MIN,
                                 kind="dns", message="a.example: DNS lookup failed")
    s = store.feed_state(URL)
    assert (s.health, s.failures, s.paused) == ("failing", 1, False)
    assert (fail(store).failures, store.feed_state(URL).paused) == (2, False)


def test_resuming_paused_feeds_leaves_the_others_alone(store):
    failing = "https://b.example/feed.xml"
    store.upsert_feed(FeedSource("Outlet B", failing))
    fail(store, 10)
    store.record_fetch_failure(failing, now=T0, next_poll=T0 + 30 * MIN, kind="timeout",
                               message="b.example timed out")
    assert store.resume_paused_feeds() == [URL]
    b = store.feed_state(failing)
    assert (b.failures, b.next_poll, b.health) == (1, T0 + 30 * MIN, "failing")
    assert store.feed_state(URL).health == "new"


def test_a_multi_line_error_is_stored_as_one_line(store):
    """`ainews feeds` shows last_error in a table row: a line break would tear it."""
    s = store.record_fetch_failure(URL, now=T0, next_poll=T0 + MIN, kind="parse",
                                   message="poller: not XML\nline 2, column 1")
    assert s.last_error == "parse: poller: not XML line 2, column 1"
    assert store.feed_state(URL).last_error == s.last_error


def test_news_since_counts_a_feeds_news_from_its_own_time_only(store):
    """What `status` judges a quiet feed by (bot/quiet_feeds.py): news, never a first
    poll's archive, first seen at or after each feed's time; pruned news counts too."""
    from tests.store_kit import make
    other = "https://b.example/feed.xml"
    day = timedelta(days=1)
    for d, feed, backlog in [(0, URL, True), (1, URL, False), (2, URL, False),
                             (3, URL, False), (2, other, False), (1, URL, True)]:
        store.add_new_stories([make(f"Story {d} of {feed} {backlog}", feed=feed)],
                              backlog=backlog, now=T0 + d * day)
    store.slim_stories_older_than(T0 + 1.5 * day)        # story 1 pruned: still news
    assert store.news_since({URL: T0 + day, other: T0 + 3 * day}) == {URL: (3, T0 + day)}
    assert store.news_since({other: T0}) == {other: (1, T0 + 2 * day)}
