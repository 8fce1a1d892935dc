"""Delivery's service loop: stopping after the post in flight, unsubscribing, digests
turned on and off, platforms that start late or are down, the retry schedule."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from bot.adapter import TransientError
from bot.commands import Commands
from bot.delivery import Delivery
from bot.dispatch import dispatch_new
from bot.pacing import HOUR, spread_from, spread_gap
from bot.replies import Caller
from tests.fakes.recorder import RecordingAdapter
from tests.fakes.slack import make_brief
from tests.delivery_kit import (brief, delivery, error_records, follow, run_until_idle,
                                 sent_then_edit_queued, states, until)


async def test_a_stop_ends_delivery_after_the_post_in_flight(store, clock):
    """Ctrl-C during `run --once` with a long queue: the post in flight is recorded,
    the rest wait in the outbox for the next start instead of holding up the exit."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(5)], clock())
    stop = asyncio.Event()

    class StopAfterFirst(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            stop.set()
            return await super().send(channel, b, nonce=nonce)
    assert await delivery(store, clock, StopAfterFirst(clock=clock)).run_once(stop) == 1
    assert states(store) == {"sent": 1, "due": 4}
    stop.clear()                              # the same in the service's loop
    await asyncio.wait_for(delivery(store, clock, StopAfterFirst(clock=clock)).run_forever(
        stop), 5)
    assert states(store) == {"sent": 2, "due": 3}
    assert await delivery(store, clock, RecordingAdapter(clock=clock)).run_once() == 3


async def test_a_stop_waits_for_the_post_in_flight_to_be_recorded(store, clock):
    """SIGTERM while a post is on its way: the loop returns only once it is recorded, so
    closing the adapters afterwards cannot leave it half-sent."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    adapter.hold("c1")
    stop = asyncio.Event()
    task = asyncio.create_task(delivery(store, clock, adapter).run_forever(stop))
    await until(lambda: adapter.calls == 1)
    stop.set()
    for _ in range(100):
        await asyncio.sleep(0)
    assert not task.done() and states(store) == {"sending": 1}
    adapter.release("c1")
    await asyncio.wait_for(task, 5)
    assert states(store) == {"sent": 1} and len(adapter.sends) == 1


async def test_a_failed_look_at_the_outbox_does_not_stop_delivery(store, clock, monkeypatch,
                                                                caplog):
    """A locked database once ("database is locked" while a backup runs) costs one
    pass, not every post until the bot is restarted."""
    import sqlite3
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    real, calls = store.outbox_work, []

    def flaky(now):
        calls.append(now)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real(now)
    monkeypatch.setattr(store, "outbox_work", flaky)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, idle_seconds=0.01)
    assert await run_until_idle(d, adapter, 1) == 1
    assert states(store) == {"sent": 1}
    assert "delivery: pass failed; retrying" in caplog.text


@pytest.mark.parametrize("digest", [True, False])
async def test_unsubscribing_stops_the_posts_still_waiting(store, clock, digest):
    """Held for the digest (or over the hourly cap), a story still waits when the admin
    unsubscribes: it must not be posted after the channel said stop. Posts another of
    the channel's subscriptions still wants do go out."""
    from feeds.classify import Classifier, load_gazetteer
    commands = Commands(store, Classifier(load_gazetteer()), clock=clock)
    admin = Caller("console", "w1", "c1", "u1", is_admin=True)
    commands.subscribe(admin, "pricing")
    commands.subscribe(admin, "Meta")
    if digest:
        commands.digest(admin, "daily", "18:00", "UTC")
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=1)
    meta = replace(brief(9, clock), companies=("Meta",), topics=())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(3)] + [meta], clock())
    await d.run_once()                        # digest: all held; cap 1: one post, 3 held
    assert commands.unsubscribe(admin, "pricing").kind == "text"
    clock.advance(hours=10)
    await d.run_once()
    posted = [s.brief.id for s in adapter.sends] + [b.id for g in adapter.digests
                                                    for b in g.briefs]
    assert "story9" in posted and len(posted) == (1 if digest else 2)
    assert store.outbox_counts().get("held", 0) == store.outbox_counts().get("due", 0) == 0
    # Nothing is waiting now: the last unsubscribe mentions no dropped posts.
    assert "won't go out" not in commands.unsubscribe(admin, "Meta").text


