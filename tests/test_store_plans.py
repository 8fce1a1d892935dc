"""Lookups and dedupe stay index-only: every query they run is checked with EXPLAIN
QUERY PLAN (speed itself is measured in bench/, at a million stories)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from feeds.models import Brief, Classification, Story
from storage.store import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
TABLES = {"stories", "story_companies", "story_topics", "briefs", "story_aliases", "feeds",
          "s", "l", "a"}   # and the aliases the queries give them


@pytest.fixture
def store():
    s = Store(":memory:")
    s.add_new_stories([Story(
        id=f"s{i}", url=f"https://a.example/{i}", title=f"Alibaba prices story number {i}",
        text="Alibaba cuts Qwen prices.", source=f"Outlet {i % 3}",
        feed_url="https://a.example/feed", published=T0 + timedelta(hours=i),
        classification=Classification(i % 2 == 0, 1.0, ("Alibaba", "Tencent"), ("pricing",)))
        for i in range(20)], backlog=False, now=T0)
    yield s
    s.close()


def plans_of(store: Store, call) -> list[tuple[str, str]]:
    """Run `call`, then EXPLAIN QUERY PLAN each SELECT it ran: [(sql, plan text)]."""
    ran: list[str] = []
    store.db.conn.set_trace_callback(ran.append)
    try:
        call()
    finally:
        store.db.conn.set_trace_callback(None)
    selects = [sql for sql in ran if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert selects, "the call ran no query"
    return [(sql, [row[3] for row in store.db.conn.execute("EXPLAIN QUERY PLAN " + sql)])
            for sql in selects]


def full_scans(plan: list[str]) -> list[str]:
    """Steps that read a whole table or index ("SCAN t", "SCAN t USING ... INDEX");
    a SCAN of the FTS virtual table is its MATCH, and m is the bounded search window."""
    return [step for step in plan
            if step.startswith("SCAN ") and step.split()[1] in TABLES]


@pytest.mark.parametrize("name,call", [
    ("latest", lambda s: s.latest(10)),
    ("latest-all", lambda s: s.latest(10, strategy_only=False)),
    ("latest-topic", lambda s: s.latest(10, topic="pricing")),
    ("company", lambda s: s.stories_for_company("Alibaba", 10)),
    ("topic", lambda s: s.stories_for_topic("pricing", 10)),
    ("search", lambda s: s.search("alibaba prices", 10)),
    ("counts", lambda s: s.counts_since(T0 + timedelta(hours=10))),
    ("cluster-info", lambda s: s.cluster_info("s3")),
    ("known-ids", lambda s: s.known_story_ids(["s1", "nope"])),
    ("add-dedupe-and-cluster", lambda s: s.add_new_stories([Story(
        id="n1", url="https://a.example/new", title="Alibaba prices story again",
        text="x", source="B", feed_url="https://b.example/feed", published=T0,
        classification=Classification(True, 1.0, ("Alibaba",)))], backlog=False, now=T0)),
    # days not read yet: their company rows are loaded for the cluster search
    ("add-on-other-days", lambda s: s.add_new_stories([Story(
        id="n2", url="https://a.example/later", title="Alibaba prices story later",
        text="x", source="B", feed_url="https://b.example/feed",
        published=T0 + timedelta(days=9),
        classification=Classification(True, 1.0, ("Alibaba",)))], backlog=False, now=T0)),
])
def test_queries_use_indexes_not_full_scans(store, name, call):
    for sql, plan in plans_of(store, lambda: call(store)):
        assert full_scans(plan) == [], f"{name}: {sql}\n{plan}"
        if name not in ("search", "counts"):   # they sort a bounded set of rows
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, \
                f"{name} sorts instead of reading an index in order: {sql}\n{plan}"


def test_a_post_is_found_by_its_message_link_through_an_index(store):
    # `why` with a post's own link: without an index on message_id it read every post of
    # the platform (briefs and all), 0.4 s per 100,000 posts while both bots waited.
    (sql, plan), = plans_of(store, lambda: store.stories_of_message("slack", "C1:1700000000.000100"))
    assert any(step.startswith("SEARCH outbox") and "message_id=?" in step for step in plan), plan


def test_which_channels_have_posts_waiting_is_read_from_an_index_alone(store):
    # The delivery loop asks this every idle tick. Through outbox_state it read every
    # held post's row and sorted them: 11.6 ms at 24,000 held posts, every 2 s.
    for i, state in enumerate(("held", "held", "due", "edit")):
        store.enqueue_post(cluster_id=f"s{i}", brief=_brief(f"s{i}"), platform="slack",
                           workspace="T1", channel=f"C{i % 3}", held=False, now=T0)
        store.db.conn.execute("UPDATE outbox SET state=? WHERE story_id=?", (state, f"s{i}"))
    assert store.outbox_work(T0) == [("slack", "C0", True), ("slack", "C1", False),
                                     ("slack", "C2", True)]
    plans = plans_of(store, lambda: store.outbox_work(T0))
    held = [plan for sql, plan in plans if "state='held'" in sql]
    assert held and all("COVERING INDEX" in step for plan in held for step in plan), plans


def _brief(story_id: str) -> Brief:
    return Brief(id=story_id, headline="Alibaba cuts prices", bullets=("a", "b", "c"),
                 why_it_matters="because", url="https://a.example/", source="Outlet",
                 published=T0)


def test_the_hourly_caps_count_reads_only_the_channels_recent_posts(store):
    # Each channel's every delivery pass counts its posts of the last hour. Through
    # outbox_message it read every post the platform had sent, in every channel, back to
    # retention's 180 days.
    store.enqueue_post(cluster_id="s1", brief=_brief("s1"), platform="slack",
                       workspace="T1", channel="C1", held=False, now=T0)
    store.record_sent(1, "C1:1.000100", T0, shown=_brief("s1"))
    assert store.posts_sent_since("slack", "C1", T0 - timedelta(hours=1)) == [T0]
    (sql, plan), = plans_of(store, lambda: store.posts_sent_since("slack", "C1", T0))
    (search,) = [step for step in plan if step.startswith("SEARCH outbox")]
    assert "COVERING INDEX" in search and "channel=?" in search and "sent_at>?" in search, plan


def test_posts_too_old_by_their_turn_are_found_from_the_channels_waiting_posts(store):
    # Each channel's every delivery pass asks this (AINEWS_MAX_POST_AGE_HOURS): it must
    # read that channel's waiting posts and their stories by id, not every post or story.
    for i in range(4):
        store.enqueue_post(cluster_id=f"s{i}", brief=_brief(f"s{i}"), platform="slack",
                           workspace="T1", channel=f"C{i % 2}", held=i == 3, now=T0)
    cut = dict(due_before=T0 + timedelta(minutes=1), held_before=T0)   # first seen T0
    plans = plans_of(store, lambda: store.mark_stale("slack", "C1", **cut, reason="old",
                                                     now=T0 + timedelta(days=3)))
    assert store.outbox_counts() == {"due": 2, "held": 1, "stale": 1}   # s1, not held s3
    (sql, plan), = plans
    assert not full_scans(plan) and any("channel=?" in step for step in plan), plan


@pytest.mark.parametrize("ref", ["https://a.example/3", "https://a.example/3?utm_source=x",
                                 "https://nowhere.example/x", "https://a.example/%E9%98%BF",
                                 "https://xn--fsqu00a.example/3"])
def test_why_finds_a_story_by_its_link_through_an_index(store, ref):
    # `why LINK`: `url = ?` can't use the partial index stories_url (WHERE url != ''),
    # the planner can't prove ? != '': every /why by link read the whole table, 0.2-0.6 s
    # at 1M stories on the event loop (dedupe.py adds `AND url != ''` for this reason).
    # A link with escapes or an IDN host is looked up in its few spellings, each a seek.
    for sql, plan in plans_of(store, lambda: store.story_record(ref)):
        assert full_scans(plan) == [], f"{sql}\n{plan}"
