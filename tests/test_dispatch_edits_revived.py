"""Edits after the first routing, continued: a cancelled post comes back when another
story earns it, one failing edit blocks no other, a bumped date posts nothing, a revived
post is never sent twice, and a sent post is not edited for its text alone."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.dispatch import dispatch_new
from feeds.models import Brief, Story
from tests.dispatch_kit import (story, add, follow, deliver, ALIBABA, route_edits, alibaba,
                                tencent_too)
from tests.fakes.recorder import RecordingAdapter


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
    import bot.dispatch_edits as dispatch
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

    async def find_sent(self, channel, nonce, briefs=(), *, tried_ago=None):
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