async def test_a_quiet_digest_channel_still_waits_for_its_time(store, clock):
    """No story for a day, then one after the digest time: it joins tomorrow's digest
    instead of going out at once as a one-story 'digest'."""
    follow(store, clock)                                  # clock: day 1, 09:00 UTC
    store.set_digest("console", "w1", "c1", "08:30", "UTC", now=clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    clock.advance(hours=25)                               # day 2, 10:00: quiet so far
    dispatch_new(store, [brief(1, clock)], clock())
    assert await d.run_once() == 0 and adapter.digests == []
    clock.advance(hours=22, minutes=29)                   # day 3, 08:29
    assert await d.run_once() == 0
    clock.advance(minutes=1)                              # day 3, 08:30
    assert await d.run_once() == 1
    assert [b.id for b in adapter.digests[0].briefs] == ["story1"]


async def test_a_long_429_storm_with_short_retry_after_loses_no_post(store, clock):
    """A platform answering 429 "retry after 1 s" for ten minutes: honouring each
    Retry-After alone would spend every attempt in under a minute and fail the post."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    adapter = RecordingAdapter(clock=clock)
    storm_ends = clock() + timedelta(minutes=10)

    class Storm(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            if clock() < storm_ends:
                raise TransientError("HTTP 429", retry_after=1.0)
            return await adapter.send(channel, b, nonce=nonce)
    d = delivery(store, clock, Storm(clock=clock), max_attempts=8)
    for _ in range(30 * 60):                          # half an hour, second by second
        await d.run_once()
        clock.advance(seconds=1)
    assert [s.brief.id for s in adapter.sends] == ["story1"]
    assert states(store) == {"sent": 1}


DIGEST_OFF = [
    # (stories held, posts the channel had this hour) -> what /digest off says of them,
    # the posts that then go out at once, and the roundups that follow within the hour
    (1, 0, "The story held for the digest goes out now.", 1, []),
    (3, 0, "The 3 stories held for the digest go out now.", 3, []),
    (7, 0, "The 7 stories held for the digest go out now.", 7, []),
    # Past 7 of its 10 posts in an hour a channel's next waits its turn (bot/pacing.py):
    (10, 0, "Of the 10 stories held for the digest, 7 go out now and the other 3 follow "
            "within about an hour in one roundup (this channel gets at most 10 posts an "
            "hour).", 7, [3]),
    (12, 0, "Of the 12 stories held for the digest, 7 go out now and the other 5 follow "
            "within about an hour in one roundup (this channel gets at most 10 posts an "
            "hour).", 7, [5]),
    (8, 0, "Of the 8 stories held for the digest, 7 go out now and the last one follows "
           "within about an hour (this channel gets at most 10 posts an hour).", 7, []),
    (3, 9, "Of the 3 stories held for the digest, 1 goes out now and the other 2 follow "
           "within about an hour in one roundup (this channel gets at most 10 posts an "
           "hour).", 1, [2]),
    (25, 0, "Of the 25 stories held for the digest, 7 go out now and the other 18 follow "
            "within about an hour in 2 roundups (this channel gets at most 10 posts an "
            "hour).", 7, [10, 8]),
    # One story waiting alone goes as itself, not as a one-story roundup.
    (1, 10, "This channel has had its 10 posts this hour, so the story held for the "
            "digest follows within about an hour.", 0, []),
    (4, 10, "This channel has had its 10 posts this hour, so the 4 stories held for the "
            "digest follow within about an hour in one roundup.", 0, [4]),
]


@pytest.mark.parametrize("held, earlier, said, now, roundups", DIGEST_OFF,
                         ids=[f"{h} held, {e} posted" for h, e, *_ in DIGEST_OFF])
async def test_turning_the_digest_off_says_when_the_held_stories_go(
        store, clock, held, earlier, said, now, roundups):
    """Stories held for today's digest go out when the digest is turned off, as the
    instant posts the channel now asks for, as far as its hourly cap has room: "The 12
    stories held for the digest go out now" was said while 2 went an hour later."""
    from feeds.classify import Classifier, load_gazetteer
    commands = Commands(store, Classifier(load_gazetteer()), clock=clock)
    admin = Caller("console", "w1", "c1", "u1", is_admin=True)
    commands.subscribe(admin, "all")
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10)
    for n in range(earlier):                           # sent before the digest was set,
        dispatch_new(store, [brief(100 + n, clock)], clock())   # each in its turn
        assert await d.run_once() == 1
        clock.advance(spread_gap(10).total_seconds())
    clock.advance(minutes=10)
    commands.digest(admin, "daily", "18:00", "UTC")
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(held)], clock())
    assert await d.run_once() == 0                     # held for 18:00
    reply = commands.digest(admin, "off")
    assert reply.text == f"Digest off: new stories are posted as they come. {said}"
    assert await d.run_once() == now
    assert [s.brief.id for s in adapter.sends[earlier:]] == [f"story{n}" for n in range(now)]
    clock.advance(minutes=60, seconds=2)
    await d.run_once()
    assert [len(r.briefs) for r in adapter.digests] == roundups
    assert len(adapter.sends) + sum(len(r.briefs) for r in adapter.digests) == earlier + held
    assert all(r.title == ROUNDUP_TITLE for r in adapter.digests)


