"""The pipeline's cheap paths, through a real fetcher against a loopback feed server:
an unchanged feed is not parsed, known entries are not classified again, a first poll's
backlog is stored without briefs, and a lookup condenses a backlog story on demand."""
from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta

import pytest

import bot.pipeline
from bot.commands import Commands
from bot.replies import Caller
from feeds.formatter import Formatter
from feeds.models import utcnow
from tests.classify_kit import gazetteer_classifier
from tests.fakes.feedserver import Reply, make_entries, make_rss
from tests.pipeline_kit import ENTRIES, poll, stored, strategy_stories, pipeline_env


classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")
env = pytest.fixture(pipeline_env, name="env")


CALLER = Caller("console", "console", "c1", "u1")


@pytest.fixture
def parses(monkeypatch):
    calls = []
    real = bot.pipeline.parse_feed

    def counting(body, **kw):
        calls.append(kw.get("feed_url"))
        return real(body, **kw)
    monkeypatch.setattr(bot.pipeline, "parse_feed", counting)
    return calls


@pytest.mark.parametrize("honour_conditional", [True, False], ids=["304", "same-body"])
async def test_unchanged_feed_is_not_parsed_again(env, parses, honour_conditional):
    srv, store, pipeline, counting = env
    srv.honour_conditional = honour_conditional
    first = await poll(pipeline, 0)
    summary = await poll(pipeline, 5)
    assert [o.unchanged for o in first.outcomes] == [False]
    assert [o.unchanged for o in summary.outcomes] == [True]
    assert len(parses) == 1 and len(counting.titles) == len(ENTRIES)


async def test_a_feed_sending_only_last_modified_is_asked_conditionally(env, parses):
    """Many servers send Last-Modified and no ETag: it is kept per feed and sent back,
    so the server can answer 304 (the body hash alone would still cost the download)."""
    srv, store, pipeline, _ = env
    srv.script("/f.xml", [Reply(200, make_rss("Wire", ENTRIES), etag=None,
                                last_modified="Fri, 20 Nov 2026 12:00:00 GMT")])
    await poll(pipeline, 0)
    await poll(pipeline, 5)
    last = srv.requests_for("/f.xml")[-1]
    assert last.headers["If-Modified-Since"] == "Fri, 20 Nov 2026 12:00:00 GMT"
    assert last.status == 304 and len(parses) == 1


@pytest.mark.parametrize("new", [
    Reply(200, make_rss("Wire", ENTRIES), etag='"v2"', last_modified="Sat, 21 Nov 2026 08:00:00 GMT"),
    Reply(200, make_rss("Wire", ENTRIES), etag=None, last_modified="Sat, 21 Nov 2026 08:00:00 GMT"),
], ids=["etag", "last-modified"])
async def test_new_validators_for_the_same_bytes_are_asked_with_next_time(env, parses, new):
    """A static feed rewritten with the same bytes (a site redeployed, a cron job that
    regenerates it) gets a new ETag or Last-Modified. The old ones no longer match, so
    the server sends the whole feed; the new ones were dropped as "unchanged", and every
    poll after downloaded it again, until the feed's content changed (a weekly blog:
    a week of full downloads, some 15 an hour)."""
    srv, store, pipeline, _ = env
    srv.script("/f.xml", [Reply(200, make_rss("Wire", ENTRIES), etag='"v1"',
                                last_modified="Fri, 20 Nov 2026 12:00:00 GMT")])
    await poll(pipeline, 0)
    srv.script("/f.xml", [new])
    for minutes in (5, 10, 15):
        await poll(pipeline, minutes)
    assert [r.status for r in srv.requests_for("/f.xml")] == [200, 200, 304, 304]
    assert len(parses) == 1


@pytest.mark.parametrize("headers,sent", [
    ({"ETag": '"v2"'}, '"v2"'),   # RFC 9111: a 304's validators replace the stored ones
    ({}, '"v1"'),                 # a 304 without them keeps those it has
])
async def test_a_304_keeps_the_validators_it_sends(env, headers, sent):
    srv, store, pipeline, _ = env
    srv.script("/f.xml", [Reply(200, make_rss("Wire", ENTRIES), etag='"v1"'),
                          Reply(304, etag=None, headers=headers), Reply(304, etag=None)])
    for minutes in (0, 5, 10):
        await poll(pipeline, minutes)
    assert srv.requests_for("/f.xml")[-1].headers["If-None-Match"] == sent


def blocking_until_the_loop_runs(real, started, loop_ran, waited):
    """`real`, which first waits for the event loop to run (it never does when `real`
    is called on the loop itself)."""
    def slow(*args, **kw):
        started.set()
        waited.append(loop_ran.wait(10))   # False when the loop itself is stuck here
        return real(*args, **kw)
    return slow


