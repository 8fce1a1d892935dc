"""Shared pieces of the pipeline tests: six generated entries on a loopback feed
server, a real fetcher, a classifier that counts what it was asked, and polling as if
minutes had passed. Modules declare `env = pytest.fixture(pipeline_env, name="env")`."""
from __future__ import annotations

from datetime import timedelta

from bot.pipeline import Pipeline
from feeds.classify import Classifier
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource, utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, make_entries, make_rss


ENTRIES = make_entries(6, seed=3)


class CountingClassifier:
    """The real classifier, remembering which headlines it was asked about."""

    def __init__(self, inner: Classifier):
        self.inner, self.titles = inner, []

    def classify(self, title, text):
        self.titles.append(title)
        return self.inner.classify(title, text)


async def pipeline_env(tmp_path, classifier):
    """The `env` fixture: (feed server, store, pipeline, counting classifier) over one feed."""
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/f.xml", make_rss("Wire", ENTRIES))
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))
        counting = CountingClassifier(classifier)
        pipeline = Pipeline(store, fetcher, counting, Formatter(store), poll_minutes=2)
        yield srv, store, pipeline, counting
    store.close()


async def poll(pipeline, minutes: float):
    return await pipeline.poll_once(now=utcnow() + timedelta(minutes=minutes), all_feeds=True)


def stored(store, entry):
    """The stored story of a feed entry (ids are derived from feed URL and guid)."""
    row = store.db.execute("SELECT id FROM stories WHERE guid = ?", (entry["guid"],)).fetchone()
    return store.get_story(row[0]) if row else None


def strategy_stories(store, entries):
    stories = [stored(store, e) for e in entries]
    return [s for s in stories if s is not None and s.classification.strategy]