async def test_a_small_cap_says_its_roundups_take_more_than_an_hour(store, clock):
    """A roundup is one of the cap's posts: with 2 an hour, the 3 roundups of 23 held
    stories go over 2 hours ("within about an hour" was said whatever the cap)."""
    from feeds.classify import Classifier, load_gazetteer
    commands = Commands(store, Classifier(load_gazetteer()), clock=clock, hourly_cap=2)
    admin = Caller("console", "w1", "c1", "u1", is_admin=True)
    commands.subscribe(admin, "all")
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=2)
    commands.digest(admin, "daily", "18:00", "UTC")
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(25)], clock())
    assert await d.run_once() == 0                     # held for 18:00
    assert commands.digest(admin, "off").text.endswith(
        "Of the 25 stories held for the digest, 2 go out now and the other 23 follow in 3 "
        "roundups over about 2 hours (this channel gets at most 2 posts an hour).")
    assert await d.run_once() == 2
    for hour, roundups in ((1, [10, 10]), (2, [10, 10, 3])):
        clock.advance(minutes=60, seconds=2)
        await d.run_once()
        assert [len(r.briefs) for r in adapter.digests] == roundups, hour


async def test_a_post_cancelled_while_its_channel_is_posting_is_skipped_and_the_rest_go(
        store, clock):
    """The admin unsubscribes while the channel's queue is going out: the cancelled post
    is never posted, and the posts after it still go out in the same pass."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2, 3)], clock())

    class CancelsStory2(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            if b.id == "story1":
                store.cancel_posts([r.id for r in store.waiting_posts("console", "c1")
                                    if r.brief.id == "story2"], "unsubscribed")
            return await super().send(channel, b, nonce=nonce)
    adapter = CancelsStory2(clock=clock)
    assert await delivery(store, clock, adapter).run_once() == 2
    assert [s.brief.id for s in adapter.sends] == ["story1", "story3"]
    assert states(store) == {"sent": 2, "cancelled": 1}


async def test_posts_queued_before_the_digest_was_turned_on_join_the_digest(store, clock):
    """Queued as instant posts, then the channel asked for a daily digest before they
    went out: they wait for the digest (not posted now, not stranded)."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2)], clock())
    store.set_digest("console", "w1", "c1", "18:00", "UTC", now=clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter)
    assert await d.run_once() == 0 and adapter.sends == []
    clock.advance(hours=9)
    assert await d.run_once() == 1
    assert [[b.id for b in x.briefs] for x in adapter.digests] == [["story1", "story2"]]
    assert states(store) == {"digested": 2}


async def test_a_failing_channel_worker_is_reported_and_the_others_still_post(store, clock,
                                                                            caplog):
    follow(store, clock, channel="c1", platform="console")
    follow(store, clock, channel="s1", platform="slack")
    dispatch_new(store, [brief(1, clock)], clock())

    class Broken(RecordingAdapter):
        def ready(self):
            raise RuntimeError("adapter state corrupt")
    slack = RecordingAdapter(platform="slack", clock=clock)
    d = Delivery(store, {"console": Broken(clock=clock), "slack": slack}, clock=clock,
                 sleep=clock.sleep)
    caplog.set_level(logging.WARNING, "ainews.delivery")
    assert await d.run_once() == 1
    assert [s.channel for s in slack.sends] == ["s1"]
    assert states(store) == {"sent": 1, "due": 1}       # the console post still waits
    assert any("console/c1: worker failed" in m and "adapter state corrupt" in m
               for m in error_records(caplog))