@pytest.mark.parametrize("stage", ["parse", "classify first poll", "classify later poll"])
async def test_the_event_loop_runs_while_a_feed_is_read(env, monkeypatch, stage):
    """Hostile markup keeps feedparser busy for minutes, and long full-text entries keep
    the classifier busy for tenths of a second each; chat heartbeats, deliveries and
    other feeds must go on meanwhile. The stage below waits for the loop to run."""
    srv, store, pipeline, counting = env
    if stage == "classify later poll":
        await poll(pipeline, 0)
        srv.add("/f.xml", make_rss("Wire", [*make_entries(1, seed=9), *ENTRIES]))
    started, loop_ran, waited = threading.Event(), threading.Event(), []
    if stage == "parse":
        monkeypatch.setattr(bot.pipeline, "parse_feed", blocking_until_the_loop_runs(
            bot.pipeline.parse_feed, started, loop_ran, waited))
    else:
        monkeypatch.setattr(counting, "classify", blocking_until_the_loop_runs(
            counting.classify, started, loop_ran, waited))

    async def loop_turn():
        while not started.is_set():
            await asyncio.sleep(0.01)
        loop_ran.set()
    summary, _ = await asyncio.gather(poll(pipeline, 5), loop_turn())
    assert waited[0] is True and summary.outcomes[0].error == ""
    assert summary.new_stories == (1 if stage == "classify later poll" else len(ENTRIES))


async def test_known_entries_are_not_classified_again(env):
    srv, store, pipeline, counting = env
    await poll(pipeline, 0)
    extra = make_entries(1, seed=9)[0]
    srv.add("/f.xml", make_rss("Wire", [extra, *ENTRIES]))
    counting.titles.clear()
    summary = await poll(pipeline, 5)
    assert counting.titles == [extra["title"]]
    assert summary.new_stories == 1


@pytest.mark.parametrize("guids", [True, False], ids=["own-guids", "links-only"])
async def test_another_feed_listing_known_entries_is_noted_once_not_each_poll(env, guids):
    """A second feed listing the same articles (an outlet's AI section) is recorded as
    carrying them when it first lists them (`feeds remove` of the first feed keeps their
    posts); its later polls skip them before classifying, and write nothing for them."""
    from feeds.models import FeedSource
    srv, store, pipeline, counting = env
    entries = ENTRIES if guids else [{**e, "guid": ""} for e in ENTRIES]
    srv.add("/f.xml", make_rss("Wire", entries))
    await poll(pipeline, 0)
    section = srv.url("/ai.xml")
    srv.add("/ai.xml", make_rss("Wire AI", entries[:3]))
    store.upsert_feed(FeedSource("Wire AI", section))
    await poll(pipeline, 5)
    extra = make_entries(1, seed=9)[0]
    srv.add("/ai.xml", make_rss("Wire AI", [extra, *entries]))
    await poll(pipeline, 10)                 # the other three: noted now, once
    srv.add("/ai.xml", make_rss("Wire AI", [*entries, extra]))   # reordered: parsed again
    counting.titles.clear()
    written = []
    store.db.conn.set_trace_callback(lambda sql: written.append(sql) if "story_feeds" in sql
                                     and sql.startswith("INSERT") else None)
    await poll(pipeline, 15)
    store.db.conn.set_trace_callback(None)
    # Were one not noted as the section's, it would be passed on (and classified) again.
    assert counting.titles == [] and written == []


@pytest.mark.parametrize("first", [False, True], ids=["later-poll", "first-poll"])
async def test_a_feed_removed_while_it_is_fetched_stores_none_of_its_entries(
        env, monkeypatch, first):
    """`ainews feeds remove` (another process) while the feed's poll was in flight: the
    pass stored its new story all the same and the bot posted it, from a feed removed
    seconds before (the log said only "ignored fetch result for unknown feed"). What
    the removed feed sent is now dropped in the transaction that would store it."""
    srv, store, pipeline, _ = env
    if not first:
        await poll(pipeline, 0)
    extra = make_entries(1, seed=9)[0]
    srv.add("/f.xml", make_rss("Wire", [extra, *ENTRIES]))
    fetch = pipeline.fetcher.fetch

    async def removed_meanwhile(url, **kw):
        answer = await fetch(url, **kw)
        store.remove_feed(url)
        return answer
    monkeypatch.setattr(pipeline.fetcher, "fetch", removed_meanwhile)
    summary = await poll(pipeline, 5)
    assert summary.fresh == [] and stored(store, extra) is None
    assert store.stories_to_dispatch(0, store.last_story_pk()) == []


async def test_edited_entry_is_classified_again_and_updated(env):
    srv, store, pipeline, counting = env
    await poll(pipeline, 0)
    edited = {**ENTRIES[2], "content_html": "<p>Correction: the deal was called off.</p>"}
    srv.add("/f.xml", make_rss("Wire", [*ENTRIES[:2], edited, *ENTRIES[3:]]))
    counting.titles.clear()
    summary = await poll(pipeline, 5)
    assert counting.titles == [edited["title"]] and summary.new_stories == 0
    assert "called off" in stored(store, edited).text


