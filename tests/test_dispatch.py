"""Dispatch: which channels get a new story, once per channel, and edits when another
outlet reports a story already posted. (A story its feed edits: test_dispatch_edits.py.)"""
from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.dispatch import dispatch_new
from feeds.models import Brief, FeedSource
from tests.dispatch_kit import story, add, follow, deliver, route_edits
from tests.fakes.recorder import RecordingAdapter


@pytest.mark.parametrize("kind, target, gets_it", [
    ("all", "all", True),
    ("topic", "funding", True),
    ("topic", "chips", False),
    ("company", "Anthropic", True),
    ("company", "Amazon", True),       # any named company, not only the main one
    ("company", "Alibaba", False),
])
async def test_subscription_matching(store, clock, kind, target, gets_it):
    follow(store, clock, "c1", kind, target)
    new = add(store, clock, story("s1", "Anthropic raises $4bn from Amazon", clock))
    assert dispatch_new(store, new, clock()) == int(gets_it)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [s.brief.headline for s in adapter.sends] == (
        ["Anthropic raises $4bn from Amazon"] if gets_it else [])


async def test_non_strategy_stories_are_not_posted(store, clock):
    follow(store, clock, "c1")
    new = add(store, clock, story("s1", "Amazon opens a bookshop", clock, strategy=False))
    assert dispatch_new(store, new, clock()) == 0


async def test_two_matching_subscriptions_one_post(store, clock):
    follow(store, clock, "c1", "topic", "funding")
    follow(store, clock, "c1", "company", "Anthropic")
    follow(store, clock, "c1")
    follow(store, clock, "c2", "company", "Amazon")
    new = add(store, clock, story("s1", "Anthropic raises $4bn from Amazon", clock))
    assert dispatch_new(store, new, clock()) == 2
    assert dispatch_new(store, new, clock()) == 0          # dispatched twice: still once
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert sorted(s.channel for s in adapter.sends) == ["c1", "c2"]


async def test_second_outlet_edits_the_post_instead_of_posting_again(store, clock):
    follow(store, clock, "c1")
    first = add(store, clock, story("s1", "Anthropic raises $4bn from Amazon", clock))
    dispatch_new(store, first, clock())
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    clock.advance(minutes=20)
    second = add(store, clock, story("s2", "Amazon to invest another $4 billion in Anthropic",
                                     clock, source="FT"))
    assert store.cluster_info("s2")[0] == store.cluster_info("s1")[0]
    assert dispatch_new(store, second, clock()) == 1
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1
    ((channel, message_id, edited),) = adapter.edits
    assert (channel, message_id) == ("c1", adapter.sends[0].message_id)
    assert edited.headline == "Anthropic raises $4bn from Amazon"
    assert edited.also_reported_by == ("FT",)


async def test_second_outlet_before_the_post_joins_it(store, clock):
    follow(store, clock, "c1")
    first = add(store, clock, story("s1", "Anthropic raises $4bn from Amazon", clock))
    dispatch_new(store, first, clock())
    second = add(store, clock, story("s2", "Amazon to invest another $4 billion in Anthropic",
                                     clock, source="FT", minutes_ago=-5))
    assert dispatch_new(store, second, clock()) == 0       # no new row, no edit
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [s.brief.also_reported_by for s in adapter.sends] == [("FT",)]
    assert adapter.edits == []


async def test_saved_brief_is_what_gets_posted(store, clock):
    follow(store, clock, "c1")
    s = story("s1", "Anthropic raises $4bn from Amazon", clock)
    new = add(store, clock, s)
    saved = Brief(id="s1", headline="Anthropic raises $4bn", bullets=("x", "y", "z"),
                  why_it_matters="Money for compute.", url=s.url, source=s.source,
                  published=s.published)
    store.save_brief("s1", s.content_hash, saved)
    dispatch_new(store, new, clock())
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    (sent,) = adapter.sends
    assert (sent.brief.bullets, sent.brief.why_it_matters) == (("x", "y", "z"),
                                                               "Money for compute.")
    assert sent.brief.companies == ("Anthropic", "Amazon")   # classification kept