async def test_a_channel_told_to_wait_by_its_roundup_posts_nothing_until_then(store, clock):
    """The hourly-cap roundup gets a 429 (Retry-After 30 s): the channel's new posts wait
    out those 30 s too instead of being sent into the rate limit (and then go in that
    roundup, the channel's next message, rather than after it)."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(1, 4)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=2)
    assert await d.run_once() == 2                       # story3 held for the roundup
    clock.advance(hours=1, minutes=1)
    dispatch_new(store, [brief(9, clock)], clock())
    adapter.fail("c1", TransientError("HTTP 429", retry_after=30.0))
    assert await d.run_once() == 0
    assert [s.brief.id for s in adapter.sends] == ["story1", "story2"]
    clock.advance(seconds=30)
    assert await d.run_once() == 1
    assert [b.id for x in adapter.digests for b in x.briefs] == ["story9", "story3"]
    assert [s.brief.id for s in adapter.sends] == ["story1", "story2"]


@dataclass
class NotReady(RecordingAdapter):
    """A platform still trying to start (bot/startup.py's stand-in): never ready."""
    checks: int = 0

    def ready(self) -> bool:
        self.checks += 1
        return False



async def test_a_platform_that_starts_late_posts_its_waiting_posts_at_once_and_paced(
        store, clock):
    """Unreachable at start-up, then attached: what waited goes out now (not after an
    idle tick), through the new adapter's platform-wide rate gate."""
    for c in ("a", "b", "c"):
        follow(store, clock, channel=c, platform="discord")
    dispatch_new(store, [brief(1, clock)], clock())
    d = Delivery(store, {"discord": NotReady(platform="discord", clock=clock)}, clock=clock,
                 sleep=clock.sleep, idle_seconds=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    await until(lambda: len(d._cooldown) == 3)     # each channel found it not ready
    late = RecordingAdapter(platform="discord", clock=clock)
    late.max_rate, late.burst = 2.0, 1.0
    start = clock()
    d.attach(late)
    await asyncio.wait_for(until(lambda: len(late.sends) == 3, loops=10**9), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [(s.at - start).total_seconds() for s in late.sends] == [0.0, 0.5, 1.0]


async def test_a_platform_that_is_down_is_not_polled_in_a_busy_loop(store, clock):
    follow(store, clock, platform="discord")
    dispatch_new(store, [brief(1, clock)], clock())
    down = NotReady(platform="discord", clock=clock)
    d = Delivery(store, {"discord": down}, clock=clock, sleep=clock.sleep,
                 idle_seconds=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    for _ in range(200):
        await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert down.checks == 1            # then it waits an idle tick before asking again
    assert states(store) == {"due": 1}


async def test_a_digest_channel_still_gets_edits_of_its_earlier_posts(store, clock):
    """Posted instantly, then the channel turned its digest on; the story's cluster grows:
    the post it already has is updated, not left stale."""
    adapter = RecordingAdapter(clock=clock)
    d = await sent_then_edit_queued(store, clock, adapter)
    store.set_digest("console", "w1", "c1", "18:00", "UTC", now=clock())
    assert await d.run_once() == 1
    ((_, message_id, edited),) = adapter.edits
    assert message_id == adapter.sends[0].message_id and edited.also_reported_by == ("FT",)
    assert states(store) == {"sent": 1}


# What members read over a roundup of held posts ("this channel's hourly cap was
# reached" was not so when a busy channel's posts were only spread).
ROUNDUP_TITLE = "More AI strategy news (this channel gets at most 10 posts an hour)"
BACKOFF = [60, 180, 540, 1620, 4860, 14580, 21600]      # 1, 3, 9, 27, 81, 243 min, 6 h


@pytest.mark.parametrize("error, gaps, end", [
    (TransientError("HTTP 503"), BACKOFF, "failed"),
    # A 429's Retry-After alone for max_attempts, then the backoff as well, twice as long.
    (TransientError("HTTP 429", retry_after=0.5), [0.5] * 8 + BACKOFF, "failed"),
    # A platform that is down: its own Retry-After, however long, never given up.
    (TransientError("HTTP 401", retry_after=30.0, down=True), [30.0] * 20, "due"),
], ids=["5xx", "429", "platform-down"])
async def test_a_failing_post_is_retried_on_the_documented_schedule(store, clock, error,
                                                                    gaps, end):
    """A 5xx outage: retries 1, 3, 9, 27, 81, 243 minutes apart, then at most 6 hours
    apart; the eighth attempt (about 12 h in) is the last."""
    follow(store, clock)
    dispatch_new(store, [brief(1, clock)], clock())
    attempts = []

    class Down(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            attempts.append(clock())
            raise error
    d = Delivery(store, {"console": Down(clock=clock)}, clock=clock, sleep=clock.sleep)
    await d.run_once()
    while len(attempts) <= len(gaps) and (row := store.outbox_post(1)).state == "due":
        tried = len(attempts)
        clock.now = row.next_attempt - timedelta(seconds=0.1)
        await d.run_once()
        assert len(attempts) == tried                 # not a moment early
        clock.now = row.next_attempt
        await d.run_once()
    assert [(b - a).total_seconds() for a, b in zip(attempts, attempts[1:])] == gaps
    assert states(store) == {end: 1}


@pytest.mark.parametrize("digest", [False, True])
async def test_held_posts_wait_for_their_roundup_without_a_look_every_idle_tick(
        store, clock, monkeypatch, digest):
    """A busy channel over its hourly cap (or in digest mode) holds its posts for a
    roundup whose time is known: the service's loop leaves the channel alone until then
    instead of reading its outbox at every idle tick (for a bot following everything in
    100 channels that cost more CPU than polling 1,000 feeds), and the roundup still goes
    out on time."""
    follow(store, clock)                                  # clock: 09:00 UTC
    if digest:
        store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(1, 5)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=2, idle_seconds=0.001)
    passes, looks = [], []
    start_workers, due_posts = d._start_workers, store.due_posts

    def one_second_a_pass(workers):                       # the loop's ticks, on the fake clock
        passes.append(clock.advance(seconds=1))
        start_workers(workers)
    monkeypatch.setattr(d, "_start_workers", one_second_a_pass)
    monkeypatch.setattr(store, "due_posts", lambda *a: looks.append(a) or due_posts(*a))
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    await until(lambda: len(passes) >= 50, loops=10**9)
    assert states(store) == ({"held": 4} if digest else {"sent": 2, "held": 2})
    # One pass posts what the cap allows and holds the rest (a digest holds all), the
    # next finds that nothing can go yet; then nothing until the roundup's time.
    assert len(looks) <= 2
    monkeypatch.setattr(d, "_start_workers", start_workers)
    # The digest's time, or the first post an hour old (and a second: _cap_room counts it)
    due = (clock.now.replace(hour=10, minute=0, second=0) if digest
           else adapter.sends[0].at + timedelta(hours=1, seconds=1))
    clock.now = due
    await until(lambda: adapter.digests, loops=10**9)
    stop.set()
    await asyncio.wait_for(task, 5)
    roundup = adapter.digests[0]
    assert len(roundup.briefs) == (4 if digest else 2)
    assert roundup.at == due


def _messages(adapter) -> list:
    """The channel's messages (own posts and roundups) in the order they went."""
    return sorted([(x.at, [x.brief.id]) for x in adapter.sends]
                  + [(r.at, [b.id for b in r.briefs]) for r in adapter.digests])


async def test_a_busy_channels_posts_are_spread_over_the_hour_never_past_its_cap(store,
                                                                                 clock):
    """Three stories every ten minutes for four hours, three times the cap: past 7 of its
    10 in an hour the channel's messages come 4 minutes apart (ten at once and then
    nothing for 50 minutes, before), never more than 10 in any hour, and every story
    goes out once, the ones that waited their turn together in a roundup."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10)
    start, n = clock(), 0
    for tick in range(6 * 60 * 4):                  # the service's 15-second ticks
        if tick < 4 * 60 * 4 and tick % 40 == 0:
            dispatch_new(store, [brief(n + k, clock) for k in range(3)], clock())
            n += 3
        await d.run_once()
        clock.advance(seconds=15)
    messages = _messages(adapter)
    posted = [i for _, ids in messages for i in ids]
    assert sorted(posted) == sorted(f"story{k}" for k in range(n)) and n == 72
    times = [t for t, _ in messages]
    for i, t in enumerate(times):
        in_hour = [u for u in times[:i] if u > t - HOUR]
        assert len(in_hour) < 10, t - start               # the cap, in every hour
        if len(in_hour) >= spread_from(10):
            assert t - times[i - 1] >= spread_gap(10), t - start
    assert any(len(ids) > 1 for _, ids in messages)    # the waiting ones, together
    assert all(r.title == ROUNDUP_TITLE for r in adapter.digests)
    # Spread: after the first hour no 50-minute silence while stories waited.
    later = [b - a for a, b in zip(times, times[1:]) if a > start + HOUR and b < start
             + 4 * HOUR]
    assert later and max(later) < HOUR / 2


async def test_a_light_channel_posts_every_story_at_once_as_before(store, clock):
    """Bursts of 3-5 stories an hour, never 8 in an hour (7 of the cap of 10): each
    story goes out in the pass that queued it, as its own post; no roundup."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10)
    n = 0
    for hour, burst in enumerate((5, 3, 4, 5, 5, 3)):
        for part in (burst - burst // 2, burst // 2):   # a burst, and more 20 min later
            ids = [f"story{n + k}" for k in range(part)]
            dispatch_new(store, [brief(n + k, clock) for k in range(part)], clock())
            n += part
            assert await d.run_once() == part, hour
            assert sorted(s.brief.id for s in adapter.sends[-part:]) == sorted(ids)
            clock.advance(minutes=20)
        clock.advance(minutes=21)
    assert len(adapter.sends) == n and adapter.digests == []


async def test_the_eighth_post_within_an_hour_waits_its_turn_as_its_own_post(store, clock):
    """What a light channel can see: 5 stories, then 3 more exactly an hour later (8
    within the hour): two go at once, the third 4 minutes later, as itself."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10)
    dispatch_new(store, [brief(n, clock) for n in range(5)], clock())
    assert await d.run_once() == 5
    clock.advance(hours=1)
    dispatch_new(store, [brief(n, clock) for n in range(5, 8)], clock())
    assert await d.run_once() == 2
    clock.advance(minutes=4)
    assert await d.run_once() == 1
    assert len(adapter.sends) == 8 and adapter.digests == []


async def test_one_story_waiting_for_its_turn_goes_as_itself(store, clock):
    """Eight stories at once: seven go now, the eighth 4 minutes later as its own post,
    not a one-story roundup under the cap's title when the cap was not reached."""
    follow(store, clock)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(8)], clock())
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=10)
    assert await d.run_once() == 7
    assert states(store) == {"sent": 7, "held": 1}
    clock.advance(minutes=3)
    assert await d.run_once() == 0                     # not its turn yet
    clock.advance(minutes=1)
    assert await d.run_once() == 1
    assert [s.brief.id for s in adapter.sends][-1] == "story7" and adapter.digests == []
    assert states(store) == {"sent": 8}


# The wall clock steps back an hour (NTP, a VM restored from a snapshot) once the
# channel has had what each case sets up; its next post must not wait out that hour.
async def _new_post(store, clock, adapter, d):
    dispatch_new(store, [brief(1, clock)], clock())
    clock.set_back(hours=1)


async def _retry_after_a_429(store, clock, adapter, d):
    adapter.fail("c1", TransientError("HTTP 429", retry_after=5.0))
    dispatch_new(store, [brief(1, clock)], clock())
    await d.run_once()                               # refused: retry in 5 s
    clock.set_back(hours=1)
    clock.advance(seconds=5)


async def _paced_after_a_post(store, clock, adapter, d):
    adapter.min_interval = 1.0
    dispatch_new(store, [brief(0, clock)], clock())
    await d.run_once()
    clock.set_back(hours=1)
    dispatch_new(store, [brief(1, clock)], clock())


async def _platform_rate_gate(store, clock, adapter, d):
    adapter.max_rate, adapter.burst = 2.0, 1.0
    d.attach(adapter)                                # with the gate its rate asks for
    await _paced_after_a_post(store, clock, adapter, d)


async def _hourly_cap(store, clock, adapter, d):
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (7, 8)], clock())
    await d.run_once()                               # the cap of 2 reached
    clock.set_back(hours=1)
    clock.advance(seconds=2)
    await d.run_once()                               # the loop's next look: none is due
    clock.advance(hours=1)                           # an hour since those two went
    dispatch_new(store, [brief(1, clock)], clock())


