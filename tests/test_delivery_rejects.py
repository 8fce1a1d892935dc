"""Delivery when a platform refuses: one unpostable post fails alone, roundups are halved
to find the refused post (on Slack and Discord, through their real clients), and a
roundup whose answer was lost is not posted again."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest

from bot.adapter import RejectedError, TransientError
from bot.dispatch import dispatch_new
from bot.retry import UNEXPECTED_ATTEMPTS
from bot.slack.adapter import SlackAdapter
from bot.slack.webapi import make_client
from tests.discord_kit import MESSAGES
from tests.fakes.discord import FakeDiscord, RecordingCommands, running_bot
from tests.fakes.recorder import Digest, RecordingAdapter
from tests.fakes.slack import FakeSlack
from tests.delivery_kit import (brief, delivery, error_records, follow, sent_then_edit_queued,
                                 states)


# ---- rejected posts: one unpostable row fails alone ----------------------------------
BUG = ValueError("invalid literal for int() with base 10: 'abc'")
REFUSED = RejectedError("slack: chat.postMessage to c1 refused the message: msg_too_long")


@pytest.mark.parametrize("error, passes, why", [
    (REFUSED, 1, "rejected: slack: chat.postMessage to c1 refused the message: msg_too_long"),
    (BUG, UNEXPECTED_ATTEMPTS, "ValueError: invalid literal for int()"),
], ids=["rejected", "adapter-bug"])
async def test_an_unpostable_row_fails_alone_and_the_channel_goes_on(store, clock, caplog,
                                                                     error, passes, why):
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2, 3)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail_brief("story2", error)                 # never postable
    caplog.set_level(logging.WARNING, "ainews.delivery")
    d, start, posted = delivery(store, clock, adapter), clock(), 0
    for _ in range(passes):
        posted += await d.run_once()
        clock.advance(minutes=1)
    assert posted == 2 and [s.brief.id for s in adapter.sends] == ["story1", "story3"]
    # A bug costs the channel one backoff step, not the hours of the transient schedule.
    assert adapter.sends[-1].at - start <= timedelta(minutes=passes - 1, seconds=1)
    assert states(store) == {"sent": 2, "failed": 1}
    (failed,) = store.outbox_failures()                 # what `ainews status` lists
    assert failed.brief.id == "story2" and why in failed.last_error
    assert not store.subscriptions_for_channel("console", "c1")[0].paused
    assert any("'Story 2' rejected" in m for m in error_records(caplog))
    assert await d.run_once() == 0 and adapter.calls == 2 + passes   # never tried again


async def test_a_bug_that_passes_is_retried_and_posts(store, clock):
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", RuntimeError("flaky adapter"), times=UNEXPECTED_ATTEMPTS - 1)
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 0 and states(store) == {"due": 1}
    clock.advance(minutes=1)
    assert await d.run_once() == 1 and states(store) == {"sent": 1}


@pytest.mark.parametrize("error", [REFUSED, BUG], ids=["rejected", "adapter-bug"])
async def test_a_rejected_edit_keeps_the_post_and_the_channel_goes_on(store, clock, caplog,
                                                                       error):
    adapter = RecordingAdapter(clock=clock)
    d = await sent_then_edit_queued(store, clock, adapter)
    adapter.fail_brief("story1", error)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    dispatch_new(store, [brief(2, clock)], clock())
    posted = 0
    for _ in range(UNEXPECTED_ATTEMPTS):
        posted += await d.run_once()
        clock.advance(minutes=1)
    assert posted == 1 and [s.brief.id for s in adapter.sends] == ["story1", "story2"]
    assert adapter.edits == [] and states(store) == {"sent": 2}
    assert store.outbox_post(1).last_error.startswith("edit rejected: ")
    assert not store.subscriptions_for_channel("console", "c1")[0].paused
    assert any("the first post stands" in m for m in error_records(caplog))


@pytest.mark.parametrize("error, passes", [(REFUSED, 1), (BUG, UNEXPECTED_ATTEMPTS)],
                         ids=["rejected", "adapter-bug"])
async def test_a_rejected_roundup_fails_only_the_refused_post(store, clock, caplog, error,
                                                             passes):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(4)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail_brief("story0", error)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    d = delivery(store, clock, adapter, roundup_size=2)
    clock.advance(hours=1)
    posted = 0
    for _ in range(passes):
        posted += await d.run_once()
        clock.advance(minutes=1)
    # [s0, s1] refused -> halves: [s0] refused alone and failed; then [s1, s2], [s3].
    assert posted == 2 and states(store) == {"failed": 1, "digested": 3}
    assert [[b.id for b in d.briefs] for d in adapter.digests] == [["story1", "story2"],
                                                                  ["story3"]]
    (failure,) = store.outbox_failures()
    assert failure.brief.id == "story0" and failure.last_error.startswith("roundup rejected: ")
    assert not store.subscriptions_for_channel("console", "c1")[0].paused
    assert any("'Story 0' rejected in a roundup" in m for m in error_records(caplog))


async def test_a_refused_post_in_the_middle_of_a_roundup_is_found_by_halving(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(5)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail_brief("story2", REFUSED)
    d = delivery(store, clock, adapter, roundup_size=4)
    clock.advance(hours=1)
    await d.run_once()
    # [s0..s3] refused -> [s0, s1] posted, [s2, s3] refused -> [s2] refused alone and
    # failed; the full size is back for the rest: [s3, s4].
    assert [[b.id for b in x.briefs] for x in adapter.digests] == [
        ["story0", "story1"], ["story3", "story4"]]
    assert [f.brief.id for f in store.outbox_failures()] == ["story2"]
    assert states(store) == {"failed": 1, "digested": 4}


@dataclass
class LostAnswerAdapter(RecordingAdapter):
    """Like Slack when its answer is lost: the roundup is posted, the call fails; a retry
    can look the post up by its nonce (find_sent)."""
    lose: int = 1

    async def send_digest(self, channel, title, briefs, *, nonce):
        mid = await super().send_digest(channel, title, briefs, nonce=nonce)
        if self.lose:
            self.lose -= 1
            raise TransientError("slack: chat.postMessage to c1: timed out")
        return mid

    async def find_sent(self, channel: str, nonce: str, briefs=(), *,
                        tried_ago=None) -> str | None:
        return next((d.message_id for d in self.digests if d.nonce == nonce), None)


async def test_a_roundup_whose_answer_was_lost_is_not_posted_again_with_newer_posts(
        store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock, minutes_ago=5), brief(2, clock, minutes_ago=6)],
                 clock())
    adapter = LostAnswerAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    clock.advance(hours=1)
    assert await d.run_once() == 0                # posted, but the answer was lost
    dispatch_new(store, [brief(3, clock)], clock())   # held meanwhile: newest first
    clock.advance(hours=1)
    await d.run_once()
    assert [[b.id for b in x.briefs] for x in adapter.digests] == [
        ["story1", "story2"], ["story3"]]
    assert states(store) == {"digested": 3}


async def test_a_roundup_killed_mid_send_keeps_its_posts_and_nonce_after_restart(store,
                                                                                  clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock, minutes_ago=5), brief(2, clock, minutes_ago=6)],
                 clock())
    adapter = LostAnswerAdapter(clock=clock, lose=0)
    clock.advance(hours=1)
    store.hold_posts([1, 2])
    store.claim_roundup([1, 2], "ainews-dkilled", clock())   # the platform takes it; kill
    adapter.digests.append(Digest("c1", "t", [brief(1, clock), brief(2, clock)],
                                  "ainews-dkilled", "m-1", clock()))
    dispatch_new(store, [brief(3, clock)], clock())          # held after the restart
    d = delivery(store, clock, adapter)                       # the restart: recover()
    await d.run_once()
    assert [(x.nonce, [b.id for b in x.briefs]) for x in adapter.digests] == [
        ("ainews-dkilled", ["story1", "story2"]), (adapter.digests[1].nonce, ["story3"])]
    assert states(store) == {"digested": 3}


async def test_a_roundup_waits_out_rate_limits_as_long_as_a_single_post_would(store, clock):
    """A 429 says "not now": a digest is not given up after max_attempts of them."""
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(1, clock), brief(2, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 429", retry_after=30.0), times=8)
    d = delivery(store, clock, adapter, max_attempts=8)
    clock.advance(hours=1)
    for _ in range(9):
        await d.run_once()
        clock.advance(minutes=1)
    assert states(store) == {"digested": 2}


async def test_a_roundup_refused_for_its_size_is_halved_that_day_only(store, clock):
    follow(store, clock)
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(4)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", REFUSED)             # the whole roundup, once: too big, say
    d = delivery(store, clock, adapter, roundup_size=4)
    clock.advance(hours=1)
    await d.run_once()
    assert [len(x.briefs) for x in adapter.digests] == [2, 2]
    dispatch_new(store, [brief(n, clock) for n in range(10, 14)], clock())
    clock.advance(days=1)
    await d.run_once()
    assert [len(x.briefs) for x in adapter.digests] == [2, 2, 4]   # full size again
    assert store.outbox_failures() == []


# ---- a roundup a platform refuses: halved, a story alone as text ----------------------
@dataclass
class Chat:
    """A platform's real client against its fake server on loopback."""
    platform: str
    channel: str
    adapter: object
    refuse: Callable[[int], None]      # refuse the payload of the next n posts
    posts: Callable[[], list[dict]]
    rich: str                          # what a post that is not plain text carries