async def test_digest_channel_holds_instead_of_posting(store, clock):
    follow(store, clock, "c1")
    store.set_digest("console", "w1", "c1", "18:00", "UTC", now=clock())
    dispatch_new(store, add(store, clock, story("s1", "Anthropic raises $4bn from Amazon",
                                                clock)), clock())
    adapter = RecordingAdapter()
    assert await deliver(store, clock, adapter) == 0
    assert store.outbox_counts() == {"held": 1}


async def test_paused_subscription_gets_nothing(store, clock):
    follow(store, clock, "c1")
    store.pause_channel("console", "c1", "channel deleted")
    new = add(store, clock, story("s1", "Anthropic raises $4bn from Amazon", clock))
    assert dispatch_new(store, new, clock()) == 0


async def test_second_outlet_during_the_send_becomes_an_edit(store, clock):
    follow(store, clock, "c1")
    dispatch_new(store, add(store, clock, story("s1", "Anthropic raises $4bn from Amazon",
                                                clock)), clock())
    adapter = RecordingAdapter()
    adapter.hold("c1")
    sending = asyncio.create_task(deliver(store, clock, adapter))
    while store.outbox_counts() != {"sending": 1}:
        await asyncio.sleep(0)
    second = add(store, clock, story("s2", "Amazon to invest another $4 billion in Anthropic",
                                     clock, source="FT"))
    dispatch_new(store, second, clock())
    adapter.release("c1")
    await sending
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1
    assert [e[2].also_reported_by for e in adapter.edits] == [("FT",)]


async def test_post_names_the_outlet_its_lookups_name(store, clock):
    """A title's outlet ("... | TechCrunch" in a feed named "TC Local") is the source the
    brief, `ainews latest` and `ainews why` show: the post showed the feed's name instead."""
    from feeds.condense import condense
    follow(store, clock, "c1")
    s = story("s1", "Anthropic raises $4bn from Amazon | TechCrunch", clock, source="TC Local")
    new = add(store, clock, s)
    store.save_brief(s.id, s.content_hash, condense(s))
    dispatch_new(store, new, clock())
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    [shown] = store.latest(1)
    assert (adapter.sends[0].brief.source, shown.source) == ("TechCrunch", "TechCrunch")
    assert adapter.sends[0].brief.headline == "Anthropic raises $4bn from Amazon"


async def test_syndicated_copy_posts_under_its_own_feed(store, clock):
    """An identical story under another id takes the saved brief's text, this story's
    outlet and link."""
    from feeds.condense import condense
    follow(store, clock, "c1")
    first = story("s1", "Anthropic raises $4bn from Amazon", clock, source="Reuters")
    add(store, clock, first)
    store.save_brief(first.id, first.content_hash, condense(first))
    copy = replace(first, id="s2", url="https://yahoo.example/s2", source="Yahoo")
    store.save_brief(copy.id, copy.content_hash, condense(first))
    dispatch_new(store, [copy], clock())
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [(p.brief.source, p.brief.url) for p in adapter.sends] == [
        ("Yahoo", "https://yahoo.example/s2")]


# ---- a story a removed feed left, listed by a feed still followed ----------------------
REUTERS, WIRE = "https://reuters.example/rss", "https://wire.example/rss"


def _feeds_remove(store, clock, url):
    """`feeds remove URL`: its waiting posts cancelled, unless a followed feed carries them."""
    from bot.commands import Commands
    Commands(store, None, clock=clock).remove_feed(store.feed_state(url))