async def _daily_digest(store, clock, adapter, d):
    store.set_digest("console", "w1", "c1", "10:00", "UTC", now=clock())   # 09:00
    dispatch_new(store, [brief(1, clock)], clock())
    await d.run_once()                               # held for 10:00
    clock.set_back(days=1)                           # yesterday, 09:00
    clock.advance(hours=1)                           # its 10:00: a digest is due


CLOCK_BACK = {"new post": _new_post, "retry after a 429": _retry_after_a_429,
              "paced after a post": _paced_after_a_post,
              "platform rate gate": _platform_rate_gate, "hourly cap": _hourly_cap,
              "daily digest": _daily_digest}


@pytest.mark.parametrize("case", CLOCK_BACK)
async def test_a_clock_stepped_back_holds_no_post_for_as_long(store, clock, caplog, case):
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=2)
    await CLOCK_BACK[case](store, clock, adapter, d)
    went, start = len(adapter.sends) + len(adapter.digests), clock()
    await d.run_once()
    assert len(adapter.sends) + len(adapter.digests) == went + 1
    assert clock() - start <= timedelta(seconds=2)   # not an hour's sleep either
    said = [r.getMessage() for r in caplog.records if "clock went back" in r.getMessage()]
    assert len(said) == 1, said


async def test_a_steady_clock_moves_nothing(store, clock, caplog):
    """Forward steps (a suspended laptop waking, a fake clock advanced) are no step back:
    a retry waits its full delay."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 503"))
    dispatch_new(store, [brief(1, clock)], clock())
    d = delivery(store, clock, adapter)
    await d.run_once()
    due = store.outbox_post(1).next_attempt
    clock.now += timedelta(seconds=30)
    await d.run_once()
    assert (adapter.sends, store.outbox_post(1).next_attempt) == ([], due)
    assert "clock went back" not in caplog.text


async def test_the_service_loop_notices_the_clock_step_back(store, clock, monkeypatch):
    """run_forever looks at the clock at each pass: a retry due in 5 s when the clock
    went back an hour goes out 5 s later."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 429", retry_after=5.0))
    dispatch_new(store, [brief(1, clock)], clock())
    d = delivery(store, clock, adapter, idle_seconds=0.001)
    passes, start_workers = [], d._start_workers
    monkeypatch.setattr(d, "_start_workers", lambda w: passes.append(1) or start_workers(w))
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    await until(lambda: adapter.calls == 1, loops=10**9)     # the 429
    clock.set_back(hours=1)
    clock.advance(seconds=5)
    seen = len(passes)
    await until(lambda: len(passes) > seen + 20, loops=10**9)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [s.brief.id for s in adapter.sends] == ["story1"]


