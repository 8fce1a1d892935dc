"""Dispatch of a story its feed edits after it was routed (bot/dispatch.py
dispatch_edits): posted where it now earns a post, queued posts updated or cancelled,
sent posts left standing, and old or backlog stories posting nothing."""
from __future__ import annotations

import asyncio

import pytest

from bot.dispatch import EDITED_OUT, dispatch_new
from tests.dispatch_kit import (story, add, follow, deliver, ALIBABA, BOTH, route_edits,
                                alibaba, tencent_too)
from tests.delivery_kit import states
from tests.fakes.recorder import RecordingAdapter


@pytest.mark.parametrize("edits", [1, 3])
@pytest.mark.parametrize("first_sent", [False, True], ids=["queued", "sent"])
async def test_an_edit_naming_a_followed_company_posts_there_once(store, clock, first_sent,
                                                                  edits):
    follow(store, clock, "tencent", "company", "Tencent")
    follow(store, clock, "all")
    adapter = RecordingAdapter()
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    if first_sent:
        await deliver(store, clock, adapter)
    for n in range(edits):                 # an edit storm: the same story, edited again
        clock.advance(minutes=1)
        assert add(store, clock, tencent_too(clock, f"{BOTH} ({n})")) == []
        route_edits(store, clock, forget=False)    # killed before forgetting: again
        route_edits(store, clock)
        route_edits(store, clock)                  # nothing left
    await deliver(store, clock, adapter)
    clock.advance(hours=1)                 # a post already out: one edit an hour
    await deliver(store, clock, adapter)
    await deliver(store, clock, adapter)
    current = f"{BOTH} ({edits - 1})"
    assert [(s.channel, s.brief.headline) for s in adapter.sends if s.channel == "tencent"] \
        == [("tencent", current)]
    alls = [s for s in adapter.sends if s.channel == "all"]
    assert len(alls) == 1
    assert (alls[0].brief.headline if not first_sent else adapter.edits[-1][2].headline) \
        == current
    assert [e[0] for e in adapter.edits] == (["all"] if first_sent else [])


@pytest.mark.parametrize("where", ["due", "held", "sending", "sent"])
async def test_an_edit_while_queued_shows_the_current_headline(store, clock, where):
    """The outbox keeps the brief it was given: without routing the edit, the post went
    out (or stayed) with the old headline."""
    follow(store, clock, "c1")
    if where == "held":
        store.set_digest("console", "w1", "c1", "18:00", "UTC", now=clock())
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    adapter = RecordingAdapter()
    sending = None
    if where == "sending":
        adapter.hold("c1")
        sending = asyncio.create_task(deliver(store, clock, adapter))
        while store.outbox_counts() != {"sending": 1}:
            await asyncio.sleep(0)
    elif where == "sent":
        await deliver(store, clock, adapter)
    add(store, clock, alibaba(clock, "Alibaba cuts Qwen API prices by 97%"))
    assert route_edits(store, clock) == 1
    if sending:
        adapter.release("c1")
        await sending
    await deliver(store, clock, adapter)
    if where == "sent":
        assert adapter.edits == []          # a post already out: its edit waits an hour
        clock.advance(hours=1)
        await deliver(store, clock, adapter)
    if where == "held":
        clock.advance(hours=10)             # 18:00: the roundup
        await deliver(store, clock, adapter)
        assert [b.headline for d in adapter.digests for b in d.briefs] == [
            "Alibaba cuts Qwen API prices by 97%"]
        return
    shown = [e[2].headline for e in adapter.edits] or [s.brief.headline for s in adapter.sends]
    assert len(adapter.sends) == 1 and shown == ["Alibaba cuts Qwen API prices by 97%"]


@pytest.mark.parametrize("kind, target, edited", [
    ("all", "all", dict(strategy=False)),                         # no longer strategy
    ("company", "Tencent", dict(title=ALIBABA, companies=("Alibaba",))),  # not Tencent now
], ids=["not-strategy", "not-followed"])
async def test_an_edit_a_queued_post_no_longer_earns_cancels_it_until_earned_again(
        store, clock, kind, target, edited):
    follow(store, clock, "c1", kind, target)
    dispatch_new(store, add(store, clock, tencent_too(clock)), clock())
    add(store, clock, tencent_too(clock, **{"title": BOTH + ", report says", **edited}))
    assert store.last_edit_seq() > 0
    route_edits(store, clock)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert adapter.sends == [] and store.outbox_counts() == {"cancelled": 1}
    assert store.outbox_post(1).last_error == EDITED_OUT
    clock.advance(minutes=5)               # corrected back: it is posted after all, once
    add(store, clock, tencent_too(clock, BOTH + ", the companies confirm"))
    route_edits(store, clock)
    route_edits(store, clock)
    await deliver(store, clock, adapter)
    assert [s.brief.headline for s in adapter.sends] == [BOTH + ", the companies confirm"]


async def test_an_edit_making_a_story_strategy_routes_it_like_a_new_one(store, clock):
    follow(store, clock, "c1")
    new = add(store, clock, alibaba(clock, "Alibaba opens a bookshop", strategy=False))
    assert dispatch_new(store, new, clock()) == 0
    add(store, clock, alibaba(clock))
    assert (route_edits(store, clock), route_edits(store, clock)) == (1, 0)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [s.brief.headline for s in adapter.sends] == [ALIBABA]