@pytest.mark.parametrize("how, sent", [
    ("waiting, cancelled by the removal", 1),
    ("stored, not routed yet", 1),
    ("sent before the removal", 1),
    ("no longer news", 0),
    ("listed in the wire's first poll", 0),    # its backlog: never posted
])
async def test_a_followed_feed_listing_a_removed_feeds_story_posts_it_once(store, clock,
                                                                           how, sent):
    """Reuters' story waited for c1 when Reuters was removed (its post cancelled), or
    was stored but not yet routed; then the wire, still followed, listed the same
    story. It was known, so nothing was posted, ever: the channel never got news a feed
    it follows carries. It is routed once now, while still news (max post age), and a
    post already out is not sent again."""
    for name, url in (("Reuters", REUTERS), ("Wire", WIRE)):
        store.upsert_feed(FeedSource(name, url))
    follow(store, clock, "c1")
    adapter = RecordingAdapter()
    new = add(store, clock, story("s1", "Anthropic raises $4bn from Amazon", clock))
    if how != "stored, not routed yet":
        dispatch_new(store, new, clock())
    if how == "sent before the removal":
        await deliver(store, clock, adapter)
    _feeds_remove(store, clock, REUTERS)
    clock.advance(hours=49 if how == "no longer news" else 1)
    wire = story("s1", "Anthropic raises $4bn from Amazon", clock, source="Wire")
    assert store.add_new_stories([wire], backlog="first poll" in how, now=clock()) == []
    route_edits(store, clock)
    await deliver(store, clock, adapter)
    add(store, clock, wire)
    route_edits(store, clock)                                       # listed again: nothing
    await deliver(store, clock, adapter)
    assert [s.brief.headline for s in adapter.sends] == [wire.title] * sent
    assert adapter.edits == []


@pytest.mark.parametrize("how, sent", [
    ("the old address lists it an hour later", 1),
    ("the old address lists it when no longer news", 0),
    ("the old address lists it in its own first poll", 0),
])
async def test_news_a_new_feeds_first_poll_took_for_its_archive_is_posted_once(store, clock,
                                                                             how, sent):
    """README's way to follow a feed that moved: `feeds add NEW`, then `feeds remove OLD`.
    A story published between the old address's last poll and the new one's first was
    stored with the new one's archive (never posted); the old address, read for weeks,
    then listed it, and it was known: the channel never got it. So with any second feed
    of an outlet (its section feed added beside the main one). It is routed once now,
    while still news, as the old address would have posted it."""
    new_url = "https://reuters.example/new-rss"
    for name, url in (("Reuters", REUTERS), ("Reuters (new)", new_url)):
        store.upsert_feed(FeedSource(name, url))
    follow(store, clock, "c1")
    adapter = RecordingAdapter()
    first = story("s1", "Anthropic raises $4bn from Amazon", clock)
    assert store.add_new_stories([replace(first, id="s1-new", feed_url=new_url)],
                                 backlog=True, now=clock())
    clock.advance(hours=49 if "no longer news" in how else 1)
    for _ in range(2):   # listed again: nothing more
        store.add_new_stories([first], backlog="first poll" in how, now=clock())
        route_edits(store, clock)
        await deliver(store, clock, adapter)
    assert [s.brief.headline for s in adapter.sends] == [first.title] * sent


async def test_a_followed_feeds_report_of_news_a_removed_feed_left_is_posted(store, clock):
    """Another outlet's report of the same event (one cluster) found the post slot the
    removed feed's cancelled post held, and was dropped as already routed there."""
    store.upsert_feed(FeedSource("Reuters", REUTERS))
    store.upsert_feed(FeedSource("FT", "https://ft.example/rss"))
    follow(store, clock, "c1")
    dispatch_new(store, add(store, clock, story("s1", "Anthropic raises $4bn from Amazon",
                                                clock)), clock())
    _feeds_remove(store, clock, REUTERS)
    assert store.outbox_counts() == {"cancelled": 1}
    ft = story("s2", "Amazon to invest another $4 billion in Anthropic", clock, source="FT")
    assert dispatch_new(store, add(store, clock, ft), clock()) == 1
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [s.brief.headline for s in adapter.sends] == [ft.title]
