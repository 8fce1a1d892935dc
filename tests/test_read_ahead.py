"""The pipeline's read-ahead bound (bot/read_ahead.py ReadAhead) against the fetcher's own
bounds: a poll's feeds of one busy host must not hold up the other hosts' feeds."""
from __future__ import annotations

import pytest

from bot.pipeline import Pipeline
from feeds.classify import Classifier
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_entries, make_rss
from tests.fetcher_kit import LoopbackDNS


@pytest.fixture(scope="module")
def classifier():
    return Classifier()


async def test_a_busy_host_s_feeds_do_not_hold_up_other_hosts(tmp_path, classifier):
    # Six feeds on one host, as forty Google News searches or a host timing out would be,
    # listed first; then one feed elsewhere. With two fetches at once and one per host,
    # the pipeline reads four feeds ahead: the busy host's queue took all four, and the
    # other host's feed waited until all but three of the busy ones were done.
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True, concurrency=2,
                                                        per_host=1),
                                            resolver=LoopbackDNS()) as fetcher:
        srv.latency = 0.3
        for i in range(6):
            srv.add(f"/b{i}.xml", make_rss("Busy", make_entries(2, seed=i)))
            store.upsert_feed(FeedSource(f"A busy {i}", f"http://busy.example:{srv.port}"
                                                        f"/b{i}.xml"))
        srv.add("/o.xml", make_rss("Other", make_entries(2, seed=9)))
        store.upsert_feed(FeedSource("Z other", f"http://other.example:{srv.port}/o.xml"))
        pipeline = Pipeline(store, fetcher, classifier, Formatter(store), poll_minutes=2)
        summary = await pipeline.poll_once(all_feeds=True)
    store.close()
    assert not any(o.error for o in summary.outcomes)
    hosts = [r.headers["Host"].split(":")[0] for r in srv.requests]
    assert hosts[:2] == ["busy.example", "other.example"]
