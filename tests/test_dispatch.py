"""Dispatch: which channels get a new story, once per channel, and edits when another
outlet reports a story already posted; a story its feed edits is routed again."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.delivery import Delivery
from bot.dispatch import EDITED_OUT, dispatch_edits, dispatch_new
from feeds.models import Brief, Classification, Story, Subscription
from tests.fakes.recorder import RecordingAdapter


def story(sid: str, title: str, clock, *, source="Reuters", companies=("Anthropic", "Amazon"),
          topics=("funding",), strategy=True, minutes_ago=0) -> Story:
    return Story(id=sid, url=f"https://{source.lower()}.example/{sid}", title=title,
                 text=title + ". More detail follows in the article.", source=source,
                 feed_url=f"https://{source.lower()}.example/rss",
                 published=clock.now - timedelta(minutes=minutes_ago),
                 classification=Classification(strategy=strategy, score=2.0,
                                               companies=companies, topics=topics))


def add(store, clock, *stories):
    return store.add_new_stories(list(stories), backlog=False, now=clock())


def follow(store, clock, channel, kind="all", target="all", platform="console"):
    store.add_subscription(Subscription(platform, "w1", channel, kind, target), now=clock())


async def deliver(store, clock, adapter):
    return await Delivery(store, {"console": adapter}, clock=clock,
                          sleep=clock.sleep).run_once()


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


# ---- a story its feed edits after it was routed --------------------------------------
AGE = timedelta(hours=48)                   # AINEWS_MAX_POST_AGE_HOURS' default
ALIBABA = "Alibaba cuts Qwen API prices by 50%"
BOTH = "Alibaba and Tencent cut AI model prices by half"


def route_edits(store, clock, *, forget: bool = True) -> int:
    """What the service does with the edits a poll stored (bot/service.py): route them,
    then forget them. forget=False: killed between the two."""
    upto = store.last_edit_seq()
    changed = dispatch_edits(store, store.edited_stories(upto), clock(), max_age=AGE)
    if forget:
        store.forget_edits(upto)
    return changed


def alibaba(clock, title=ALIBABA, **kw) -> Story:
    kw.setdefault("companies", ("Alibaba",))
    return story("s1", title, clock, topics=("pricing",), **kw)


def tencent_too(clock, title=BOTH, **kw) -> Story:
    kw.setdefault("companies", ("Alibaba", "Tencent"))
    return alibaba(clock, title, **kw)


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


# ---- review of edits routing: lost posts, a poison edit, a date bump ------------------
ANTHROPIC = "Anthropic raises $4bn from Amazon"
AMAZON_FT = "Amazon to invest another $4 billion in Anthropic"


@pytest.mark.parametrize("how", ["new story", "edit of the other story"])
async def test_a_post_cancelled_by_an_edit_comes_back_when_another_story_earns_it(
        store, clock, how):
    """The edit cancelled s1's post; a story of the same cluster earning the channel
    afterwards must post it (the cancelled row held the cluster's UNIQUE slot: lost)."""
    follow(store, clock, "c1")
    dispatch_new(store, add(store, clock, story("s1", ANTHROPIC, clock)), clock())
    if how == "edit of the other story":     # s2 joins while not strategy: no post
        assert dispatch_new(store, add(store, clock, story(
            "s2", AMAZON_FT, clock, source="FT", strategy=False)), clock()) == 0
    add(store, clock, story("s1", ANTHROPIC + " (corrected)", clock, strategy=False))
    route_edits(store, clock)
    assert store.outbox_counts() == {"cancelled": 1}
    clock.advance(minutes=5)
    if how == "new story":
        dispatch_new(store, add(store, clock, story("s2", AMAZON_FT, clock, source="FT")),
                     clock())
    else:
        add(store, clock, story("s2", AMAZON_FT + ", FT learns", clock, source="FT"))
        route_edits(store, clock)
        route_edits(store, clock)
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [s.brief.id for s in adapter.sends] == ["s2"]
    # s1 earning it again later changes nothing more: the post is s2's now
    add(store, clock, story("s1", ANTHROPIC + " (confirmed)", clock))
    route_edits(store, clock)
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1


async def test_an_edit_failing_to_route_does_not_block_the_other_edits(store, clock,
                                                                       monkeypatch):
    """A poison edit (a bug routing one story) must not hold back every later edit."""
    follow(store, clock, "tencent", "company", "Tencent")
    dispatch_new(store, add(store, clock, story("s0", "Nvidia ships H20 chips", clock,
                                                companies=("Nvidia",))), clock())
    add(store, clock, story("s0", "Nvidia ships H20 chips to Tencent", clock,
                            companies=("Nvidia", "Tencent")))
    add(store, clock, alibaba(clock))
    add(store, clock, tencent_too(clock))
    import bot.dispatch as dispatch
    real = dispatch._reroute

    def poisoned(store, subs, story, now):
        if story.id == "s0":
            raise ValueError("a bug")
        return real(store, subs, story, now)
    monkeypatch.setattr(dispatch, "_reroute", poisoned)
    route_edits(store, clock)
    assert store.last_edit_seq() == 0       # forgotten: not retried every pass for ever
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    assert [(s.channel, s.brief.id) for s in adapter.sends] == [("tencent", "s1")]


async def test_an_edit_bumping_an_old_storys_date_posts_nothing(store, clock):
    """A feed that rewrites its archive often stamps every entry with the time of the
    rewrite: the age limit is the story's, from when it was first seen."""
    follow(store, clock, "tencent", "company", "Tencent")
    follow(store, clock, "all")
    adapter = RecordingAdapter()
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    await deliver(store, clock, adapter)
    clock.advance(days=3)
    add(store, clock, tencent_too(clock))          # published: now
    route_edits(store, clock)
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1 and adapter.edits == []


class _LostSendAnswer(RecordingAdapter):
    """Slack when its answer is lost: the post is made, the call times out; a retry
    looks the post up by its nonce (find_sent)."""
    lose = 1

    async def send(self, channel, brief, *, nonce):
        mid = await super().send(channel, brief, nonce=nonce)
        if self.lose:
            self.lose -= 1
            from bot.adapter import TransientError
            raise TransientError("slack: chat.postMessage to c1: timed out")
        return mid

    async def find_sent(self, channel, nonce):
        return next((s.message_id for s in self.sends if s.nonce == nonce), None)


async def test_a_revived_post_whose_first_try_may_have_gone_out_is_not_posted_twice(
        store, clock):
    """The first try timed out after the platform took the post; an edit cancelled the
    retry and a later one revived it: reviving must not forget that a try was made."""
    follow(store, clock, "c1")
    dispatch_new(store, add(store, clock, alibaba(clock)), clock())
    adapter = _LostSendAnswer()
    await deliver(store, clock, adapter)             # posted; the answer was lost
    assert store.outbox_counts() == {"due": 1} and len(adapter.sends) == 1
    add(store, clock, alibaba(clock, "Alibaba opens a bookshop", strategy=False))
    route_edits(store, clock)
    assert store.outbox_counts() == {"cancelled": 1}
    add(store, clock, alibaba(clock, "Alibaba cuts Qwen API prices by 97%"))
    route_edits(store, clock)
    clock.advance(hours=1)
    await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1


async def test_a_sent_post_is_not_edited_for_its_text_alone(store, clock):
    """A feed whose entries carry a changing count (Hacker News's points and comments)
    changes the story, and so its brief, at every poll: a post already out is edited when
    what names the news changes (headline, link, companies, topics), not at every poll
    for 48 hours."""
    follow(store, clock, "c1")
    first = alibaba(clock)
    dispatch_new(store, add(store, clock, first), clock())
    adapter = RecordingAdapter()
    await deliver(store, clock, adapter)
    for points in (120, 180, 240):
        clock.advance(minutes=2)
        edited = replace(first, text=f"{ALIBABA}. It had {points} points by noon.")
        add(store, clock, edited)
        condensed(store, edited, "The cut applies to every developer on its cloud.",
                  f"The story had {points} points and {points // 3} comments by noon.")
        route_edits(store, clock)
        await deliver(store, clock, adapter)
    assert len(adapter.sends) == 1 and adapter.edits == []
    add(store, clock, alibaba(clock, "Alibaba cuts Qwen API prices by 97%"))
    route_edits(store, clock)
    clock.advance(hours=1)                  # one edit an hour, from the post
    await deliver(store, clock, adapter)
    assert [e[2].headline for e in adapter.edits] == ["Alibaba cuts Qwen API prices by 97%"]


def condensed(store, s: Story, *bullets: str) -> None:
    """What the service does for an edited strategy story before routing it: its brief."""
    store.save_brief(s.id, store.get_story(s.id).content_hash, Brief(
        id=s.id, headline=s.title, bullets=bullets, why_it_matters="", url=s.url,
        source=s.source, published=s.published))


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