async def test_a_post_another_story_of_the_cluster_still_earns_is_not_cancelled(store,
                                                                                 clock):
    follow(store, clock, "c1")
    dispatch_new(store, add(store, clock, story("s1", "Anthropic raises $4bn from Amazon",
                                                clock)), clock())
    dispatch_new(store, add(store, clock, story(
        "s2", "Amazon to invest another $4 billion in Anthropic", clock, source="FT")),
        clock())
    add(store, clock, story("s1", "Anthropic raises $4bn from Amazon (corrected)", clock,
                            strategy=False))
    route_edits(store, clock)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1


async def test_a_sent_post_that_stops_being_strategy_stands(store, clock):
    """A post already out is not taken back (no platform call deletes it); nor is it
    edited to say anything new."""
    follow(store, clock, "c1")
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    add(store, clock, alibaba(clock, "Alibaba opens a bookshop", strategy=False))
    assert route_edits(store, clock) == 0
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1 and adapter.edits == []


@pytest.mark.parametrize("how", ["first poll", "too old when first seen", "too old now"])
async def test_an_edit_of_a_backlog_or_old_story_posts_nothing(store, clock, how):
    follow(store, clock, "tencent", "company", "Tencent")
    follow(store, clock, "all")
    adapter = RecordingAdapter()
    if how == "first poll":
        store.add_new_stories([alibaba(clock)], backlog=True, now=clock())
    elif how == "too old when first seen":
        old = alibaba(clock, minutes_ago=3 * 24 * 60)
        store.add_new_stories([old], backlog=False, now=clock(), hold=lambda s: True)
    else:                                   # posted while news; edited days later
        dispatch_new(store, add(store, clock, alibaba(clock)), clock())
        await deliver(store, clock, adapter)
        clock.advance(days=3)
    sent = len(adapter.sends)
    add(store, clock, tencent_too(clock, minutes_ago=3 * 24 * 60 if how != "first poll" else 0))
    route_edits(store, clock)
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == sent and adapter.edits == []
    if how != "too old now":
        assert store.last_edit_seq() == 0 and store.edited_stories(10) == []


@pytest.mark.parametrize("kind, target", [("all", "all"), ("company", "Tencent")])
async def test_an_edit_posts_nothing_to_a_channel_subscribed_after_the_story_came(
        store, clock, kind, target):
    """`subscribe` says "new ones from now on", but an edit of any story of the last 48 h
    (a feed A/B-testing headlines, or counting points, edits at every poll) was posted
    to a channel subscribed since, as if new: a flood of old news for a new channel."""
    follow(store, clock, "before")
    adapter = RecordingAdapter()
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    await deliver(store, clock, adapter)
    clock.advance(hours=5)
    follow(store, clock, "newcomer", kind, target)
    clock.advance(minutes=10)
    add(store, clock, tencent_too(clock))
    route_edits(store, clock)
    clock.advance(hours=1)
    await deliver(store, clock, adapter)
    assert [s.channel for s in adapter.sends] == ["before"] and len(adapter.edits) == 1
    dispatch_new(store, add(store, clock, story("s2", BOTH + " again", clock,
                                                companies=("Tencent",))), clock())
    await deliver(store, clock, adapter)           # a story new since: it gets that
    assert [s.channel for s in adapter.sends] == ["before", "before", "newcomer"]


@pytest.mark.parametrize("keep, sent", [
    (False, []),               # the channel gone: only stories new since it came back
    (True, [("c1", BOTH)]),    # fixable: what the pause kept, once, as last edited
], ids=["paused", "paused-keeping-posts"])
async def test_an_edit_after_a_pause_posts_only_what_the_pause_kept(store, clock, keep,
                                                                     sent):
    """A paused channel gets nothing routed; subscribing again resumes it with the
    stories new from then on, not with those of the pause its feed edits later. A pause
    its admins can fix keeps the stories routed meanwhile (bot/kept_posts.py): resumed,
    the channel gets each once, as its feed last edited it; the edit neither cancels the
    post nor is taken for news older than the subscription."""
    follow(store, clock, "c1")
    reason = "console: the bot was removed" if keep else "console: channel gone"
    store.pause_channel("console", "c1", reason, keep=keep)
    clock.advance(hours=1)
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    clock.advance(hours=1)
    follow(store, clock, "c1")                  # resumed
    add(store, clock, tencent_too(clock))
    route_edits(store, clock)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [(s.channel, s.brief.headline) for s in adapter.sends] == sent


async def test_a_channel_paused_keeping_its_posts_gets_no_edit_while_paused(store, clock):
    """The bot removed from a channel (a fixable pause, bot/kept_posts.py): an edit of a
    post already out there was queued and tried in the channel the bot may not use, each
    refused and its warning logged. Nothing is queued while paused (an edit after the
    resume goes out as any edit does)."""
    follow(store, clock, "c1")
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    store.pause_channel("console", "c1", "console: the bot was removed", keep=True)
    clock.advance(hours=2)
    add(store, clock, tencent_too(clock))
    route_edits(store, clock)
    await deliver(store, clock, adapter)
    assert adapter.edits == [] and states(store) == {"sent": 1}
    follow(store, clock, "c1")                  # resumed
    add(store, clock, tencent_too(clock, f"{BOTH} (2)"))
    route_edits(store, clock)
    await deliver(store, clock, adapter)
    assert [(e[0], e[2].headline) for e in adapter.edits] == [("c1", f"{BOTH} (2)")]