@pytest.fixture(params=["slack", "discord"])
async def chat(request):
    if request.param == "slack":
        slack = await FakeSlack().start()
        yield Chat("slack", "C42", SlackAdapter(make_client(slack.bot_token, slack.api_url)),
                   lambda n: slack.fail("chat.postMessage", error="invalid_blocks", times=n),
                   lambda: list(slack.messages.values()), "blocks")
        await slack.stop()
        return
    discord = await FakeDiscord().start()
    async with running_bot(discord, RecordingCommands()) as runner:
        yield Chat("discord", str(discord.channel_ids[0]), runner.adapter,
                   lambda n: discord.fail("POST", MESSAGES, 400, code=50035, times=n),
                   lambda: list(discord.messages.values()), "embeds")
    await discord.close()


@pytest.mark.parametrize("refusals, plain", [(1, 0), (3, 1)],
                         ids=["halves-post", "down-to-one-story"])
async def test_a_roundup_refused_goes_out_in_halves_every_story_once_with_its_link(
        store, clock, chat, refusals, plain):
    """Slack's plain retry of a refused roundup was "Roundup: 4 stories": taken, and all
    four recorded as posted with none of them shown. Discord failed a one-story roundup
    it refused, though a post of that story would have gone as text. Now the halves go
    with their blocks or embeds, and a story refused alone as text with its link."""
    follow(store, clock, channel=chat.channel, platform=chat.platform)
    store.set_digest(chat.platform, "w1", chat.channel, "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(4)], clock())
    chat.refuse(refusals)
    d = delivery(store, clock, chat.adapter, roundup_size=4)
    clock.advance(hours=1)
    await d.run_once()
    shown = [str(m) for m in chat.posts()]
    assert all(sum(f"https://news.example/{n}" in m for m in shown) == 1 for n in range(4))
    assert sum(not m.get(chat.rich) for m in chat.posts()) == plain
    assert states(store) == {"digested": 4} and store.outbox_failures() == []


async def test_a_refused_roundup_spends_no_attempts_of_the_stories_it_is_split_into(
        store, clock):
    """Each halving claim of a refused roundup counted as an attempt of every story in
    it, so a platform outage right after gave those stories up early: one refusal and
    seven failed tries failed all ten, where eight tries are each story's budget."""
    slack = await FakeSlack().start()
    try:
        adapter = SlackAdapter(make_client(slack.bot_token, slack.api_url))
        follow(store, clock, channel="C42", platform="slack")
        store.set_digest("slack", "w1", "C42", "10:00", "UTC", now=clock())
        dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(10)], clock())
        slack.fail("chat.postMessage", error="invalid_blocks")          # too big, say
        slack.fail("chat.postMessage", status=500, body="<html>down</html>", times=7)
        d = delivery(store, clock, adapter, roundup_size=10, max_attempts=8)
        clock.advance(hours=1)
        for _ in range(12):                     # the backoff schedule, hours at most
            await d.run_once()
            clock.advance(hours=7)
        assert store.outbox_failures() == [] and states(store) == {"digested": 10}
        shown = [str(m) for m in slack.messages.values()]
        assert all(sum(f"https://news.example/{n}" in m for m in shown) == 1
                   for n in range(10))
    finally:
        await slack.stop()
