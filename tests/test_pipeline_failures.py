"""A pass's failing feeds: log lines that name the feed, a repaired feed's warning
once, gone feeds paused, backoff and 304s, no network at all, and a bug in one feed's
handling that fails that feed alone."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.pipeline import Pipeline
from feeds.classify import Classifier
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource, utcnow
from storage.store import Store
from tests.classify_kit import gazetteer_classifier
from tests.fakes.feedserver import FeedServer, make_entries, make_rss
from tests.pipeline_kit import ENTRIES, CountingClassifier, poll, stored, pipeline_env


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
env = pytest.fixture(pipeline_env, name="env")


async def test_a_failing_feeds_log_line_names_the_feed(env, caplog):
    # "fetcher: 127.0.0.1:8765 answered HTTP 404" named the host only: with two feeds on
    # one server the operator could not tell which one had broken.
    srv, store, pipeline, _ = env
    srv.script("/broken.xml", [404])
    store.upsert_feed(FeedSource("Broken", srv.url("/broken.xml")))
    await poll(pipeline, 0)
    lines = [r.getMessage() for r in caplog.records if "HTTP 404" in r.getMessage()]
    assert lines == [f"poller: Broken ({srv.url('/broken.xml')}) failed (1 of 10 before a "
                     f"pause): fetcher: {srv.url('/').split('/')[2]} answered HTTP 404"]


def cut(entries: list[dict]) -> bytes:
    """A feed cut off inside its last item: feedparser repairs it, the rest is read."""
    body = make_rss("Cut", entries)
    return body[:body.index(b"</channel>")] + b"<item><title>thr"


def bare_ampersand(entries: list[dict]) -> bytes:
    return make_rss("Cut", entries).replace(b"<channel>", b"<channel><x>R&D</x>", 1)


async def test_a_repaired_feeds_warning_is_logged_once_per_kind_and_day(env, caplog):
    """The parser returns what it repaired; the poller's log said it at every changed
    poll of a feed always a little broken, for ever (~700 lines a day of a busy feed).
    It is said once per feed and kind of repair (its line number and counts aside),
    again when the kind changes or a day later. This test said "once per poll" before."""
    caplog.set_level("INFO")
    srv, store, pipeline, _ = env
    store.upsert_feed(FeedSource("Cut", srv.url("/cut.xml")))
    entries = make_entries(12, seed=5)
    said = []
    for n, (minutes, body) in enumerate([
            *((4 * n, cut) for n in range(6)),            # weeks of the same repair
            (30, bare_ampersand), (34, bare_ampersand),   # another kind: said once
            (38, cut),                                    # and back: said again
            (42 + 24 * 60, cut), (46 + 24 * 60, cut)]):   # a day on: said once more
        srv.add("/cut.xml", body(entries[:n + 2]))       # a new entry each time
        await poll(pipeline, minutes)
        said.append(sum(r.getMessage().startswith(f"parser: {srv.url('/cut.xml')}: ")
                        for r in caplog.records))
    assert said == [1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 4], caplog.text


async def test_gone_feed_pauses_at_once_other_errors_back_off(env):
    srv, store, pipeline, _ = env
    srv.add("/gone.xml", b"", content_type="text/plain")
    srv.script("/gone.xml", [410])
    srv.script("/broken.xml", [500])
    store.upsert_feed(FeedSource("Gone", srv.url("/gone.xml")))
    store.upsert_feed(FeedSource("Broken", srv.url("/broken.xml")))
    summary = await poll(pipeline, 0)
    paused = {o.name: o.paused for o in summary.failures}
    assert paused == {"Gone": True, "Broken": False}
    assert [(o.new, o.new_strategy, o.unchanged) for o in summary.failures] == [(0, 0, False)] * 2
    assert ", 2 failed, 1 paused" in summary.line()
    assert store.feed_state(srv.url("/gone.xml")).health == "paused"


@pytest.mark.parametrize("gap_minutes", [45.0, 2.5])    # quiet: the ceiling; busy: inside
async def test_a_304_keeps_the_adaptive_interval(env, gap_minutes):
    srv, store, pipeline, _ = env
    url = srv.url("/f.xml")
    now = utcnow()
    srv.add("/f.xml", make_rss("Wire", make_entries(6, seed=3, start=now,
                                                    gap_minutes=gap_minutes)))
    await pipeline.poll_once(now=now, all_feeds=True)     # full poll: interval from dates
    first = store.feed_state(url)
    chosen = first.next_poll - first.last_polled
    assert chosen != timedelta(minutes=2)             # adaptive, not the base interval
    later = now + chosen
    await pipeline.poll_once(now=later, all_feeds=True)   # a 304
    second = store.feed_state(url)
    assert srv.requests_for("/f.xml")[-1].status == 304
    assert second.next_poll - second.last_polled == chosen


async def test_a_304_after_a_failure_does_not_take_the_backoff_for_the_feeds_rhythm(env):
    srv, store, pipeline, _ = env
    url = srv.url("/f.xml")
    now = utcnow()
    await pipeline.poll_once(now=now, all_feeds=True)       # full poll
    srv.script("/f.xml", [500, 500])
    for _ in range(2):                                      # failing: backing off
        now = store.feed_state(url).next_poll
        await pipeline.poll_once(now=now)
    srv.add("/f.xml", make_rss("Wire", ENTRIES))           # back, unchanged: a 304
    await pipeline.poll_once(now=store.feed_state(url).next_poll)
    state = store.feed_state(url)
    assert srv.requests_for("/f.xml")[-1].status == 304 and state.failures == 0
    assert state.next_poll - state.last_polled == timedelta(minutes=2)   # the base again


async def _passes_while_unreachable(store, classifier, n: int) -> tuple[list, object]:
    """`n` poll passes, each when the next feed is due, with nothing answering
    (closed loopback ports: connection refused, as with no network at all)."""
    states, summary = [], None
    async with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)
        now = utcnow()
        for _ in range(n):
            summary = await pipeline.poll_once(now=now)
            states = store.feed_states()
            due = [s.next_poll for s in states if s.next_poll and not s.paused]
            if not due:
                break
            now = min(due)
    return states, summary


async def test_a_bot_without_network_does_not_hold_it_against_every_feed(tmp_path, classifier,
                                                                        caplog):
    # With the bot's own network down, every feed's failures climbed: after a few hours
    # offline the feeds waited hours more once it was back, and after ~5 days all were
    # paused for good. Now such passes are retried at the base interval, uncounted.
    store = Store(tmp_path / "a.db")
    for i in range(4):
        store.upsert_feed(FeedSource(f"Wire {i}", f"http://127.0.0.{i + 1}:9/feed.xml"))
    states, last = await _passes_while_unreachable(store, classifier, 40)   # ~6 hours
    assert not any(s.paused for s in states)
    # Not held against the feeds, but still reported: the pass says what failed and why.
    assert last.outcomes and all(o.error for o in last.outcomes)
    assert last.line().endswith(f"{len(last.outcomes)} failed (no feed reached: the network "
                                "looks down; not counted against the feeds)")
    assert {s.failures for s in states} == {1} and {s.health for s in states} == {"failing"}
    assert {s.next_poll - s.last_polled for s in states} == {timedelta(minutes=10)}
    offline = [r for r in caplog.records if "network looks down" in r.getMessage()]
    assert len(offline) == 1
    store.close()


async def test_feeds_unreachable_while_others_answer_still_back_off(env, classifier):
    srv, store, pipeline, _ = env
    for i in range(3):
        store.upsert_feed(FeedSource(f"Dead {i}", f"http://127.0.0.{i + 2}:9/feed.xml"))
    now = utcnow()
    for step in range(4):
        await pipeline.poll_once(now=now + timedelta(hours=step * 30), all_feeds=True)
    dead = [s for s in store.feed_states() if s.source.name.startswith("Dead")]
    assert {s.failures for s in dead} == {4}
    assert {s.next_poll - s.last_polled for s in dead} == {timedelta(minutes=2 * 2 ** 4)}


class BrokenOn(CountingClassifier):
    """The real classifier with a bug that only one feed's stories reach."""

    def __init__(self, inner: Classifier, marker: str):
        super().__init__(inner)
        self.marker = marker

    def classify(self, title, text):
        if self.marker in title:
            raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
        return super().classify(title, text)