@pytest.mark.parametrize("loop", ["run_once", "run_forever"])
async def test_a_store_that_cannot_be_written_stops_delivery_and_the_run(
        store, clock, monkeypatch, caplog, loop):
    """The disk filled up as a post went out: recording it failed, and so did every
    channel's worker after it ("worker failed", again at every idle tick) while the bot
    ran on. Delivery now ends with the store's one line and sets the run's stop, so
    `ainews run` exits 2; the post in flight is looked up at the next start."""
    from storage.store import StoreUnusable
    from tests.store_kit import fail_writes
    follow(store, clock)
    follow(store, clock, channel="c2")
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in range(3)], clock())

    class DiskFillsUp(RecordingAdapter):
        async def send(self, channel, b, *, nonce):
            fail_writes(monkeypatch, store, "full")
            return await super().send(channel, b, nonce=nonce)
    adapter = DiskFillsUp(clock=clock)
    d, stop = delivery(store, clock, adapter, idle_seconds=0.01), asyncio.Event()
    task = asyncio.create_task(getattr(d, loop)(stop))
    await until(task.done)
    with pytest.raises(StoreUnusable) as err:
        await task
    assert str(err.value).startswith(f"store: cannot write {store.path}: its disk is full")
    assert stop.is_set()
    assert len(adapter.sends) <= 2 and error_records(caplog) == []
    monkeypatch.undo()
    assert states(store) == {"sending": len(adapter.sends), "due": 6 - len(adapter.sends)}


