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
from bot.pipeline import FeedOutcome, Pipeline, PollSummary
from bot.replies import Caller
from feeds.classify import Classifier, load_gazetteer
from feeds.fetcher import FetchPolicy, Fetcher
from feeds.formatter import Formatter
from feeds.models import FeedSource, utcnow
from storage.store import Store
from tests.fakes.feedserver import FeedServer, Reply, make_entries, make_rss

CALLER = Caller("console", "console", "c1", "u1")
ENTRIES = make_entries(6, seed=3)


@pytest.fixture(scope="module")
def classifier():
    return Classifier(load_gazetteer())


class CountingClassifier:
    """The real classifier, remembering which headlines it was asked about."""

    def __init__(self, inner: Classifier):
        self.inner, self.titles = inner, []

    def classify(self, title, text):
        self.titles.append(title)
        return self.inner.classify(title, text)


@pytest.fixture
async def env(tmp_path, classifier):
    store = Store(tmp_path / "a.db")
    async with FeedServer() as srv, Fetcher(FetchPolicy(allow_private=True)) as fetcher:
        srv.add("/f.xml", make_rss("Wire", ENTRIES))
        store.upsert_feed(FeedSource("Wire", srv.url("/f.xml")))
        counting = CountingClassifier(classifier)
        pipeline = Pipeline(store, fetcher, counting, Formatter(store), poll_minutes=2)
        yield srv, store, pipeline, counting
    store.close()


@pytest.fixture
def parses(monkeypatch):
    calls = []
    real = bot.pipeline.parse_feed

    def counting(body, **kw):
        calls.append(kw.get("feed_url"))
        return real(body, **kw)
    monkeypatch.setattr(bot.pipeline, "parse_feed", counting)
    return calls


async def poll(pipeline, minutes: float):
    return await pipeline.poll_once(now=utcnow() + timedelta(minutes=minutes), all_feeds=True)


def stored(store, entry):
    """The stored story of a feed entry (ids are derived from feed URL and guid)."""
    row = store.db.execute("SELECT id FROM stories WHERE guid = ?", (entry["guid"],)).fetchone()
    return store.get_story(row[0]) if row else None


def strategy_stories(store, entries):
    stories = [stored(store, e) for e in entries]
    return [s for s in stories if s is not None and s.classification.strategy]


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
    reply = Commands(store, classifier).company(CALLER, company, 25)
    shown = next(b for b in reply.briefs if b.id == "plain")
    assert shown.bullets == () and store.brief_for_hash(plain.content_hash) is None


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


async def test_a_repaired_feeds_warning_is_logged_once_by_the_poller(env, caplog):
    """The parser returns what it repaired; the poller's log says it (once per poll), as
    the parser's own log line did before `feeds check` stopped showing it twice."""
    caplog.set_level("INFO")
    srv, store, pipeline, _ = env
    body = make_rss("Cut", ENTRIES[:2])
    srv.add("/cut.xml", body[:body.index(b"</channel>")] + b"<item><title>thr")
    store.upsert_feed(FeedSource("Cut", srv.url("/cut.xml")))
    await poll(pipeline, 0)
    lines = [r.getMessage() for r in caplog.records if "malformed XML" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(f"parser: {srv.url('/cut.xml')}: ")


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
    assert last.line().endswith(f"{len(last.outcomes)} failed")
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