async def test_a_bug_in_one_feeds_handling_fails_that_feed_alone(tmp_path, classifier, caplog):
    """An unexpected error is recorded on its feed, saying where it came from, with the
    traceback in the log; the other feeds of the pass are stored as usual."""
    store = Store(tmp_path / "a.db")
    odd = [{**e, "title": f"Odd {e['title']}", "guid": f"odd-{e['guid']}"}
           for e in make_entries(2, seed=9)]
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/good.xml", make_rss("Good", ENTRIES))
        srv.add("/odd.xml", make_rss("Odd", odd))
        for name in ("Good", "Odd"):
            store.upsert_feed(FeedSource(name, srv.url(f"/{name.lower()}.xml")))
        pipeline = Pipeline(store, fetcher, BrokenOn(classifier, "Odd "), Formatter(store))
        summary = await pipeline.poll_once(now=utcnow(), all_feeds=True)
        odd_url = srv.url("/odd.xml")
    [failed] = summary.failures
    assert failed.url == odd_url and failed.error == (
        f"poller: {odd_url} failed (TypeError: unsupported operand type(s) for +: 'int' "
        "and 'str')")
    assert store.feed_state(odd_url).last_error.endswith(failed.error)
    assert all(stored(store, e) is not None for e in ENTRIES)
    assert [r.exc_info is not None for r in caplog.records
            if "failed unexpectedly" in r.getMessage()] == [True]
    store.close()


