"""Posts kept while a channel is paused for something its admins can fix (the bot removed,
a permission taken away), and what goes out once /subscribe resumes it. A fake clock
stands in for time; RecordingAdapter for the platform."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.adapter import PermanentError
from bot.commands import Commands
from bot.dispatch import dispatch_new
from bot.replies import Caller
from feeds.plural import count
from tests.classify_kit import gazetteer_classifier
from tests.delivery_kit import brief, delivery, follow, states
from tests.fakes.recorder import RecordingAdapter

FIXABLE = PermanentError("the bot is not in the channel", fixable=True)
ADMIN = Caller("console", "w1", "c1", "u1", is_admin=True)
classifier = pytest.fixture(gazetteer_classifier, name="classifier", scope="module")


async def _paused_with(store, clock, stories: int):
    """c1 refuses its first post for a fixable reason with `stories` waiting."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(1, stories + 1)],
                 clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", FIXABLE)
    d = delivery(store, clock, adapter, max_post_age=timedelta(hours=48))
    await d.run_once()
    return adapter, d


async def test_a_fixable_pause_keeps_the_waiting_posts_and_those_routed_meanwhile(store,
                                                                                  clock):
    adapter, d = await _paused_with(store, clock, 2)
    (sub,) = store.subscriptions_for_channel("console", "c1")
    assert sub.paused_reason == "the bot is not in the channel"
    assert dispatch_new(store, [brief(9, clock)], clock()) == 1
    await d.run_once()
    assert not adapter.sends and states(store) == {"kept": 3}
    assert not store.outbox_failures()


# Subscribing the paused channel to what it followed resumes it; to something new, both
# adds and resumes, and the reply said nothing of the posts kept meanwhile.
@pytest.mark.parametrize("target", ["all", "openai"])
@pytest.mark.parametrize("stories, singles, roundup", [
    (2, ["story2", "story1"], None),                      # oldest first, each its own post
    (5, [], ["story5", "story4", "story3", "story2", "story1"]),   # many: one roundup
])
async def test_resuming_posts_what_was_kept_oldest_first_or_as_one_roundup(
        store, clock, classifier, stories, singles, roundup, target):
    adapter, d = await _paused_with(store, clock, stories)
    clock.advance(hours=2)
    reply = Commands(store, classifier, clock=clock).subscribe(ADMIN, target)
    assert ("again" in reply.text) == (target == "all")
    assert f"The {count(stories, 'post')} kept" in reply.text
    await d.run_once()
    assert [s.brief.id for s in adapter.sends] == singles
    assert [sorted(b.id for b in g.briefs) for g in adapter.digests] == (
        [sorted(roundup)] if roundup else [])
    if roundup:
        assert "paused" in adapter.digests[0].title
    assert not store.subscriptions_for_channel("console", "c1")[0].paused


async def test_resuming_drops_the_kept_posts_too_old_by_then_saying_so_once(store, clock,
                                                                           caplog):
    adapter, d = await _paused_with(store, clock, 1)
    clock.advance(hours=40)
    dispatch_new(store, [brief(8, clock)], clock())          # routed during the pause
    clock.advance(hours=10)                                  # story1 is 50 hours old
    Commands(store, None, clock=clock).subscribe(ADMIN, "all")
    caplog.set_level(logging.INFO, "ainews.delivery")
    await d.run_once()
    assert [s.brief.id for s in adapter.sends] == ["story8"]
    assert states(store) == {"sent": 1, "stale": 1}
    said = [r.getMessage() for r in caplog.records if "too old" in r.getMessage()]
    assert len(said) == 1 and "c1" in said[0], said


@pytest.mark.parametrize("error", [PermanentError("Unknown Channel (deleted)"),
                                   PermanentError("channel_not_found")])
async def test_a_deleted_channel_still_fails_its_posts_and_keeps_none(store, clock, error):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", error)
    await delivery(store, clock, adapter).run_once()
    assert states(store) == {"failed": 1}
    assert dispatch_new(store, [brief(2, clock)], clock()) == 0


async def test_unsubscribing_a_paused_channel_cancels_what_it_kept(store, clock):
    await _paused_with(store, clock, 2)
    Commands(store, None, clock=clock).unsubscribe(ADMIN, "all")
    assert states(store) == {"cancelled": 2}


async def test_a_digest_channel_resumed_gets_what_it_kept_in_its_digest(store, clock):
    await _paused_with(store, clock, 1)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(2, clock)], clock())                     # while paused
    reply = Commands(store, None, clock=clock).subscribe(ADMIN, "all")
    assert "The 2 posts kept while it was paused join its next digest" in reply.text
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    await d.run_once()
    assert not adapter.sends and states(store) == {"held": 2}
    clock.advance(hours=1, minutes=1)
    await d.run_once()
    assert [len(g.briefs) for g in adapter.digests] == [2] and "digest" in adapter.digests[0].title
