""""The network looks down" is said only of a pass in which no feed answered: an
operator reads it as a fault of their own machine to go and look for."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.pipeline import Pipeline
from feeds.classify import Classifier, load_gazetteer
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource, utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_entries, make_rss

DOWN = "network looks down"


@pytest.fixture(scope="module")
def classifier():
    return Classifier(load_gazetteer())


def _dead_feeds(store: Store, n: int) -> None:
    # Closed loopback ports: refused at once, as a host with no network refuses.
    for i in range(n):
        store.upsert_feed(FeedSource(f"Dead {i}", f"http://127.0.0.{i + 2}:9/feed.xml"))


def _said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if DOWN in r.getMessage()]


async def test_a_pass_that_read_a_feed_does_not_call_the_network_down(tmp_path, classifier,
                                                                      caplog):
    # A fresh database, four dead hosts and one feed that answers after them: the dead
    # ones' failures came back first and the pass said "no feed can be reached" before
    # it went on to read the live feed.
    store = Store(tmp_path / "a.db")
    _dead_feeds(store, 4)
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add_slow("/live.xml", 1.0, make_rss("Live", make_entries(3, seed=5)))
        store.upsert_feed(FeedSource("Live", srv.url("/live.xml")))
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)
        summary = await pipeline.poll_once(now=utcnow(), all_feeds=True)
    assert len(summary.failures) == 4 and summary.new_stories == 3
    assert _said(caplog) == []
    # Each dead feed is named, as any failing feed is: after the third, they were held
    # back at debug level as the network's failures.
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert all(f"Dead {i} (http://127.0.0.{i + 2}:9/feed.xml) failed" in warned
               for i in range(4))
    store.close()


async def test_a_pass_where_nothing_answered_says_so_once(tmp_path, classifier, caplog):
    store = Store(tmp_path / "a.db")
    _dead_feeds(store, 4)
    async with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)
        now = utcnow()
        for _ in range(3):   # each pass when the feeds are due again
            summary = await pipeline.poll_once(now=now)
            now = min(s.next_poll for s in store.feed_states())
    assert summary.feeds_polled == 4 and len(summary.failures) == 4
    assert len(_said(caplog)) == 1 and "retried every 10 min" in _said(caplog)[0]
    store.close()


@pytest.mark.parametrize("reached_before", [False, True])
async def test_a_first_run_with_no_network_points_at_the_demo(tmp_path, classifier, caplog,
                                                               reached_before):
    # `make run` on a machine with no way out printed failures and "the network looks
    # down", and nothing said how to see the bot work; a bot that has read its feeds
    # before is in an outage, and the demo would be beside the point.
    store = Store(tmp_path / "a.db")
    _dead_feeds(store, 4)
    if reached_before:
        last_week = utcnow() - timedelta(days=7)
        store.record_fetch_ok(store.feed_states()[0].source.url, now=last_week,
                              next_poll=last_week, etag=None, last_modified=None,
                              body_hash=None)
    async with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)
        await pipeline.poll_once(now=utcnow(), all_feeds=True)
    hints = [r.getMessage() for r in caplog.records if "ainews demo" in r.getMessage()]
    assert len(_said(caplog)) == 1 and len(hints) == (0 if reached_before else 1)
    store.close()


async def test_a_server_that_answers_with_an_error_is_no_network_down(tmp_path, classifier, caplog):
    # Dead hosts and a server answering 404: the machine's network works.
    store = Store(tmp_path / "a.db")
    _dead_feeds(store, 4)
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        store.upsert_feed(FeedSource("Gone", srv.url("/missing.xml")))   # no such route: 404
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)
        summary = await pipeline.poll_once(now=utcnow(), all_feeds=True)
    assert len(summary.failures) == 5 and "404" in " ".join(o.error for o in summary.outcomes)
    assert _said(caplog) == []
    store.close()


async def test_an_abandoned_pass_leaves_no_network_down_for_the_next(tmp_path, classifier,
                                                                    caplog, monkeypatch):
    # A pass that failed after its feeds did (the store locked, say) must not leave its
    # "offline" behind: the next pass, which polled nothing, said the network looked down.
    store = Store(tmp_path / "a.db")
    _dead_feeds(store, 4)
    async with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)

        def locked():
            raise RuntimeError("database is locked")
        monkeypatch.setattr(pipeline, "_store_backlogs", locked)
        with pytest.raises(RuntimeError):
            await pipeline.poll_once(now=utcnow())
        monkeypatch.undo()
        summary = await pipeline.poll_once(now=utcnow())   # none due: their retry is later
    assert summary.feeds_polled == 0 and _said(caplog) == []
    store.close()


async def test_no_feed_of_an_outage_is_held_to_a_backoff(tmp_path, classifier, caplog):
    """The pass says failures are not counted: the first three to fail were counted all
    the same (a 20-minute backoff, one step nearer a pause), decided before the store
    held enough failures to call the network down; the rest were retried in 10."""
    store = Store(tmp_path / "a.db")
    _dead_feeds(store, 6)
    async with Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)
        summary = await pipeline.poll_once(now=utcnow())
    states = store.feed_states()
    assert len(summary.failures) == 6 and len(_said(caplog)) == 1
    assert {s.next_poll - s.last_polled for s in states} == {timedelta(minutes=10)}
    assert {s.failures for s in states} == {1}, "listed as failing, no nearer a pause"
    assert [r.getMessage() for r in caplog.records
            if "before a pause" in r.getMessage()] == []
    store.close()


@pytest.mark.parametrize("live, note", [
    (False, " (no feed reached: the network looks down; not counted against the feeds)"),
    (True, ""),
], ids=["nothing-answered", "one-answered"])
async def test_the_pass_line_says_its_failures_were_the_networks(tmp_path, classifier, live,
                                                                 note):
    # "4 failed", on `poll --once` and on every pass of an outage in the log, read as four
    # broken feeds, though none of it was counted against them.
    store = Store(tmp_path / "a.db")
    _dead_feeds(store, 4)
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        if live:
            srv.add("/live.xml", make_rss("Live", make_entries(3, seed=5)))
            store.upsert_feed(FeedSource("Live", srv.url("/live.xml")))
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=10)
        summary = await pipeline.poll_once(now=utcnow(), all_feeds=True)
    store.close()
    after = summary.line().partition("4 failed")[2]   # then a first poll's backlog, if any
    assert after.startswith(note) and ("network" in after) == bool(note)
    assert summary.to_json()["network_looks_down"] == (not live)