async def test_first_poll_stores_backlog_without_briefs(env):
    srv, store, pipeline, _ = env
    summary = await poll(pipeline, 0)
    assert summary.new_stories == len(ENTRIES) and summary.fresh == []
    backlog = strategy_stories(store, ENTRIES)
    assert backlog, "the generated entries include strategy stories"
    assert store.stories_to_dispatch(0, store.last_story_pk()) == [], "a backlog is not posted"
    assert all(store.brief_for_hash(s.content_hash) is None for s in backlog)


async def test_fresh_strategy_story_is_briefed_at_poll_time(env):
    srv, store, pipeline, _ = env
    await poll(pipeline, 0)
    extra = make_entries(1, seed=9)[0]
    srv.add("/f.xml", make_rss("Wire", [extra, *ENTRIES]))
    summary = await poll(pipeline, 5)
    (fresh,) = summary.fresh
    assert fresh.id == stored(store, extra).id and fresh.classification.strategy
    assert (summary.new_stories, summary.new_strategy) == (1, 1)
    brief = store.brief_for_hash(fresh.content_hash)
    assert len(brief.bullets) == 3 and brief.why_it_matters


async def test_new_teasers_article_pages_are_read_side_by_side(env):
    # Read one after another, a feed's new teasers held its posts for the sum of their
    # page fetches (with an LLM, of their calls too): ten slow pages, minutes.
    srv, store, pipeline, _ = env
    await poll(pipeline, 0)
    teasers = [{**e, "content_html": "", "summary": e["summary"][:200]}
               for e in make_entries(4, seed=11)]
    for i, e in enumerate(teasers):
        e["link"] = srv.url(f"/article/{i}")
        srv.add_slow(f"/article/{i}", 0.3, _article_page(e))
    srv.add("/f.xml", make_rss("Wire", [*teasers, *ENTRIES]))
    pipeline.formatter = Formatter(store, fetcher=pipeline.fetcher, fetch_articles=True)
    srv.max_in_flight = 0
    summary = await poll(pipeline, 5)
    assert summary.fresh and all(s.classification.strategy for s in summary.fresh)
    for s in summary.fresh:   # every brief from its article, not from the teaser
        assert len(store.brief_for_hash(s.content_hash).bullets) == 3
    assert srv.max_in_flight == 2   # the fetcher's per-host limit, not one at a time


def _article_page(entry: dict) -> bytes:
    return (f"<html><head><title>{entry['title']}</title></head><body><article>"
            f"<h1>{entry['title']}</h1>{make_entries(1, seed=12)[0]['content_html']}"
            f"</article></body></html>").encode()


LOOKUPS = {
    "company": lambda c, s: c.company(CALLER, s.classification.companies[0], 25),
    "latest": lambda c, s: c.latest(CALLER, 25),
    "topic": lambda c, s: c.topic(CALLER, s.classification.topics[0], 25),
    "search": lambda c, s: c.search(CALLER, s.title.split()[0]),
}


@pytest.mark.parametrize("lookup", LOOKUPS)
async def test_lookup_condenses_a_backlog_story_once(env, classifier, lookup):
    srv, store, pipeline, _ = env
    await poll(pipeline, 0)
    story = next(s for s in strategy_stories(store, ENTRIES) if s.classification.topics)
    commands = Commands(store, classifier)
    reply = LOOKUPS[lookup](commands, story)
    brief = next(b for b in reply.briefs if b.id == story.id)
    assert len(brief.bullets) == 3 and brief.why_it_matters
    assert brief.companies == story.classification.companies
    cached = store.brief_for_hash(story.content_hash)
    assert cached is not None and cached.bullets == brief.bullets
    again = next(b for b in LOOKUPS[lookup](commands, story).briefs if b.id == story.id)
    assert again == brief


async def test_non_strategy_stories_get_no_brief_on_lookup(env, classifier):
    srv, store, pipeline, _ = env
    await poll(pipeline, 0)
    story = stored(store, ENTRIES[0])
    company = story.classification.companies[0]
    plain = replace(story, id="plain", url="https://x.example/plain", guid="plain",
                    title=f"{company} staff win a charity bake-off", html="",
                    text="The cakes were judged on Friday.", summary="",
                    published=story.published - timedelta(days=10),
                    classification=replace(story.classification, strategy=False))
    store.add_new_stories([plain], backlog=True, now=utcnow())
    reply = Commands(store, classifier).company(CALLER, company, 25,
                                                strategy_only=False)   # as the CLI asks
    shown = next(b for b in reply.briefs if b.id == "plain")
    assert shown.bullets == () and store.brief_for_hash(plain.content_hash) is None