@pytest.mark.parametrize("first", [False, True], ids=["later poll", "first poll"])
async def test_a_store_locked_past_its_busy_timeout_is_not_the_feeds_failure(
        tmp_path, classifier, monkeypatch, caplog, first):
    """Another program holding the write lock past the busy timeout (a VACUUM, a long
    `ainews` command) as the poller stored a feed's new stories was charged to the feed:
    a failure, a backoff, 'failing' in `ainews status`, then a pause. The lock is the
    store's: the feed is not charged, the pass says so in one line naming the file, and
    nothing of the poll is recorded, its validators neither, so the next poll stores
    the same stories as new."""
    import logging
    import sqlite3
    monkeypatch.setattr("storage.store.BUSY_TIMEOUT", 0.05)
    path = tmp_path / "a.db"
    store = Store(path)
    holder = sqlite3.connect(path, isolation_level=None)

    def released_after_it_failed(real):
        # The lock ends just after the poller gave up waiting, as a VACUUM might: the
        # old code's failure record then went through.
        def begin():
            try:
                real()
            except Exception:
                if holder.in_transaction:
                    holder.execute("ROLLBACK")
                raise
        return begin
    monkeypatch.setattr(store, "_begin_immediate",
                        released_after_it_failed(store._begin_immediate))
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/f.xml", make_rss("Wire", ENTRIES[:3]))
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=2)
        if not first:
            await poll(pipeline, 0)
            srv.add("/f.xml", make_rss("Wire", ENTRIES))
        (before,) = store.feed_states()
        for minutes in (10, 20, 30):
            holder.execute("BEGIN IMMEDIATE")
            summary = await poll(pipeline, minutes)
            assert summary.failures == [] and summary.new_stories == 0
            (state,) = store.feed_states()
            assert (state.failures, state.last_error, state.paused) == (0, "", False)
            assert (state.etag, state.last_modified, state.body_hash, state.polls_ok) == (
                before.etag, before.last_modified, before.body_hash, before.polls_ok)
        said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert not any(r.exc_info for r in caplog.records), caplog.text
        assert len(said) == 1 and said[0].startswith(f"poller: store: {path} is locked"), said
        summary = await poll(pipeline, 40)
    waiting = ENTRIES[:3] if first else ENTRIES[3:]
    assert summary.failures == [] and summary.new_stories == len(waiting)
    assert all(stored(store, e) is not None for e in waiting)
    holder.close()
    store.close()


