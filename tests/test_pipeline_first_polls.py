"""Stories handed on as each feed is read (`Pipeline.poll_once(on_fresh=...)`) and a
pass's first polls (bot/first_polls.py): stored whole however they are batched, failing
alone, dropped with an abandoned pass, and called backlog in the summary."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

import bot.pipeline
from bot.pipeline import FeedOutcome, PollSummary
from feeds.models import FeedSource, utcnow
from tests.classify_kit import gazetteer_classifier
from tests.fakes.feedserver import make_entries, make_rss
from tests.pipeline_kit import ENTRIES, poll, stored, pipeline_env


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
env = pytest.fixture(pipeline_env, name="env")


async def test_a_fast_feeds_stories_are_handed_on_before_a_slow_feed_finishes(env):
    from tests.fakes.stories import strategy_entry
    srv, store, pipeline, _ = env
    srv.add("/slow.xml", make_rss("Slow", make_entries(1, seed=7)))
    store.upsert_feed(FeedSource("Slow", srv.url("/slow.xml")))
    await poll(pipeline, 0)                                   # first polls: backlog
    srv.add("/f.xml", make_rss("Wire", ENTRIES + [strategy_entry(1)]))
    srv.add_slow("/slow.xml", 1.0, make_rss("Slow", [strategy_entry(2)]))
    handed_on = []

    async def on_fresh():
        handed_on.append({b.url for b in store.latest(50, strategy_only=True)})
    await pipeline.poll_once(now=utcnow() + timedelta(minutes=60), all_feeds=True,
                             on_fresh=on_fresh)
    first, last = handed_on[0], handed_on[-1]
    assert "https://news.example.com/story/1" in first
    assert "https://news.example.com/story/2" not in first   # the slow feed was still out
    assert "https://news.example.com/story/2" in last


async def test_a_failing_hand_on_spoils_neither_the_pass_nor_the_other_feeds(env):
    from tests.fakes.stories import strategy_entry
    srv, store, pipeline, _ = env
    srv.add("/b.xml", make_rss("Other", make_entries(1, seed=7)))
    store.upsert_feed(FeedSource("Other", srv.url("/b.xml")))
    await poll(pipeline, 0)                                   # first polls: backlog
    srv.add("/f.xml", make_rss("Wire", ENTRIES + [strategy_entry(1)]))
    srv.add("/b.xml", make_rss("Other", [strategy_entry(2)]))
    calls = []

    async def on_fresh():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
    summary = await pipeline.poll_once(now=utcnow() + timedelta(minutes=60), all_feeds=True,
                                       on_fresh=on_fresh)
    assert len(calls) == 2 and summary.feeds_polled == 2 and not summary.failures
    assert {s.url for s in summary.fresh} >= {"https://news.example.com/story/1",
                                              "https://news.example.com/story/2"}


def add_feeds(srv, store, n: int, *, seed: int = 20) -> list[list[dict]]:
    """n more feeds with their own entries (distinct URLs and guids); their entries."""
    feeds = []
    for i in range(n):
        entries = [{**e, "guid": f"f{i}-{e['guid']}", "link": f"{e['link']}?f={i}"}
                   for e in make_entries(4, seed=seed + i)]
        srv.add(f"/more{i}.xml", make_rss(f"More {i}", entries))
        store.upsert_feed(FeedSource(f"More {i}", srv.url(f"/more{i}.xml")))
        feeds.append(entries)
    return feeds


@pytest.mark.parametrize("batch", [1, 500])
async def test_first_polls_are_stored_whole_however_they_are_batched(env, monkeypatch, batch):
    srv, store, pipeline, _ = env
    monkeypatch.setattr(bot.pipeline, "BACKLOG_BATCH", batch)
    feeds = add_feeds(srv, store, 3)
    ran: list[str] = []
    store.db.conn.set_trace_callback(ran.append)
    summary = await poll(pipeline, 0)
    store.db.conn.set_trace_callback(None)
    assert summary.new_stories == len(ENTRIES) + 12 and not summary.failures
    assert sorted(o.new for o in summary.outcomes) == [4, 4, 4, len(ENTRIES)]
    assert all(stored(store, e) is not None for es in [ENTRIES, *feeds] for e in es)
    assert all(store.feed_state(s.source.url).polls_ok == 1 for s in store.feed_states())
    story_commits = sum(sql.strip().upper() == "COMMIT" for sql in ran)
    # Stories and the feed's poll record commit together: one commit per batch.
    assert story_commits == (4 if batch == 1 else 1)


@pytest.mark.parametrize("failing", ["add_new_stories", "record_fetch_ok"])
async def test_a_first_poll_that_cannot_be_stored_fails_alone(env, monkeypatch, failing):
    # Whether its stories or its poll record cannot be written, nothing of it is kept
    # and the summary counts none of its stories as new.
    srv, store, pipeline, _ = env
    feeds = add_feeds(srv, store, 2)
    real = getattr(store, failing)
    more0 = srv.url("/more0.xml")

    def add(*args, **kw):
        if failing == "record_fetch_ok" and args[0] == more0 or \
                failing == "add_new_stories" and \
                any(s.guid == feeds[0][0]["guid"] for s in args[0]):
            raise RuntimeError("disk I/O error")
        return real(*args, **kw)
    monkeypatch.setattr(store, failing, add)
    summary = await poll(pipeline, 0)
    (failed,) = summary.failures
    assert failed.name == "More 0" and "disk I/O error" in failed.error and failed.new == 0
    # Not a fetch or parse error: the reason still names the component and the error.
    assert failed.error.startswith("poller: ") and "RuntimeError" in failed.error
    assert stored(store, feeds[0][0]) is None
    assert all(stored(store, e) is not None for e in [*ENTRIES, *feeds[1]])
    state = store.feed_state(srv.url("/more0.xml"))
    assert state.polls_ok == 0 and state.failures == 1   # its next poll is a first poll again


async def test_an_abandoned_pass_drops_its_waiting_first_polls(env):
    srv, store, pipeline, _ = env
    srv.add_slow("/slow.xml", 30.0, make_rss("Slow", []))
    store.upsert_feed(FeedSource("Slow", srv.url("/slow.xml")))
    task = asyncio.ensure_future(poll(pipeline, 0))
    while not pipeline._backlog:   # the quick feed, parsed, waiting for its transaction
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stored(store, ENTRIES[0]) is None
    assert store.feed_state(srv.url("/f.xml")).polls_ok == 0   # polled again, as a first poll
    srv.add("/slow.xml", make_rss("Slow", []))
    summary = await poll(pipeline, 1)
    assert summary.new_stories == len(ENTRIES) and summary.fresh == []
    assert stored(store, ENTRIES[0]) is not None


def test_the_summary_says_a_first_polls_stories_are_backlog_not_to_be_posted():
    # Otherwise "12 new strategy stories" after `feeds add` reads as 12 posts coming.
    summary = PollSummary(outcomes=[
        FeedOutcome("https://a.example/rss", "A", new=12, new_strategy=4, backlog=True),
        FeedOutcome("https://b.example/rss", "B", new=3, new_strategy=1)])
    assert summary.line() == ("poller: 2 feeds polled, 15 new stories, 5 new strategy "
                              "stories, 0 failed; first polls' backlog (stored, never "
                              "posted): 12 stories, 4 strategy")
    assert summary.to_json()["backlog_stories"] == 12
    assert summary.to_json()["backlog_strategy_stories"] == 4