def test_shifting_a_time_with_a_fraction_near_one_keeps_its_second(store):
    from datetime import datetime, timezone
    from storage.delivery_schema import ts
    """strftime rounds the parsed time to milliseconds: .9998 s becomes the next second,
    and the fraction is then appended again: the row lands a second late."""
    at = datetime(2026, 3, 2, 10, 0, 0, 999800, tzinfo=timezone.utc)
    store.enqueue_post(cluster_id="c", brief=make_brief(id="c"), platform="console",
                       workspace="w1", channel="c1", held=False, now=at)
    store.shift_delivery_times(at - timedelta(hours=2), timedelta(hours=1))
    (created,) = store.db.execute("SELECT created_at FROM outbox").fetchone()
    assert created == ts(at - timedelta(hours=1)), created


def _refused(store, fast):
    store.claim_post(1, fast)
    store.record_failed(1, "rejected")


def _channel_paused(store, fast):
    store.fail_channel_posts("console", "c1", "paused")


@pytest.mark.parametrize("failure", [_refused, _channel_paused])
def test_a_failure_recorded_under_a_fast_clock_is_moved_back_with_it(tmp_path, failure):
    """failed_at is when `status` says a post failed; a clock that ran a day fast, then
    stepped back, moved the outbox's other times back but left failed_at a day ahead:
    the failure read as tomorrow's and was listed as recent a day longer, and a failure
    the only time ahead went unnoticed."""
    from datetime import datetime, timezone
    from storage.store import Store
    real = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    fast = real + timedelta(days=1)
    with Store(tmp_path / "a.db", clock=lambda: fast) as s:
        queued = fast if failure is _refused else real - timedelta(hours=2)
        s.enqueue_post(cluster_id="c", brief=make_brief(id="c"), platform="console",
                       workspace="w1", channel="c1", held=False, now=queued)
        failure(s, fast)
        assert s.delivery_clock_ahead(real) == timedelta(days=1)
        s.shift_delivery_times(real, s.delivery_clock_ahead(real))
        (row,) = s.outbox_failures(10)
    assert row.failed_at == real, row.failed_at