@pytest.mark.parametrize("status, body, said", [
    (500, b"", "poller: Private (http://alice:***@{host}/p.xml?token=***) failed (1 of 10"),
    (410, b"", "poller: paused http://alice:***@{host}/p.xml?token=*** after 1 failure"),
    (200, b"<html><body>no feed</body></html>", "parser: http://alice:***@{host}/p.xml?token=***"),
], ids=["failing", "paused", "not-a-feed"])
async def test_a_feed_urls_credentials_stay_out_of_the_log_and_its_error(env, caplog, status,
                                                                         body, said):
    """A private feed's user:password@ (the fetcher sends it as Basic auth) was in the
    WARNING of every failure, and in the error `feeds list` and chat show."""
    srv, store, pipeline, _ = env
    url = srv.url("/p.xml?token=t0k3n").replace("http://", "http://alice:s3cretpw@")
    srv.add("/p.xml", body, content_type="text/html")
    if status != 200:
        srv.script("/p.xml", [status])
    store.upsert_feed(FeedSource("Private", url))
    summary = await poll(pipeline, 0)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    error = store.feed_state(url).last_error       # found by the URL as stored
    assert said.format(host=srv.url("/").split("/")[2]) in logged + "\n" + error
    shown = logged + error + str(summary.to_json())
    assert "s3cretpw" not in shown and "t0k3n" not in shown


async def test_a_failure_met_on_a_locked_store_is_not_recorded_and_the_pass_ends_tidily(
        tmp_path, classifier, monkeypatch, caplog):
    """A feed failing (HTTP 500) while another program held the store's write lock:
    recording its failure raised the lock out of the whole pass, no summary, the pass's
    other feeds left running unattended. Now the failure is met as a stored poll is:
    nothing of it is recorded, no feed is charged, the pass ends with every feed's
    outcome, and the next pass records the failure and stores the stories."""
    import logging
    import sqlite3
    monkeypatch.setattr("storage.store.BUSY_TIMEOUT", 0.05)
    path = tmp_path / "a.db"
    store = Store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.script("/broken.xml", [500, 500])
        srv.add_slow("/slow.xml", 0.3, make_rss("Slow", ENTRIES))   # still out meanwhile
        for name in ("Broken", "Slow"):
            store.upsert_feed(FeedSource(name, srv.url(f"/{name.lower()}.xml")))
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=2)
        holder.execute("BEGIN IMMEDIATE")
        summary = await poll(pipeline, 0)
        assert summary.failures == [] and summary.new_stories == 0
        assert sorted((o.name, o.store_locked) for o in summary.outcomes) == [
            ("Broken", True), ("Slow", True)]
        assert all((s.failures, s.last_error, s.polls_ok) == (0, "", 0)
                   for s in store.feed_states())
        said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(said) == 1 and said[0].startswith(f"poller: store: {path} is locked"), said
        # Not the CLI's "end it and try again": the bot goes on by itself.
        assert said[0].endswith("(a sqlite3 shell in a transaction?); will try again at the "
                                "next poll (the feeds polled meanwhile are not counted as "
                                "failing)"), said
        holder.execute("ROLLBACK")
        summary = await poll(pipeline, 10)
    assert [(o.name, o.failures) for o in summary.failures] == [("Broken", 1)]
    assert all(stored(store, e) is not None for e in ENTRIES)
    assert not any(r.exc_info for r in caplog.records), caplog.text
    holder.close()
    store.close()


async def test_a_private_feeds_credentials_stay_out_of_the_debug_line_of_a_locked_store(
        tmp_path, classifier, monkeypatch, caplog):
    """AINEWS_LOG_LEVEL=DEBUG: a private feed failing while another program held the
    store's write lock logged "poller: NAME (URL) failed, not recorded" with the URL as
    stored, its user:password@ and ?token= in the clear (every other line hides them)."""
    import logging
    import sqlite3
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("storage.store.BUSY_TIMEOUT", 0.05)
    path = tmp_path / "a.db"
    store = Store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.script("/p.xml", [500])
        url = srv.url("/p.xml?token=t0k3n").replace("http://", "http://alice:s3cretpw@")
        store.upsert_feed(FeedSource("Private", url))
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=2)
        holder.execute("BEGIN IMMEDIATE")
        await poll(pipeline, 0)
        holder.execute("ROLLBACK")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "not recorded (the store is locked)" in logged, logged
    assert "s3cretpw" not in logged and "t0k3n" not in logged, logged
    holder.close()
    store.close()