async def test_posts_sent_before_the_step_do_not_fill_the_cap_for_longer(store, clock):
    """Two posts (cap 2) 90 real minutes ago; the clock steps back 1 h, so they read as
    30 minutes old. Only times *after* now are moved, so they still fill the hour and
    a new post waits ~30 more minutes although the real hour is empty."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    d = delivery(store, clock, adapter, hourly_cap=2, spread=False)
    dispatch_new(store, [brief(n, clock, minutes_ago=n) for n in (1, 2)], clock())
    assert await d.run_once() == 2
    clock.advance(minutes=90)
    clock.set_back(hours=1)
    dispatch_new(store, [brief(3, clock)], clock())
    await d.run_once()
    assert len(adapter.sends) == 3, store.outbox_counts()


async def test_a_step_noticed_while_the_store_is_busy_is_not_forgotten(store, clock,
                                                                        monkeypatch):
    from storage.store import StoreError
    """step_back() forgets the step as it reports it; if moving the stored times fails
    (another program holds the write lock: StoreError, "retrying"), the next look sees
    no step and the retry stays an hour ahead."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    adapter.fail("c1", TransientError("HTTP 429", retry_after=5.0))
    dispatch_new(store, [brief(1, clock)], clock())
    d = delivery(store, clock, adapter)
    await d.run_once()                                   # refused: retry in 5 s
    clock.set_back(hours=1)
    clock.advance(seconds=5)
    real, calls = store.shift_delivery_times, []

    def busy_once(*a):
        calls.append(a)
        if len(calls) == 1:
            raise StoreError("store: locked")
        return real(*a)
    monkeypatch.setattr(store, "shift_delivery_times", busy_once)
    with pytest.raises(StoreError):
        await d.run_once()                               # the loop logs and retries
    clock.advance(seconds=2)
    await d.run_once()
    assert [s.brief.id for s in adapter.sends] == ["story1"], store.outbox_post(1)


async def test_a_busy_store_at_delivery_start_is_retried_not_fatal(store, clock,
                                                                   monkeypatch):
    from storage.store import StoreError
    """recover() (now also the clock check and its shift, both store calls) runs inside
    run_forever's outer try, which re-raises anything not StoreUnusable: a write lock
    held past the busy timeout at start-up ends the delivery task for good, while the
    service's poll loop, which never looks at that task until shutdown, polls on and
    nothing is posted."""
    follow(store, clock)
    adapter = RecordingAdapter(clock=clock)
    dispatch_new(store, [brief(1, clock)], clock())
    real, calls = store.recover_outbox, []

    def busy_once():
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("store: locked")
        return real()
    monkeypatch.setattr(store, "recover_outbox", busy_once)
    d = delivery(store, clock, adapter, idle_seconds=0.001)
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    for _ in range(2000):
        await asyncio.sleep(0)
        if adapter.sends or task.done():
            break
    stop.set()
    done_early = task.done() and task.exception() is not None
    if not task.done():
        await asyncio.wait_for(task, 5)
    assert not done_early and [s.brief.id for s in adapter.sends] == ["story1"]


class _LooksUp(RecordingAdapter):
    """Asked before each retry (bot/retry.py earlier_post): records how long ago
    delivery says the post was first tried."""
    asked: list

    async def find_sent(self, channel, nonce, briefs=(), *, tried_ago=None):
        self.asked.append(tried_ago)


@pytest.mark.parametrize("hours_before, restarted", [(0, False), (3, False), (0, True)],
                         ids=["just-before", "hours-before", "just-before-restarted"])
async def test_a_clock_stepped_back_moves_the_first_try_a_retry_reads_back_to(
        store, clock, hours_before, restarted):
    """The clock ran an hour fast when the post was first tried, and was set right
    later. The retry's history read starts at that try: left as recorded, the time lay
    an hour after it (the read began after the post) or ahead of now (unknown: the
    read fell back to the latest messages). It moves back with the outbox's other
    times, however old; a step made while the bot was down is found at its start by
    the times that lie ahead."""
    follow(store, clock)
    adapter = _LooksUp(clock=clock)
    adapter.asked = []
    adapter.fail("c1", TransientError("HTTP 429", retry_after=(hours_before + 1) * 3600))
    dispatch_new(store, [brief(1, clock)], clock())
    d = delivery(store, clock, adapter)
    await d.run_once()                           # refused; tried again in an hour or more
    clock.advance(hours=hours_before)
    clock.set_back(hours=1)
    if restarted:
        d = delivery(store, clock, adapter)
    await d.run_once()                           # the step is noticed; nothing due
    clock.advance(hours=1)
    await d.run_once()
    assert adapter.asked == [(hours_before + 1) * 3600]
    assert [s.brief.id for s in adapter.sends] == ["story1"]
